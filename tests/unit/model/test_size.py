from __future__ import annotations

import base64

import pytest

from headwater.errors import ValidationException
from headwater.model.limits import MAX_ITEM_BYTES
from headwater.model.size import check_item_size, item_size, number_size, value_size


# Sizes measured at DynamoDB's 400 KB boundary (bytes of the value alone).
@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 1),
        ("1", 2),
        ("-1", 3),
        ("12", 2),
        ("123", 3),
        ("1234", 3),
        ("12345", 4),
        ("-12345", 5),
        ("100", 2),
        ("110", 3),
        ("1000", 2),
        ("1010", 3),
        ("10100", 3),
        ("101", 3),
        ("0.1", 2),
        ("0.01", 2),
        ("0.12", 2),
        ("0.123", 3),
        ("1.5", 3),
        ("12.5", 3),
        ("1.25", 3),
        ("123.45", 4),
        ("1.1", 3),
        ("11.11", 3),
        ("0.000001", 2),
        ("1" + "0" * 100, 2),
        ("12345678901234567890123456789012345678", 20),
        ("-12345678901234567890123456789012345678", 21),
    ],
)
def test_number_size(text: str, size: int) -> None:
    assert number_size(text) == size


@pytest.mark.parametrize(
    ("av", "size"),
    [
        ({"NULL": True}, 1),
        ({"BOOL": False}, 1),
        ({"M": {}}, 3),
        ({"L": []}, 3),
        ({"L": [{"S": "ab"}]}, 6),
        ({"L": [{"S": "ab"}, {"S": "c"}]}, 8),
        ({"M": {"k": {"S": "ab"}}}, 7),
        ({"M": {"kk": {"S": "ab"}, "z": {"N": "1"}}}, 12),
        ({"L": [{"L": []}]}, 7),
        ({"L": [{"NULL": True}]}, 5),
        ({"SS": ["ab", "c"]}, 3),
        ({"NS": ["1", "12345"]}, 6),
        ({"BS": ["YWI=", "Yw=="]}, 3),
        ({"B": "YWJj"}, 3),
        ({"B": ""}, 0),
        ({"S": "é"}, 2),
        ({"S": ""}, 0),
    ],
)
def test_value_size(av: dict[str, object], size: int) -> None:
    assert value_size(av) == size


def test_item_size_counts_utf8_names() -> None:
    assert item_size({"é": {"S": "ab"}, "id": {"S": "a"}}) == 2 + 2 + 2 + 1


def test_binary_size_matches_decoded_length() -> None:
    for n in range(10):
        text = base64.b64encode(b"x" * n).decode()
        assert value_size({"B": text}) == n


def test_400kb_boundary() -> None:
    # id(2) + "a"(1) + p(1) + padding: exactly 409600 passes, one byte more fails
    exact = {"id": {"S": "a"}, "p": {"S": "x" * (MAX_ITEM_BYTES - 4)}}
    assert check_item_size(exact) == 409600
    over = {"id": {"S": "a"}, "p": {"S": "x" * (MAX_ITEM_BYTES - 3)}}
    with pytest.raises(ValidationException) as err:
        check_item_size(over)
    assert err.value.message == "Item size has exceeded the maximum allowed size"
