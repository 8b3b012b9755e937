"""DynamoDB's hard limits, as named constants (one place to read them)."""

from __future__ import annotations

MAX_ITEM_BYTES = 400 * 1024
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
MAX_NESTING_DEPTH = 32
"""A top-level attribute value is at depth 1; a value at depth 33 is refused."""

NUMBER_PRECISION = 38
"""Significant decimal digits a Number may hold."""
NUMBER_MAX_EXPONENT = 125
"""Largest adjusted exponent (of the leading digit): 9.99...E+125."""
NUMBER_MIN_EXPONENT = -130
"""Smallest adjusted exponent: 1E-130."""

MAX_ATTRIBUTE_NAME_BYTES = 64 * 1024 - 1
"""Longest attribute name (top level, map key, ExpressionAttributeNames value), in bytes of UTF-8."""
MAX_EXPRESSION_LENGTH = 4 * 1024
"""Any expression (condition, filter, key condition, update, projection): 4 KB, counted as DynamoDB
counts it, in UTF-16 code units."""
MAX_EXPRESSION_KEY_LENGTH = 255
"""A key of ExpressionAttributeNames or ExpressionAttributeValues (`#name`, `:value`)."""
MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024
"""ExpressionAttributeNames, ExpressionAttributeValues, and the two together: at most 2 MB."""
MAX_ITEM_COLLECTION_BYTES = 10 * 1024**3
"""An item collection (one partition key's items plus their LSI entries) of a table with LSIs: 10 GB."""

# Item size accounting (see model/size.py)
CONTAINER_OVERHEAD_BYTES = 3
CONTAINER_ELEMENT_BYTES = 1
