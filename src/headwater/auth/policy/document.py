"""IAM policy documents: parsed once into frozen values, validated with the messages IAM gives.

Identity-based policies (attached to users and roles) must not name a Principal; resource-based ones
(DynamoDB PutResourcePolicy) must. Every element is checked here, so evaluation never meets a malformed
statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from headwater.auth.policy.conditions import Condition, parse_conditions
from headwater.auth.policy.errors import PolicyError

PolicyKind = Literal["identity", "resource"]
CURRENT_VERSION = "2012-10-17"
VERSIONS = (CURRENT_VERSION, "2008-10-17")
MAX_POLICY_BYTES = 20 * 1024
"""DynamoDB's resource-policy limit; also bounds what the auth config accepts per policy."""
MAX_STATEMENTS = 256
_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)


@dataclass(frozen=True, slots=True)
class Principals:
    """A Principal or NotPrincipal element: `*`, or AWS account/user/role ARNs, and other kinds."""

    everyone: bool = False
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str | None
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...]
    not_resources: bool
    principals: Principals | None
    not_principals: bool
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed policy. `variables` is False for Version 2008-10-17, where `${...}` is literal text."""

    version: str
    statements: tuple[Statement, ...]
    id: str | None = None

    @property
    def variables(self) -> bool:
        return self.version == CURRENT_VERSION


def parse_policy(document: str | Mapping[str, Any], kind: PolicyKind = "identity") -> Policy:
    """Parse and validate a policy given as JSON text or as an already decoded object."""
    if isinstance(document, str):
        if len(document.encode()) > MAX_POLICY_BYTES:
            raise PolicyError(f"Policy document is larger than the limit of {MAX_POLICY_BYTES} bytes")
        try:
            document = json.loads(document)
        except ValueError:
            raise PolicyError("Syntax errors in policy.") from None
    if not isinstance(document, Mapping):
        raise PolicyError("Syntax errors in policy.")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyError(f"Has prohibited field {sorted(unknown)[0]}")
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError("The policy must contain a valid version string", "Version")
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyError("Syntax errors in policy.", "Id")
    if "Statement" not in document:
        raise PolicyError("Missing required field Statement")
    raw = document["Statement"]
    raw_statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(raw_statements, list) or not raw_statements:
        raise PolicyError("Syntax errors in policy.", "Statement")
    if len(raw_statements) > MAX_STATEMENTS:
        raise PolicyError(f"A policy can hold at most {MAX_STATEMENTS} statements", "Statement")
    statements = tuple(
        _statement(item, kind, f"Statement[{index}]" if isinstance(raw, list) else "Statement")
        for index, item in enumerate(raw_statements)
    )
    sids = [s.sid for s in statements if s.sid is not None]
    if len(sids) != len(set(sids)):
        raise PolicyError("Statement IDs (SID) in a single policy must be unique.", "Statement")
    return Policy(version, statements, policy_id)


def _statement(raw: Any, kind: PolicyKind, path: str) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError("Syntax errors in policy.", path)
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"Has prohibited field {sorted(unknown)[0]}", path)
    sid = raw.get("Sid")
    if sid is not None and (not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9 _-]*", sid)):
        raise PolicyError("Statement IDs (SID) must be alpha-numeric.", f"{path}.Sid")
    effect = raw.get("Effect")
    if effect is None:
        raise PolicyError("Missing required field Effect", path)
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"Invalid effect: {effect}", f"{path}.Effect")
    actions, not_actions = _either(
        raw, "Action", "NotAction", path, required="Policy statement must contain actions."
    )
    for action in actions:
        if action != "*" and not _ACTION.fullmatch(action):
            raise PolicyError(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", path
            )
    resources, not_resources = _either(
        raw, "Resource", "NotResource", path, required="Policy statement must contain resources."
    )
    for resource in resources:
        if resource != "*" and not (resource.startswith("arn:") and resource.count(":") >= 5):
            raise PolicyError(f'Resource {resource} must be in ARN format or "*".', path)
    principals, not_principals = _principals(raw, kind, path)
    conditions = parse_conditions(raw.get("Condition"), f"{path}.Condition")
    return Statement(
        sid, effect, actions, not_actions, resources, not_resources, principals, not_principals, conditions
    )


def _either(
    raw: Mapping[str, Any], name: str, negated: str, path: str, *, required: str
) -> tuple[tuple[str, ...], bool]:
    if name in raw and negated in raw:
        raise PolicyError(f"Statement can not have both {name} and {negated}.", path)
    key = name if name in raw else negated if negated in raw else None
    if key is None:
        raise PolicyError(required, path)
    return _strings(raw[key], f"{path}.{key}"), key == negated


def _strings(value: Any, path: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise PolicyError("Syntax errors in policy.", path)
    return tuple(values)


def _principals(raw: Mapping[str, Any], kind: PolicyKind, path: str) -> tuple[Principals | None, bool]:
    present = [key for key in ("Principal", "NotPrincipal") if key in raw]
    if kind == "identity":
        if present:
            raise PolicyError("Policy document should not specify a principal.", f"{path}.{present[0]}")
        return None, False
    if not present:
        raise PolicyError("Missing required field Principal", path)
    if len(present) == 2:
        raise PolicyError("Statement can not have both Principal and NotPrincipal.", path)
    key = present[0]
    value = raw[key]
    where = f"{path}.{key}"
    if value == "*":
        return Principals(everyone=True), key == "NotPrincipal"
    if not isinstance(value, Mapping) or not value:
        raise PolicyError("Invalid principal in policy", where)
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    other: list[str] = []
    for principal_type, names in value.items():
        listed = _strings(names, f"{where}.{principal_type}")
        if principal_type == "AWS":
            for name in listed:
                if (
                    name != "*"
                    and not re.fullmatch(r"\d{12}", name)
                    and not re.fullmatch(r"arn:aws:(iam|sts)::\d{12}:\S+", name)
                ):
                    raise PolicyError(f'Invalid principal in policy: "AWS":"{name}"', where)
            aws = listed
        elif principal_type == "Service":
            services = listed
        elif principal_type in ("Federated", "CanonicalUser"):
            other.extend(listed)
        else:
            raise PolicyError(f"Invalid principal in policy: {principal_type}", where)
    everyone = "*" in aws
    return Principals(
        everyone, tuple(a for a in aws if a != "*"), services, tuple(other)
    ), key == "NotPrincipal"
