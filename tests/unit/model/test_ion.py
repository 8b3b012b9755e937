"""DynamoDB items in Ion text: what export writes reads back, AWS's documented example reads, and text
outside the mapping is refused with a reason."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.model.ion import IonError, item_line, read_item
from headwater.model.values import validate_item

ITEM: dict[str, Any] = {
    "pk": {"S": 'quote " back \\ tab \t é 😀'},
    "n": {"N": "-12.5"},
    "big": {"N": "1E+30"},
    "b": {"B": "AAH/"},
    "yes": {"BOOL": True},
    "nothing": {"NULL": True},
    "l": {"L": [{"N": "1"}, {"S": ""}, {"L": []}]},
    "m": {"M": {"true": {"S": "keyword as a field"}, "with space": {"N": "0"}, "it's": {"M": {}}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": ["AA==", "AQ=="]},
}


def test_what_export_writes_reads_back() -> None:
    line = item_line(validate_item(ITEM))
    assert "\n" not in line and line.startswith("$ion_1_0 {Item:{")
    assert validate_item(read_item(line)) == validate_item(ITEM)


def test_the_documented_example() -> None:
    text = """$ion_1_0 {
        Item:{
            Authors:$dynamodb_SS::["Author1","Author2"],
            Dimensions:"8.5 x 11.0 x 1.5",
            ISBN:"333-3333333333",
            Id:103.,
            InPublication:false,
            PageCount:6d2,
            Price:2d3,
            ProductCategory:"Book",
            Title:"Book 103 Title"
        }
    }"""
    item = validate_item(read_item(text))
    assert item["Id"] == {"N": "103"}
    assert item["PageCount"] == {"N": "600"}
    assert item["Price"] == {"N": "2000"}
    assert item["Authors"] == {"SS": ["Author1", "Author2"]}
    assert item["InPublication"] == {"BOOL": False}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{Item:{t:2020-01-01T}}", "unsupported value"),
        ("{Item:{s:sym}}", "symbol value"),
        ("{Item:{s:$other::[1]}}", "not a DynamoDB set"),
        ("{Item:{s:$dynamodb_SS::[1]}}", "another type"),
        ("{Item:{b:{{not base64!}}}}", "not base64"),
        ('{Item:{s:"open}}', "unterminated"),
        ("{Other:{}}", "not an {Item"),
        ("{Item:{a:1}} {Item:{}}", "more than one value"),
        ("{Item:{a:" + "[" * 100 + "]" * 100 + "}}", "nested too deeply"),
        ('{Item:{s:"\\q"}}', "unknown escape"),
    ],
)
def test_text_outside_the_mapping_is_refused(text: str, reason: str) -> None:
    with pytest.raises(IonError, match=reason):
        read_item(text)
