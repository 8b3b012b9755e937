"""The editor's two views of an item, keys in URLs, and the stream tail's position."""

from __future__ import annotations

import pytest

from headwater.console.client import ApiError
from headwater.console.itemjson import decode_key, encode_key, item_from_text, plain_text
from headwater.console.streams import decode_position, encode_position, lineage_svg


def test_plain_json_becomes_dynamodb_json_numbers_kept_exactly() -> None:
    text = '{"pk": "a", "n": 12345678901234567890.000001, "i": 7, "ok": true, "none": null, '
    text += '"l": [1, "x"], "m": {"k": 1}}'
    assert item_from_text(text, plain=True) == {
        "pk": {"S": "a"},
        "n": {"N": "12345678901234567890.000001"},
        "i": {"N": "7"},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
        "l": {"L": [{"N": "1"}, {"S": "x"}]},
        "m": {"M": {"k": {"N": "1"}}},
    }


def test_dynamodb_json_is_passed_on_as_written() -> None:
    item = item_from_text('{"pk": {"S": "a"}, "n": {"N": "1.50"}, "s": {"SS": ["x"]}}', plain=False)
    assert item == {"pk": {"S": "a"}, "n": {"N": "1.50"}, "s": {"SS": ["x"]}}
    # a mistake the API will name: a JSON number where DynamoDB JSON wants a string
    assert item_from_text('{"n": {"N": 5}}', plain=False) == {"n": {"N": 5}}


@pytest.mark.parametrize("text", ['{"pk": ', "[1, 2]", "", "nul", '"a"'])
def test_text_that_is_not_a_json_object_is_a_serialization_exception(text: str) -> None:
    with pytest.raises(ApiError) as caught:
        item_from_text(text, plain=True)
    assert caught.value.type_name == "SerializationException"
    assert caught.value.status == 400


def test_cells_show_plain_json() -> None:
    assert plain_text({"N": "42"}) == "42"
    assert plain_text({"N": "1.5"}) == "1.5"
    assert plain_text({"M": {"a": {"SS": ["x"]}, "b": {"NULL": True}}}) == '{"a":["x"],"b":null}'


def test_keys_travel_in_urls_and_anything_else_is_no_key() -> None:
    key = {"pk": {"S": "a/b?c"}, "sk": {"N": "1"}}
    assert decode_key(encode_key(key)) == key
    for bad in ("", "!!!", "W10", "A" * 5000, encode_key({"a": 1})[:-3] + "$$$"):
        assert decode_key(bad) is None


def test_the_tail_position_is_bounded_and_checked() -> None:
    position = {"shard-1": "it1", "shard-2": "it2"}
    assert decode_position(encode_position(position)) == position
    assert decode_position("") is None
    assert decode_position("x" * 9000) is None
    assert decode_position(encode_position({"a": 1})) is None  # type: ignore[dict-item]
    many = {f"s{n}": "it" for n in range(50)}
    decoded = decode_position(encode_position(many))
    assert decoded is not None and len(decoded) == 8


def test_lineage_puts_children_to_the_right_of_their_parent() -> None:
    shards = [
        {"ShardId": "shardId-parent", "SequenceNumberRange": {"EndingSequenceNumber": "9"}},
        {"ShardId": "shardId-child", "ParentShardId": "shardId-parent", "SequenceNumberRange": {}},
        {"ShardId": "shardId-orphan", "ParentShardId": "shardId-trimmed", "SequenceNumberRange": {}},
    ]
    svg = lineage_svg(shards)
    assert svg.count("<line ") == 1  # parent -> child; the orphan's parent is gone
    assert svg.count('<g class="closed">') == 1
    assert svg.count('<g class="open">') == 2


def test_a_shard_to_follow_again_from_its_end_survives_the_round_trip() -> None:
    position = {"shard-1": "LATEST"}
    assert decode_position(encode_position(position)) == position
