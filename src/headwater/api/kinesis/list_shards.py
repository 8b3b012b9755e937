"""ListShards: the stream's shards in id order, filtered by ShardFilter, paged by MaxResults and an opaque
NextToken (valid 300 seconds, and never together with a stream name)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from ...core.database import Database
from ...kinesis.docs import StreamDoc
from ...kinesis.errors import ExpiredNextTokenException, InvalidArgumentException
from ...kinesis.hashing import parse_shard_id
from ...shardlog.layout import Shard
from ._streams import stream

TOKEN_SECONDS = 300


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    token = request.get("NextToken")
    limit = request.get("MaxResults") or 1000
    now = db.clock.now()
    if token is not None:
        if request.get("StreamName") is not None or request.get("StreamARN") is not None:
            raise InvalidArgumentException("NextToken and StreamName cannot be provided together.")
        state = _decode(token)
        if now - state["t"] > TOKEN_SECONDS:
            raise ExpiredNextTokenException(f"The NextToken {token} has expired.")
        doc = db.kinesis.require(state["s"])
        request = {**state["r"], "ExclusiveStartShardId": state["a"]}
    else:
        if request.get("ExclusiveStartShardId") is not None and request.get("ShardFilter") is not None:
            raise InvalidArgumentException(
                "ShardFilter and ExclusiveStartShardId cannot be provided together."
            )
        doc = stream(db, request)
    shards = _filtered(db, doc, request.get("ShardFilter"), now)
    start = request.get("ExclusiveStartShardId")
    if start is not None:
        after = parse_shard_id(start)
        shards = [s for s in shards if after is None or s.slot > after]
    page = shards[:limit]
    out: dict[str, Any] = {"Shards": [db.kinesis.shard_wire(doc, s) for s in page]}
    if len(shards) > limit:
        kept = {k: request[k] for k in ("ShardFilter",) if request.get(k) is not None}
        state = {"s": doc.name, "a": f"shardId-{page[-1].slot:012d}", "t": now, "r": kept}
        out["NextToken"] = base64.urlsafe_b64encode(orjson.dumps(state)).decode()
    return out


def stream_of_token(token: str) -> str | None:
    """The stream a NextToken names (for authorization; the operation checks the token itself)."""
    try:
        state = _decode(token)
    except InvalidArgumentException:
        return None
    name = state["s"]
    return name if isinstance(name, str) else None


def _decode(token: str) -> dict[str, Any]:
    try:
        state: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(state, dict) or not {"s", "a", "t", "r"} <= state.keys():
            raise ValueError(token)
        return state
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidArgumentException(f"Invalid NextToken: {token}") from None


def _filtered(db: Database, doc: StreamDoc, shard_filter: dict[str, Any] | None, now: float) -> list[Shard]:
    shards = db.kinesis.visible_shards(doc)
    if not shard_filter:
        return shards
    kind = shard_filter["Type"]
    given_id, stamp = shard_filter.get("ShardId"), shard_filter.get("Timestamp")
    if kind == "AFTER_SHARD_ID":
        if given_id is None:
            raise InvalidArgumentException("ShardId must be provided for AFTER_SHARD_ID ShardFilter type.")
        after = parse_shard_id(given_id)
        return [s for s in shards if after is None or s.slot > after]
    if given_id is not None:
        raise InvalidArgumentException(f"ShardId can only be provided for AFTER_SHARD_ID, not for {kind}.")
    if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        if stamp is None:
            raise InvalidArgumentException(f"Timestamp must be provided for {kind} ShardFilter type.")
    elif stamp is not None:
        raise InvalidArgumentException("Timestamp can only be provided for AT_TIMESTAMP or FROM_TIMESTAMP.")
    horizon = now - doc.retention_seconds
    if kind == "AT_LATEST":
        return [s for s in shards if s.closed_at is None]
    if kind == "FROM_TRIM_HORIZON":
        return shards
    if kind == "AT_TRIM_HORIZON":
        return [
            s for s in shards if s.created_at <= max(horizon, doc.created_at) and not _closed_by(s, horizon)
        ]
    moment = max(float(stamp or 0), horizon)
    if kind == "AT_TIMESTAMP":
        return [s for s in shards if s.created_at <= moment and not _closed_by(s, moment)]
    return [s for s in shards if not _closed_by(s, moment)]  # FROM_TIMESTAMP


def _closed_by(shard: Shard, moment: float) -> bool:
    return shard.closed_at is not None and shard.closed_at < moment
