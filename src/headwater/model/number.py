"""DynamoDB numbers: validation, canonical text, exact arithmetic and comparison.

A number travels as text. DynamoDB keeps up to 38 significant digits with the leading digit's exponent in
-130..125, and answers numbers in plain notation with no exponent, no sign on zero, no leading or trailing
zeros ("1.50" -> "1.5", "1e2" -> "100", "-0" -> "0", "1E-130" -> "0.000...0001").
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

from headwater.errors import ValidationException
from headwater.model.limits import NUMBER_MAX_EXPONENT, NUMBER_MIN_EXPONENT, NUMBER_PRECISION

INVALID_NUMBER = "The parameter cannot be converted to a numeric value"
NUMBER_OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
NUMBER_UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
NUMBER_PRECISION_EXCEEDED = "Attempting to store more than 38 significant digits in a Number"

# The grammar DynamoDB accepts (a Java BigDecimal literal): optional sign, digits with an optional point,
# optional exponent. No surrounding whitespace, no underscores, no Infinity/NaN, no hex.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Already canonical integers (the common case): returned without building a Decimal.
_PLAIN_INT_RE = re.compile(r"-?[1-9][0-9]{0,37}|0")
# Java's BigDecimal refuses exponents that do not fit an int.
_MAX_LITERAL_EXPONENT = 2**31 - 1
# Exact arithmetic on valid numbers never needs more digits than the span 1E-167 .. 1E+127.
_EXACT = Context(prec=400, Emax=10_000, Emin=-10_000)


def _invalid(text: str) -> ValidationException:
    return ValidationException(f"{INVALID_NUMBER}: {text}" if text else INVALID_NUMBER)


def canonical(text: str) -> str:
    """Validate a number from a request; return DynamoDB's canonical text or raise ValidationException."""
    if _PLAIN_INT_RE.fullmatch(text) is not None:
        return text
    if _NUMBER_RE.fullmatch(text) is None:
        raise _invalid(text)
    exp_at = max(text.find("e"), text.find("E"))
    if exp_at >= 0:
        exp_digits = text[exp_at + 1 :].lstrip("+-").lstrip("0")
        # compare lengths first: int() of thousands of digits is slow and refused by Python
        if len(exp_digits) > 10 or (exp_digits and int(exp_digits) > _MAX_LITERAL_EXPONENT):
            raise _invalid(text)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the grammar already refused it
        raise _invalid(text) from None
    return from_decimal(value)


def to_decimal(text: str) -> Decimal:
    """The exact value of a canonical number."""
    return Decimal(text)


def from_decimal(value: Decimal) -> str:
    """Canonical text of a value, refusing what DynamoDB cannot store (for arithmetic results too)."""
    if not value.is_finite():
        raise _invalid(str(value))
    if not value:
        return "0"
    sign, digit_tuple, raw_exponent = value.as_tuple()
    exponent = int(raw_exponent)  # an int for finite values, checked above
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    count = len(digits)
    if count > NUMBER_PRECISION:
        raise ValidationException(NUMBER_PRECISION_EXCEEDED)
    adjusted = exponent + count - 1
    if adjusted > NUMBER_MAX_EXPONENT:
        raise ValidationException(NUMBER_OVERFLOW)
    if adjusted < NUMBER_MIN_EXPONENT:
        raise ValidationException(NUMBER_UNDERFLOW)
    if exponent >= 0:
        body = digits + "0" * exponent
    elif -exponent >= count:
        body = "0." + "0" * (-exponent - count) + digits
    else:
        body = digits[: count + exponent] + "." + digits[count + exponent :]
    return "-" + body if sign else body


def add(a: str, b: str) -> str:
    """a + b of two canonical numbers, exactly; the result must itself be storable."""
    return from_decimal(_EXACT.add(Decimal(a), Decimal(b)))


def subtract(a: str, b: str) -> str:
    """a - b of two canonical numbers, exactly; the result must itself be storable."""
    return from_decimal(_EXACT.subtract(Decimal(a), Decimal(b)))


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as the numeric value of a is below, equal to or above b's."""
    if a == b:
        return 0
    da, db = Decimal(a), Decimal(b)
    return -1 if da < db else (1 if da > db else 0)


def significant_digits(text: str) -> tuple[bool, str, int]:
    """(negative, significant digits, adjusted exponent of the first digit) of a canonical non-zero number."""
    negative = text.startswith("-")
    body = text[1:] if negative else text
    point = body.find(".")
    if point < 0:
        stripped = body.rstrip("0")
        return negative, stripped, len(body) - 1
    whole, frac = body[:point], body[point + 1 :]
    if whole != "0":
        return negative, (whole + frac), len(whole) - 1
    lead = len(frac) - len(frac.lstrip("0"))
    return negative, frac[lead:], -lead - 1
