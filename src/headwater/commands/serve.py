"""`headwater serve`: the server's options, checked before anything starts, made into `Settings`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from ..config import (
    DEFAULT_ACCOUNT,
    DEFAULT_CONCURRENCY_LIMIT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_WORKERS,
    DEFAULT_REGION,
    Settings,
    default_workers,
)


def _region_endpoints(entries: tuple[str, ...], own: str) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for entry in entries:
        region, _, url = entry.partition("=")
        if not region or not url.startswith(("http://", "https://")) or region == own:
            raise click.BadParameter(
                f"{entry!r}: expected REGION=http(s)://host:port, a region other than --region {own}",
                param_hint="--region-endpoint",
            )
        out[region] = url.rstrip("/")
    return tuple(sorted(out.items()))


@click.command()
@click.option(
    "--host", envvar="HEADWATER_HOST", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port", envvar="HEADWATER_PORT", default=8000, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--data-dir",
    envvar="HEADWATER_DATA_DIR",
    default="./headwater-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database file lives.",
)
@click.option(
    "--in-memory",
    envvar="HEADWATER_IN_MEMORY",
    is_flag=True,
    help="Keep everything in memory (lost on exit).",
)
@click.option(
    "--storage-url",
    envvar="HEADWATER_STORAGE_URL",
    default=None,
    help="postgresql://user:password@host:port/database: store everything in PostgreSQL.",
)
@click.option(
    "--region",
    envvar="HEADWATER_REGION",
    default=DEFAULT_REGION,
    show_default=True,
    help="Region named in ARNs and records.",
)
@click.option(
    "--account-id",
    envvar="HEADWATER_ACCOUNT_ID",
    default=DEFAULT_ACCOUNT,
    show_default=True,
    help="Account id named in ARNs.",
)
@click.option(
    "--sync",
    "sync_mode",
    envvar="HEADWATER_SYNC",
    default="FULL",
    show_default=True,
    type=click.Choice(["FULL", "NORMAL"], case_sensitive=False),
    help="FULL: every group commit is fsynced. NORMAL: survives a process crash, not a power cut.",
)
@click.option(
    "--wal-limit-mb",
    envvar="HEADWATER_WAL_LIMIT_MB",
    default=256,
    show_default=True,
    type=click.IntRange(4, 1 << 20),
    help="SQLite: how large the write-ahead log may grow under writes that never pause before a "
    "checkpoint (holding one commit for it) lets it start over.",
)
@click.option(
    "--table-status-delay",
    envvar="HEADWATER_TABLE_STATUS_DELAY",
    default=0.0,
    show_default=True,
    type=float,
    help="Seconds tables stay CREATING/UPDATING/DELETING (0: changes complete at once).",
)
@click.option(
    "--stream-shards",
    envvar="HEADWATER_STREAM_SHARDS",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
)
@click.option(
    "--shard-rollover",
    envvar="HEADWATER_SHARD_ROLLOVER",
    default=4 * 3600.0,
    show_default=True,
    type=float,
    help="Seconds.",
)
@click.option(
    "--stream-retention",
    envvar="HEADWATER_STREAM_RETENTION",
    default=24 * 3600.0,
    show_default=True,
    type=float,
    help="Seconds.",
)
@click.option(
    "--ttl-sweep-interval",
    envvar="HEADWATER_TTL_SWEEP_INTERVAL",
    default=60.0,
    show_default=True,
    type=float,
    help="Seconds.",
)
@click.option(
    "--trigger-poll-interval",
    envvar="HEADWATER_TRIGGER_POLL_INTERVAL",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.001, 60.0),
    help="Seconds between polls of each shard by an event source mapping.",
)
@click.option(
    "--kinesis-limits",
    envvar="HEADWATER_KINESIS_LIMITS",
    default="on",
    show_default=True,
    type=click.Choice(["on", "off"], case_sensitive=False),
    help="Kinesis per-shard throughput limits (5 GetRecords/s, 1,000 records or 1 MiB written/s).",
)
@click.option(
    "--sinks-config",
    envvar="HEADWATER_SINKS_CONFIG",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help='JSON file of sinks to add at startup: {"sinks": [{"TableName", "Nats", "Subject", "Name"}]}.',
)
@click.option(
    "--region-endpoint",
    "region_endpoints",
    multiple=True,
    metavar="REGION=URL",
    help="A region served by another Headwater server (http://host:port or https://host:port), for global "
    "tables' replicas there; repeatable.",
)
@click.option(
    "--peer-ca",
    envvar="HEADWATER_PEER_CA",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM certificates to trust for https --region-endpoint servers (default: the system's CAs).",
)
@click.option(
    "--peer-credentials",
    envvar="HEADWATER_PEER_CREDENTIALS",
    default="headwater:headwater",
    show_default=True,
    metavar="ACCESS_KEY:SECRET_KEY",
    help="What this server signs its calls to --region-endpoint servers with (their credentials file's).",
)
@click.option(
    "--s3-dir",
    envvar="HEADWATER_S3_DIR",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Export and import: S3 buckets are the folders of this directory (default: DATA_DIR/s3).",
)
@click.option(
    "--s3-endpoint",
    envvar="HEADWATER_S3_ENDPOINT",
    default=None,
    metavar="URL",
    help="Export and import: S3 buckets are those of the S3-compatible object store at this URL "
    "(instead of folders of --s3-dir).",
)
@click.option(
    "--s3-region",
    envvar="HEADWATER_S3_REGION",
    default=None,
    help="The region requests to --s3-endpoint are signed for (default: --region).",
)
@click.option(
    "--s3-access-key-id",
    envvar="HEADWATER_S3_ACCESS_KEY_ID",
    default=None,
    help="The access key of --s3-endpoint (default: AWS_ACCESS_KEY_ID, or botocore's other sources).",
)
@click.option(
    "--s3-secret-access-key",
    envvar="HEADWATER_S3_SECRET_ACCESS_KEY",
    default=None,
    help="Its secret key (better given as HEADWATER_S3_SECRET_ACCESS_KEY than on the command line).",
)
@click.option(
    "--workers",
    envvar="HEADWATER_WORKERS",
    default=None,
    type=click.IntRange(0, 64),
    help="Front processes beside the process that writes: connections that only read move to them; "
    "0: one process for all. Default: 1 from 2 cores on, one per four cores from 8.",
)
@click.option(
    "--tls-cert",
    envvar="HEADWATER_TLS_CERT",
    default=None,
    type=click.Path(path_type=Path),
    help="PEM certificate (chain) to serve HTTPS with, on the same port; needs --tls-key.",
)
@click.option(
    "--tls-key",
    envvar="HEADWATER_TLS_KEY",
    default=None,
    type=click.Path(path_type=Path),
    help="PEM private key of --tls-cert (without a passphrase).",
)
@click.option(
    "--max-connections",
    envvar="HEADWATER_MAX_CONNECTIONS",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="Open client connections per serving process; past it a new one replaces an idle one.",
)
@click.option(
    "--allow-code-dir",
    "allow_code_dirs",
    envvar="HEADWATER_ALLOW_CODE_DIR",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, resolve_path=True, path_type=Path),
    help="Lambda functions may run code in place (hot reload) from inside this directory; repeatable "
    f"(HEADWATER_ALLOW_CODE_DIR: several, separated by {os.pathsep!r}). Without it: uploaded zips only.",
)
@click.option(
    "--max-workers",
    envvar="HEADWATER_MAX_WORKERS",
    default=DEFAULT_MAX_WORKERS,
    show_default=True,
    type=click.IntRange(1, 10000),
    help="Lambda handler processes alive at once; beyond it a synchronous Invoke is throttled, "
    "mappings and asynchronous invocations wait.",
)
@click.option(
    "--worker-idle-timeout",
    envvar="HEADWATER_WORKER_IDLE_TIMEOUT",
    default=DEFAULT_IDLE_TIMEOUT,
    show_default=True,
    type=click.FloatRange(0.01, 86400.0),
    help="Seconds an idle Lambda handler process lives before it exits.",
)
@click.option(
    "--concurrency-limit",
    envvar="HEADWATER_CONCURRENCY_LIMIT",
    default=DEFAULT_CONCURRENCY_LIMIT,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Lambda's account concurrency (GetAccountSettings' ConcurrentExecutions): reserved and unreserved "
    "concurrency are counted against it.",
)
@click.option(
    "--worker-user",
    envvar="HEADWATER_WORKER_USER",
    default=None,
    help="Run Lambda handler processes as this unprivileged user (Linux; the server runs as root).",
)
@click.option(
    "--worker-python",
    envvar="HEADWATER_WORKER_PYTHON",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The Python interpreter Lambda handler processes run on (default: the server's own; with "
    "--worker-user, one that user can run).",
)
@click.option(
    "--auth",
    envvar="HEADWATER_AUTH",
    default="sigv4",
    show_default=True,
    type=click.Choice(["sigv4", "off"], case_sensitive=False),
    help="sigv4: verify every request's signature against the credentials file and authorize it by the "
    "caller's policies. off: any signature, one account (only allowed on a loopback address).",
)
@click.option(
    "--auth-config",
    envvar="HEADWATER_AUTH_CONFIG",
    default="headwater-auth.toml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The credentials file (users, access keys, roles, policies): `headwater auth add-user` makes it.",
)
@click.option(
    "--allow-insecure-auth-config",
    envvar="HEADWATER_ALLOW_INSECURE_AUTH_CONFIG",
    is_flag=True,
    help="Use the credentials file even if others can read it (it holds secret keys).",
)
@click.option(
    "--metrics-public",
    envvar="HEADWATER_METRICS_PUBLIC",
    is_flag=True,
    help="Answer GET /metrics unsigned even with --auth sigv4 (for a Prometheus that cannot sign).",
)
@click.option(
    "--enforce-capacity",
    envvar="HEADWATER_ENFORCE_CAPACITY",
    is_flag=True,
    help="Throttle reads and writes as DynamoDB does: provisioned RCU/WCU with burst capacity, GSI "
    "back-pressure, on-demand maximums and quotas, the daily limit on decreases (counts usage too).",
)
@click.option(
    "--meter-usage",
    envvar="HEADWATER_METER_USAGE",
    is_flag=True,
    help="Count the capacity units, stream reads and replicated writes each table consumes, for "
    "`headwater usage`.",
)
@click.option(
    "--dax-cache-bytes",
    envvar="HEADWATER_DAX_CACHE_BYTES",
    default=None,
    type=click.IntRange(1024, None),
    help="The most memory each DAX cluster's caches use (default: its node type's memory).",
)
@click.option("--log-level", envvar="HEADWATER_LOG_LEVEL", default="info", show_default=True)
def serve(
    host: str,
    port: int,
    data_dir: Path,
    in_memory: bool,
    storage_url: str | None,
    region: str,
    account_id: str,
    sync_mode: str,
    wal_limit_mb: int,
    table_status_delay: float,
    stream_shards: int,
    shard_rollover: float,
    stream_retention: float,
    ttl_sweep_interval: float,
    trigger_poll_interval: float,
    kinesis_limits: str,
    sinks_config: Path | None,
    region_endpoints: tuple[str, ...],
    peer_credentials: str,
    peer_ca: Path | None,
    s3_dir: Path | None,
    s3_endpoint: str | None,
    s3_region: str | None,
    s3_access_key_id: str | None,
    s3_secret_access_key: str | None,
    workers: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    max_connections: int,
    allow_code_dirs: tuple[Path, ...],
    max_workers: int,
    worker_idle_timeout: float,
    concurrency_limit: int,
    worker_user: str | None,
    worker_python: Path | None,
    auth: str,
    auth_config: Path,
    allow_insecure_auth_config: bool,
    metrics_public: bool,
    enforce_capacity: bool,
    meter_usage: bool,
    dax_cache_bytes: int | None,
    log_level: str,
) -> None:
    """Run the server."""
    from ..access import StartRefused
    from ..process.serve import run
    from ..trigger_host import prepare_worker_user

    _check_tls(tls_cert, tls_key)
    _check_peer_ca(peer_ca)
    _check_s3(s3_dir, s3_endpoint, s3_access_key_id, s3_secret_access_key)

    settings = Settings(
        host=host,
        port=port,
        data_dir=data_dir,
        in_memory=in_memory,
        storage_url=storage_url or None,
        region=region,
        account_id=account_id,
        sync_mode=sync_mode.upper(),
        wal_limit_mb=wal_limit_mb,
        table_status_delay=table_status_delay,
        stream_shards=stream_shards,
        shard_rollover_seconds=shard_rollover,
        stream_retention_seconds=stream_retention,
        ttl_sweep_interval=ttl_sweep_interval,
        trigger_poll_interval=trigger_poll_interval,
        kinesis_limits=kinesis_limits.lower() == "on",
        sinks_config=sinks_config,
        region_endpoints=_region_endpoints(region_endpoints, region),
        peer_access_key=peer_credentials.partition(":")[0],
        peer_secret_key=peer_credentials.partition(":")[2],
        peer_ca=peer_ca,
        s3_dir=s3_dir,
        s3_endpoint=s3_endpoint or None,
        s3_region=s3_region or None,
        s3_access_key_id=s3_access_key_id or None,
        s3_secret_access_key=s3_secret_access_key or None,
        log_level=log_level,
        workers=default_workers() if workers is None else workers,
        tls_cert=tls_cert,
        tls_key=tls_key,
        max_connections=max_connections,
        allow_code_dirs=tuple(str(path) for path in allow_code_dirs),
        max_workers=max_workers,
        worker_idle_timeout=worker_idle_timeout,
        concurrency_limit=concurrency_limit,
        worker_user=worker_user or None,
        worker_python=str(worker_python) if worker_python is not None else None,
        auth=auth.lower(),
        auth_config=auth_config,
        allow_insecure_auth_config=allow_insecure_auth_config,
        metrics_public=metrics_public,
        enforce_capacity=enforce_capacity,
        meter_usage=meter_usage,
        dax_cache_bytes=dax_cache_bytes,
    )
    if settings.worker_user is not None:
        # handlers run as another user: whatever the server writes is its own (the database, logs);
        # the code handlers read is made readable explicitly
        os.umask(0o077)
    try:
        prepare_worker_user(settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(settings)
    except StartRefused as refused:
        raise click.ClickException(str(refused)) from None


def _check_peer_ca(ca: Path | None) -> None:
    from ..consumer import tls_client

    if ca is not None:
        try:
            tls_client(ca)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--peer-ca") from None


def _check_tls(cert: Path | None, key: Path | None) -> None:
    """Both or neither, and usable: said at once, not by a server that fails to listen."""
    from ..http.tls import TlsError, server_context

    if (cert is None) != (key is None):
        raise click.UsageError("--tls-cert and --tls-key go together: give both, or neither")
    if cert is not None and key is not None:
        try:
            server_context(cert, key)
        except TlsError as exc:
            raise click.ClickException(str(exc)) from None


def _check_s3(directory: Path | None, endpoint: str | None, key_id: str | None, secret: str | None) -> None:
    """Folders or an object store, not both; an endpoint that is a URL; a key with its secret."""
    if endpoint is None:
        return
    if directory is not None:
        raise click.UsageError("--s3-dir and --s3-endpoint exclude each other: give one")
    if not endpoint.startswith(("http://", "https://")):
        raise click.UsageError(f"--s3-endpoint must be an http:// or https:// URL, not {endpoint!r}")
    if (key_id is None) != (secret is None):
        raise click.UsageError(
            "--s3-access-key-id and --s3-secret-access-key go together: give both, or neither"
        )
