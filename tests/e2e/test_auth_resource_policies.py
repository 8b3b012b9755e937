"""DynamoDB resource-based policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy (and
CreateTable's ResourcePolicy) with their revisions and errors, and their evaluation: same account, an
Allow of either kind; another account, both; an explicit Deny of either kind wins.

DynamoDB Local does not serve these operations (UnknownOperationException); the texts are the service's,
as captured from it (see api/dynamodb/_resource_policy.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.auth_support import (
    ACCOUNT,
    ADMIN,
    OTHER_ACCOUNT,
    REGION,
    AuthServer,
    Identity,
    allow,
    create_table,
    denied,
    error_of,
    policy,
    table_arn,
    user_arn,
)

STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
INVALID = "One or more parameter values were invalid: "
NOT_FOUND = "Resource-based policy not found for the provided ResourceArn: "


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("dave"),  # no identity policy: whatever a resource policy grants
        Identity("erin", policies=[allow("dynamodb:*")]),
        # another account's user, allowed by its own account to read any stream: needs the stream's consent
        Identity(
            "partner", account=OTHER_ACCOUNT, policies=[allow([*STREAM_ACTIONS, "dynamodb:ListStreams"])]
        ),
    ]
    server = AuthServer(tmp_path_factory.mktemp("resource-policies"), identities).start()
    yield server
    server.stop()


def grant(principal: str, actions: str | list[str], resource: str, effect: str = "Allow") -> str:
    statement = {"Effect": effect, "Principal": {"AWS": principal}, "Action": actions, "Resource": resource}
    return json.dumps(policy(statement))


def s(value: str) -> dict[str, str]:
    return {"S": value}


def test_put_get_and_delete_a_table_policy(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    arn = create_table(ddb, "Ledger")["TableArn"]
    assert error_of(ddb.get_resource_policy, ResourceArn=arn) == ("PolicyNotFoundException", NOT_FOUND + arn)
    assert "RevisionId" not in ddb.delete_resource_policy(ResourceArn=arn)  # nothing to delete: idempotent

    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Resource": [arn],
                    "Action": ["dynamodb:GetItem"],
                    "Principal": {"AWS": ACCOUNT},
                    "Effect": "Allow",
                    "Sid": "Read",
                }
            ],
        },
        indent=2,
    )
    revision = ddb.put_resource_policy(ResourceArn=arn, Policy=text)["RevisionId"]
    assert revision.isdigit() and len(revision) == 13  # the change's time in epoch milliseconds
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert got["RevisionId"] == revision
    # DynamoDB's canonical form: minified, its own key order, one-element lists as strings, root ARNs
    assert got["Policy"] == (
        '{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow",'
        f'"Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"dynamodb:GetItem","Resource":"{arn}"}}]}}'
    )
    # the same document again (any formatting) keeps its revision
    assert ddb.put_resource_policy(ResourceArn=arn, Policy=got["Policy"])["RevisionId"] == revision

    other = grant(f"arn:aws:iam::{ACCOUNT}:root", "dynamodb:PutItem", arn)
    stale = "1000000000000"
    assert error_of(ddb.put_resource_policy, ResourceArn=arn, Policy=other, ExpectedRevisionId=stale) == (
        "PolicyNotFoundException",
        NOT_FOUND + f"Requested update for policy with revision id {stale}, but the policy associated to "
        f"target table Ledger has revision id {revision}.",
    )
    assert error_of(
        ddb.put_resource_policy, ResourceArn=arn, Policy=other, ExpectedRevisionId="NO_POLICY"
    ) == (
        "PolicyNotFoundException",
        NOT_FOUND + "Requested policy update expecting none to be present for table Ledger, but a policy "
        f"exists with revision id {revision}.",
    )
    newer = ddb.put_resource_policy(ResourceArn=arn, Policy=other, ExpectedRevisionId=revision)["RevisionId"]
    assert newer > revision

    assert ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=newer)["RevisionId"] == newer
    assert error_of(ddb.get_resource_policy, ResourceArn=arn)[0] == "PolicyNotFoundException"
    tombstone = ddb.delete_resource_policy(ResourceArn=arn)["RevisionId"]  # the deletion's own revision
    assert tombstone > newer
    assert error_of(ddb.delete_resource_policy, ResourceArn=arn, ExpectedRevisionId=newer) == (
        "PolicyNotFoundException",
        NOT_FOUND + f"Requested update for policy with revision id {newer}, but table Ledger has no "
        "associated policy.",
    )
    assert ddb.put_resource_policy(ResourceArn=arn, Policy=other, ExpectedRevisionId="NO_POLICY")[
        "RevisionId"
    ]


def test_a_table_policy_goes_with_its_table(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    arn = create_table(ddb, "Shortlived")["TableArn"]
    ddb.put_resource_policy(ResourceArn=arn, Policy=grant(ACCOUNT, "dynamodb:GetItem", arn))
    ddb.delete_table(TableName="Shortlived")
    assert error_of(ddb.get_resource_policy, ResourceArn=arn) == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: Shortlived not found",
    )
    create_table(ddb, "Shortlived")  # the same name again starts without a policy
    assert error_of(ddb.get_resource_policy, ResourceArn=arn)[0] == "PolicyNotFoundException"
    ddb.delete_table(TableName="Shortlived")


def test_create_table_with_a_resource_policy(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    arn = table_arn("Born")
    ddb.create_table(
        TableName="Born",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        ResourcePolicy=grant(user_arn("dave"), "dynamodb:GetItem", arn),
    )
    assert "dynamodb:GetItem" in ddb.get_resource_policy(ResourceArn=arn)["Policy"]
    ddb.put_item(TableName="Born", Item={"pk": s("a")})
    assert auth.client("dynamodb", "dave").get_item(TableName="Born", Key={"pk": s("a")})["Item"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", INVALID + "Invalid policy document: This policy contains invalid Json"),
        (
            json.dumps({"Version": "2012-10-17", "Statement": []}),
            INVALID + "Invalid policy document: Could not parse the policy: Statement is empty!",
        ),
        (
            json.dumps(
                policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "dynamodb:GetItem"})
            ),
            INVALID + "Invalid policy document: Missing required field Resource",
        ),
        (
            json.dumps(
                policy(
                    *[
                        {
                            "Sid": "Same",
                            "Effect": "Allow",
                            "Principal": {"AWS": ACCOUNT},
                            "Action": "dynamodb:GetItem",
                            "Resource": "*",
                        }
                    ]
                    * 2
                )
            ),
            INVALID + "Invalid policy document: The Statement Ids in the policy are not unique",
        ),
        (
            grant(ACCOUNT, ["dynamodb:GetRecords", "dynamodb:DescribeStream"], "*"),
            INVALID
            + 'Invalid policy document: The following action names are invalid: "dynamodb:GetRecords", '
            '"dynamodb:DescribeStream"',
        ),
        (
            json.dumps(
                policy({"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"})
            ),
            "Resource-based policy grants unbounded access in one or more elements. Please revise the policy "
            "to ensure least-privilege form of access",
        ),
        (
            grant(ACCOUNT, "dynamodb:GetItem", "*").replace('"*"}', '"' + " " * 20480 + '*"}'),
            INVALID + "Maximum policy size of 20480 bytes exceeded",
        ),
    ],
)
def test_documents_dynamodb_refuses(auth: AuthServer, document: str, message: str) -> None:
    ddb = auth.client("dynamodb", "alice")
    arn = table_arn("Validated")
    if "Validated" not in ddb.list_tables()["TableNames"]:
        create_table(ddb, "Validated")
    assert error_of(ddb.put_resource_policy, ResourceArn=arn, Policy=document) == (
        "ValidationException",
        message,
    )


@pytest.mark.parametrize(
    ("arn", "code", "message"),
    [
        ("Validated", "ValidationException", INVALID + "ARNs must start with 'arn:': Validated"),
        (
            f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/Validated",
            "ValidationException",
            INVALID + f"Invalid resource Arn: arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/Validated",
        ),
        (
            table_arn("Validated") + "/index/ByStatus",
            "ValidationException",
            INVALID
            + "Invalid resource arn provided, only table or stream is accepted. Provided resource arn: "
            + table_arn("Validated")
            + "/index/ByStatus",
        ),
        (
            table_arn("Missing"),
            "ResourceNotFoundException",
            "Requested resource not found: Table: Missing not found",
        ),
        (
            table_arn("Validated") + "/stream/2000-01-01T00:00:00.000",
            "ResourceNotFoundException",
            "Requested resource not found: Stream: 2000-01-01T00:00:00.000 not found for Table: Validated",
        ),
    ],
)
def test_resource_arns_dynamodb_refuses(auth: AuthServer, arn: str, code: str, message: str) -> None:
    ddb = auth.client("dynamodb", "alice")
    if "Validated" not in ddb.list_tables()["TableNames"]:
        create_table(ddb, "Validated")
    assert error_of(ddb.get_resource_policy, ResourceArn=arn) == (code, message)


def test_same_account_a_resource_policy_alone_allows(auth: AuthServer) -> None:
    admin = auth.client("dynamodb", "alice")
    arn = create_table(admin, "Shared")["TableArn"]
    admin.put_item(TableName="Shared", Item={"pk": s("a")})
    dave = auth.client("dynamodb", "dave")
    assert error_of(dave.get_item, TableName="Shared", Key={"pk": s("a")}) == (
        "AccessDeniedException",
        denied(user_arn("dave"), "dynamodb:GetItem", arn),
    )
    admin.put_resource_policy(ResourceArn=arn, Policy=grant(user_arn("dave"), "dynamodb:GetItem", arn))
    assert dave.get_item(TableName="Shared", Key={"pk": s("a")})["Item"] == {"pk": s("a")}
    assert error_of(dave.put_item, TableName="Shared", Item={"pk": s("b")})[0] == "AccessDeniedException"


def test_a_deny_in_the_resource_policy_beats_an_identity_allow(auth: AuthServer) -> None:
    admin = auth.client("dynamodb", "alice")
    arn = create_table(admin, "Guarded")["TableArn"]
    erin = auth.client("dynamodb", "erin")
    erin.put_item(TableName="Guarded", Item={"pk": s("a")})
    admin.put_resource_policy(
        ResourceArn=arn, Policy=grant(user_arn("erin"), "dynamodb:PutItem", arn, effect="Deny")
    )
    assert error_of(erin.put_item, TableName="Guarded", Item={"pk": s("b")}) == (
        "AccessDeniedException",
        denied(user_arn("erin"), "dynamodb:PutItem", arn, "resource deny"),
    )
    assert erin.get_item(TableName="Guarded", Key={"pk": s("a")})["Item"]  # only PutItem is denied


def test_a_policy_that_locks_its_author_out_needs_confirmation(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    arn = create_table(ddb, "Locked")["TableArn"]
    lockout = grant(user_arn("alice"), "dynamodb:PutResourcePolicy", arn, effect="Deny")
    assert error_of(ddb.put_resource_policy, ResourceArn=arn, Policy=lockout) == (
        "AccessDeniedException",
        "The new resource policy will not allow you to update the resource policy in the future.",
    )
    ddb.put_resource_policy(ResourceArn=arn, Policy=lockout, ConfirmRemoveSelfResourceAccess=True)
    again = grant(user_arn("alice"), "dynamodb:GetItem", arn)
    assert error_of(ddb.put_resource_policy, ResourceArn=arn, Policy=again) == (
        "AccessDeniedException",
        denied(user_arn("alice"), "dynamodb:PutResourcePolicy", arn, "resource deny"),
    )


def test_a_stream_policy_grants_another_account(auth: AuthServer) -> None:
    """Cross-account: the partner's own account allows it to read streams, and the stream's policy must
    allow it too. Its requests speak for its own account; the stream ARN names this one, and resolves in
    this account's namespace (the caller's region)."""
    admin = auth.client("dynamodb", "alice")
    stream = create_table(admin, "Feed", stream=True)["LatestStreamArn"]
    admin.put_item(TableName="Feed", Item={"pk": s("a")})
    partner = auth.client("dynamodbstreams", "partner")
    partner_arn = user_arn("partner", OTHER_ACCOUNT)
    assert error_of(partner.describe_stream, StreamArn=stream) == (
        "AccessDeniedException",
        denied(partner_arn, "dynamodb:DescribeStream", stream, "resource"),
    )
    # a table's policy cannot name stream actions; the stream has a policy of its own
    admin.put_resource_policy(ResourceArn=stream, Policy=grant(partner_arn, STREAM_ACTIONS, stream))
    assert json.loads(admin.get_resource_policy(ResourceArn=stream)["Policy"])["Statement"][0][
        "Principal"
    ] == {"AWS": partner_arn}
    assert error_of(admin.get_resource_policy, ResourceArn=table_arn("Feed"))[0] == "PolicyNotFoundException"
    shard = partner.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = partner.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = partner.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert records[0]["dynamodb"]["Keys"] == {"pk": s("a")}
    # the stream's policy grants stream reads, nothing of the table
    ddb = auth.client("dynamodb", "partner")
    assert (
        error_of(ddb.get_item, TableName=table_arn("Feed"), Key={"pk": s("a")})[0] == "AccessDeniedException"
    )


def test_resource_policies_through_the_aws_cli(auth: AuthServer, tmp_path: Any) -> None:
    admin = auth.client("dynamodb", "alice")
    arn = create_table(admin, "Clied")["TableArn"]
    put = auth.cli(
        "alice",
        "dynamodb",
        "put-resource-policy",
        "--resource-arn",
        arn,
        "--policy",
        grant(ACCOUNT, "dynamodb:GetItem", arn),
    )
    assert put.returncode == 0, put.stderr
    revision = json.loads(put.stdout)["RevisionId"]
    got = auth.cli("alice", "dynamodb", "get-resource-policy", "--resource-arn", arn)
    assert json.loads(got.stdout)["RevisionId"] == revision
    gone = auth.cli("alice", "dynamodb", "delete-resource-policy", "--resource-arn", arn)
    assert json.loads(gone.stdout)["RevisionId"] == revision
    assert REGION in arn
