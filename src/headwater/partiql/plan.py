"""A parsed statement against a table's key schema: the item a write targets, how a SELECT reads.

The WHERE clause is never split into a second evaluation: a SELECT keeps it whole as its filter (the key
range only narrows what is read), a write keeps what is not its key as its condition.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationException
from ..expressions.ast import AttributeValue, Between, Call, Compare, Condition, Item, KeyTerm, Path, Value
from ..model.keys import empty_key_message
from ..model.schema import KeyAttribute, KeySchema
from .terms import conjuncts, equality, flipped, join

NO_KEY_EQUALITY = "Where clause does not contain a mandatory equality on all key attributes"
SAME_KEY_TWICE = "Multiple conditions on same key {name}. Only single item Update/Insert/Delete are supported"
MISSING_KEY = "Key attribute should be present in the item: Key {name}"
ORDER_WITHOUT_WHERE = "Must have WHERE clause in the statement when using ORDER BY clause."
ORDER_WITHOUT_HASH = (
    "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause."
)
ORDER_NOT_KEY = "Variable reference {name} in ORDER BY clause must be part of the primary key"
_KEY_OPS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def key_type_error(name: str) -> ValidationException:
    return ValidationException(
        f"Key attribute's data type should match its data type in table's schema: Key {name}"
    )


def _check_type(attr: KeyAttribute, value: AttributeValue) -> None:
    if attr.type not in value:
        raise key_type_error(attr.name)


def item_key(key: KeySchema, item: Item) -> Item:
    """An INSERT's key attributes, checked as DynamoDB checks them for PartiQL."""
    for attr in (*key.hashes, *key.ranges):
        if attr.name not in item:
            raise ValidationException(MISSING_KEY.format(name=attr.name))
        _check_type(attr, item[attr.name])
    return {attr.name: item[attr.name] for attr in (*key.hashes, *key.ranges)}


@dataclass(frozen=True, slots=True)
class Target:
    """The item a write (or a single-item read) names, and the rest of its WHERE clause."""

    key: Item
    rest: Condition | None


def write_target(key: KeySchema, where: Condition | None) -> Target:
    """An UPDATE/DELETE (or a single-item SELECT) must pin every key attribute with `=`."""
    pinned: Item = {}
    rest: list[Condition] = []
    names = set(key.names)
    for term in conjuncts(where):
        found = equality(term)
        if found is not None and found[0] in pinned:
            raise ValidationException(SAME_KEY_TWICE.format(name=found[0]))
        if found is not None and found[0] in names:
            pinned[found[0]] = found[1]
        else:
            rest.append(term)
    for attr in (*key.hashes, *key.ranges):
        if attr.name not in pinned:
            raise ValidationException(NO_KEY_EQUALITY)
        _check_type(attr, pinned[attr.name])
    return Target(pinned, join(rest))


def exists(key: KeySchema) -> Call:
    """The condition that the item exists."""
    return Call("attribute_exists", (Path((key.hashes[0].name,)),))


def not_exists(key: KeySchema) -> Call:
    return Call("attribute_not_exists", (Path((key.hashes[0].name,)),))


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """A Query when `partition` holds the partition key's values, else a Scan."""

    partition: tuple[AttributeValue, ...] | None
    sort: tuple[KeyTerm, ...]


def read_plan(key: KeySchema, where: Condition | None) -> ReadPlan:
    terms = conjuncts(where)
    pinned: dict[str, AttributeValue] = {}
    for term in terms:
        found = equality(term)
        if found is not None and found[0] not in pinned:
            pinned[found[0]] = found[1]
    if not all(attr.name in pinned for attr in key.hashes):
        return ReadPlan(None, ())
    for attr in key.hashes:
        _check_type(attr, pinned[attr.name])
        if pinned[attr.name][attr.type] == "":
            raise ValidationException(empty_key_message(attr.name, attr.type))
    partition = tuple(pinned[attr.name] for attr in key.hashes)
    sort: tuple[KeyTerm, ...] = ()
    if len(key.ranges) == 1:
        attr = key.ranges[0]
        sort = next(((t,) for t in (_sort_term(term, attr) for term in terms) if t is not None), ())
    return ReadPlan(partition, sort)


def _sort_term(term: Condition, attr: KeyAttribute) -> KeyTerm | None:
    """A condition on the sort key a key range can express, with values of its type."""
    subject = Path((attr.name,))
    if isinstance(term, Compare) and term.op in _KEY_OPS:
        left, right, op = term.left, term.right, term.op
        if right == subject and isinstance(left, Value):
            left, right, op = right, left, flipped(op)
        if left == subject and isinstance(right, Value) and attr.type in right.value:
            return KeyTerm(attr.name, _KEY_OPS[op], (right.value,))
    if isinstance(term, Between) and term.operand == subject:
        bounds = (term.low, term.high)
        if all(isinstance(b, Value) and attr.type in b.value for b in bounds):
            return KeyTerm(attr.name, "BETWEEN", tuple(b.value for b in bounds if isinstance(b, Value)))
    if isinstance(term, Call) and term.name == "begins_with" and attr.type != "N" and term.args[0] == subject:
        prefix = term.args[1]
        if isinstance(prefix, Value) and attr.type in prefix.value:
            return KeyTerm(attr.name, "BEGINS_WITH", (prefix.value,))
    return None


def check_order(key: KeySchema, where: Condition | None, order_by: str | None, plan: ReadPlan) -> None:
    if order_by is None:
        return
    if where is None:
        raise ValidationException(ORDER_WITHOUT_WHERE)
    if plan.partition is None:
        raise ValidationException(ORDER_WITHOUT_HASH)
    if order_by not in key.names:
        raise ValidationException(ORDER_NOT_KEY.format(name=order_by))
