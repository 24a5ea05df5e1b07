"""Tests for sim.money: money strings are read exactly or rejected, never guessed."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.money import (
    canonical_currency,
    format_money,
    money_string,
    parse_fraction,
    parse_money,
)

# Round numbers so that the expected USD values below are easy to check by hand.
FX = {"HKD": 0.1282, "CNY": 0.1376, "EUR": 1.08}
UNITS = ["", "K", "M", "bn", "T", "万", "亿", "万亿"]
POWERS = {"": 0, "K": 3, "M": 6, "bn": 9, "T": 12, "万": 4, "亿": 8, "万亿": 12}

# ---------------------------------------------------------------------------------------
# parse_money: valid amounts in USD, where the exact answer is a float we can write down

EXACT_USD: list[tuple[object, float]] = [
    # plain numbers and separators
    (70_000_000, 70_000_000.0),
    (2.5e9, 2_500_000_000.0),
    (0, 0.0),
    ("1500000", 1_500_000.0),
    ("1,234,567", 1_234_567.0),
    ("1,000.5", 1000.5),
    ("1_000", 1000.0),
    ("1_000_000.5", 1_000_000.5),
    ("0", 0.0),
    ("  70M  ", 70_000_000.0),
    ("1.2e9", 1_200_000_000.0),
    ("12E3", 12_000.0),
    # Western scales
    ("12K", 12_000.0),
    ("12k", 12_000.0),
    ("3 thousand", 3_000.0),
    ("70M", 70_000_000.0),
    ("70m", 70_000_000.0),
    ("70mn", 70_000_000.0),
    ("70MM", 70_000_000.0),
    ("70 M", 70_000_000.0),
    ("3 million", 3_000_000.0),
    ("3 Million", 3_000_000.0),
    ("19.5M", 19_500_000.0),
    ("2.5B", 2_500_000_000.0),
    ("2.5b", 2_500_000_000.0),
    ("2.5bn", 2_500_000_000.0),
    ("2.5Bn", 2_500_000_000.0),
    ("2.5 bn", 2_500_000_000.0),
    ("2.5 billion", 2_500_000_000.0),
    ("1.05B", 1_050_000_000.0),
    ("1.2T", 1_200_000_000_000.0),
    ("1.2tn", 1_200_000_000_000.0),
    ("1.2 trillion", 1_200_000_000_000.0),
    # Chinese scales; 万亿 is one unit, not 万 then 亿
    ("25亿", 2_500_000_000.0),
    ("7000万", 70_000_000.0),
    ("1.2万亿", 1_200_000_000_000.0),
    ("3052万", 30_520_000.0),
    # where float arithmetic (4.1 * 1e8, 0.07 * 1e9) would be off by an ulp
    ("4.1亿", 410_000_000.0),
    ("0.07bn", 70_000_000.0),
    ("0.1M", 100_000.0),
    # USD marks and words
    ("US$3B", 3_000_000_000.0),
    ("$3B", 3_000_000_000.0),
    ("$ 3B", 3_000_000_000.0),
    ("USD 3B", 3_000_000_000.0),
    ("USD3B", 3_000_000_000.0),
    ("3B USD", 3_000_000_000.0),
    ("2bn USD", 2_000_000_000.0),
    ("25亿美元", 2_500_000_000.0),
]


@pytest.mark.parametrize(("value", "expected"), EXACT_USD, ids=repr)
def test_parse_money_exact(value: object, expected: float) -> None:
    assert parse_money(value, path="k", fx=FX) == expected
    # No [fx] is needed when nothing is converted.
    assert parse_money(value, path="k") == expected


CONVERTED: list[tuple[str, float]] = [
    ("HK$51B", 51e9 * FX["HKD"]),
    ("51B HKD", 51e9 * FX["HKD"]),
    ("51BHKD", 51e9 * FX["HKD"]),
    ("HKD 51B", 51e9 * FX["HKD"]),
    ("51亿港元", 51e8 * FX["HKD"]),
    ("51亿港币", 51e8 * FX["HKD"]),
    ("HK$151", 151 * FX["HKD"]),
    ("100M RMB", 100e6 * FX["CNY"]),
    ("RMB 100M", 100e6 * FX["CNY"]),
    ("CNY 100M", 100e6 * FX["CNY"]),
    ("¥10亿", 1e9 * FX["CNY"]),
    ("3亿元", 3e8 * FX["CNY"]),
    ("10亿人民币", 1e9 * FX["CNY"]),
    ("EUR 5M", 5e6 * FX["EUR"]),
    ("5M EUR", 5e6 * FX["EUR"]),
]


@pytest.mark.parametrize(("value", "expected"), CONVERTED, ids=repr)
def test_parse_money_converts_with_fx(value: str, expected: float) -> None:
    assert math.isclose(parse_money(value, path="k", fx=FX), expected, rel_tol=1e-12)


def test_rmb_key_in_fx_is_an_alias_for_cny() -> None:
    assert math.isclose(
        parse_money("100M RMB", path="k", fx={"RMB": 0.1376}), 13_760_000.0, rel_tol=1e-12
    )
    assert math.isclose(
        parse_money("3亿元", path="k", fx={"RMB": 0.14, "CNY": 0.14}), 42e6, rel_tol=1e-12
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-5, -5.0), (-2.5e9, -2.5e9), ("-3B", -3e9), ("-US$3B", -3e9), ("US$-3B", -3e9)],
    ids=repr,
)
def test_parse_money_negative_when_allowed(value: object, expected: float) -> None:
    assert parse_money(value, path="k", allow_negative=True) == expected


def test_negative_zero_reads_as_zero() -> None:
    assert math.copysign(1.0, parse_money(-0.0, path="k")) == 1.0
    assert math.copysign(1.0, parse_money("-0", path="k", allow_negative=True)) == 1.0


# ---------------------------------------------------------------------------------------
# parse_money: everything else is a ScenarioError that names the key and the problem

INVALID: list[tuple[object, dict[str, Any], list[str]]] = [
    (math.nan, {}, ["finite", "nan"]),
    (math.inf, {}, ["finite", "inf"]),
    (-math.inf, {"allow_negative": True}, ["finite"]),
    (10**400, {}, ["finite"]),
    (-5, {}, ["non-negative", "-5"]),
    (-0.5, {}, ["non-negative"]),
    ("-3B", {}, ["non-negative", "'-3B'"]),
    ("25B亿", {}, ["ambiguous", "'25B亿'", "two scales", "'B'", "'亿'"]),
    ("3MM亿", {}, ["two scales", "'MM'", "'亿'"]),
    ("2亿万", {}, ["two scales", "'亿'", "'万'"]),
    ("2.5 bn bn", {}, ["two scales"]),
    ("HK$51B", {}, ["no exchange rate for HKD", "[fx]", "USD per HKD", "'HK$51B'"]),
    ("HK$51B", {"fx": {"CNY": 0.14}}, ["no exchange rate for HKD", "[fx]"]),
    ("100M RMB", {"fx": {"HKD": 0.1282}}, ["no exchange rate for CNY", "[fx]"]),
    ("EUR 5M", {}, ["no exchange rate for EUR"]),
    ("abc", {}, ["expected a money amount", "70M", "25亿", "'abc'"]),
    ("", {}, ["expected a money amount", "''"]),
    ("   ", {}, ["expected a money amount"]),
    ("35%", {}, ["percentage", "'35%'"]),
    ("35 %", {}, ["percentage"]),
    (True, {}, ["expected a money amount", "got true"]),
    (False, {}, ["got false"]),
    (None, {}, ["expected a money amount", "None"]),
    ([1], {}, ["expected a money amount", "[1]"]),
    ({"value": 1}, {}, ["expected a money amount", "table"]),
    ("2.5.3", {}, ["expected a money amount", "'2.5.3'"]),
    ("1,,000", {}, ["'1,,000'"]),
    ("1,00,0", {}, ["'1,00,0'"]),
    ("1,00,000", {}, ["'1,00,000'"]),
    ("12,34", {}, ["'12,34'"]),
    ("1,000_000", {}, ["'1,000_000'"]),
    ("1__000", {}, ["'1__000'"]),
    ("_1000", {}, ["'_1000'"]),
    ("$HK$3", {"fx": FX}, ["two currencies", "'$'", "'HK$'"]),
    ("US$3B HKD", {"fx": FX}, ["two currencies", "'US$'", "'HKD'"]),
    ("¥10亿元", {"fx": FX}, ["two currencies"]),
    ("3 USD M", {}, ["scale", "before the currency"]),
    ("1e400", {}, ["too large", "'1e400'"]),
    ("1e99999999999999999999", {}, ["out of range"]),
    ("nan", {}, ["expected a money amount", "'nan'"]),
    ("NaN", {}, ["expected a money amount"]),
    ("inf", {}, ["expected a money amount", "'inf'"]),
    ("-inf", {"allow_negative": True}, ["expected a money amount"]),
    ("5.", {}, ["'5.'"]),
    (".5", {}, ["'.5'"]),
    ("+5M", {}, ["'+5M'"]),
    ("--5", {"allow_negative": True}, ["'--5'"]),
    ("- 5", {"allow_negative": True}, ["'- 5'"]),
    ("3 bananas", {}, ["'3 bananas'"]),
    ("3 billions", {}, ["'3 billions'"]),
    ("３", {}, ["expected a money amount"]),  # full-width digit
    ("1e400 HKD", {"fx": FX}, ["too large"]),
]


@pytest.mark.parametrize(("value", "kwargs", "fragments"), INVALID, ids=repr)
def test_parse_money_rejects(value: object, kwargs: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_money(value, path="segments.talkie.revenue", **kwargs)
    err = info.value
    assert err.path == "segments.talkie.revenue"
    for fragment in fragments:
        assert fragment in err.message
    assert str(err).startswith("segments.talkie.revenue: ")


@pytest.mark.parametrize("rate", [0, -0.1282, math.nan, math.inf, True, "0.1282", None])
def test_bad_fx_rate_is_reported_at_its_own_key(rate: object) -> None:
    with pytest.raises(ScenarioError, match="finite number > 0") as info:
        parse_money("HK$51B", path="valuation.net_cash", fx={"HKD": rate})  # type: ignore[dict-item]
    assert info.value.path == "fx.HKD"


def test_conflicting_cny_and_rmb_rates_are_rejected() -> None:
    with pytest.raises(ScenarioError, match="two different rates for CNY"):
        parse_money("3亿元", path="k", fx={"CNY": 0.14, "RMB": 0.13})


# ---------------------------------------------------------------------------------------
# Properties


@given(
    x=st.floats(min_value=0.0, max_value=1e16, allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(UNITS),
)
def test_money_string_round_trips_exactly(x: float, unit: str) -> None:
    text = money_string(x, unit)
    assert text.endswith(unit)
    # Exact, not merely close: the digits are repr(x)'s with the point moved.
    assert parse_money(text, path="") == x


@given(
    x=st.floats(allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(UNITS),
)
def test_money_string_round_trips_over_the_whole_float_range(x: float, unit: str) -> None:
    assert parse_money(money_string(x, unit), path="", allow_negative=True) == x


@given(
    number=st.decimals(min_value=0, max_value=10**7, places=4, allow_nan=False),
    unit=st.sampled_from(UNITS),
)
def test_scaled_amount_is_the_float_nearest_the_exact_decimal(number: Decimal, unit: str) -> None:
    # The oracle: exact decimal arithmetic, rounded to float once.
    expected = float(number * Decimal(10) ** POWERS[unit])
    assert parse_money(f"{number:f}{unit}", path="") == expected


@given(n=st.integers(min_value=0, max_value=10**15))
def test_digit_separators_read_as_the_plain_integer(n: int) -> None:
    assert parse_money(f"{n:,}", path="") == float(n)
    assert parse_money(f"{n:_}", path="") == float(n)


@given(x=st.floats())
def test_format_money_never_raises(x: float) -> None:
    assert "USD" in format_money(x)


# ---------------------------------------------------------------------------------------
# money_string, format_money, canonical_currency


@pytest.mark.parametrize(
    ("usd", "unit", "expected"),
    [
        (2.5e9, "bn", "2.5bn"),
        (2.5e9, "亿", "25亿"),
        (2.5e9, "万亿", "0.0025万亿"),
        (70e6, "万", "7000万"),
        (70e6, "M", "70M"),
        (1.2e12, "T", "1.2T"),
        (512.0, "", "512"),
        (950_000.0, "K", "950K"),
        (0.0, "K", "0K"),
        (-0.0, "M", "0M"),
        (-3e9, "bn", "-3bn"),
    ],
)
def test_money_string(usd: float, unit: str, expected: str) -> None:
    assert money_string(usd, unit) == expected


@pytest.mark.parametrize(("usd", "unit"), [(1.0, "B"), (1.0, "亿元"), (math.nan, "M")])
def test_money_string_rejects_programming_errors(usd: float, unit: str) -> None:
    with pytest.raises(ValueError):
        money_string(usd, unit)


@pytest.mark.parametrize(
    ("usd", "expected"),
    [
        (2.5e9, "USD 2.50 bn (25.0亿)"),
        (70e6, "USD 70.0 M (7000万)"),
        (30.52e6, "USD 30.5 M (3052万)"),
        (950_000.0, "USD 950 K (95.0万)"),
        (12_300.0, "USD 12.3 K (1.23万)"),
        (512.0, "USD 512"),
        (0.0, "USD 0"),
        (-2.5e9, "-USD 2.50 bn (-25.0亿)"),
        (-70e6, "-USD 70.0 M (-7000万)"),
        # the unit follows the rounded figure, never "1000.0 M"
        (999.96e6, "USD 1.00 bn (10.0亿)"),
        (999_600.0, "USD 1.0 M (100万)"),
        (math.nan, "USD nan"),
        (math.inf, "USD inf"),
        (-math.inf, "-USD inf"),
    ],
)
def test_format_money(usd: float, expected: str) -> None:
    assert format_money(usd) == expected


@pytest.mark.parametrize("usd", [-0.0, -1e-300, -3.3e-7, 4.8e-7, -0.0049, 0.0049])
def test_format_money_shows_float_noise_around_zero_as_zero(usd: float) -> None:
    # A path that loses all its revenue is worth 0 up to rounding (e.g. -3.3e-7), which
    # must not read as "-USD 0.00".
    assert format_money(usd) == "USD 0"


def test_format_money_keeps_cents() -> None:
    assert format_money(0.005) == "USD 0.01"
    assert format_money(-0.25) == "-USD 0.25"


@pytest.mark.parametrize(
    ("code", "iso"),
    [
        ("US$", "USD"),
        ("$", "USD"),
        ("USD", "USD"),
        ("美元", "USD"),
        ("HK$", "HKD"),
        ("HKD", "HKD"),
        ("港元", "HKD"),
        ("港币", "HKD"),
        ("RMB", "CNY"),
        ("CNY", "CNY"),
        ("¥", None),  # yen or yuan: the [fx] table decides (parse_money)
        ("€", "EUR"),
        ("£", "GBP"),
        ("人民币", "CNY"),
        ("元", "CNY"),
        ("EUR", "EUR"),
        ("JPY", "JPY"),
        ("SGD", "SGD"),
        ("usd", None),
        ("EURO", None),
        ("EU", None),
        ("", None),
        ("H$", None),
        ("ÉUR", None),
    ],
)
def test_canonical_currency(code: str, iso: str | None) -> None:
    assert canonical_currency(code) == iso


# ---------------------------------------------------------------------------------------
# parse_fraction


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("35%", {}, 0.35),
        ("12.5 %", {}, 0.125),
        (" 35% ", {}, 0.35),
        ("14.3%", {}, 0.143),  # 14.3 / 100 in floats would be 0.14300000000000002
        ("100%", {}, 1.0),
        ("0%", {}, 0.0),
        ("0.35", {}, 0.35),
        (0.35, {}, 0.35),
        (1, {}, 1.0),
        (0, {}, 0.0),
        ("-20%", {"lo": -1.0}, -0.2),
        ("150%", {"hi": 2.0}, 1.5),
        (2.5, {"hi": math.inf}, 2.5),
    ],
    ids=repr,
)
def test_parse_fraction(value: object, kwargs: dict[str, float], expected: float) -> None:
    assert parse_fraction(value, path="k", **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "kwargs", "fragment"),
    [
        (1.5, {}, "expected a value in [0, 1], got 1.5"),
        (-0.1, {}, "expected a value in [0, 1], got -0.1"),
        ("150%", {}, "expected a value in [0, 1], got '150%' (= 1.5)"),
        ("35", {}, "got '35' (= 35.0)"),
        (2.0, {"hi": 1.5}, "expected a value in [0, 1.5], got 2.0"),
        ("-20%", {}, "in [0, 1]"),
        (True, {}, "got true"),
        (None, {}, "expected a fraction"),
        ([0.3], {}, "expected a fraction"),
        ("abc", {}, "'abc'"),
        ("%", {}, "'%'"),
        ("35%%", {}, "'35%%'"),
        ("35 percent", {}, "'35 percent'"),
        ("", {}, "expected a fraction"),
        ("nan", {}, "'nan'"),
        (math.nan, {}, "finite"),
        (math.inf, {}, "finite"),
        ("1e999%", {"hi": math.inf}, "out of range"),
    ],
    ids=repr,
)
def test_parse_fraction_rejects(value: object, kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_fraction(value, path="shocks.removal.severity", **kwargs)
    assert info.value.path == "shocks.removal.severity"
    assert fragment in info.value.message


@pytest.mark.parametrize(
    ("text", "fx", "usd"),
    [
        ("€2.5bn", {"EUR": 1.08}, 2.5e9 * 1.08),
        ("2.5bn €", {"EUR": 1.08}, 2.5e9 * 1.08),
        ("£70M", {"GBP": 1.27}, 70e6 * 1.27),
        ("¥3亿", {"CNY": 0.1376}, 3e8 * 0.1376),
        ("¥3亿", {"RMB": 0.1376}, 3e8 * 0.1376),
        ("¥3亿", {"JPY": 0.0064}, 3e8 * 0.0064),
        ("￥500M", {"JPY": 0.0064, "HKD": 0.1282}, 500e6 * 0.0064),
    ],
)
def test_euro_pound_and_yen_or_yuan_marks(text: str, fx: dict[str, float], usd: float) -> None:
    assert parse_money(text, path="x", fx=fx) == pytest.approx(usd, rel=1e-15)


@pytest.mark.parametrize(
    ("fx", "words"),
    [({"CNY": 0.1376, "JPY": 0.0064}, "rates for both"), ({"HKD": 0.1282}, "a rate for neither")],
)
def test_yen_mark_with_both_rates_or_none_asks_for_the_code(
    fx: dict[str, float], words: str
) -> None:
    with pytest.raises(ScenarioError, match=words) as err:
        parse_money("¥3亿", path="valuation.net_cash", fx=fx)
    assert err.value.path == "valuation.net_cash"
    assert "write the code (JPY or CNY)" in str(err.value)


def test_euro_needs_its_rate() -> None:
    with pytest.raises(ScenarioError, match="no exchange rate for EUR"):
        parse_money("€1bn", path="x", fx={"HKD": 0.1282})
