"""From one DAX control-plane request to the authorization check it needs: `dax:<Operation>` on the
cluster's ARN (`arn:aws:dax:REGION:ACCOUNT:cache/NAME`) when the request names one cluster, on `*`
otherwise (parameter groups, subnet groups, events, a DescribeClusters of every cluster)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headwater.auth.requests import Caller, Check, global_context


def cluster_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:dax:{region}:{account}:cache/{name.lower()}"


def dax_check(operation: str, caller: Caller, request: Mapping[str, Any]) -> Check:
    resource = "*"
    name = request.get("ClusterName")
    names = request.get("ClusterNames")
    if isinstance(names, list) and len(names) == 1:  # DescribeClusters of one cluster
        name = names[0]
    arn = request.get("ResourceName")
    if isinstance(name, str):
        resource = cluster_arn(caller.region, caller.namespace_account, name)
    elif isinstance(arn, str):
        resource = arn
    return Check(f"dax:{operation}", resource, global_context(caller))
