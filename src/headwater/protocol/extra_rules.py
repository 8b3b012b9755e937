"""Rules the real DynamoDB enforces that botocore's bundled models do not carry (or carry differently).

Kept in one place so the gap between "the model" and "the service" stays visible.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

# Table and index names. botocore types `TableName` as `TableArn` (1-1024, no pattern) since tables accept
# ARNs; a plain name must still be 3-255 characters of [a-zA-Z0-9_.-].
NAME_PATTERN: Final = "[a-zA-Z0-9_.-]+"
NAME_RE: Final = re.compile(NAME_PATTERN)
NAME_MIN: Final = 3
NAME_MAX: Final = 255
ARN_PREFIX: Final = "arn:"

# Shapes whose string values, when not an ARN, follow the table-name rule above.
TABLE_NAME_SHAPES: Final = frozenset({"TableArn", "TableName"})

# DynamoDB prints enum sets in its own (Java hash set) order, not the model's declaration order.
ENUM_ORDER: Final[dict[str, tuple[str, ...]]] = {
    "KeyType": ("HASH", "RANGE"),
    "ScalarAttributeType": ("B", "N", "S"),
    "Select": ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"),
    "ReturnConsumedCapacity": ("INDEXES", "TOTAL", "NONE"),
    "ReturnItemCollectionMetrics": ("SIZE", "NONE"),
    "ReturnValue": ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"),
    "ConditionalOperator": ("OR", "AND"),
    "ComparisonOperator": (
        "IN",
        "NULL",
        "BETWEEN",
        "LT",
        "NOT_CONTAINS",
        "EQ",
        "GT",
        "NOT_NULL",
        "NE",
        "LE",
        "BEGINS_WITH",
        "GE",
        "CONTAINS",
    ),
    "AttributeAction": ("ADD", "PUT", "DELETE"),
    "ProjectionType": ("ALL", "INCLUDE", "KEYS_ONLY"),
    "StreamViewType": ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"),
    "BillingMode": ("PROVISIONED", "PAY_PER_REQUEST"),
    "ShardIteratorType": ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"),
}

# DynamoDB lists at most this many violations in one ValidationException.
MAX_REPORTED_ERRORS: Final = 10

# Maps of attribute values that the model layer validates anyway, with the same messages: items (PutItem,
# the Put of TransactWriteItems, the PutRequest of BatchWriteItem), keys (every Key and ExclusiveStartKey)
# and ExpressionAttributeValues. Only their JSON type is checked here; walking them twice would double the
# cost of the hot path.
ITEM_SHAPES: Final = frozenset({"PutItemInputAttributeMap", "Key", "ExpressionAttributeValueMap"})

# Members DynamoDB requires that botocore's model no longer marks required (CreateTable's KeySchema and
# AttributeDefinitions became optional when TableName grew to accept ARNs, but the service still needs them).
EXTRA_REQUIRED: Final = {"CreateTableInput": ("AttributeDefinitions", "KeySchema")}


# ExpressionAttributeNames values: DynamoDB measures them in UTF-8 bytes and answers in its own words
# ("Attribute name is too large, must be less than 65536 bytes for key #n", expressions/compile.py), not
# with the model's character-count constraint.
UNCHECKED_NAME_SHAPE: Final = "ExpressionAttributeName"
NAME_MAP_SHAPE: Final = "ExpressionAttributeNameMap"


def with_service_rules(shapes: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The model's shapes with the differences above applied (extra required members, unchecked names)."""
    out = dict(shapes)
    if NAME_MAP_SHAPE in out:
        out[UNCHECKED_NAME_SHAPE] = {"type": "string"}
        out[NAME_MAP_SHAPE] = {**out[NAME_MAP_SHAPE], "value": {"shape": UNCHECKED_NAME_SHAPE}}
    for name, members in EXTRA_REQUIRED.items():
        if name not in out:
            continue
        shape = dict(out[name])
        shape["required"] = sorted({*shape.get("required", ()), *members})
        out[name] = shape
    return out
