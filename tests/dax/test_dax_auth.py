"""Under `--auth sigv4` a DAX control-plane call is authorized as `dax:<Operation>`, on the cluster's ARN
when it names one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
