"""Under `--auth sigv4` a DAX control-plane call is authorized as `dax:<Operation>`, on the cluster's ARN
when it names one; the data plane verifies the DAX client's signature and authorizes each operation as
`dax:<Operation>` on the cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from amazondax.DaxError import DaxServiceError

from tests.dax.support import dax_client
from tests.e2e.auth_support import (
    ACCOUNT,
    ADMIN,
    REGION,
    AuthServer,
    Identity,
    allow,
    denied,
    error_of,
    user_arn,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.headwater_only

ROLE = f"arn:aws:iam::{ACCOUNT}:role/DAXServiceRoleForDynamoDBAccess"
CLUSTER_ARN = f"arn:aws:dax:{REGION}:{ACCOUNT}:cache/mine"
ONE_CLUSTER = allow(["dax:DescribeClusters", "dax:CreateCluster"], CLUSTER_ARN)


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    identities = [
        Identity("alice", policies=[ADMIN, allow("dax:*")]),
        Identity("carl", policies=[ONE_CLUSTER]),
    ]
    server = AuthServer(tmp_path_factory.mktemp("dax-auth"), identities).start()
    yield server
    server.stop()


def test_dax_actions_are_authorized_on_the_cluster_arn(auth: AuthServer) -> None:
    carl = auth.client("dax", "carl")
    made = carl.create_cluster(
        ClusterName="mine", NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=ROLE
    )
    assert made["Cluster"]["ClusterArn"] == CLUSTER_ARN
    assert carl.describe_clusters(ClusterNames=["mine"])["Clusters"][0]["ClusterName"] == "mine"
    assert error_of(carl.delete_cluster, ClusterName="mine") == (
        "AccessDeniedException",
        denied(user_arn("carl"), "dax:DeleteCluster", CLUSTER_ARN),
    )
    assert error_of(carl.describe_parameter_groups) == (
        "AccessDeniedException",
        denied(user_arn("carl"), "dax:DescribeParameterGroups", "*"),
    )
    alice = auth.client("dax", "alice")
    assert alice.delete_cluster(ClusterName="mine")["Cluster"]["Status"] == "deleting"


def test_an_unsigned_or_badly_signed_dax_call_is_refused(auth: AuthServer) -> None:
    from tests.e2e.auth_support import Key

    stranger = auth.client("dax", "alice", key=Key("AKIANOTAKEY000000000", "nope"))
    code, _ = error_of(stranger.describe_clusters)
    assert code == "UnrecognizedClientException"


DAX_READER = allow(["dax:GetItem", "dax:DescribeClusters"], "*")


@pytest.fixture(scope="module")
def data_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthServer, str, str]]:
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("reader", policies=[DAX_READER]),
        Identity("stranger", account="444455556666", policies=[ADMIN]),
    ]
    server = AuthServer(tmp_path_factory.mktemp("dax-data-auth"), identities).start()
    alice = server.client("dynamodb", "alice")
    alice.create_table(
        TableName="Cached",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dax = server.client("dax", "alice")
    dax.create_cluster(ClusterName="guarded", NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=ROLE)

    def ready() -> str | None:
        found = dax.describe_clusters(ClusterNames=["guarded"])["Clusters"][0]
        return str(found["ClusterDiscoveryEndpoint"]["URL"]) if found["Status"] == "available" else None

    yield server, wait_until(ready), f"arn:aws:dax:{REGION}:{ACCOUNT}:cache/guarded"
    server.stop()


def test_the_data_plane_verifies_the_client_signature_and_authorizes_dax_actions(
    data_auth: tuple[AuthServer, str, str],
) -> None:
    server, url, arn = data_auth
    alice, reader = server.keys["alice"], server.keys["reader"]
    with dax_client(url, alice.id, alice.secret) as dax:
        dax.put_item(TableName="Cached", Item={"pk": {"S": "a"}})
    with dax_client(url, reader.id, reader.secret) as dax:
        assert dax.get_item(TableName="Cached", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}
        with pytest.raises(DaxServiceError) as denied_put:
            dax.put_item(TableName="Cached", Item={"pk": {"S": "b"}})
        assert denied_put.value.response["Error"] == {
            "Code": "AccessDeniedException",
            "Message": denied(user_arn("reader"), "dax:PutItem", arn),
        }
    stranger = server.keys["stranger"]
    with dax_client(url, stranger.id, stranger.secret) as dax, pytest.raises(DaxServiceError) as elsewhere:
        dax.get_item(TableName="Cached", Key={"pk": {"S": "a"}})
    assert elsewhere.value.response["Error"] == {  # another account's principal, whatever its policies say
        "Code": "AccessDeniedException",
        "Message": denied(user_arn("stranger", "444455556666"), "dax:GetItem", arn, "resource"),
    }
    with pytest.raises(DaxServiceError) as refused, dax_client(url, alice.id, "not-the-secret"):
        pass  # the client asks for the cluster's endpoints as it starts: refused
    assert refused.value.response["Error"] == {
        "Code": "UnrecognizedClientException",
        "Message": "The request signature we calculated does not match the signature you provided.",
    }
