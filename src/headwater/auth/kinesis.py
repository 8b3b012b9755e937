"""From one Kinesis Data Streams request to the authorization check it needs: `kinesis:<Operation>` on the
stream's ARN (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`), or on `*` for the operations AWS lets no
policy scope to a stream (ListStreams, DescribeLimits)."""

from __future__ import annotations

from headwater.auth.requests import Caller, Check, global_context

_UNSCOPED = frozenset({"ListStreams", "DescribeLimits"})


def stream_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def kinesis_check(operation: str, caller: Caller, stream: str | None) -> Check:
    """`stream` is the stream the request addresses: its ARN (StreamARN), or its name (StreamName, or
    the one a GetRecords iterator or a ListShards NextToken names); None when it names none."""
    if operation in _UNSCOPED or stream is None:
        resource = "*"
    elif stream.startswith("arn:"):
        resource = stream
    else:
        resource = stream_arn(caller.region, caller.namespace_account, stream)
    return Check(f"kinesis:{operation}", resource, global_context(caller))
