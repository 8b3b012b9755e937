"""Tags on a cluster (the only DAX resource that takes them)."""

from __future__ import annotations

import re
from typing import Any

from ...core.database import Database
from ...dax.errors import InvalidARNFault, InvalidParameterValueException, TagQuotaPerResourceExceeded
from ...dax.names import MAX_TAGS
from ._clusters import find

_ARN = re.compile(r"arn:aws:dax:([a-z0-9-]+):(\d{12}):cache/([A-Za-z0-9-]{1,20})")


def check_tags(adding: list[dict[str, Any]], current: list[dict[str, str]]) -> list[dict[str, str]]:
    """`current` with `adding` applied (a key given again takes its new value)."""
    merged = {tag["Key"]: tag["Value"] for tag in current}
    for tag in adding:
        key, value = tag.get("Key"), tag.get("Value", "")
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or len(value) > 256:
            raise InvalidParameterValueException(
                "A tag key must be 1 to 128 characters, a value at most 256."
            )
        if key.startswith("aws:"):
            raise InvalidParameterValueException(f"Tag keys starting with 'aws:' are reserved: {key}")
        merged[key] = value
    if len(merged) > MAX_TAGS:
        raise TagQuotaPerResourceExceeded(f"A resource can have at most {MAX_TAGS} tags.")
    return [{"Key": key, "Value": value} for key, value in merged.items()]


def cluster_of(db: Database, arn: str) -> dict[str, Any]:
    """The cluster document a ResourceName (a cluster ARN of the caller's account and region) names."""
    found = _ARN.fullmatch(arn)
    if found is None:
        raise InvalidARNFault(f"Invalid ARN: {arn}")
    region, account, name = found.groups()
    if (region, account) != (db.namespace.region, db.namespace.account):
        raise InvalidARNFault(f"Invalid ARN: {arn}")
    return find(db, name)
