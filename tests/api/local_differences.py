"""Marks for what DynamoDB Local answers differently from DynamoDB in more than one test file.

Each says in one line what DynamoDB Local does; the test (or its docstring) says what DynamoDB does and
how we know. Under HEADWATER_TEST_ENDPOINT a marked test is an expected failure (tests/README.md).
"""

from __future__ import annotations

import pytest

MISSING_TABLE = pytest.mark.differs_from_dynamodb_local("'Cannot do operations on a non-existent table'")
MISSED_KEY_ELEMENT = pytest.mark.differs_from_dynamodb_local(
    "'Query condition missed key schema element' without the attribute's name"
)
KEY_TEXTS = pytest.mark.differs_from_dynamodb_local(
    "'The number of conditions on the keys is invalid', 'Type mismatch for key', ... for a mismatched key"
)
NO_TAGGING = pytest.mark.differs_from_dynamodb_local(
    "'Tagging is not currently supported in DynamoDB Local.'"
)
REGION = pytest.mark.differs_from_dynamodb_local("its region is 'ddblocal', whatever the client's")
MESSAGE_CASE = pytest.mark.differs_from_dynamodb_local(
    "'Message' for coral's 'message', without the 'N validation error(s) detected' envelope"
)
