"""Sequence numbers on the wire: decimal strings of at least 21 digits that grow as integers."""

from __future__ import annotations

from ..errors import ValidationException

# The storage sequence starts at 1; adding 10**20 gives 21 digits without leading zeros.
OFFSET = 10**20


def format_seq(seq: int) -> str:
    return str(OFFSET + seq)


def parse_seq(text: str) -> int:
    """The storage sequence number of a wire SequenceNumber (ValidationException if it is not one)."""
    if not text.isdigit() or not text.isascii():
        raise ValidationException("Invalid SequenceNumber")
    value = int(text) - OFFSET
    if value < 0:
        raise ValidationException("Invalid SequenceNumber")
    return value
