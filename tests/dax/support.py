"""DAX clusters for tests: made through boto3's `dax` client, used through the real `amazon-dax-client`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from amazondax import AmazonDaxClient

from tests.server import Server
from tests.waiting import wait_until

ROLE = "arn:aws:iam::123456789012:role/DAXServiceRoleForDynamoDBAccess"
_numbers = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}"


def make_cluster(server: Server, name: str, ttl_millis: dict[str, int] | None = None, **extra: Any) -> str:
    """An available cluster (with a parameter group of its own when `ttl_millis` is given); its URL."""
    dax = server.client("dax")
    if ttl_millis is not None:
        group = f"{name}-params"
        dax.create_parameter_group(ParameterGroupName=group)
        dax.update_parameter_group(
            ParameterGroupName=group,
            ParameterNameValues=[
                {"ParameterName": k, "ParameterValue": str(v)} for k, v in ttl_millis.items()
            ],
        )
        extra["ParameterGroupName"] = group
    dax.create_cluster(
        ClusterName=name, NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=ROLE, **extra
    )

    def ready() -> str | None:
        found = dax.describe_clusters(ClusterNames=[name])["Clusters"][0]
        return str(found["ClusterDiscoveryEndpoint"]["URL"]) if found["Status"] == "available" else None

    return wait_until(ready, what=f"cluster {name} available")


@contextmanager
def dax_client(url: str, access_key: str = "test", secret: str = "test", **config: Any) -> Iterator[Any]:
    client = AmazonDaxClient(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        **config,
    )
    try:
        yield client
    finally:
        client.close()


def make_table(ddb: Any, name: str, *, sort: str | None = "N", stream: bool = False) -> str:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort is not None:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        definitions.append({"AttributeName": "sk", "AttributeType": sort})
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=definitions,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name
