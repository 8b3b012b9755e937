"""Kinesis sequence numbers: 56 decimal digits, growing within a shard, encoding the shard they belong
to. They are made from the log's global sequence number (one numbering by the single writer) and the
shard's slot, so the shard a client names can be checked against the number it passes."""

from __future__ import annotations

from dataclasses import dataclass

BASE = 49 * 10**54  # 56 digits from the first record on
_SLOT_BITS = 24


@dataclass(frozen=True, slots=True)
class Decoded:
    seq: int
    slot: int


def format_seq(seq: int, slot: int) -> str:
    return str(BASE + (seq << _SLOT_BITS) + slot)


def format_bytes(seq: int, slot: int) -> bytes:
    return b"%d" % (BASE + (seq << _SLOT_BITS) + slot)


def parse_seq(text: str) -> Decoded | None:
    """None when `text` is not a sequence number of ours."""
    if not text.isascii() or not text.isdigit() or len(text) > 128:
        return None
    value = int(text) - BASE
    if value < 0:
        return None
    return Decoded(value >> _SLOT_BITS, value & ((1 << _SLOT_BITS) - 1))
