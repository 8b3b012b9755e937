"""Reading Kinesis streams: GetShardIterator (five kinds) and GetRecords, over the log layer's shard
read. Iterators are log-layer tokens bound to the stream (its namespace and name), base64 like Kinesis's
own, and expire after 5 minutes; a position behind the trim horizon reads from the horizon (Kinesis has no
TrimmedDataAccessException)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Any

from ..model.namespace import Namespace
from ..shardlog import pages, tokens
from ..shardlog.layout import Shard
from ..shardlog.tokens import Position
from .docs import StreamDoc
from .errors import (
    ExpiredIteratorException,
    InvalidArgumentException,
    ProvisionedThroughputExceededException,
    ResourceNotFoundException,
)
from .hashing import parse_shard_id, shard_name
from .records import render
from .sequence import format_bytes, parse_seq
from .service import KinesisService

EXPIRY_SECONDS = 300
MAX_RECORDS_BYTES = 10 * 1024 * 1024
_VERSION = b"\x00\x00\x00\x00\x00\x00\x00\x01"
_NEED_SEQ = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def amz_time(epoch: float) -> str:
    """Kinesis's timestamp text in its messages, e.g. `Thu Jan 22 01:22:02 UTC 2015`."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch))


def _unpack(text: str) -> tuple[bytes, bytes] | None:
    """(stream key `<account>/<region>/<name>`, sealed position) of an iterator's text, not yet verified."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 10 or raw[:8] != _VERSION:
        return None
    size = raw[8]
    key = raw[9 : 9 + size]
    if key.count(b"/") < 2:
        return None
    return key, raw[9 + size :]


def iterator_stream_arn(text: str) -> str | None:
    """The ARN of the stream an iterator claims, unverified (for authorization: the sealed position is
    bound to the stream's key, so an iterator naming another stream than its own fails to decode)."""
    raw = _unpack(text)
    if raw is None:
        return None
    account, region, name = raw[0].decode("utf-8", "replace").split("/", 2)
    return Namespace(account, region).arn("kinesis", f"stream/{name}")


class Reader:
    def __init__(self, service: KinesisService, secret: Any) -> None:
        self.service = service
        self._secret = secret  # an IteratorSecret (value read lazily)

    @property
    def account(self) -> str:
        return self.service.account

    # -- iterators

    def _encode(self, name: str, position: Position) -> str:
        key = (self.service.namespace.prefix + name).encode()
        raw = _VERSION + bytes([len(key)]) + key + tokens.seal(self._secret.value, key, position)
        return base64.b64encode(raw).decode("ascii")

    def _decode(self, text: str) -> tuple[str, Position]:
        """(stream name, position) of an iterator of a stream of this namespace."""
        invalid = InvalidArgumentException("Invalid ShardIterator.")
        raw = _unpack(text)
        if raw is None:
            raise invalid
        key, sealed = raw
        try:
            position = tokens.unseal(self._secret.value, key, sealed)
        except tokens.InvalidToken:
            raise invalid from None
        now = self.service.clock.now()
        if tokens.expired(position, now, EXPIRY_SECONDS):
            raise ExpiredIteratorException(
                "Iterator expired. The iterator was created at time "
                f"{amz_time(position.issued_ms / 1000)} while right now it is {amz_time(now)} which is "
                f"further in the future than the tolerated delay of {EXPIRY_SECONDS * 1000} milliseconds."
            )
        account, region, name = key.decode().split("/", 2)
        if Namespace(account, region) != self.service.namespace:  # a stream of another region or account
            raise ResourceNotFoundException(f"Stream {name} under account {account} not found.")
        return name, position

    def find_shard(self, doc: StreamDoc, shard_id: str, shards: list[Shard]) -> Shard:
        index = parse_shard_id(shard_id)
        if index is None:
            raise ResourceNotFoundException(
                f"Could not find shard {shard_id} in stream {doc.name} under account {self.account}."
            )
        shard = next((s for s in shards if s.slot == index), None)
        if shard is None:
            raise ResourceNotFoundException(
                f"Shard {shard_name(index)} in stream {doc.name} under account {self.account} does not exist"
            )
        return shard

    def get_shard_iterator(
        self, doc: StreamDoc, shard_id: str, kind: str, sequence: str | None, timestamp: float | None
    ) -> str:
        shard = self.find_shard(doc, shard_id, self.service.visible_shards(doc))
        name = shard_name(shard.slot)
        if (kind in _NEED_SEQ and sequence is None) or (
            kind in ("TRIM_HORIZON", "LATEST") and sequence is not None
        ):
            given = "also a" if sequence is not None else "no"
            raise InvalidArgumentException(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                f"Request specified {kind} and {given} StartingSequenceNumber."
            )
        storage = self.service.storage
        trimmed = self.service.trim_mark(doc.stream_id, shard.slot)
        beyond = shard.hi if shard.hi is not None else storage.shard_ceiling(doc.stream_id, shard.slot) + 1
        if kind == "TRIM_HORIZON":
            pos = max(shard.starting, trimmed + 1)
        elif kind == "LATEST":
            pos = beyond
        elif kind == "AT_TIMESTAMP":
            if timestamp is None:
                raise InvalidArgumentException(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                    "Current request has no timestamp parameter."
                )
            upto = None if shard.hi is None else shard.hi - 1
            found = storage.first_stream_seq_at(doc.stream_id, shard.slot, timestamp, shard.starting, upto)
            pos = max(found if found is not None else beyond, trimmed + 1)
        else:
            decoded = parse_seq(sequence or "")
            if decoded is None:
                raise InvalidArgumentException(
                    f"StartingSequenceNumber {sequence} used in GetShardIterator on shard {name} in stream "
                    f"{doc.name} under account {self.account} is invalid."
                )
            if decoded.slot != shard.slot:
                raise InvalidArgumentException(
                    f"Invalid StartingSequenceNumber. It encodes {shard_name(decoded.slot)}, while it was "
                    f"used in a call to a shard with {name}"
                )
            if decoded.seq <= shard.lo or (decoded.seq >= beyond and decoded.seq != shard.starting):
                raise InvalidArgumentException(
                    f"StartingSequenceNumber {sequence} used in GetShardIterator on shard {name} in stream "
                    f"{doc.name} under account {self.account} is invalid because it did not come from this "
                    "stream."
                )
            pos = decoded.seq if kind == "AT_SEQUENCE_NUMBER" else decoded.seq + 1
        position = Position(doc.stream_id, shard.slot, shard.lo, pos, int(self.service.clock.now() * 1000))
        return self._encode(doc.name, position)

    # -- GetRecords

    async def get_records(self, iterator: str, limit: int) -> bytes:
        name, position = self._decode(iterator)
        service = self.service
        doc = service.doc(name)
        if doc is None or doc.stream_id != position.stream_id:
            raise ResourceNotFoundException(
                f"Shard {shard_name(position.slot)} in stream {name} under account {self.account} "
                "does not exist"
            )
        now = service.clock.now()
        if not await service.throttle.read((doc.stream_id, position.slot), now):
            raise ProvisionedThroughputExceededException(
                f"Rate exceeded for shard {shard_name(position.slot)} in stream {name} under account "
                f"{self.account}."
            )
        return await asyncio.to_thread(self._read, doc, position, limit)

    def _read(self, doc: StreamDoc, position: Position, limit: int) -> bytes:
        service = self.service
        slot = position.slot
        pos = max(position.pos, service.trim_mark(doc.stream_id, slot) + 1)
        page = pages.read(service.storage, doc.stream_id, slot, position.lo, pos, limit)
        out: list[bytes] = []
        size = 0
        for record in page.records:
            size += len(record.payload)
            if size > MAX_RECORDS_BYTES and out:
                break
            out.append(render(format_bytes(record.seq, slot), record.created_at, record.payload))
        read_all = len(out) == len(page.records) and len(page.records) < limit
        now = service.clock.now()
        behind = (
            0 if read_all or not out else max(0, int((now - page.records[len(out) - 1].created_at) * 1000))
        )
        body = b'{"Records":[' + b",".join(out) + b'],"MillisBehindLatest":%d' % behind
        next_pos = page.records[len(out) - 1].seq + 1 if out else pos
        if page.exhausted and read_all:
            body += b',"ChildShards":' + self._children(doc, position)
        else:
            nxt = Position(doc.stream_id, slot, position.lo, next_pos, int(now * 1000))
            body += b',"NextShardIterator":"' + self._encode(doc.name, nxt).encode() + b'"'
        service.reads.add(len(out))
        return body + b"}"

    def _children(self, doc: StreamDoc, position: Position) -> bytes:
        import orjson

        shards = self.service.shards(doc)
        out = []
        for child in self.service.children(shards, (position.slot, position.lo)):
            out.append(
                {
                    "ShardId": shard_name(child.slot),
                    "ParentShards": [shard_name(p[0]) for p in child.parents],
                    "HashKeyRange": {"StartingHashKey": str(child.start), "EndingHashKey": str(child.end)},
                }
            )
        return orjson.dumps(out)
