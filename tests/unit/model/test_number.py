from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.errors import ValidationException
from headwater.model import number

OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
PRECISION = "Attempting to store more than 38 significant digits in a Number"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.50", "1.5"),
        ("01", "1"),
        ("1e2", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("-1E-130", "-0." + "0" * 129 + "1"),
        ("9.9E+125", "99" + "0" * 124),
        ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
        ("+1", "1"),
        ("1.", "1"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("1.5e+3", "1500"),
        ("00.100", "0.1"),
        ("100e-2", "1"),
        ("1e0001", "10"),
        ("-0.0e5", "0"),
        ("0e999", "0"),
        ("0.1E-129", "0." + "0" * 129 + "1"),
        ("1.0000000000000000000000000000000000000000", "1"),
        ("1234567890123456789012345678901234567800000", "1234567890123456789012345678901234567800000"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("123", "123"),
        ("-7", "-7"),
    ],
)
def test_canonical_forms(text: str, expected: str) -> None:
    assert number.canonical(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        " 1",
        "1 ",
        "Infinity",
        "NaN",
        "0x10",
        "-",
        "1e",
        "e5",
        "1_000",
        "1d",
        "1f",
        "1e99999999999",
        "1e" + "9" * 5000,
    ],
)
def test_not_a_number(text: str) -> None:
    with pytest.raises(ValidationException) as err:
        number.canonical(text)
    assert err.value.message == f"The parameter cannot be converted to a numeric value: {text}"


def test_empty_is_not_a_number() -> None:
    with pytest.raises(ValidationException) as err:
        number.canonical("")
    assert err.value.message == "The parameter cannot be converted to a numeric value"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1E+126", OVERFLOW),
        ("10E+125", OVERFLOW),
        ("-1E+126", OVERFLOW),
        ("1E-131", UNDERFLOW),
        ("0.9E-130", UNDERFLOW),
        ("5e-131", UNDERFLOW),
        ("123456789012345678901234567890123456789", PRECISION),
        ("12345678901234567890123456789012345678.0001", PRECISION),
        # precision is checked before range
        ("1234567890123456789012345678901234567890E+100", PRECISION),
    ],
)
def test_out_of_range(text: str, message: str) -> None:
    with pytest.raises(ValidationException) as err:
        number.canonical(text)
    assert err.value.message == message


def test_add_and_subtract() -> None:
    assert number.add("1.5", "2.5") == "4"
    assert number.add("9" * 38, "1") == "1" + "0" * 38
    assert number.add("-" + "9" * 38, "-1") == "-1" + "0" * 38
    assert number.add("1" + "0" * 37, "1") == "1" + "0" * 36 + "1"
    assert number.add("1", number.canonical("1E-37")) == "1.0000000000000000000000000000000000001"
    assert number.subtract(number.canonical("1E-130"), number.canonical("1E-130")) == "0"
    assert number.subtract("5", "7.25") == "-2.25"


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("9" * 38, "9" * 38, PRECISION),
        ("1" + "0" * 37, "0.1", PRECISION),
        ("1", "1E-38", PRECISION),
        ("9.9999999999999999999999999999999999999E+125", "1E+125", PRECISION),
        ("9E+125", "1E+125", OVERFLOW),
        ("2E-130", "-1.5E-130", UNDERFLOW),
    ],
)
def test_arithmetic_errors(a: str, b: str, message: str) -> None:
    with pytest.raises(ValidationException) as err:
        number.add(number.canonical(a), number.canonical(b))
    assert err.value.message == message


def test_from_decimal_refuses_specials() -> None:
    with pytest.raises(ValidationException):
        number.from_decimal(Decimal("NaN"))
    with pytest.raises(ValidationException):
        number.from_decimal(Decimal("-Infinity"))


def test_compare() -> None:
    assert number.compare("1", "1") == 0
    assert number.compare("1.5", "2") == -1
    assert number.compare("-1", "-1.5") == 1
    assert number.compare("0", "-0.0001") == 1


# Any valid DynamoDB number: 1..38 digits, leading digit exponent in -130..125, optional sign, or zero.
@st.composite
def dynamo_numbers(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 20)) == 0:
        return "0"
    digits = draw(st.integers(1, 38))
    mantissa = draw(st.integers(10 ** (digits - 1), 10**digits - 1))
    adjusted = draw(st.integers(-130, 125))
    sign = draw(st.sampled_from(["", "-"]))
    text = str(mantissa)
    return f"{sign}{text[0]}.{text[1:]}E{adjusted}" if len(text) > 1 else f"{sign}{text}E{adjusted}"


@given(dynamo_numbers())
def test_canonical_is_idempotent_and_exact(text: str) -> None:
    once = number.canonical(text)
    assert number.canonical(once) == once
    assert Decimal(once) == Decimal(text)
    assert "e" not in once.lower()


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_canonical_of_decimal_text(value: Decimal) -> None:
    try:
        out = number.canonical(str(value))
    except ValidationException as err:
        assert err.message in (OVERFLOW, UNDERFLOW, PRECISION)
    else:
        assert Decimal(out) == value
        assert number.compare(out, number.canonical(str(value))) == 0


@given(dynamo_numbers(), dynamo_numbers())
def test_compare_matches_decimal(a: str, b: str) -> None:
    ca, cb = number.canonical(a), number.canonical(b)
    da, db = Decimal(ca), Decimal(cb)
    assert number.compare(ca, cb) == (da > db) - (da < db)
