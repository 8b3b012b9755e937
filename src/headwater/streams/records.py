"""Rendering stored records for GetRecords with as little Python work as possible.

core.stream_capture stores each record pre-rendered as `{"dynamodb":{...},"eventName":...}`; here we
splice in the SequenceNumber (first member of `dynamodb`), the eventID and the constant members.
"""

from __future__ import annotations

import hashlib

PAYLOAD_PREFIX = b'{"dynamodb":{'
_CUT = len(PAYLOAD_PREFIX)
# A global table's stored record ends with the change's last-writer-wins stamp (core/lww.py), the
# member replication links read: `...,"replication":{"writeTime":...,"region":"..."}}`. DynamoDB's
# record has no such member, so GetRecords leaves it out unless a link asks (REPLICATION_STAMPS).
STAMP_MEMBER = b',"replication":{'
REPLICATION_STAMPS = "HeadwaterReplicationStamps"  # GetRecords request member: true keeps the stamps
# GetRecords request member (with REPLICATION_STAMPS): a region; a record stamped by another origin (or
# unstamped) is answered as its sequence number alone, as the link from that region skips it anyway
REPLICATION_ORIGIN = "HeadwaterReplicationOrigin"
# Scan with REPLICATION_STAMPS (a new replica's backfill from another server): the answer's
# REPLICATION_STAMPS lists each item's stamp (null: written before the table was global), and
# REPLICATION_TOMBSTONES the stamps of the deleted items in the page's keys
REPLICATION_TOMBSTONES = "HeadwaterReplicationTombstones"


def without_stamp(payload: bytes) -> bytes:
    """The stored record without its replication stamp (only records ending in an object can have one:
    a stamped record, or a TTL delete's userIdentity, so other records are not searched)."""
    if not payload.endswith(b"}}"):
        return payload
    at = payload.rfind(STAMP_MEMBER)
    return payload if at < 0 else payload[:at] + b"}"


def stamped_by(payload: bytes, region: bytes) -> bool:
    """Whether the stored record carries a stamp of `region`: its last member ends with the region."""
    return payload.endswith(b'"region":"%s"}}' % region) and payload.rfind(STAMP_MEMBER) >= 0


def render_skipped(seq_text: bytes) -> bytes:
    """A record a replication link skips, reduced to what moves its checkpoint on."""
    return b'{"dynamodb":{"SequenceNumber":"%s"}}' % seq_text


def event_id(stream_id: int, seq: int) -> str:
    """32 hex digits, the same every time (stream, sequence number) is read."""
    return hashlib.blake2b(b"%d:%d" % (stream_id, seq), digest_size=16).hexdigest()


def constant_tail(region: str) -> bytes:
    return b',"awsRegion":"%s","eventSource":"aws:dynamodb","eventVersion":"1.1"}' % region.encode()


def render(stream_id: int, seq_text: bytes, seq: int, payload: bytes, tail: bytes) -> bytes:
    eid = hashlib.blake2b(b"%d:%d" % (stream_id, seq), digest_size=16).hexdigest().encode()
    return b'{"dynamodb":{"SequenceNumber":"%s",%s,"eventID":"%s"%s' % (
        seq_text,
        payload[_CUT:-1],
        eid,
        tail,
    )
