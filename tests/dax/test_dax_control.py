"""The DAX control plane through boto3's `dax` client: every operation, its statuses and its errors."""

from __future__ import annotations

import contextlib
import itertools
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.dax.cbor import Incomplete, Reader, Writer
from tests.dax.support import dax_client, make_table
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.headwater_only

ROLE = "arn:aws:iam::123456789012:role/DAXServiceRoleForDynamoDBAccess"
_names = itertools.count()


@pytest.fixture(scope="module")
def dax(server: Server) -> Any:
    return server.client("dax")


@pytest.fixture
def name() -> str:
    return f"c{next(_names)}-{socket.gethostname()[:4].lower()}x"[:20]


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def _status(dax: Any, name: str) -> str:
    return str(dax.describe_clusters(ClusterNames=[name])["Clusters"][0]["Status"])


def _available(dax: Any, name: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        found: dict[str, Any] = dax.describe_clusters(ClusterNames=[name])["Clusters"][0]
        return found if found["Status"] == "available" else None

    return wait_until(ready, what=f"cluster {name} available")


@pytest.fixture
def cluster(dax: Any, name: str) -> Iterator[str]:
    dax.create_cluster(ClusterName=name, NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=ROLE)
    _available(dax, name)
    yield name
    with contextlib.suppress(ClientError):  # the test may have deleted it
        dax.delete_cluster(ClusterName=name)


def test_create_cluster_starts_creating_then_becomes_available_with_a_listening_endpoint(
    dax: Any, name: str
) -> None:
    made = dax.create_cluster(
        ClusterName=name.upper(),
        NodeType="dax.r5.large",
        ReplicationFactor=3,
        IamRoleArn=ROLE,
        Description="the cache",
        SSESpecification={"Enabled": True},
        Tags=[{"Key": "team", "Value": "a"}],
    )["Cluster"]
    assert made["ClusterName"] == name  # stored lowercase
    assert made["Status"] == "creating"
    assert made["ClusterArn"] == f"arn:aws:dax:us-east-1:{made['ClusterArn'].split(':')[4]}:cache/{name}"
    assert made["TotalNodes"] == 3 and made["ActiveNodes"] == 0
    assert "Nodes" not in made
    assert made["SSEDescription"] == {"Status": "ENABLED"}
    assert made["ParameterGroup"]["ParameterGroupName"] == "default.dax1.0"
    found = _available(dax, name)
    endpoint = found["ClusterDiscoveryEndpoint"]
    assert endpoint["URL"] == f"dax://{endpoint['Address']}:{endpoint['Port']}"
    assert [node["NodeId"] for node in found["Nodes"]] == [f"{name}-a", f"{name}-b", f"{name}-c"]
    assert {node["NodeStatus"] for node in found["Nodes"]} == {"available"}
    assert found["ActiveNodes"] == 3
    with socket.create_connection((endpoint["Address"], endpoint["Port"]), timeout=10):
        pass  # the cluster's own listener
    dax.delete_cluster(ClusterName=name)


def test_create_cluster_errors(dax: Any, cluster: str) -> None:
    create = dax.create_cluster
    base = {"NodeType": "dax.t3.small", "ReplicationFactor": 1, "IamRoleArn": ROLE}
    assert _error(create, ClusterName=cluster, **base)[0] == "ClusterAlreadyExistsFault"
    for bad in ("1abc", "abc-", "a--b", "a" * 21, "my_cluster", "sudocache"):
        assert _error(create, ClusterName=bad, **base)[0] == "InvalidParameterValueException", bad
    code, message = _error(create, ClusterName="okname", **{**base, "NodeType": "dax.x9.huge"})
    assert (code, message) == ("InvalidParameterValueException", "Invalid node type: dax.x9.huge")
    assert _error(create, ClusterName="okname", **{**base, "ReplicationFactor": 0})[0] == (
        "InvalidParameterValueException"
    )
    assert _error(create, ClusterName="okname", **{**base, "ReplicationFactor": 12})[0] == (
        "NodeQuotaForClusterExceededFault"
    )
    assert _error(create, ClusterName="okname", **{**base, "IamRoleArn": "role"})[0] == (
        "InvalidParameterValueException"
    )
    assert _error(create, ClusterName="okname", **base, ParameterGroupName="nope")[0] == (
        "ParameterGroupNotFoundFault"
    )
    assert _error(create, ClusterName="okname", **base, SubnetGroupName="nope")[0] == (
        "SubnetGroupNotFoundFault"
    )
    assert _error(create, ClusterName="okname", **base, AvailabilityZones=["a", "b"])[0] == (
        "InvalidParameterCombinationException"
    )


def test_describe_clusters_pages_and_unknown_names(dax: Any, cluster: str) -> None:
    assert cluster in [c["ClusterName"] for c in dax.describe_clusters()["Clusters"]]
    code, message = _error(dax.describe_clusters, ClusterNames=["nosuch"])
    assert (code, message) == ("ClusterNotFoundFault", "Cluster nosuch not found.")
    assert _error(dax.describe_clusters, MaxResults=5)[0] == "InvalidParameterValueException"
    assert _error(dax.describe_clusters, NextToken="zz")[0] == "InvalidParameterValueException"


def test_update_cluster(dax: Any, cluster: str) -> None:
    dax.create_parameter_group(ParameterGroupName=f"{cluster}-pg")
    updated = dax.update_cluster(
        ClusterName=cluster,
        Description="new",
        ParameterGroupName=f"{cluster}-pg",
        NotificationTopicArn="arn:aws:sns:us-east-1:123456789012:t",
        SecurityGroupIds=["sg-1"],
    )["Cluster"]
    assert updated["Description"] == "new"
    assert updated["ParameterGroup"]["ParameterGroupName"] == f"{cluster}-pg"
    assert updated["NotificationConfiguration"]["TopicStatus"] == "active"
    assert updated["SecurityGroups"] == [{"SecurityGroupIdentifier": "sg-1", "Status": "active"}]
    assert _error(dax.update_cluster, ClusterName=cluster, ParameterGroupName="nope")[0] == (
        "ParameterGroupNotFoundFault"
    )
    assert _error(dax.update_cluster, ClusterName="nosuch")[0] == "ClusterNotFoundFault"
    code = _error(dax.delete_parameter_group, ParameterGroupName=f"{cluster}-pg")[0]
    assert code == "InvalidParameterGroupStateFault"  # in use


def test_replication_factor_and_reboot(dax: Any, cluster: str) -> None:
    grown = dax.increase_replication_factor(ClusterName=cluster, NewReplicationFactor=3)["Cluster"]
    assert grown["Status"] == "modifying"
    assert len(_available(dax, cluster)["Nodes"]) == 3
    assert _error(dax.increase_replication_factor, ClusterName=cluster, NewReplicationFactor=2)[0] == (
        "InvalidParameterValueException"
    )
    assert _error(
        dax.decrease_replication_factor, ClusterName=cluster, NewReplicationFactor=2, NodeIdsToRemove=["x"]
    )[0] == ("NodeNotFoundFault")
    shrunk = dax.decrease_replication_factor(
        ClusterName=cluster, NewReplicationFactor=2, NodeIdsToRemove=[f"{cluster}-a"]
    )["Cluster"]
    assert shrunk["NodeIdsToRemove"] == [f"{cluster}-a"]
    assert [n["NodeId"] for n in _available(dax, cluster)["Nodes"]] == [f"{cluster}-b", f"{cluster}-c"]
    rebooting = dax.reboot_node(ClusterName=cluster, NodeId=f"{cluster}-b")["Cluster"]
    assert {n["NodeId"]: n["NodeStatus"] for n in rebooting["Nodes"]}[f"{cluster}-b"] == "rebooting"
    _available(dax, cluster)
    assert _error(dax.reboot_node, ClusterName=cluster, NodeId="nope")[0] == "NodeNotFoundFault"
    assert _error(dax.reboot_node, ClusterName="nosuch", NodeId="nope")[0] == "ClusterNotFoundFault"


def test_delete_cluster(dax: Any, cluster: str) -> None:
    port = dax.describe_clusters(ClusterNames=[cluster])["Clusters"][0]["ClusterDiscoveryEndpoint"]["Port"]
    assert dax.delete_cluster(ClusterName=cluster)["Cluster"]["Status"] == "deleting"

    def gone() -> bool:
        try:
            dax.describe_clusters(ClusterNames=[cluster])
        except ClientError as err:
            return bool(err.response["Error"]["Code"] == "ClusterNotFoundFault")
        return False

    wait_until(gone, what="cluster deleted")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    assert _error(dax.delete_cluster, ClusterName=cluster)[0] == "ClusterNotFoundFault"


def test_parameter_groups(dax: Any, name: str) -> None:
    group = f"{name}-ttl"
    made = dax.create_parameter_group(ParameterGroupName=group, Description="short ttls")
    assert made["ParameterGroup"] == {"ParameterGroupName": group, "Description": "short ttls"}
    assert (
        _error(dax.create_parameter_group, ParameterGroupName=group)[0] == "ParameterGroupAlreadyExistsFault"
    )
    assert _error(dax.create_parameter_group, ParameterGroupName="9x")[0] == "InvalidParameterValueException"
    listed = [g["ParameterGroupName"] for g in dax.describe_parameter_groups()["ParameterGroups"]]
    assert "default.dax1.0" in listed and group in listed
    assert _error(dax.describe_parameter_groups, ParameterGroupNames=["nope"])[0] == (
        "ParameterGroupNotFoundFault"
    )
    values = {
        p["ParameterName"]: p["ParameterValue"]
        for p in dax.describe_parameters(ParameterGroupName=group)["Parameters"]
    }
    assert values == {"query-ttl-millis": "300000", "record-ttl-millis": "300000"}
    dax.update_parameter_group(
        ParameterGroupName=group,
        ParameterNameValues=[{"ParameterName": "record-ttl-millis", "ParameterValue": "1000"}],
    )
    params = dax.describe_parameters(ParameterGroupName=group)["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in params}["record-ttl-millis"] == "1000"
    assert params[0]["ChangeType"] == "IMMEDIATE" and params[0]["DataType"] == "integer"
    assert dax.describe_parameters(ParameterGroupName=group, Source="system")["Parameters"] == []
    update = dax.update_parameter_group
    for bad in (
        {"ParameterName": "nope", "ParameterValue": "1"},
        {"ParameterName": "query-ttl-millis", "ParameterValue": "-1"},
    ):
        assert (
            _error(update, ParameterGroupName=group, ParameterNameValues=[bad])[0]
            == "InvalidParameterValueException"
        )
    ok = [{"ParameterName": "query-ttl-millis", "ParameterValue": "1"}]
    assert _error(update, ParameterGroupName="default.dax1.0", ParameterNameValues=ok)[0] == (
        "InvalidParameterGroupStateFault"
    )
    assert (
        _error(update, ParameterGroupName="nope", ParameterNameValues=ok)[0] == "ParameterGroupNotFoundFault"
    )
    assert _error(dax.describe_parameters, ParameterGroupName="nope")[0] == "ParameterGroupNotFoundFault"
    defaults = dax.describe_default_parameters()["Parameters"]
    assert [p["ParameterName"] for p in defaults] == ["query-ttl-millis", "record-ttl-millis"]
    assert dax.delete_parameter_group(ParameterGroupName=group)["DeletionMessage"]
    assert _error(dax.delete_parameter_group, ParameterGroupName=group)[0] == "ParameterGroupNotFoundFault"
    assert _error(dax.delete_parameter_group, ParameterGroupName="default.dax1.0")[0] == (
        "InvalidParameterGroupStateFault"
    )


def test_subnet_groups(dax: Any, name: str) -> None:
    group = f"{name}-net"
    made = dax.create_subnet_group(SubnetGroupName=group, SubnetIds=["subnet-0a1", "subnet-0b2"])[
        "SubnetGroup"
    ]
    assert [s["SubnetIdentifier"] for s in made["Subnets"]] == ["subnet-0a1", "subnet-0b2"]
    assert _error(dax.create_subnet_group, SubnetGroupName=group, SubnetIds=["subnet-1"])[0] == (
        "SubnetGroupAlreadyExistsFault"
    )
    assert _error(dax.create_subnet_group, SubnetGroupName=f"{group}2", SubnetIds=["bad"])[0] == (
        "InvalidParameterValueException"
    )
    listed = [g["SubnetGroupName"] for g in dax.describe_subnet_groups()["SubnetGroups"]]
    assert "default" in listed and group in listed
    updated = dax.update_subnet_group(SubnetGroupName=group, Description="d", SubnetIds=["subnet-c3"])
    assert updated["SubnetGroup"]["Description"] == "d"
    assert _error(dax.describe_subnet_groups, SubnetGroupNames=["nope"])[0] == "SubnetGroupNotFoundFault"
    dax.create_cluster(
        ClusterName=name, NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=ROLE, SubnetGroupName=group
    )
    assert _error(dax.delete_subnet_group, SubnetGroupName=group)[0] == "SubnetGroupInUseFault"
    dax.delete_cluster(ClusterName=name)
    wait_until(lambda: name not in [c["ClusterName"] for c in dax.describe_clusters()["Clusters"]])
    assert dax.delete_subnet_group(SubnetGroupName=group)["DeletionMessage"]
    assert _error(dax.delete_subnet_group, SubnetGroupName=group)[0] == "SubnetGroupNotFoundFault"


def test_tags(dax: Any, cluster: str) -> None:
    arn = dax.describe_clusters(ClusterNames=[cluster])["Clusters"][0]["ClusterArn"]
    assert dax.tag_resource(ResourceName=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])[
        "Tags"
    ] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
    ]
    assert dax.untag_resource(ResourceName=arn, TagKeys=["a"])["Tags"] == [{"Key": "b", "Value": "2"}]
    assert dax.list_tags(ResourceName=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert _error(dax.untag_resource, ResourceName=arn, TagKeys=["zz"])[0] == "TagNotFoundFault"
    assert _error(dax.list_tags, ResourceName="arn:aws:dax:nope")[0] == "InvalidARNFault"
    assert _error(dax.list_tags, ResourceName=arn.rsplit("/", 1)[0] + "/nosuch")[0] == "ClusterNotFoundFault"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    assert _error(dax.tag_resource, ResourceName=arn, Tags=many)[0] == "TagQuotaPerResourceExceeded"
    assert _error(dax.tag_resource, ResourceName=arn, Tags=[{"Key": "aws:x", "Value": "v"}])[0] == (
        "InvalidParameterValueException"
    )


def test_describe_events(dax: Any, cluster: str) -> None:
    events = dax.describe_events(SourceName=cluster, SourceType="CLUSTER")["Events"]
    messages = [e["Message"] for e in events]
    assert messages[:2] == ["Cluster created.", "Cluster creation started."]  # newest first
    assert _error(dax.describe_events, MaxResults=101)[0] == "InvalidParameterValueException"


def test_regions_are_namespaces(server: Server, dax: Any, cluster: str) -> None:
    elsewhere = server.client("dax", region="eu-west-1")
    assert cluster not in [c["ClusterName"] for c in elsewhere.describe_clusters()["Clusters"]]


def _list_call(url: str, method: int, argument: Any) -> Any:
    """One defineAttributeList(Id) request on a raw connection; its result."""
    where = url.removeprefix("dax://").rsplit(":", 1)
    request = b"gJ7yne5G" + Writer().integer(0).null().map(0).integer(0).integer(1).integer(method).done()
    if isinstance(argument, int):
        request += Writer().integer(argument).done()
    else:
        writer = Writer().array(len(argument))
        for name in argument:
            writer.text(name)
        request += writer.done()
    with socket.create_connection((where[0], int(where[1])), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while True:
            answer += sock.recv(65536)
            reader = Reader(answer)
            try:
                status, result = reader.value(), reader.value()
            except Incomplete:
                continue
            assert status == [], f"an error answer: {status} {result}"
            return result


def test_clusters_survive_a_restart(tmp_path: Any) -> None:
    own = Server(tmp_path).start()
    try:
        dax = own.client("dax")
        make_table(own.client("dynamodb"), "kept")
        dax.create_cluster(ClusterName="kept", NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=ROLE)
        before = _available(dax, "kept")["ClusterDiscoveryEndpoint"]
        item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "x"}}
        with dax_client(before["URL"]) as client:
            client.put_item(TableName="kept", Item=item)
        number = _list_call(before["URL"], -1230579644, ["b", "c"])  # defineAttributeListId
        own.stop()
        own.start()
        after = _available(own.client("dax"), "kept")["ClusterDiscoveryEndpoint"]
        assert after["Port"] == before["Port"]
        # what a client numbered before the restart still means the same names after it
        assert _list_call(after["URL"], 670678385, number) == ["b", "c"]  # defineAttributeList
        with dax_client(after["URL"]) as client:
            assert client.get_item(TableName="kept", Key={"pk": item["pk"], "sk": item["sk"]})["Item"] == item
    finally:
        own.stop()
