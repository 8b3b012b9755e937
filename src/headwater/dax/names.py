"""What the DAX control plane accepts: resource names, node types and their memory, replication factors,
page sizes."""

from __future__ import annotations

import re
from typing import Any, Final

from .errors import InvalidParameterValueException, NodeQuotaForClusterExceededFault

_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|-(?!-))*")
MAX_CLUSTER_NAME: Final = 20
MAX_GROUP_NAME: Final = 255
RESERVED_WORDS: Final = ("sudo", "grep")  # "you cannot create a DAX cluster with these words in the name"
MAX_NODES: Final = 11  # a primary and ten read replicas
MIN_PAGE, MAX_PAGE, DEFAULT_PAGE = 20, 100, 100
MAX_TAGS: Final = 50

GIB: Final = 1024**3
# each node type's memory (GiB), which bounds the caches of a cluster of that type
NODE_MEMORY_GIB: Final = {
    "dax.t2.small": 2.0,
    "dax.t2.medium": 4.0,
    "dax.t3.small": 2.0,
    "dax.t3.medium": 4.0,
    "dax.r4.large": 15.25,
    "dax.r4.xlarge": 30.5,
    "dax.r4.2xlarge": 61.0,
    "dax.r4.4xlarge": 122.0,
    "dax.r4.8xlarge": 244.0,
    "dax.r4.16xlarge": 488.0,
    "dax.r5.large": 16.0,
    "dax.r5.xlarge": 32.0,
    "dax.r5.2xlarge": 64.0,
    "dax.r5.4xlarge": 128.0,
    "dax.r5.8xlarge": 256.0,
    "dax.r5.12xlarge": 384.0,
    "dax.r5.16xlarge": 512.0,
    "dax.r5.24xlarge": 768.0,
}


def _check_name(value: str, what: str, longest: int) -> str:
    if not (0 < len(value) <= longest and _NAME.fullmatch(value) and not value.endswith("-")):
        raise InvalidParameterValueException(
            f"{what} must contain from 1 to {longest} alphanumeric characters or hyphens, begin with a "
            "letter, and neither end with a hyphen nor contain two consecutive hyphens."
        )
    return value.lower()


def cluster_name(value: str) -> str:
    """The name as stored (lowercase), or InvalidParameterValueException."""
    name = _check_name(value, "Cluster name", MAX_CLUSTER_NAME)
    if any(word in name for word in RESERVED_WORDS):
        raise InvalidParameterValueException(f"Cluster name {value} contains a reserved word.")
    return name


def group_name(value: str, what: str) -> str:
    return _check_name(value, what, MAX_GROUP_NAME)


def node_type(value: str) -> str:
    if value not in NODE_MEMORY_GIB:
        raise InvalidParameterValueException(f"Invalid node type: {value}")
    return value


def replication_factor(value: int) -> int:
    if value < 1:
        raise InvalidParameterValueException("The replication factor must be at least 1.")
    if value > MAX_NODES:
        raise NodeQuotaForClusterExceededFault(f"A cluster can have at most {MAX_NODES} nodes.")
    return value


def page(request: dict[str, Any], items: list[Any]) -> tuple[list[Any], str | None]:
    """`items` from the request's NextToken, MaxResults of them (20-100, default 100), and the next token."""
    size = request.get("MaxResults", DEFAULT_PAGE)
    if not MIN_PAGE <= size <= MAX_PAGE:
        raise InvalidParameterValueException(
            f"The value for MaxResults must be between {MIN_PAGE} and {MAX_PAGE}."
        )
    token = request.get("NextToken")
    start = 0
    if token is not None:
        if not (token.isdigit() and len(token) <= 9) or int(token) > len(items):
            raise InvalidParameterValueException(f"Invalid NextToken: {token}")
        start = int(token)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)
