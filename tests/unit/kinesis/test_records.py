"""Kinesis records as stored: today's layout, and the one written before PutRecords learned its sequence
numbers from the writer (a nonce after the version byte), which stored data may still hold."""

from __future__ import annotations

import struct

import orjson

from headwater.kinesis.records import data_size, pack, partition_key, render, unpack


def test_a_record_reads_back_its_key_and_data() -> None:
    payload = pack("pk-é", b"\x00data")
    assert unpack(payload) == (orjson.dumps("pk-é"), b"\x00data")
    assert partition_key(payload) == "pk-é"
    assert data_size(payload) == 5


def test_a_record_of_the_first_layout_still_reads() -> None:
    key = orjson.dumps("old")
    payload = b"\x01" + struct.pack(">8sH", b"n" * 8, len(key)) + key + b"abc"
    assert unpack(payload) == (key, b"abc")
    assert partition_key(payload) == "old"
    assert data_size(payload) == 3
    assert orjson.loads(render(b"1", 2.5, payload)) == {
        "SequenceNumber": "1",
        "ApproximateArrivalTimestamp": 2.5,
        "Data": "YWJj",
        "PartitionKey": "old",
    }
