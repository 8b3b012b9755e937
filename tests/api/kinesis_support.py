"""Helpers for the Kinesis API tests."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    """(error code, message) of a call that must fail."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    return err["Code"], err.get("Message", "")


def read_shard(kinesis: Any, stream: str, shard_id: str, kind: str = "TRIM_HORIZON") -> list[dict[str, Any]]:
    """Every record of a shard, following NextShardIterator until an empty page (or the shard's end)."""
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType=kind)[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = []
    while it:
        page = kinesis.get_records(ShardIterator=it)
        records += page["Records"]
        it = page.get("NextShardIterator")
        if not page["Records"]:
            break
    return records


def shards(kinesis: Any, stream: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = kinesis.list_shards(StreamName=stream, **kwargs)["Shards"]
    return out
