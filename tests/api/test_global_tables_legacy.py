"""Global tables version 2017.11.29 (Legacy): CreateGlobalTable joins existing empty tables of several
regions, which then replicate; Describe/List/Update and the settings calls; their errors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from botocore.exceptions import ClientError

from tests.api.test_global_tables import HOME, WEST, items, wait_for
from tests.server import Server

EU = "eu-west-1"
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def error(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.fixture
def tables(server: Server, table_name: str) -> Iterator[str]:
    """The same empty table, with a NEW_AND_OLD_IMAGES stream, in three regions."""
    for region in (HOME, WEST, EU):
        server.client("dynamodb", region).create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            StreamSpecification=STREAM,
        )
    yield table_name
    for region in (HOME, WEST, EU):
        with contextlib.suppress(ClientError):
            server.client("dynamodb", region).delete_table(TableName=table_name)


def test_create_describe_list_and_replicate(server: Server, tables: str) -> None:
    home = server.client("dynamodb", HOME)
    created = home.create_global_table(
        GlobalTableName=tables, ReplicationGroup=[{"RegionName": HOME}, {"RegionName": WEST}]
    )["GlobalTableDescription"]
    assert created["GlobalTableName"] == tables
    assert created["GlobalTableStatus"] == "ACTIVE"
    assert created["GlobalTableArn"] == f"arn:aws:dynamodb::000000000000:global-table/{tables}"
    assert created["ReplicationGroup"] == [
        {"RegionName": HOME, "ReplicaStatus": "ACTIVE"},
        {"RegionName": WEST, "ReplicaStatus": "ACTIVE"},
    ]
    described = server.client("dynamodb", WEST).describe_global_table(GlobalTableName=tables)
    assert described["GlobalTableDescription"]["ReplicationGroup"] == created["ReplicationGroup"]
    assert "GlobalTableVersion" not in home.describe_table(TableName=tables)["Table"]  # not 2019.11.21
    listed = home.list_global_tables()["GlobalTables"]
    assert {
        "GlobalTableName": tables,
        "ReplicationGroup": [{"RegionName": HOME}, {"RegionName": WEST}],
    } in listed
    assert all(g["GlobalTableName"] != tables for g in home.list_global_tables(RegionName=EU)["GlobalTables"])

    home.put_item(TableName=tables, Item={"pk": {"S": "x"}})
    west = server.client("dynamodb", WEST)
    wait_for("the item in us-west-2", lambda: "x" in items(west, tables))

    updated = home.update_global_table(
        GlobalTableName=tables, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}]
    )["GlobalTableDescription"]
    assert updated["ReplicationGroup"] == [{"RegionName": HOME, "ReplicaStatus": "ACTIVE"}]
    eu = server.client("dynamodb", EU)
    updated = home.update_global_table(
        GlobalTableName=tables, ReplicaUpdates=[{"Create": {"RegionName": EU}}]
    )["GlobalTableDescription"]
    assert [r["RegionName"] for r in updated["ReplicationGroup"]] == [EU, HOME]
    eu.put_item(TableName=tables, Item={"pk": {"S": "from-eu"}})
    wait_for("the eu item in us-east-1", lambda: "from-eu" in items(home, tables))
    assert "from-eu" not in items(west, tables)  # no longer a replica


def test_settings(server: Server, tables: str) -> None:
    home = server.client("dynamodb", HOME)
    home.create_global_table(
        GlobalTableName=tables, ReplicationGroup=[{"RegionName": HOME}, {"RegionName": EU}]
    )
    settings = home.describe_global_table_settings(GlobalTableName=tables)
    assert [r["RegionName"] for r in settings["ReplicaSettings"]] == [EU, HOME]
    assert settings["ReplicaSettings"][0]["ReplicaProvisionedWriteCapacityUnits"] == 5
    updated = home.update_global_table_settings(
        GlobalTableName=tables,
        GlobalTableProvisionedWriteCapacityUnits=9,
        ReplicaSettingsUpdate=[{"RegionName": EU, "ReplicaProvisionedReadCapacityUnits": 7}],
    )
    by_region = {r["RegionName"]: r for r in updated["ReplicaSettings"]}
    assert by_region[EU]["ReplicaProvisionedReadCapacityUnits"] == 7
    assert by_region[HOME]["ReplicaProvisionedReadCapacityUnits"] == 5
    assert {r["ReplicaProvisionedWriteCapacityUnits"] for r in by_region.values()} == {9}
    eu_table = server.client("dynamodb", EU).describe_table(TableName=tables)["Table"]
    assert eu_table["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert error(
        lambda: home.update_global_table_settings(
            GlobalTableName=tables,
            ReplicaSettingsUpdate=[{"RegionName": WEST, "ReplicaProvisionedReadCapacityUnits": 1}],
        )
    ) == ("ReplicaNotFoundException", f"Replica not found: the global table has no replica in region {WEST}")


def test_errors(server: Server, tables: str, make_table: Callable[..., str]) -> None:
    home = server.client("dynamodb", HOME)
    assert error(lambda: home.describe_global_table(GlobalTableName=tables)) == (
        "GlobalTableNotFoundException",
        "Global table not found",
    )
    assert error(
        lambda: home.create_global_table(
            GlobalTableName=tables, ReplicationGroup=[{"RegionName": HOME}, {"RegionName": "ap-south-1"}]
        )
    ) == (
        "TableNotFoundException",
        f"Table not found: Table: '{tables}' not found in region: 'ap-south-1'.",
    )
    server.client("dynamodb", WEST).put_item(TableName=tables, Item={"pk": {"S": "not empty"}})
    assert error(
        lambda: home.create_global_table(
            GlobalTableName=tables, ReplicationGroup=[{"RegionName": HOME}, {"RegionName": WEST}]
        )
    ) == (
        "ValidationException",
        f"One or more parameter values were invalid: Table: '{tables}' in region: '{WEST}' must be empty",
    )
    home.create_global_table(
        GlobalTableName=tables, ReplicationGroup=[{"RegionName": HOME}, {"RegionName": EU}]
    )
    assert error(
        lambda: home.create_global_table(GlobalTableName=tables, ReplicationGroup=[{"RegionName": HOME}])
    ) == ("GlobalTableAlreadyExistsException", "Global table with this name already exists")
    assert error(
        lambda: home.update_global_table(
            GlobalTableName=tables, ReplicaUpdates=[{"Create": {"RegionName": EU}}]
        )
    ) == ("ReplicaAlreadyExistsException", f"Replica already exists in region {EU}")
    assert error(
        lambda: home.update_global_table(
            GlobalTableName=tables, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}]
        )
    ) == ("ReplicaNotFoundException", f"Replica not found: the global table has no replica in region {WEST}")
    assert error(
        lambda: home.update_table(TableName=tables, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    ) == (
        "ValidationException",
        "Table is a replica of a global table of version 2017.11.29: change its replicas with "
        "UpdateGlobalTable",
    )
    keys_only = make_table(
        tables + "k", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    assert error(
        lambda: home.create_global_table(GlobalTableName=keys_only, ReplicationGroup=[{"RegionName": HOME}])
    ) == (
        "ValidationException",
        f"One or more parameter values were invalid: Table: '{keys_only}' in region: '{HOME}' must have "
        "DynamoDB Streams enabled with the NEW_AND_OLD_IMAGES stream view type",
    )
