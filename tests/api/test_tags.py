"""TagResource, UntagResource and ListTagsOfResource: the documented tagging restrictions and ARN errors.

DynamoDB Local does not support tagging ("Tagging is not currently supported in DynamoDB Local."): the
rules come from the Developer Guide's "Tagging restrictions" and the API reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import NO_TAGGING
from tests.api.test_tables import error_of

pytestmark = NO_TAGGING
INVALID = "One or more parameter values were invalid: "


@pytest.fixture
def arn(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table(
        f"tags_{uuid.uuid4().hex}",
        attribute_definitions=[("g", "S")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    return str(ddb.describe_table(TableName=name)["Table"]["TableArn"])


def _tags(ddb: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def test_allowed_tags(ddb: Any, arn: str) -> None:
    tags = {
        "a b+-=._:/": "x y+-=._:/",
        "\u0437\u0430\u043a\u043e\u043d\u043d\u044b\u0435 \u0431\u0443\u043a\u0432\u044b": "\u65e5\u672c 42",
        "k" * 128: "v" * 256,
        "empty": "",
        "user:team": "1",
    }
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    assert _tags(ddb, arn) == tags
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "empty", "Value": "now set"}])
    assert _tags(ddb, arn)["empty"] == "now set"
    ddb.untag_resource(ResourceArn=arn, TagKeys=["empty", "never there"])
    assert "empty" not in _tags(ddb, arn)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hi!", "v", INVALID + "Invalid characters in tag key: hi!"),
        ("d%g", "v", INVALID + "Invalid characters in tag key: d%g"),
        ("owner@x", "v", INVALID + "Invalid characters in tag key: owner@x"),
        ("k", '"hello"', INVALID + 'Invalid characters in tag value: "hello"'),
        ("k", "a#b", INVALID + "Invalid characters in tag value: a#b"),
        ("aws:x", "v", INVALID + "Tag keys starting with aws: are reserved for AWS: aws:x"),
        ("AWS:x", "v", INVALID + "Tag keys starting with aws: are reserved for AWS: AWS:x"),
    ],
)
def test_refused_tags(ddb: Any, arn: str, key: str, value: str, message: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "fine", "Value": "v"}, {"Key": key, "Value": value}])
    assert error_of(info) == ("ValidationException", message)
    assert _tags(ddb, arn) == {}


def test_create_table_checks_its_tags(ddb: Any) -> None:
    name = f"tags_{uuid.uuid4().hex}"
    with pytest.raises(ClientError) as info:
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "aws:x", "Value": "v"}],
        )
    assert error_of(info) == (
        "ValidationException",
        INVALID + "Tag keys starting with aws: are reserved for AWS: aws:x",
    )
    assert name not in ddb.list_tables()["TableNames"]


def test_tag_lengths_and_count(ddb: Any, server: Any, arn: str) -> None:
    raw = server.client("dynamodb", parameter_validation=False)
    with pytest.raises(ClientError) as info:
        raw.tag_resource(ResourceArn=arn, Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert error_of(info) == (
        "ValidationException",
        f"1 validation error detected: Value '{'k' * 129}' at 'tags.1.member.key' failed to satisfy "
        "constraint: Member must have length less than or equal to 128",
    )
    with pytest.raises(ClientError) as info:
        raw.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v" * 257}])
    assert error_of(info)[1].endswith("Member must have length less than or equal to 256")
    with pytest.raises(ClientError) as info:
        raw.tag_resource(ResourceArn=arn, Tags=[{"Key": "", "Value": "v"}])
    assert error_of(info)[1].endswith("Member must have length greater than or equal to 1")
    with pytest.raises(ClientError) as info:
        ddb.tag_resource(ResourceArn=arn, Tags=[])
    assert error_of(info) == (
        "ValidationException",
        "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(30)])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "w"} for i in range(20, 50)])
    assert len(_tags(ddb, arn)) == 50
    with pytest.raises(ClientError) as info:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "one_more", "Value": "v"}])
    assert error_of(info) == ("ValidationException", INVALID + "Too many tags")
    assert len(_tags(ddb, arn)) == 50


def test_only_a_table_arn_carries_tags(ddb: Any, arn: str) -> None:
    index_arn = arn + "/index/by_g"
    calls: list[Callable[[str], Any]] = [
        lambda a: ddb.tag_resource(ResourceArn=a, Tags=[{"Key": "k", "Value": "v"}]),
        lambda a: ddb.untag_resource(ResourceArn=a, TagKeys=["k"]),
        lambda a: ddb.list_tags_of_resource(ResourceArn=a),
    ]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call(index_arn)
        assert error_of(info) == (
            "ValidationException",
            INVALID + "Invalid resource arn provided, only table or stream is accepted. "
            f"Provided resource arn: {index_arn}",
        )
        missing = arn + "x"
        with pytest.raises(ClientError) as info:
            call(missing)
        assert error_of(info) == (
            "ResourceNotFoundException",
            f"Requested resource not found: ResourcArn: {missing} not found",
        )
        for malformed in ("nope", "arn:aws:s3:::bucket", arn.replace(":table/", ":tablex/")):
            with pytest.raises(ClientError) as info:
                call(malformed)
            assert error_of(info) == (
                "ValidationException",
                f"Invalid TableArn: Invalid ResourceArn provided as input {malformed}",
            )
