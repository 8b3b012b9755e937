"""`headwater triggers ...` and `headwater functions logs`: the one-command path to a handler on a
table's stream, through a running server's Lambda API (--endpoint-url)."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any

import click

from .admin import region_of, region_option
from .signed import call_json, client

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".venv", "venv", "node_modules", ".mypy_cache"})
MAX_ZIP = 50 * 1024 * 1024  # Lambda's limit for a package uploaded directly
ROLE = "arn:aws:iam::000000000000:role/headwater"

endpoint_option = click.option(
    "--endpoint-url",
    envvar="HEADWATER_ENDPOINT_URL",
    default=DEFAULT_ENDPOINT,
    show_default=True,
    help="The running Headwater server.",
)


def _client(service: str, endpoint: str, region: str) -> Any:
    return client(service, endpoint, region, retries={"max_attempts": 2})


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _get_json(url: str, region: str) -> Any:
    """A GET of Headwater's own Lambda routes, signed like the Lambda API's calls (the region names the
    namespace whose function or mapping it reads)."""
    return call_json(url, region=region)


def _default_name(table: str, module: str, func: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9-_]", "-", f"{table}-{module}-{func}")
    return name[:64]


def _deploy(lam: Any, function: str, role: str, code: dict[str, Any], config: dict[str, Any]) -> None:
    """Create the function (acting as `role`), or update an existing one's code and configuration."""
    from botocore.exceptions import ClientError

    try:
        lam.create_function(FunctionName=function, Role=role, Code=code, **config)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceConflictException":
            raise
        lam.update_function_code(FunctionName=function, **code)
        lam.update_function_configuration(FunctionName=function, **config)


def _zip_directory(folder: Path) -> bytes:
    """The handler's directory as a deployment package (caches, VCS and virtualenvs left out)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
            for name in sorted(files):
                full = Path(root) / name
                archive.write(full, full.relative_to(folder).as_posix())
                if buffer.tell() > MAX_ZIP:
                    _fail(f"{folder} is over {MAX_ZIP // (1024 * 1024)} MB zipped: too large to upload")
    return buffer.getvalue()


@click.group()
def triggers() -> None:
    """Handlers invoked with batches of a table's stream records (Lambda event source mappings)."""


@triggers.command("add")
@click.argument("table")
@click.option("--handler", "handler_spec", required=True, help="path/to/file.py:function")
@click.option("--name", help="Function name (default: TABLE-MODULE-FUNCTION).")
@click.option("--batch-size", type=int, default=100, show_default=True)
@click.option("--batching-window", type=int, default=0, show_default=True, help="Seconds (0-300).")
@click.option(
    "--starting-position",
    type=click.Choice(["TRIM_HORIZON", "LATEST"]),
    default="LATEST",
    show_default=True,
)
@click.option("--filter", "filters", multiple=True, help="An EventBridge filter pattern (JSON); repeatable.")
@click.option("--max-retries", type=int, default=-1, show_default=True, help="-1: until the records expire.")
@click.option("--max-record-age", type=int, default=-1, show_default=True, help="Seconds; -1: no limit.")
@click.option("--bisect", is_flag=True, help="Split a failing batch in two and retry each half.")
@click.option("--report-batch-item-failures", is_flag=True)
@click.option("--parallelization-factor", type=int, default=1, show_default=True)
@click.option("--tumbling-window", type=int, default=0, show_default=True, help="Seconds (0-900).")
@click.option("--on-failure", help="ARN or name of a table (single String hash key) for failure records.")
@click.option("--timeout", type=int, default=3, show_default=True, help="Handler timeout, seconds.")
@click.option("--memory", type=int, default=128, show_default=True)
@click.option("--env", "env", multiple=True, help="KEY=VALUE for the handler; repeatable.")
@click.option("--runtime", default="python3.12", show_default=True)
@click.option(
    "--role",
    envvar="HEADWATER_TRIGGER_ROLE",
    default=ROLE,
    show_default=True,
    help="The role the function acts as; with --auth sigv4 a role of the credentials file.",
)
@click.option(
    "--upload",
    is_flag=True,
    help="Upload the handler's directory as a zip instead of running it in place (hot reload needs a "
    "server started with --allow-code-dir naming it; without, the zip is uploaded anyway).",
)
@endpoint_option
@region_option
def add(
    table: str,
    handler_spec: str,
    name: str | None,
    batch_size: int,
    batching_window: int,
    starting_position: str,
    filters: tuple[str, ...],
    max_retries: int,
    max_record_age: int,
    bisect: bool,
    report_batch_item_failures: bool,
    parallelization_factor: int,
    tumbling_window: int,
    on_failure: str | None,
    timeout: int,
    memory: int,
    env: tuple[str, ...],
    runtime: str,
    role: str,
    upload: bool,
    endpoint_url: str,
    region: str | None,
) -> None:
    """Run a local handler (hot reload) for every change of TABLE."""
    from botocore.exceptions import ClientError

    path_text, sep, func = handler_spec.rpartition(":")
    if not sep or not func or not path_text.endswith(".py"):
        _fail("--handler must look like path/to/file.py:function")
    path = Path(path_text).expanduser().resolve()
    if not path.is_file():
        _fail(f"no such file: {path}")
    variables = {}
    for pair in env:
        key, eq, value = pair.partition("=")
        if not eq:
            _fail(f"--env takes KEY=VALUE, got {pair!r}")
        variables[key] = value
    region = region_of(endpoint_url, region)
    ddb = _client("dynamodb", endpoint_url, region)
    lam = _client("lambda", endpoint_url, region)
    try:
        description = ddb.describe_table(TableName=table)["Table"]
        stream_arn = description.get("LatestStreamArn")
        if not description.get("StreamSpecification", {}).get("StreamEnabled"):
            spec = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            stream_arn = ddb.update_table(TableName=table, StreamSpecification=spec)["TableDescription"][
                "LatestStreamArn"
            ]
            click.echo(f"enabled the stream of {table} (NEW_AND_OLD_IMAGES)", err=True)
        function = name or _default_name(table, path.stem, func)
        config: dict[str, Any] = {
            "Runtime": runtime,
            "Handler": f"{path.stem}.{func}",
            "Timeout": timeout,
            "MemorySize": memory,
            "Environment": {"Variables": variables},
        }
        code: dict[str, Any] = {"S3Bucket": "hot-reload", "S3Key": str(path.parent)}
        if upload:
            code = {"ZipFile": _zip_directory(path.parent)}
        try:
            _deploy(lam, function, role, code, config)
        except ClientError as err:
            if upload or "--allow-code-dir" not in err.response["Error"]["Message"]:
                raise
            click.echo(
                f"note: the server does not run code in place from {path.parent} (it was not started with "
                f"--allow-code-dir naming it); uploaded that directory as a zip instead: run this command "
                "again after editing the handler",
                err=True,
            )
            _deploy(lam, function, role, {"ZipFile": _zip_directory(path.parent)}, config)
        request: dict[str, Any] = {
            "FunctionName": function,
            "EventSourceArn": stream_arn,
            "StartingPosition": starting_position,
            "BatchSize": batch_size,
            "MaximumBatchingWindowInSeconds": batching_window,
            "MaximumRetryAttempts": max_retries,
            "MaximumRecordAgeInSeconds": max_record_age,
            "BisectBatchOnFunctionError": bisect,
            "ParallelizationFactor": parallelization_factor,
            "TumblingWindowInSeconds": tumbling_window,
        }
        if report_batch_item_failures:
            request["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        if filters:
            request["FilterCriteria"] = {"Filters": [{"Pattern": f} for f in filters]}
        if on_failure:
            if not on_failure.startswith("arn:"):
                on_failure = ddb.describe_table(TableName=on_failure)["Table"]["TableArn"]
            request["DestinationConfig"] = {"OnFailure": {"Destination": on_failure}}
        mapping = lam.create_event_source_mapping(**request)
    except ClientError as err:
        _fail(f"{err.response['Error']['Code']}: {err.response['Error']['Message']}")
        return
    click.echo(f"{function}\t{mapping['UUID']}\t{stream_arn}")


@triggers.command("list")
@endpoint_option
@region_option
def list_triggers(endpoint_url: str, region: str | None) -> None:
    """Event source mappings: function, table, state, last result, UUID."""
    lam = _client("lambda", endpoint_url, region_of(endpoint_url, region))
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        for m in page["EventSourceMappings"]:
            function = m["FunctionArn"].rsplit(":", 1)[-1]
            table = m["EventSourceArn"].split(":table/", 1)[-1].split("/stream/")[0]
            click.echo(f"{function}\t{table}\t{m['State']}\t{m['LastProcessingResult']}\t{m['UUID']}")


def _mappings_of(lam: Any, name: str) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    try:
        lam.get_function(FunctionName=name)
    except ClientError as err:
        _fail(f"{err.response['Error']['Code']}: {err.response['Error']['Message']}")
    out: list[dict[str, Any]] = []
    for page in lam.get_paginator("list_event_source_mappings").paginate(FunctionName=name):
        out.extend(page["EventSourceMappings"])
    return out


@triggers.command("remove")
@click.argument("name")
@click.option("--keep-function", is_flag=True, help="Delete the mappings only.")
@endpoint_option
@region_option
def remove(name: str, keep_function: bool, endpoint_url: str, region: str | None) -> None:
    """Delete the mappings of function NAME (and the function)."""
    lam = _client("lambda", endpoint_url, region_of(endpoint_url, region))
    for mapping in _mappings_of(lam, name):
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        click.echo(f"removed mapping {mapping['UUID']}")
    if not keep_function:
        lam.delete_function(FunctionName=name)
        click.echo(f"removed function {name}")


@triggers.command("failures")
@click.argument("name")
@endpoint_option
@region_option
def failures(name: str, endpoint_url: str, region: str | None) -> None:
    """Batches of function NAME's mappings that were discarded (on-failure records), one JSON a line."""
    region = region_of(endpoint_url, region)
    lam = _client("lambda", endpoint_url, region)
    for mapping in _mappings_of(lam, name):
        base = endpoint_url.rstrip("/")
        url = f"{base}/2015-03-31/event-source-mappings/{mapping['UUID']}/headwater-failures"
        for record in _get_json(url, region)["Failures"]:
            click.echo(json.dumps(record, sort_keys=True))


@click.group()
def functions() -> None:
    """Functions deployed on the server."""


@functions.command("logs")
@click.argument("name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output.")
@click.option("--bytes", "tail_bytes", type=int, default=65536, show_default=True, help="How much to show.")
@endpoint_option
@region_option
def logs(name: str, follow: bool, tail_bytes: int, endpoint_url: str, region: str | None) -> None:
    """Print function NAME's log (handler output, START/END/REPORT lines)."""
    region = region_of(endpoint_url, region)
    base = (
        f"{endpoint_url.rstrip('/')}/2015-03-31/functions/{urllib.parse.quote(name, safe='')}/headwater-logs"
    )
    offset = -abs(tail_bytes)
    try:
        while True:
            try:
                page = _get_json(f"{base}?offset={offset}", region)
            except urllib.error.HTTPError as err:
                body = json.loads(err.read() or b"{}")
                _fail(body.get("message", str(err)))
                return
            if page["data"]:
                sys.stdout.write(page["data"])
                sys.stdout.flush()
            offset = page["offset"]
            if not follow:
                return
            if not page["data"]:
                time.sleep(0.5)
    except KeyboardInterrupt:
        return
