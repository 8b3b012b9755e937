"""Headwater's DAX codec against the encodings the real client produces (the client is the oracle)."""

from __future__ import annotations

import base64
import random
from decimal import Decimal
from typing import Any

import pytest
from amazondax import AttributeValueEncoder, CborSExprGenerator, LexDecimal
from amazondax.CborEncoder import CborEncoder

from headwater.dax import lexdecimal
from headwater.dax.cbor import Incomplete, Malformed, Reader
from headwater.dax.expressions import BadExpression, Rendering
from headwater.dax.values import decode_key, decode_values, encode_key

SCHEMA = [("pk", "S"), ("sk", "N")]


def _client_schema(schema: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in schema]


def test_lexdecimal_matches_the_client_and_keeps_order() -> None:
    chosen = random.Random(7)
    values = ["0", "1", "-1", "100", "0.001", "-123.456", "1E+100", "-1E-100", "9" * 38]
    values += [
        str(Decimal(chosen.randint(-(10**12), 10**12)).scaleb(chosen.randint(-60, 60))) for _ in range(200)
    ]
    for text in values:
        ours = lexdecimal.encode(Decimal(text))
        assert ours == bytes(LexDecimal.encode(LexDecimal.create_decimal(text))), text
        assert lexdecimal.decode(ours) == Decimal(text)
    ordered = sorted(values, key=Decimal)
    assert [lexdecimal.encode(Decimal(v)) for v in ordered] == sorted(
        lexdecimal.encode(Decimal(v)) for v in ordered
    )


@pytest.mark.parametrize(
    ("schema", "item"),
    [
        ([("pk", "S"), ("sk", "N")], {"pk": {"S": "ä"}, "sk": {"N": "-1.5"}}),
        ([("pk", "N"), ("sk", "S")], {"pk": {"N": "12345678901234567890"}, "sk": {"S": "x"}}),
        ([("pk", "B"), ("sk", "B")], {"pk": {"B": b"\x00"}, "sk": {"B": b"\xff"}}),
        ([("pk", "N")], {"pk": {"N": "7"}}),
        ([("pk", "S")], {"pk": {"S": "only"}}),
    ],
)
def test_keys_match_the_client(schema: list[tuple[str, str]], item: dict[str, Any]) -> None:
    raw = AttributeValueEncoder.encode_key(item, _client_schema(schema))
    decoded = decode_key(raw, schema)
    ours = {
        name: ({"B": base64.b64encode(av["B"]).decode()} if "B" in av else av) for name, av in item.items()
    }
    assert decoded == ours
    assert encode_key(decoded, schema) == raw


def test_values_match_the_client() -> None:
    item = {
        "a": {"NS": ["1", "2.5"]},
        "b": {"M": {"z": {"L": [{"NULL": True}, {"BOOL": True}]}}},
        "c": {"N": "-0.5"},
    }
    raw = AttributeValueEncoder.encode_values(item, [], ["a", "b", "c"], 9)
    assert decode_values(raw) == (9, [item["a"], item["b"], item["c"]])


def test_expressions_render_back_to_text() -> None:
    encoded = CborSExprGenerator.encode_expressions(
        "a.b[1] IN (:x, :y) OR NOT begins_with(#c, :y)",
        None,
        None,
        "SET d = list_append(d, :l) REMOVE e",
        "a, #c",
        {"#c": "c c"},
        {":x": {"N": "1"}, ":y": {"S": "s"}, ":l": {"L": []}},
    )
    rendering = Rendering()
    assert (
        rendering.condition(encoded.Condition) == "(#n0.#n1[1] IN (:v0, :v1) OR (NOT begins_with(#n2, :v2)))"
    )
    assert rendering.update(encoded.Update) == "SET #n3 = list_append(#n3, :v3) REMOVE #n4"
    assert rendering.projection(encoded.Projection) == ("#n0, #n2", [["a"], ["c c"]])
    assert rendering.names["#n2"] == "c c" and rendering.values[":v3"] == {"L": []}


@pytest.mark.parametrize("data", [b"\x82\x01", b"\x83\x02\x80\x80", b"\x83\x01\x82\x63\x01\x80", b"\xa0"])
def test_bad_expressions_are_refused(data: bytes) -> None:
    with pytest.raises((BadExpression, Malformed, Incomplete)):
        Rendering().condition(data)


def test_cbor_reads_what_the_client_writes_and_refuses_what_it_never_would() -> None:
    encoder = CborEncoder()
    encoder.append_map_stream_header()
    encoder.append_int(-(2**70))
    encoder.append_number("1.25")
    encoder.append_break()
    assert Reader(encoder.as_bytes()).value() == {-(2**70): Decimal("1.25")}
    for bad in (b"\x9f" * 100 + b"\xff" * 100, b"\x1c", b"\x7f\x01\xff"):
        with pytest.raises(Malformed):
            Reader(bad).value()
    with pytest.raises(Incomplete):
        Reader(b"\x5a\xff\xff\xff\xff").value()
