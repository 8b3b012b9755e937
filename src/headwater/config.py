"""Settings: one frozen value built from command-line flags and HEADWATER_* environment variables."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model.limits import MAX_ITEM_COLLECTION_BYTES

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
# Lambda: handler processes alive at once; seconds an idle one lives (Lambda keeps an idle execution
# environment for minutes); AWS's default ConcurrentExecutions per account and region
DEFAULT_MAX_WORKERS = 32
DEFAULT_IDLE_TIMEOUT = 300.0
DEFAULT_CONCURRENCY_LIMIT = 1000


def _item_collection_limit() -> int:
    """Hidden, for tests only: HEADWATER_ITEM_COLLECTION_LIMIT_BYTES shrinks the LSI item-collection
    limit (10 GB) so a live server can be driven past it with a few small items. No flag on purpose."""
    raw = os.environ.get("HEADWATER_ITEM_COLLECTION_LIMIT_BYTES")
    return int(raw) if raw else MAX_ITEM_COLLECTION_BYTES


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./headwater-data")
    in_memory: bool = False
    # postgresql://... stores everything in PostgreSQL instead of the data dir's SQLite file
    storage_url: str | None = None
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT
    # seconds a table stays CREATING/UPDATING/DELETING before the change completes (0: at once)
    table_status_delay: float = 0.0
    # SQLite `synchronous`: FULL fsyncs every group commit; NORMAL survives process crashes only
    sync_mode: str = "FULL"
    # SQLite: the write-ahead log's size under steady writes before a checkpoint makes it start over
    wal_limit_mb: int = 256
    # streams
    stream_shards: int = 1
    shard_rollover_seconds: float = 4 * 3600.0
    stream_retention_seconds: float = 24 * 3600.0
    ttl_sweep_interval: float = 60.0
    pitr_fold_seconds: float = 3600.0  # how often point-in-time recovery windows move forward
    # export and import: S3 buckets are the folders of this directory (None: <data_dir>/s3)
    s3_dir: Path | None = None
    # ...or an S3-compatible object store at this URL (then S3 buckets are its buckets), its region and
    # credentials (None: botocore's usual chain, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = field(default=None, repr=False)  # never in a log line
    # triggers: seconds between polls of each shard by an event source mapping (AWS: ~4 per second)
    trigger_poll_interval: float = 0.25
    # Kinesis: per-shard throughput limits (5 GetRecords/s; 1,000 records and 1 MiB written/s, provisioned)
    kinesis_limits: bool = True
    # sinks declared in a JSON file ({"sinks": [{"TableName", "Nats", "Subject", "Name"}]}), added at startup
    sinks_config: Path | None = None
    # global tables: regions served by other Headwater servers, (region, http://host:port), and the
    # credentials this server signs its calls to them with (SigV4, as any client)
    region_endpoints: tuple[tuple[str, str], ...] = ()
    peer_access_key: str = "headwater"
    peer_secret_key: str = "headwater"
    peer_ca: Path | None = None  # PEM certificates trusted for https peers; None: the system's
    log_level: str = "info"
    # front processes (HTTP and reads) beside the core process that owns the writer; 0: one process
    workers: int = 0
    # HTTPS: a PEM certificate (chain) and its private key; plain HTTP without them
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # open client connections per serving process; past it a new one replaces an idle one
    max_connections: int = 1000
    # Lambda: hot-reload code only from inside these directories (resolved); none: uploaded zips only
    allow_code_dirs: tuple[str, ...] = ()
    max_workers: int = DEFAULT_MAX_WORKERS  # handler processes alive at once
    worker_idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # seconds before an idle handler process exits
    concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT  # GetAccountSettings' ConcurrentExecutions
    worker_user: str | None = None  # handler processes run as this user (Linux, server as root)
    worker_python: str | None = None  # the interpreter handler processes run on (None: the server's)
    # who may ask: "sigv4" verifies every request against the credentials file; "off" takes any signature
    # as the server's one account (loopback addresses only; see access.py)
    auth: str = "sigv4"
    auth_config: Path = Path("headwater-auth.toml")
    allow_insecure_auth_config: bool = False
    # GET /metrics without a signature under --auth sigv4 (off: signed, headwater:GetMetrics)
    metrics_public: bool = False
    item_collection_limit_bytes: int = field(default_factory=_item_collection_limit)
    # throughput as DynamoDB enforces it: provisioned capacity with burst, on-demand maximums and quotas
    enforce_capacity: bool = False
    # count the capacity the workload consumes, per table and hour, for `headwater usage`
    meter_usage: bool = False
    # DAX: the most memory a cluster's caches use (None: the node type's memory)
    dax_cache_bytes: int | None = None

    @property
    def database_path(self) -> str | None:
        return None if self.in_memory else str(self.data_dir / "headwater.db")

    @property
    def loopback_only(self) -> bool:
        """The server listens on a loopback address: only this machine can reach it."""
        if self.host.lower() in ("localhost", "localhost."):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def endpoint_address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert is not None else "http"

    def to_json(self) -> dict[str, Any]:
        """For a child process (a front): every field as JSON, paths as strings."""
        out = dataclasses.asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in out.items()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Settings:
        paths = {f.name for f in dataclasses.fields(cls) if "Path" in str(f.type)}
        tuples = {f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")}
        fields: dict[str, Any] = {k: Path(v) if k in paths and v is not None else v for k, v in doc.items()}
        fields.update({k: tuple(fields[k]) for k in tuples if k in fields})
        return cls(**fields)


def default_workers() -> int:
    """One front beside the core from 2 cores on: connections that only read move to it (and the core
    keeps a share), so reads use the second core while writes stay where the writer is, without a hop
    (docs/architecture.md has the figures); one per four cores on larger machines."""
    cores = os.cpu_count() or 1
    if cores < 2:
        return 0
    return max(1, cores // 4)
