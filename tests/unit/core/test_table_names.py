"""What a TableName names: a name of the caller's namespace, or a table ARN (its account, the caller's
region)."""

from __future__ import annotations

import pytest

from headwater.core.table_names import ARN_FORMAT, INVALID_NAME, table_named
from headwater.errors import ValidationException
from headwater.model.namespace import Namespace, arn_namespace, rerooted

CALLER = Namespace("000000000000", "us-east-1")


def test_a_plain_name_is_the_callers() -> None:
    assert table_named("orders", CALLER) == (CALLER, "orders")


def test_an_arn_of_the_callers_namespace_is_the_callers_table() -> None:
    found = table_named("arn:aws:dynamodb:us-east-1:000000000000:table/orders", CALLER)
    assert found == (CALLER, "orders")
    assert found[0] is CALLER


def test_an_arn_of_another_account_names_that_accounts_table() -> None:
    found = table_named("arn:aws:dynamodb:us-east-1:111122223333:table/orders", CALLER)
    assert found == (Namespace("111122223333", "us-east-1"), "orders")


def test_an_arn_of_another_region_is_refused() -> None:
    arn = "arn:aws:dynamodb:eu-west-1:000000000000:table/orders"
    with pytest.raises(ValidationException) as caught:
        table_named(arn, CALLER)
    assert caught.value.message == f"1 validation error detected: Invalid AWS region in '{arn}'"


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("arn:aws:dynamodb:us-east-1:000000000000:table/orders/index/byg", INVALID_NAME),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/ab", INVALID_NAME),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/a b", INVALID_NAME),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000", ARN_FORMAT),
        ("arn:aws:dynamodb:us-east-1:000000000000:stream/orders", ARN_FORMAT),
        ("arn:aws:kinesis:us-east-1:000000000000:table/orders", ARN_FORMAT),
        ("arn:aws-cn:dynamodb:us-east-1:000000000000:table/orders", ARN_FORMAT),
        ("arn:aws:dynamodb::000000000000:table/orders", ARN_FORMAT),
        ("arn:aws:dynamodb:us-east-1::table/orders", ARN_FORMAT),
        ("arn:", ARN_FORMAT),
    ],
)
def test_a_malformed_arn_is_refused(arn: str, message: str) -> None:
    with pytest.raises(ValidationException) as caught:
        table_named(arn, CALLER)
    assert caught.value.message == message


def test_arn_namespaces() -> None:
    assert arn_namespace("arn:aws:kinesis:eu-west-1:123456789012:stream/s") == Namespace(
        "123456789012", "eu-west-1"
    )
    assert arn_namespace("arn:aws:dynamodb:::table/t") is None
    assert arn_namespace("orders") is None
    moved = rerooted("arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x:y", Namespace("1", "r"))
    assert moved == "arn:aws:dynamodb:r:1:table/t/stream/x:y"
    assert CALLER.prefix == "000000000000/us-east-1/"
    assert CALLER.arn("lambda", "function:f") == "arn:aws:lambda:us-east-1:000000000000:function:f"
