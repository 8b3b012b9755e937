"""UpdateTable ReplicaUpdates: every rule a request can break, with the error it gets.

DynamoDB Local 3.3.0 does not know ReplicaUpdates (it answers "Nothing to update"); the texts are
AWS's where its documentation or its users' reports give them (the local region), Headwater's own
otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_global_tables import HOME, WEST, add_replica, replica_status, wait_for
from tests.server import Server


def error(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def update(ddb: Any, name: str, *updates: dict[str, Any], **extra: Any) -> Callable[[], object]:
    return lambda: ddb.update_table(TableName=name, ReplicaUpdates=list(updates), **extra)


def test_the_local_region(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    for action in ("Create", "Update", "Delete"):
        assert error(update(ddb, name, {action: {"RegionName": HOME}})) == (
            "ValidationException",
            "Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, "
            "DeleteTable, or UpdateTable as required.",
        )


def test_a_region_that_is_not_a_replica(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error(update(ddb, name, {"Delete": {"RegionName": WEST}})) == (
        "ValidationException",
        f"Cannot delete a replica in region {WEST}: the table has no replica there",
    )
    assert error(update(ddb, name, {"Update": {"RegionName": WEST, "KMSMasterKeyId": "k"}})) == (
        "ValidationException",
        f"Cannot update a replica in region {WEST}: the table has no replica there",
    )


def test_a_region_added_twice(server: Server, make_table: Callable[..., str]) -> None:
    ddb = server.client("dynamodb", HOME)
    name = make_table()
    add_replica(ddb, name, WEST)
    assert error(update(ddb, name, {"Create": {"RegionName": WEST}})) == (
        "ValidationException",
        f"Failed to create a replica of table {name} in region {WEST}: the table is already replicated there",
    )
    wait_for("the replica", lambda: replica_status(ddb, name) == {WEST: "ACTIVE"})


def test_a_region_where_the_table_exists(server: Server, make_table: Callable[..., str]) -> None:
    ddb = server.client("dynamodb", HOME)
    name = make_table()
    west = server.client("dynamodb", WEST)
    west.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert error(update(ddb, name, {"Create": {"RegionName": WEST}})) == (
        "ValidationException",
        f"Failed to create a the new replica of table with name: '{name}' because one or more replicas "
        "already existed as tables.",
    )
    west.delete_table(TableName=name)


def test_a_stream_without_both_images(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert error(update(ddb, name, {"Create": {"RegionName": WEST}})) == (
        "ValidationException",
        "One or more parameter values were invalid: Table has a stream with view type KEYS_ONLY; "
        "global tables replicate through a NEW_AND_OLD_IMAGES stream",
    )


def test_provisioned_write_capacity_must_be_auto_scaled(ddb: Any, table_name: str) -> None:
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    assert error(update(ddb, table_name, {"Create": {"RegionName": WEST}})) == (
        "ValidationException",
        "Table write capacity should either be Pay-Per-Request or AutoScaled.",
    )
    scaled = ddb.update_table_replica_auto_scaling(
        TableName=table_name,
        ProvisionedWriteCapacityAutoScalingUpdate={
            "MinimumUnits": 5,
            "MaximumUnits": 50,
            "ScalingPolicyUpdate": {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0}},
        },
    )["TableAutoScalingDescription"]
    assert scaled["Replicas"][0]["RegionName"] == HOME
    write = scaled["Replicas"][0]["ReplicaProvisionedWriteCapacityAutoScalingSettings"]
    assert write["MinimumUnits"] == 5 and write["MaximumUnits"] == 50
    assert write["ScalingPolicies"][0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70.0
    wait_for(
        "the table to be ACTIVE",
        lambda: ddb.describe_table(TableName=table_name)["Table"]["TableStatus"] == "ACTIVE",
    )
    add_replica(ddb, table_name, WEST)
    wait_for("the replica", lambda: replica_status(ddb, table_name) == {WEST: "ACTIVE"})
    described = ddb.describe_table_replica_auto_scaling(TableName=table_name)["TableAutoScalingDescription"]
    assert [r["RegionName"] for r in described["Replicas"]] == [HOME, WEST]


def test_replica_updates_alone(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error(update(ddb, name, {"Create": {"RegionName": WEST}}, DeletionProtectionEnabled=True)) == (
        "ValidationException",
        "ReplicaUpdates cannot be combined with other changes of the table in one UpdateTable request",
    )


def test_one_action_per_update(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    both = {"Create": {"RegionName": WEST}, "Delete": {"RegionName": WEST}}
    assert error(update(ddb, name, both)) == (
        "ValidationException",
        "One or more parameter values were invalid: exactly one of Create, Update or Delete must be "
        "specified in a ReplicationGroupUpdate",
    )
    assert error(update(ddb, name, {})) == (
        "ValidationException",
        "One or more parameter values were invalid: exactly one of Create, Update or Delete must be "
        "specified in a ReplicationGroupUpdate",
    )


def test_a_region_name_that_is_not_one(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error(update(ddb, name, {"Create": {"RegionName": "mars-1"}})) == (
        "ValidationException",
        "Invalid region name: mars-1",
    )


def test_a_table_that_does_not_exist(ddb: Any, table_name: str) -> None:
    assert error(update(ddb, table_name, {"Create": {"RegionName": WEST}})) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {table_name} not found",
    )


def test_the_stream_of_a_global_table_stays(server: Server, make_table: Callable[..., str]) -> None:
    ddb = server.client("dynamodb", HOME)
    name = make_table()
    add_replica(ddb, name, WEST)
    wait_for("the replica", lambda: replica_status(ddb, name) == {WEST: "ACTIVE"})
    wait_for("the table", lambda: ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE")
    assert error(lambda: ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})) == (
        "ValidationException",
        "Table is a replica of a global table: its stream (NEW_AND_OLD_IMAGES) carries the replication and "
        "cannot be disabled or changed",
    )


def test_replica_auto_scaling_of_a_region_without_a_replica(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert error(
        lambda: ddb.update_table_replica_auto_scaling(
            TableName=name,
            ReplicaUpdates=[
                {
                    "RegionName": WEST,
                    "ReplicaProvisionedReadCapacityAutoScalingUpdate": {"MinimumUnits": 1, "MaximumUnits": 5},
                }
            ],
        )
    ) == ("ResourceNotFoundException", f"Replica not found in region {WEST}")
    assert error(lambda: ddb.describe_table_replica_auto_scaling(TableName=name + "x")) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Table: {name}x not found",
    )
