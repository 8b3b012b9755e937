"""OnDemandThroughput: kept and described; a maximum below 1 (or -1, which only UpdateTable takes to remove
one) is refused with DynamoDB Local's text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

REFUSED = "Table read and write throughput must be at least 1, and cannot be null"


def test_maximums_are_described(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(OnDemandThroughput={"MaxReadRequestUnits": 5, "MaxWriteRequestUnits": 3})
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["OnDemandThroughput"] == {"MaxReadRequestUnits": 5, "MaxWriteRequestUnits": 3}


@pytest.mark.parametrize("units", [0, -1, -2])
def test_a_maximum_below_one_is_refused(make_table: Callable[..., str], units: int) -> None:
    with pytest.raises(ClientError) as caught:
        make_table(OnDemandThroughput={"MaxReadRequestUnits": units})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == REFUSED
