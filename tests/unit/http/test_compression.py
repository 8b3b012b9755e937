"""Which coding a response gets for an Accept-Encoding header: DynamoDB's choices (per the Alternator
suite's checks against the real service), and the compressed bytes themselves."""

from __future__ import annotations

import gzip
import zlib

import pytest

from headwater.http.compression import choose, compress_now

CASES = [
    (None, None),
    ("", None),
    ("identity", None),
    ("br", None),
    ("zstd", None),
    ("compress", None),
    ("x-gzip", None),
    ("gzip", "gzip"),
    ("deflate", "deflate"),
    ("gzip, deflate", "gzip"),
    ("br, identity, deflate, gzip", "deflate"),
    ("GZIP, identity", "gzip"),
    ("dog, gzip ,, cat", "gzip"),
    ("gzip;q=0.8, deflate;q=0.5", "gzip"),
    ("br, gzip;q=0, deflate; q = 0.5 , identity;q=0", "deflate"),
    ("*", "gzip"),
    ("*, deflate;q=0.5", "gzip"),
    ("*, deflate", "deflate"),
    ("*, identity", "gzip"),
    ("*, gzip;q=0.5", "deflate"),
    ("gzip ;q=0", None),
    ("identity;q=0", None),
    ("*;q=0", None),
    ("*;q=0.5,identity", "gzip"),
    ("gzip;q=0.5,identity;q=0.8", "gzip"),
    ("br;q=0.8,identity;q=0.5,*;q=0", None),
    ('"gzip"', None),
    ("gzip br", None),
    ("gzip:q=1", None),
    ("deflate;q=0.5, gzip;q=31", "gzip"),
    ("gzip;q=31,deflate;q=51", "gzip"),
    ("deflate;q=0.5, gzip;q=0.2", "deflate"),
    ("deflate;q=0.5, gzip;q=1;q=0.2", "gzip"),
    ("deflate;q=0.5,gzip;q=0.", "deflate"),
    ("deflate;q=0.5,gzip;q=0.x", "gzip"),
    ("deflate;q=-0.5,gzip;q=0.2", "gzip"),
    ("gzip;nq=1;q=0 ", None),
    ("gzip;q=0, gzip;q=1, gzip;q=0", "gzip"),
    ("br,identity;q=0.5,gzip;q=0.0001", "gzip"),
    ("gzip;q=nan, deflate;q=0.9", "gzip"),
]


@pytest.mark.parametrize(("header", "expected"), CASES)
def test_the_coding_chosen_for_an_accept_encoding_header(header: str | None, expected: str | None) -> None:
    assert choose(None if header is None else header.encode()) == expected


def test_the_compressed_bytes_are_standard_gzip_and_zlib() -> None:
    body = b'{"Items":[' + b",".join(b'{"pk":{"S":"k%d"}}' % i for i in range(1000)) + b"]}"
    packed = compress_now(body, "gzip")
    assert gzip.decompress(packed) == body and len(packed) < len(body) // 4
    assert compress_now(body, "gzip") == packed  # no timestamp in the header: deterministic
    assert zlib.decompress(compress_now(body, "deflate")) == body
