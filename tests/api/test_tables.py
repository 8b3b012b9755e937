"""Table operations through boto3 against a live server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import MISSING_TABLE, NO_TAGGING, REGION

LOCAL_ATTRIBUTE_COUNT = pytest.mark.differs_from_dynamodb_local(
    "'The number of attributes in key schema must match the number of attributes defined in attribute ...'"
)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_create_describe_list_delete(ddb: Any, table_name: str) -> None:
    created = ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        Tags=[{"Key": "team", "Value": "streams"}],
    )["TableDescription"]
    assert created["TableStatus"] == "ACTIVE"
    assert created["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert created["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert created["KeySchema"][1] == {"AttributeName": "sk", "KeyType": "RANGE"}
    described = ddb.describe_table(TableName=table_name)["Table"]
    assert described["ItemCount"] == 0
    assert "BillingModeSummary" not in described
    listed = [n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    assert table_name in listed  # past the first page of 100 once other tests' tables are there
    ddb.delete_table(TableName=table_name)  # its DELETING description: test_delete_table_describes_...
    with pytest.raises(ClientError) as exc:
        ddb.describe_table(TableName=table_name)
    assert error_of(exc)[0] == "ResourceNotFoundException"


@pytest.mark.differs_from_dynamodb_local("no TableId")
def test_table_id(ddb: Any, table_name: str) -> None:
    created = ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    assert len(created["TableId"]) == 36
    assert ddb.describe_table(TableName=table_name)["Table"]["TableId"] == created["TableId"]


@REGION
def test_table_arn_names_the_region(make_table: Any, ddb: Any) -> None:
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert arn == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"


@NO_TAGGING
def test_create_table_tags(ddb: Any, table_name: str) -> None:
    created = ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "team", "Value": "streams"}],
    )["TableDescription"]
    tags = ddb.list_tags_of_resource(ResourceArn=created["TableArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "streams"}]


@MISSING_TABLE
def test_describe_a_missing_table(ddb: Any) -> None:
    """The service's text (user reports, dynalite)."""
    with pytest.raises(ClientError) as exc:
        ddb.describe_table(TableName="no_such_table")
    assert error_of(exc) == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: no_such_table not found",
    )


@pytest.mark.differs_from_dynamodb_local("'Cannot create preexisting table'")
def test_create_existing_table(make_table: Any, ddb: Any) -> None:
    """The service's text (user reports)."""
    name = make_table()
    with pytest.raises(ClientError) as exc:
        make_table(name)
    assert error_of(exc) == ("ResourceInUseException", f"Table already exists: {name}")


def test_pay_per_request_summary(make_table: Any, ddb: Any) -> None:
    name = make_table()
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0


def _create(ddb: Any, **kwargs: Any) -> None:
    request: dict[str, Any] = {
        "TableName": "bad_table",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    request.update(kwargs)
    ddb.create_table(**{k: v for k, v in request.items() if v is not None})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"BillingMode": None},
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both "
            "be specified when BillingMode is PROVISIONED",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'No provisioned throughput specified for the table'"
            ),
        ),
        pytest.param(
            {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can "
            "be specified when BillingMode is PAY_PER_REQUEST",
            marks=pytest.mark.differs_from_dynamodb_local(
                "ProvisionedThroughput is accepted with PAY_PER_REQUEST"
            ),
        ),
        pytest.param(
            {"AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}]},
            "One or more parameter values were invalid: Some index key attributes are not defined in "
            "AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'Hash Key not specified in Attribute Definitions.  Type unknown.'"
            ),
        ),
        pytest.param(
            {
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "x", "AttributeType": "S"},
                ]
            },
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly "
            "match number of attributes defined in AttributeDefinitions",
            marks=LOCAL_ATTRIBUTE_COUNT,
        ),
        pytest.param(
            {"KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}]},
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'No Hash Key specified in schema.  All Dynamo DB tables must ...'"
            ),
        ),
        pytest.param(
            {
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "pk", "KeyType": "RANGE"},
                ]
            },
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            marks=pytest.mark.differs_from_dynamodb_local("'Two keys can not have the same name'"),
        ),
        pytest.param(
            {"TableName": "ab"},
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'Invalid table/index name.  Table/index names must be between 3 and 255 ...'"
            ),
        ),
        (
            {"StreamSpecification": {"StreamEnabled": True}},
            "Invalid StreamViewType: Stream ViewType must not be null or empty when enabling streams.",
        ),
        (
            {
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "pk", "AttributeType": "N"},
                ]
            },
            "Cannot have two attributes with the same name",
        ),
        pytest.param(
            # AttributeDefinitions no key uses are refused when the table has indexes too
            {
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "g", "AttributeType": "S"},
                    {"AttributeName": "unused", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "gsi",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
            },
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
            "AttributeDefinitions: [pk, g, unused], keys used: [g, pk]",
            marks=LOCAL_ATTRIBUTE_COUNT,
        ),
        (
            {
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "a", "KeyType": "RANGE"},
                    {"AttributeName": "b", "KeyType": "RANGE"},
                ]
            },
            "Key Schema too big.  Key Schema must at most consist of the hash and range key of a table",
        ),
        pytest.param(
            {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASHY"}]},
            "1 validation error detected: Value 'HASHY' at 'keySchema.1.member.keyType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [HASH, RANGE]",
            marks=pytest.mark.differs_from_dynamodb_local(
                "'No Hash Key specified in schema.  All Dynamo DB tables must ...'"
            ),
        ),
    ],
)
def test_create_table_validation(ddb: Any, kwargs: dict[str, Any], message: str) -> None:
    """The service's texts (dynalite's recordings, user reports, conformance captures)."""
    with pytest.raises(ClientError) as exc:
        _create(ddb, **kwargs)
    assert error_of(exc) == ("ValidationException", message)


def test_list_tables_pagination(make_table: Any, ddb: Any, table_name: str) -> None:
    names = sorted(make_table(f"{table_name}_{i}") for i in range(5))
    seen: list[str] = []
    kwargs: dict[str, Any] = {"ExclusiveStartTableName": table_name, "Limit": 2}
    while True:
        page = ddb.list_tables(**kwargs)
        seen.extend(n for n in page["TableNames"] if n.startswith(table_name))
        if "LastEvaluatedTableName" not in page or not page["TableNames"][-1].startswith(table_name):
            break
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    assert seen == names


def test_update_table(make_table: Any, ddb: Any) -> None:
    name = make_table()
    with pytest.raises(ClientError) as exc:
        ddb.update_table(TableName=name)
    assert error_of(exc) == ("ValidationException", "Nothing to update")
    # AttributeDefinitions alone, or an empty list of index updates, change nothing either
    nothing: dict[str, Any]
    for nothing in (
        {"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]},
        {"GlobalSecondaryIndexUpdates": []},
    ):
        with pytest.raises(ClientError) as exc:
            ddb.update_table(TableName=name, **nothing)
        assert error_of(exc) == ("ValidationException", "Nothing to update")
    out = ddb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )["TableDescription"]
    assert out["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert out["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as exc:
        ddb.delete_table(TableName=name)
    assert error_of(exc) == (
        "ValidationException",
        "Resource cannot be deleted as it is currently protected against deletion. "
        "Disable deletion protection first.",
    )
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=name)


def test_time_to_live(make_table: Any, ddb: Any) -> None:
    name = make_table()
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert (
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)["TimeToLiveSpecification"]
        == spec
    )
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    with pytest.raises(ClientError) as exc:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    assert error_of(exc) == ("ValidationException", "TimeToLive is already enabled")
    with pytest.raises(ClientError) as exc:
        ddb.describe_time_to_live(TableName="missing_table")
    assert error_of(exc)[0] == "ResourceNotFoundException"


@NO_TAGGING
def test_tags(make_table: Any, ddb: Any) -> None:
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as exc:
        ddb.list_tags_of_resource(ResourceArn=arn + "nope")
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_limits(ddb: Any) -> None:
    limits = ddb.describe_limits()
    assert limits["TableMaxWriteCapacityUnits"] == 40000


@pytest.mark.differs_from_dynamodb_local("DescribeEndpoints is an unknown operation")
def test_endpoints(ddb: Any, server: Any) -> None:
    endpoints = ddb.describe_endpoints()["Endpoints"]
    assert endpoints == [{"Address": f"127.0.0.1:{server.port}", "CachePeriodInMinutes": 1440}]


def test_status_transitions_with_delay(tmp_server: Any) -> None:
    # long enough that the calls right after CreateTable and DeleteTable land on a loaded machine too
    srv = tmp_server("--table-status-delay", "5").start()
    ddb = srv.client("dynamodb")
    created = ddb.create_table(
        TableName="slow_table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    assert created["TableStatus"] == "CREATING"
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName="slow_table", Item={"pk": {"S": "a"}})
    assert error_of(exc) == ("ResourceNotFoundException", "Requested resource not found")
    ddb.get_waiter("table_exists").wait(
        TableName="slow_table", WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )
    assert ddb.describe_table(TableName="slow_table")["Table"]["TableStatus"] == "ACTIVE"
    ddb.put_item(TableName="slow_table", Item={"pk": {"S": "a"}})
    assert ddb.delete_table(TableName="slow_table")["TableDescription"]["TableStatus"] == "DELETING"
    assert ddb.describe_table(TableName="slow_table")["Table"]["TableStatus"] == "DELETING"
    ddb.get_waiter("table_not_exists").wait(
        TableName="slow_table", WaiterConfig={"Delay": 0.2, "MaxAttempts": 300}
    )


@pytest.mark.differs_from_dynamodb_local("no SSEDescription")
def test_sse_table_class_and_deletion_protection_are_described(ddb: Any, table_name: str) -> None:
    ddb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS"},
        TableClass="STANDARD_INFREQUENT_ACCESS",
        DeletionProtectionEnabled=True,
    )
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["TableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    assert table["DeletionProtectionEnabled"] is True
    ddb.update_table(TableName=table_name, TableClass="STANDARD", DeletionProtectionEnabled=False)
    table = ddb.describe_table(TableName=table_name)["Table"]
    assert "TableClassSummary" not in table
    ddb.delete_table(TableName=table_name)


@pytest.mark.differs_from_dynamodb_local("an ACTIVE table's description")
def test_delete_table_describes_the_table_it_is_deleting(make_table: Any, ddb: Any) -> None:
    name = make_table(
        range_key=("sk", "N"),
        attribute_definitions=[("g", "S")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "x"}})
    described = ddb.describe_table(TableName=name)["Table"]
    deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted == {
        "TableName": name,
        "TableStatus": "DELETING",
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": 0,
            "WriteCapacityUnits": 0,
        },
        "TableSizeBytes": described["TableSizeBytes"],
        "ItemCount": 1,
        "TableArn": described["TableArn"],
        "TableId": described["TableId"],
        "BillingModeSummary": described["BillingModeSummary"],
        "DeletionProtectionEnabled": False,
    }


@pytest.mark.differs_from_dynamodb_local("DescribeContinuousBackups is an unknown operation")
def test_describe_continuous_backups(make_table: Any, ddb: Any) -> None:
    name = make_table()
    assert ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"] == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    with pytest.raises(ClientError) as exc:
        ddb.describe_continuous_backups(TableName="no_such_table")
    assert error_of(exc) == ("TableNotFoundException", "Table not found: no_such_table")
    with pytest.raises(ClientError) as exc:
        ddb.describe_continuous_backups(TableName="no")
    assert error_of(exc)[0] == "ValidationException"


def _key(name: str, kind: str) -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def _definitions_case(defs: list[str], gsis: list[str], lsis: list[str]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": f"defs_{uuid.uuid4().hex}",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in defs],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsis:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": f"g{i}_index",
                "KeySchema": [{"AttributeName": name, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
            for i, name in enumerate(gsis)
        ]
    if lsis:
        request["LocalSecondaryIndexes"] = [
            {
                "IndexName": f"l{i}_index",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": name, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
            for i, name in enumerate(lsis)
        ]
    return request


@pytest.mark.parametrize(
    ("defs", "gsis", "lsis", "accepted"),
    [
        # PynamoDB's integration suite: a GSI and an LSI on the same attribute, one definition unused
        (["pk", "sk", "g", "unused"], ["g"], ["g"], True),
        (["pk", "sk", "g", "unused", "more"], ["g"], ["g"], False),
        (["pk", "sk", "g", "unused"], [], ["g"], False),
        (["pk", "sk", "g", "unused"], [], ["g", "g"], False),
        (["pk", "sk", "unused"], ["pk"], [], False),
        (["pk", "sk", "unused"], [], ["sk"], False),
        (["pk", "sk", "g", "h", "unused"], ["g"], ["g", "h"], True),
    ],
)
def test_unused_attribute_definitions_as_dynamodb_local_counts_them(
    ddb: Any, defs: list[str], gsis: list[str], lsis: list[str], accepted: bool
) -> None:
    request = _definitions_case(defs, gsis, lsis)
    if not accepted:
        with pytest.raises(ClientError) as exc:
            ddb.create_table(**request)
        assert error_of(exc)[0] == "ValidationException"
        return
    ddb.create_table(**request)
    described = ddb.describe_table(TableName=request["TableName"])["Table"]
    assert [a["AttributeName"] for a in described["AttributeDefinitions"]] == defs
    ddb.delete_table(TableName=request["TableName"])
