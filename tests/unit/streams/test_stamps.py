"""A global table's stored record without its replication stamp: DynamoDB's record, byte for byte."""

from __future__ import annotations

from headwater.streams.records import without_stamp

PLAIN = b'{"dynamodb":{"Keys":{"pk":{"S":"a"}}},"eventName":"INSERT"}'
TTL = b'{"dynamodb":{"Keys":{"pk":{"S":"a"}}},"eventName":"REMOVE","userIdentity":{"Type":"Service"}}'
STAMP = b',"replication":{"writeTime":1.5,"region":"us-east-1"}'


def test_the_stamp_goes_and_nothing_else() -> None:
    assert without_stamp(PLAIN) == PLAIN
    assert without_stamp(TTL) == TTL
    assert without_stamp(PLAIN[:-1] + STAMP + b"}") == PLAIN
    assert without_stamp(TTL[:-1] + STAMP + b"}") == TTL
