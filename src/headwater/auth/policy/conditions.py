"""The Condition element: operators, the ForAllValues:/ForAnyValue: set prefixes and the IfExists suffix.

How a block evaluates, as IAM documents it:
- every operator in the block, and every key under an operator, must hold (AND);
- several values for one key match if any matches (OR); for a negated operator (StringNotEquals...) the
  key must match none of them;
- a key absent from the request: false for a positive operator, true for a negated one, true with
  IfExists; ForAllValues: is true and ForAnyValue: false on an absent or empty multi-valued key;
- ForAllValues: every value of a multi-valued key must match; ForAnyValue: at least one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from headwater.auth.policy import variables, wildcards
from headwater.auth.policy.context import ContextValue, lookup, values_of
from headwater.auth.policy.errors import PolicyError

SetOperator = Literal["ForAllValues", "ForAnyValue"] | None
Matcher = Callable[[variables.Resolved, str], bool]


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _date(text: str) -> float | None:
    """ISO 8601 (date, date-time, with or without zone; basic or extended) or epoch seconds."""
    text = text.strip()
    number = _number(text)
    if number is not None:
        return float(number)
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    for parse in (dt.datetime.fromisoformat, _basic_datetime):
        try:
            moment = parse(candidate)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.timestamp()
    return None


def _basic_datetime(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y%m%dT%H%M%S%z")


def _numeric(compare: Callable[[Decimal, Decimal], bool]) -> Matcher:
    def match(policy: variables.Resolved, value: str) -> bool:
        left, right = _number(value), _number(variables.plain(policy))
        return left is not None and right is not None and compare(left, right)

    return match


def _dated(compare: Callable[[float, float], bool]) -> Matcher:
    def match(policy: variables.Resolved, value: str) -> bool:
        left, right = _date(value), _date(variables.plain(policy))
        return left is not None and right is not None and compare(left, right)

    return match


def _ip(policy: variables.Resolved, value: str) -> bool:
    try:
        return ipaddress.ip_address(value.strip()) in ipaddress.ip_network(
            variables.plain(policy), strict=False
        )
    except ValueError:
        return False


def _equal(policy: variables.Resolved, value: str) -> bool:
    return variables.plain(policy) == value


def _equal_ignore_case(policy: variables.Resolved, value: str) -> bool:
    return variables.plain(policy).casefold() == value.casefold()


def _like(policy: variables.Resolved, value: str) -> bool:
    return wildcards.matches(policy, value)


def _bool(policy: variables.Resolved, value: str) -> bool:
    return variables.plain(policy).lower() == value.lower()


# operator -> (the positive match, negated?)
OPERATORS: dict[str, tuple[Matcher, bool]] = {
    "StringEquals": (_equal, False),
    "StringNotEquals": (_equal, True),
    "StringEqualsIgnoreCase": (_equal_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_equal_ignore_case, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_dated(lambda a, b: a == b), False),
    "DateNotEquals": (_dated(lambda a, b: a == b), True),
    "DateLessThan": (_dated(lambda a, b: a < b), False),
    "DateLessThanEquals": (_dated(lambda a, b: a <= b), False),
    "DateGreaterThan": (_dated(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_dated(lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_equal, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (wildcards.arn_matches, False),
    "ArnLike": (wildcards.arn_matches, False),
    "ArnNotEquals": (wildcards.arn_matches, True),
    "ArnNotLike": (wildcards.arn_matches, True),
}
NULL = "Null"


@dataclass(frozen=True, slots=True)
class Condition:
    """One key under one operator: `"ForAnyValue:StringLikeIfExists": {"key": ["v1", "v2"]}`."""

    operator: str
    set_operator: SetOperator
    if_exists: bool
    key: str
    values: tuple[str, ...]

    def holds(self, context: Mapping[str, ContextValue], substitute: bool = True) -> bool:
        """Whether the condition holds in a (normalized) request context."""
        present = values_of(lookup(context, self.key))
        if self.operator == NULL:
            absent = present is None or present == ()
            return any((value.lower() == "true") == absent for value in self.values)
        match, negated = OPERATORS[self.operator]
        if present is None or (self.set_operator is not None and present == ()):
            if self.if_exists or self.set_operator == "ForAllValues":
                return True
            return negated and self.set_operator is None
        policy_values = [
            resolved
            for resolved in (variables.resolve(v, context, substitute) for v in self.values)
            if resolved is not None
        ]

        def one(value: str) -> bool:
            hit = any(match(policy, value) for policy in policy_values)
            return not hit if negated else hit

        if self.set_operator == "ForAllValues":
            return all(one(value) for value in present)
        if self.set_operator == "ForAnyValue":
            return any(one(value) for value in present)
        if negated:
            return all(one(value) for value in present)
        return any(one(value) for value in present)


def parse_conditions(raw: Any, path: str) -> tuple[Condition, ...]:
    """The Condition element of a statement, validated; None is no condition."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError("Syntax errors in policy.", path)
    conditions: list[Condition] = []
    for operator_text, block in raw.items():
        where = f"{path}.{operator_text}"
        set_operator, operator, if_exists = _operator(operator_text, where)
        if not isinstance(block, Mapping) or not block:
            raise PolicyError("Syntax errors in policy.", where)
        for key, raw_values in block.items():
            if not isinstance(key, str) or not key:
                raise PolicyError("Syntax errors in policy.", where)
            values = _values(raw_values, f"{where}.{key}")
            _check_values(operator, values, f"{where}.{key}")
            conditions.append(Condition(operator, set_operator, if_exists, key, values))
    return tuple(conditions)


def _operator(text: str, where: str) -> tuple[SetOperator, str, bool]:
    set_operator: SetOperator = None
    name = text
    for prefix in ("ForAllValues", "ForAnyValue"):
        if name.startswith(prefix + ":"):
            set_operator = prefix
            name = name[len(prefix) + 1 :]
    if_exists = name.endswith("IfExists") and name != "IfExists"
    if if_exists:
        name = name[: -len("IfExists")]
    if name == NULL and (if_exists or set_operator is not None):
        raise PolicyError(f"Invalid Condition type : {text}", where)
    if name != NULL and name not in OPERATORS:
        raise PolicyError(f"Invalid Condition type : {text}", where)
    return set_operator, name, if_exists


def _values(raw: Any, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError("Syntax errors in policy.", where)
    values: list[str] = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, (int, float)):
            values.append(str(item))
        elif isinstance(item, str):
            values.append(item)
        else:
            raise PolicyError("Syntax errors in policy.", where)
    return tuple(values)


def _check_values(operator: str, values: tuple[str, ...], where: str) -> None:
    """Values an operator can never match are refused when the policy is read, not silently ignored."""
    for value in values:
        if "${" in value:
            continue  # checked once the variable is substituted
        bad = (
            (operator.startswith("Numeric") and _number(value) is None)
            or (operator.startswith("Date") and _date(value) is None)
            or (operator == NULL and value.lower() not in ("true", "false"))
            or (operator.endswith("IpAddress") and not _is_network(value))
        )
        if bad:
            raise PolicyError(f"Invalid value for {operator}: {value!r}", where)


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True
