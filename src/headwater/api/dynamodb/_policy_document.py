"""A resource-based policy document as DynamoDB takes it (PutResourcePolicy, CreateTable's ResourcePolicy):
validated with DynamoDB's messages, and kept in the canonical form GetResourcePolicy answers.

The messages are the service's (captured answers): "One or more parameter values were invalid: Invalid
policy document: ..." for what IAM's grammar refuses, the 20 KB size limit (whitespace counts), stream
actions in a table's policy and table actions in a stream's, and the guard against an unconditioned Allow
to everyone. The canonical form (DynamoDB's): minified, keys in the order Version, Statement / Sid,
Effect, Principal, Action, Resource, Condition, one-element lists as plain strings, an account id as
Principal written as its root ARN, a document without Version read back as 2008-10-17.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ...auth.policy import PolicyError, parse_policy
from ...auth.policy.document import MAX_POLICY_BYTES
from ...errors import ValidationException

INVALID = "One or more parameter values were invalid: "
DOCUMENT = INVALID + "Invalid policy document: "
UNBOUNDED = (
    "Resource-based policy grants unbounded access in one or more elements. Please revise the policy to "
    "ensure least-privilege form of access"
)
# the actions a stream's own policy may name (AWS: "only DescribeStream, GetRecords and GetShardIterator")
STREAM_ACTIONS = frozenset({"dynamodb:describestream", "dynamodb:getrecords", "dynamodb:getsharditerator"})
_TOP_ORDER = ("Version", "Id", "Statement")
_STATEMENT_ORDER = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_ACCOUNT = re.compile(r"\d{12}")


def checked_policy(text: str, *, stream: bool) -> str:
    """The policy in canonical form, or ValidationException with DynamoDB's message. `stream` says
    whether it is for a stream (else a table)."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise ValidationException(INVALID + f"Maximum policy size of {MAX_POLICY_BYTES} bytes exceeded")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, Mapping):
        raise ValidationException(DOCUMENT + "This policy contains invalid Json")
    statements = document.get("Statement")
    listed = [statements] if isinstance(statements, Mapping) else statements
    if isinstance(listed, list):
        _check_statements(listed, stream)
    try:
        parse_policy(document, "resource")
    except PolicyError as err:
        raise ValidationException(DOCUMENT + err.message) from None
    return canonical(document)


def _check_statements(statements: list[Any], stream: bool) -> None:
    if not statements:
        raise ValidationException(DOCUMENT + "Could not parse the policy: Statement is empty!")
    sids = [s.get("Sid") for s in statements if isinstance(s, Mapping) and s.get("Sid") is not None]
    if len(sids) != len(set(sids)):
        raise ValidationException(DOCUMENT + "The Statement Ids in the policy are not unique")
    for statement in statements:
        if not isinstance(statement, Mapping):
            continue
        if "Resource" not in statement and "NotResource" not in statement:
            raise ValidationException(DOCUMENT + "Missing required field Resource")
        wrong = [a for a in _strings(statement.get("Action")) if _wrong_kind(a, stream)]
        if wrong:
            names = ", ".join(f'"{a}"' for a in wrong)
            raise ValidationException(DOCUMENT + f"The following action names are invalid: {names}")
        if statement.get("Effect") == "Allow" and not statement.get("Condition") and _everyone(statement):
            raise ValidationException(UNBOUNDED)


def _wrong_kind(action: str, stream: bool) -> bool:
    """A DynamoDB action (no wildcard) that the other kind of resource has: stream actions in a table's
    policy, table actions in a stream's."""
    lowered = action.lower()
    if not lowered.startswith("dynamodb:") or "*" in lowered or "?" in lowered:
        return False
    return (lowered not in STREAM_ACTIONS) if stream else (lowered in STREAM_ACTIONS)


def _everyone(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in _strings(principal.get("AWS"))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def canonical(document: Mapping[str, Any]) -> str:
    """DynamoDB's stored form of a (valid) policy document."""
    statements = document["Statement"]
    listed = [statements] if isinstance(statements, Mapping) else statements
    out: dict[str, Any] = {"Version": document.get("Version", "2008-10-17")}
    if "Id" in document:
        out["Id"] = document["Id"]
    out["Statement"] = [_canonical_statement(s) for s in listed]
    return json.dumps({k: out[k] for k in _TOP_ORDER if k in out}, separators=(",", ":"), ensure_ascii=False)


def _canonical_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _STATEMENT_ORDER:
        if key not in statement:
            continue
        value = statement[key]
        if key in ("Principal", "NotPrincipal") and isinstance(value, Mapping):
            value = {kind: _single(_principals(kind, names)) for kind, names in value.items()}
        elif key != "Condition":
            value = _single(value)
        out[key] = value
    return out


def _principals(kind: str, names: Any) -> Any:
    if kind != "AWS":
        return names
    listed = [names] if isinstance(names, str) else list(names)
    written = [f"arn:aws:iam::{n}:root" if _ACCOUNT.fullmatch(n) else n for n in listed]
    return list(dict.fromkeys(written))  # an account given as id and as root ARN is one principal


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value
