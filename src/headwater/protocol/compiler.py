"""Compile a botocore shape into a fast checker closure.

A checker walks one JSON value. A wrong JSON type is a deserialization failure in DynamoDB (the request never
reaches validation), so it raises `SerializationException` at once; a constraint violation (null, length,
range, enum, pattern) is appended to a list so all of them can be reported together. Paths are linked tuples
built only on descent and rendered only when a violation is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from headwater.errors import SerializationException
from headwater.protocol import extra_rules

# (parent, segment) or None for the root.
Path = tuple[Any, str] | None
Checker = Callable[[Any, Path, list["Violation"]], None]
Shapes = Mapping[str, Mapping[str, Any]]

NAMESPACE = "com.amazonaws.dynamodb.v20120810."
_START_OF_MAP = "Start of structure or map found where not expected"
_UNEXPECTED_FIELD = "Unexpected field type"
_UNEXPECTED_VALUE = "Unexpected value type in payload"
_BASE64_ALPHABET = re.compile(r"[A-Za-z0-9+/]*={0,2}")


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed constraint; rendered into DynamoDB's text only when reported."""

    path: Path
    value: Any
    constraint: str


def render_path(path: Path) -> str:
    parts: list[str] = []
    while path is not None:
        path, segment = path
        parts.append(segment)
    return ".".join(reversed(parts))


def _token(value: Any) -> str:
    """Jackson's token name for a scalar JSON value, as DynamoDB names it in serialization errors."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    return "DECIMAL_VALUE"


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


_SCALAR_JAVA = {
    "string": "java.lang.String",
    "integer": "java.lang.Integer",
    "long": "java.lang.Long",
    "double": "java.lang.Double",
    "boolean": "java.lang.Boolean",
    "timestamp": "java.util.Date",
    "blob": "java.nio.ByteBuffer",
}


def java_type(shapes: Shapes, name: str) -> str:
    """The Java type DynamoDB deserializes a shape into (used in 'Unrecognized collection type ...')."""
    shape = shapes[name]
    kind = shape["type"]
    if kind in _SCALAR_JAVA:
        return _SCALAR_JAVA[kind]
    if kind == "structure":
        return NAMESPACE + name
    if kind == "list":
        return f"java.util.List<{java_type(shapes, shape['member']['shape'])}>"
    key = java_type(shapes, shape["key"]["shape"])
    return f"java.util.Map<{key}, {java_type(shapes, shape['value']['shape'])}>"


def _collection_message(shapes: Shapes, name: str) -> str:
    kind = shapes[name]["type"]
    jtype = java_type(shapes, name)
    # Parameterized types are printed bare, classes with a "class " prefix (Java's Type.toString()).
    return f"Unrecognized collection type {jtype if kind in ('list', 'map') else 'class ' + jtype}"


class _Compiler:
    def __init__(self, shapes: Shapes) -> None:
        self.shapes = shapes
        self.cache: dict[str, Checker] = {}
        self.constrained: dict[str, bool] = {}

    def has_constraints(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether any value under this shape can produce a violation (so member order matters)."""
        if name in self.constrained:
            return self.constrained[name]
        if name in seen:
            return False
        shape = self.shapes[name]
        seen = seen | {name}
        kind = shape["type"]
        result = any(k in shape for k in ("min", "max", "enum", "pattern")) or name in (
            extra_rules.TABLE_NAME_SHAPES
        )
        if kind == "structure":
            result = result or bool(shape.get("required"))
            result = result or any(self.has_constraints(m["shape"], seen) for m in shape["members"].values())
        elif kind == "list":
            result = result or self.has_constraints(shape["member"]["shape"], seen)
        elif kind == "map":
            result = result or self.has_constraints(shape["key"]["shape"], seen)
            result = result or self.has_constraints(shape["value"]["shape"], seen)
        if not seen - {name}:
            self.constrained[name] = result
        return result

    def compile(self, name: str) -> Checker:
        if name in self.cache:
            return self.cache[name]
        if name in extra_rules.ITEM_SHAPES:
            return self._item_map(name)
        # Recursive shapes (AttributeValue -> M -> AttributeValue): register a forwarder first.
        slot: list[Checker] = []

        def forward(value: Any, path: Path, errors: list[Violation]) -> None:
            slot[0](value, path, errors)

        self.cache[name] = forward
        kind = self.shapes[name]["type"]
        builder = getattr(self, "_" + kind)
        checker: Checker = builder(name, self.shapes[name])
        slot.append(checker)
        self.cache[name] = checker
        return checker

    def _item_map(self, name: str) -> Checker:
        """A whole item: its attribute values are validated (and canonicalised) by the model layer,
        which every write path runs anyway; walking them twice would double the hot path's cost."""
        not_a_map = self._not_a_map

        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            if type(value) is not dict:
                raise not_a_map(name, value, _UNEXPECTED_FIELD)

        self.cache[name] = check
        return check

    # -- scalars --------------------------------------------------------------------------------------

    def _string(self, name: str, shape: Mapping[str, Any]) -> Checker:
        def wrong(value: Any) -> SerializationException:
            if isinstance(value, dict):
                return SerializationException(_START_OF_MAP)
            if isinstance(value, list):
                return SerializationException("Unrecognized collection type class java.lang.String")
            return SerializationException(f"{_token(value)} cannot be converted to String")

        rules = string_rules(name, shape)
        if not rules:

            def check_plain(value: Any, path: Path, errors: list[Violation]) -> None:
                if type(value) is not str:
                    raise wrong(value)

            return check_plain

        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            if type(value) is not str:
                raise wrong(value)
            for rule in rules:
                text = rule(value)
                if text is not None:
                    errors.append(Violation(path, value, text))

        return check

    def _number(self, java: str, integral: bool, shape: Mapping[str, Any]) -> Checker:
        low = shape.get("min")
        high = shape.get("max")

        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            kind = type(value)
            if kind is float and integral:
                value = int(value)  # DynamoDB truncates a decimal sent for an integer member
            elif kind is not int and not (kind is float and not integral):
                if kind is dict:
                    raise SerializationException(_START_OF_MAP)
                if kind is list:
                    raise SerializationException(f"Unrecognized collection type class java.lang.{java}")
                raise SerializationException(f"{_token(value)} cannot be converted to {java}")
            if low is not None and value < low:
                errors.append(
                    Violation(path, value, f"Member must have value greater than or equal to {low}")
                )
            if high is not None and value > high:
                errors.append(Violation(path, value, f"Member must have value less than or equal to {high}"))

        return check

    def _integer(self, name: str, shape: Mapping[str, Any]) -> Checker:
        return self._number("Integer", True, shape)

    def _long(self, name: str, shape: Mapping[str, Any]) -> Checker:
        return self._number("Long", True, shape)

    def _double(self, name: str, shape: Mapping[str, Any]) -> Checker:
        return self._number("Double", False, shape)

    def _timestamp(self, name: str, shape: Mapping[str, Any]) -> Checker:
        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            kind = type(value)
            if kind is int or kind is float:
                return
            if kind is dict:
                raise SerializationException(_START_OF_MAP)
            if kind is list:
                raise SerializationException("Unrecognized collection type class java.util.Date")
            raise SerializationException(f"{_token(value)} cannot be converted to Date")

        return check

    def _boolean(self, name: str, shape: Mapping[str, Any]) -> Checker:
        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            if value is True or value is False:
                return
            if isinstance(value, dict):
                raise SerializationException(_START_OF_MAP)
            if isinstance(value, list):
                raise SerializationException("Unrecognized collection type class java.lang.Boolean")
            raise SerializationException(f"{_token(value)} cannot be converted to Boolean")

        return check

    def _blob(self, name: str, shape: Mapping[str, Any]) -> Checker:
        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            if type(value) is str:
                if len(value) % 4:
                    raise SerializationException(
                        f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}"
                    )
                if _BASE64_ALPHABET.fullmatch(value) is None:
                    raise SerializationException("Invalid Base64 character in value")
                return
            if isinstance(value, dict):
                raise SerializationException(_START_OF_MAP)
            if isinstance(value, list):
                raise SerializationException("Unrecognized collection type class java.nio.ByteBuffer")
            raise SerializationException("only base-64-encoded strings are convertible to bytes")

        return check

    # -- containers -----------------------------------------------------------------------------------

    def _not_a_map(self, name: str, value: Any, scalar_text: str) -> SerializationException:
        if isinstance(value, list):
            return SerializationException(_collection_message(self.shapes, name))
        return SerializationException(scalar_text)

    def _structure(self, name: str, shape: Mapping[str, Any]) -> Checker:
        members = {key: (_lower_camel(key), self.compile(m["shape"])) for key, m in shape["members"].items()}
        required = tuple((key, _lower_camel(key)) for key in shape.get("required", ()))
        # AttributeValue-like shapes (map values) complain about scalars differently from fields.
        scalar_text = _UNEXPECTED_VALUE if name == "AttributeValue" else _UNEXPECTED_FIELD
        not_a_map = self._not_a_map
        lookup = members.get

        if not self.has_constraints(name):
            # Nothing can violate a constraint below: walk the body's keys (usually one for AttributeValue).
            def check_free(value: Any, path: Path, errors: list[Violation]) -> None:
                if type(value) is not dict:
                    raise not_a_map(name, value, scalar_text)
                for key, item in value.items():
                    member = lookup(key)
                    if member is not None and item is not None:
                        member[1](item, (path, member[0]), errors)

            return check_free

        ordered = tuple((key, seg, chk, key in dict(required)) for key, (seg, chk) in members.items())

        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            if type(value) is not dict:
                raise not_a_map(name, value, scalar_text)
            get = value.get
            # Model order, so violations come out in the order DynamoDB lists them.
            for key, seg, chk, needed in ordered:
                item = get(key)
                if item is None:
                    if needed:
                        errors.append(Violation((path, seg), None, "Member must not be null"))
                else:
                    chk(item, (path, seg), errors)

        return check

    def _list(self, name: str, shape: Mapping[str, Any]) -> Checker:
        element = self.compile(shape["member"]["shape"])
        low = shape.get("min")
        high = shape.get("max")

        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            if type(value) is not list:
                if isinstance(value, dict):
                    raise SerializationException(_START_OF_MAP)
                raise SerializationException(_UNEXPECTED_FIELD)
            for index, item in enumerate(value, 1):
                if item is None:
                    errors.append(Violation(((path, str(index)), "member"), None, "Member must not be null"))
                else:
                    element(item, ((path, str(index)), "member"), errors)
            size = len(value)
            if low is not None and size < low:
                errors.append(
                    Violation(path, value, f"Member must have length greater than or equal to {low}")
                )
            if high is not None and size > high:
                errors.append(Violation(path, value, f"Member must have length less than or equal to {high}"))

        return check

    def _map(self, name: str, shape: Mapping[str, Any]) -> Checker:
        key_name = shape["key"]["shape"]
        key_rules = string_rules(key_name, self.shapes[key_name])
        val = self.compile(shape["value"]["shape"])
        low = shape.get("min")
        high = shape.get("max")
        shapes = self.shapes

        def check(value: Any, path: Path, errors: list[Violation]) -> None:
            if type(value) is not dict:
                if isinstance(value, list):
                    raise SerializationException(_collection_message(shapes, name))
                raise SerializationException(_UNEXPECTED_FIELD)
            for key, item in value.items():
                if item is not None:
                    val(item, ((path, key), "member"), errors)
            if key_rules:
                failed = [text for key in value for rule in key_rules if (text := rule(key)) is not None]
                if failed:
                    unique = list(dict.fromkeys(failed))
                    errors.append(
                        Violation(path, value, f"Map keys must satisfy constraint: [{', '.join(unique)}]")
                    )
            size = len(value)
            if low is not None and size < low:
                errors.append(
                    Violation(path, value, f"Member must have length greater than or equal to {low}")
                )
            if high is not None and size > high:
                errors.append(Violation(path, value, f"Member must have length less than or equal to {high}"))

        return check


StringRule = Callable[[str], str | None]


def string_rules(name: str, shape: Mapping[str, Any]) -> tuple[StringRule, ...]:
    """The constraints on a string shape, in the order DynamoDB reports them: pattern, min, max, enum."""
    rules: list[StringRule] = []
    if "pattern" in shape:
        rules.append(_pattern_rule(shape["pattern"]))
    if "min" in shape and shape["min"] > 0:
        rules.append(_min_rule(shape["min"]))
    if "max" in shape:
        rules.append(_max_rule(shape["max"]))
    if "enum" in shape:
        allowed = frozenset(shape["enum"])
        order = extra_rules.ENUM_ORDER.get(name, tuple(shape["enum"]))
        if frozenset(order) != allowed:  # another service's shape of the same name
            order = tuple(shape["enum"])
        text = f"Member must satisfy enum value set: [{', '.join(order)}]"
        rules.append(lambda v: None if v in allowed else text)
    if name in extra_rules.TABLE_NAME_SHAPES:
        return _table_name_rules(tuple(rules))
    return tuple(rules)


def _pattern_rule(pattern: str) -> StringRule:
    text = f"Member must satisfy regular expression pattern: {pattern}"
    try:
        compiled = re.compile(pattern)
    except re.error:
        # Java-only syntax (\p{Print}, surrogate ranges): leave it to the operation's own checks.
        return lambda v: None
    return lambda v: None if compiled.fullmatch(v) is not None else text


def _min_rule(low: int) -> StringRule:
    text = f"Member must have length greater than or equal to {low}"
    return lambda v: text if len(v) < low else None


def _max_rule(high: int) -> StringRule:
    text = f"Member must have length less than or equal to {high}"
    return lambda v: text if len(v) > high else None


def _table_name_rules(arn_rules: tuple[StringRule, ...]) -> tuple[StringRule, ...]:
    """A plain name follows the table-name rule; an ARN only the model's own length limits."""
    prefix = extra_rules.ARN_PREFIX
    name_rules = (
        _pattern_rule(extra_rules.NAME_PATTERN),
        _min_rule(extra_rules.NAME_MIN),
        _max_rule(extra_rules.NAME_MAX),
    )

    # One rule per possible message keeps "several violations of one member" reporting intact.
    def nth(index: int) -> StringRule:
        def rule(value: str) -> str | None:
            rules = arn_rules if value.startswith(prefix) else name_rules
            return rules[index](value) if index < len(rules) else None

        return rule

    return tuple(nth(i) for i in range(max(len(arn_rules), len(name_rules))))


def compile_shapes(shapes: Shapes, names: list[str]) -> dict[str, Checker]:
    """Compile the named (input) shapes, sharing compiled sub-shapes between them."""
    compiler = _Compiler(shapes)
    return {name: compiler.compile(name) for name in names}
