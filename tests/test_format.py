"""sim.format: one way to write each kind of number, for every output."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import format as fmt


@pytest.mark.parametrize(
    ("usd", "full", "short"),
    [
        (2.5e9, "USD 2.50 bn", "2.5 bn"),
        (70e6, "USD 70.0 M", "70 M"),
        (-0.0, "USD 0", "0"),
        (-3e-7, "USD 0", "0"),
        (-40_000.0, "-USD 40.0 K", "-40 K"),
        (-70e6, "-USD 70.0 M", "-70 M"),
        (-2.5e9, "-USD 2.50 bn", "-2.5 bn"),
        (999.96e6, "USD 1.00 bn", "1 bn"),
    ],
)
def test_money(usd: float, full: str, short: str) -> None:
    # The terminal printed "USD 2.50 bn", the report "2.5 bn" and "USD 2.5 bn": now the
    # full form is one, and the short one (ticks, cells under a USD heading) its digits.
    assert fmt.money(usd) == full
    assert fmt.money(usd, short=True) == short


def test_money_reading() -> None:
    assert fmt.money(2.5e9, reading=True) == "USD 2.50 bn (25.0亿)"
    assert fmt.money(0.0, reading=True) == "USD 0"
    assert fmt.money(512.0, reading=True) == "USD 512"
    assert fmt.yi(2.5e9) == "25亿" and fmt.yi(-70e6) == "-7000万"


@given(st.floats(min_value=-1e17, max_value=1e17))
def test_both_forms_read_the_same_amount(usd: float) -> None:
    scale = {"bn": 1e9, "M": 1e6, "K": 1e3}
    for text in (fmt.money(usd).replace("USD ", ""), fmt.money(usd, short=True)):
        number, _, unit = text.partition(" ")
        value = float(number.replace(",", "")) * scale.get(unit, 1.0)
        assert math.isclose(value, usd, rel_tol=5e-3, abs_tol=5e-3)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.963, "96.3%"),
        (0.9632, "96.3%"),
        (0.0011, "0.11%"),
        (0.00005, "0.0050%"),
        (0.99925, "99.925%"),
        (0.0, "0%"),
        (1.0, "100%"),
        (math.nan, "n/a"),
    ],
)
def test_pct(p: float, expected: str) -> None:
    assert fmt.pct(p) == expected


def test_intervals_and_differences() -> None:
    assert fmt.interval(0.9608, 0.9657) == "[96.1%, 96.6%]"
    assert fmt.probability(0.9632, (0.9608, 0.9657)) == "96.3% [96.1%, 96.6%]"
    assert fmt.points(0.024) == "+2.4 pp"
    assert fmt.points(-0.024) == "−2.4 pp"
    assert fmt.points(0.0) == "0 pp"
    assert fmt.difference(0.024, (0.021, 0.027)) == "+2.4 pp [+2.1, +2.7]"
    assert fmt.signed(-0.456) == "−0.46"


def test_parameters_write_amounts_as_money() -> None:
    d = {"dist": "lognormal", "median": 7e7, "sigma": 0.3}
    assert fmt.parameters(d, money_values=True) == "lognormal(median=USD 70.0 M, sigma=0.3)"
    assert fmt.parameters({"dist": "fixed", "value": 2.5e9}, money_values=True) == (
        "USD 2.50 bn (25.0亿)"
    )


@pytest.mark.parametrize(
    ("label", "at", "shown"),
    [
        # The shipped baseline's label names its point in time: not said twice.
        ("peak within six months: 25 bn USD (brief)", "peak", None),
        ("brief: 25 bn USD", "peak", "brief: 25 bn USD (at peak)"),
        ("brief: 25 bn USD", "fair", None),
        ("Day-1 pop: 5 bn", "day1", None),
        ("first day: 5 bn", "day1", None),
        ("5 bn", "day1", "5 bn (at day 1)"),
        ("end of the window: 5 bn", "end", None),
        # "trend" is not the word "end", nor "offering" the word "offer".
        ("trend: 5 bn", "end", "trend: 5 bn (at end)"),
        ("offering: 5 bn", "offer", "offering: 5 bn (at offer)"),
        ("at the offer: 5 bn", "offer", None),
    ],
)
def test_target_label_says_the_point_in_time_once(label: str, at: str, shown: str | None) -> None:
    assert fmt.target_label(label, at) == (label if shown is None else shown)
