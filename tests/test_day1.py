"""Day one starts from the offer price (DESIGN 3.5, docs/scenarios.md "[aftermarket]"):
the first-day rule, the options each path exercises, and Hong Kong's downward adjustment."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim import simulate, summarise
from sim.errors import ScenarioError
from sim.model.offering import offer_price
from sim.scenario import load_scenario
from sim.scenario.market import DAY1_NOISE_DEFAULT
from tests.builders import raw_scenario, scenario

BEFORE, NEW, UPSIZE, SHOE, FEES = 1_000, 200, 0.15, 0.15, 0.04
LO, HI = 2.0, 2.4
SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _deal(**keys: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "shares_before": BEFORE,
        "new_shares": NEW,
        "upsize_option": UPSIZE,
        "over_allotment": SHOE,
        "fees": FEES,
        "price_range": [LO, HI],
        "ipo_discount": {"dist": "uniform", "min": 0.0, "max": 0.2},
    }
    return table | keys


def _market(aftermarket: dict[str, Any], **offering: Any) -> Any:
    """Revenue 100 x 1.5^2 = 225 in 2026 at a multiple whose spread puts fair value per
    share on both sides of the range (about 1.1 to 4.6 at its 5th and 95th percentiles)."""
    return scenario(
        valuation={"year": 2026, "multiple": {"dist": "lognormal", "p50": 10, "p90": 20}},
        offering=_deal(**offering),
        aftermarket={"volatility": 0.5, "days": 20} | aftermarket,
    )


def _values(sc: Any, n: int = 40_000, seed: int = 8) -> Any:
    run = simulate(sc, n, seed=seed)
    assert run.kept.n == n  # every path kept: per-path identities over the whole run
    return run


def test_no_noise_first_day_is_the_partial_adjustment_on_every_path() -> None:
    lam = 0.4
    run = _values(_market({"adjustment": lam, "day1_noise": 0.0}))
    v = run.kept.values
    gap = np.log(v.value_per_share / v.offer_price_usd)
    r = np.log1p(v.first_day_return)
    np.testing.assert_allclose(r, lam * gap, rtol=1e-12, atol=1e-14)
    # The median of a monotone map is the map of the median: exactly, on the same paths.
    assert float(np.median(r)) == pytest.approx(lam * float(np.median(gap)), rel=1e-12)
    # Both sides of the offer occur, so the test says something about each.
    assert 0.05 < float(np.mean(gap < 0)) < 0.95
    # The summary's median (every path kept: the exact sample quantile) says the same.
    fdr = summarise(run).first_day_return
    assert fdr is not None
    assert fdr.quantiles.median == pytest.approx(math.expm1(lam * float(np.median(gap))), rel=1e-9)


def test_zero_adjustment_trades_at_offer_times_the_noise() -> None:
    run = _values(
        _market({"adjustment": 0.0, "day1_noise": {"dist": "normal", "mean": 0.05, "sd": 0.3}})
    )
    v = run.kept.values
    noise = run.kept.inputs["aftermarket.day1_noise"]
    day1_price = v.market_value_day1 / v.shares_after
    np.testing.assert_allclose(day1_price, v.offer_price_usd * np.exp(noise), rtol=1e-12)


def test_greenshoe_never_exercised_below_issue_and_exactly_by_its_rule() -> None:
    lam = 0.6
    sc = _market({"adjustment": lam, "day1_noise": {"dist": "normal", "mean": 0.0, "sd": 0.2}})
    run = _values(sc)
    v = run.kept.values
    shoe = v.greenshoe.astype(bool)
    assert not np.any(shoe & (v.first_day_return < 0))
    assert 0.05 < shoe.mean() < 0.95
    # Not exercised: the day-1 close with the greenshoe exercised would be below issue.
    sold_with = NEW * (1 + UPSIZE * v.upsized) * (1 + SHOE)
    fair_with = (v.pre_offer + v.offer_price_usd * sold_with * (1 - FEES)) / (BEFORE + sold_with)
    noise = run.kept.inputs["aftermarket.day1_noise"]
    r_with = lam * np.log(fair_with / v.offer_price_usd) + noise
    assert np.array_equal(shoe, r_with >= 0)
    # The summary's share is the paths' share, exactly (every path kept).
    offer = summarise(run).offer_price
    assert offer is not None and offer.p_greenshoe == pytest.approx(shoe.mean(), abs=1e-12)


def test_shares_and_proceeds_agree_on_every_path() -> None:
    run = _values(_market({"adjustment": 0.5}))
    v = run.kept.values
    sold = NEW * (1 + UPSIZE * v.upsized) * (1 + SHOE * v.greenshoe)
    np.testing.assert_allclose(v.shares_after, BEFORE + sold, rtol=1e-15)
    np.testing.assert_allclose(
        v.equity, v.pre_offer + v.offer_price_usd * sold * (1 - FEES), rtol=1e-12
    )
    np.testing.assert_allclose(v.value_per_share, v.equity / v.shares_after, rtol=1e-15)
    np.testing.assert_allclose(
        v.market_value_offer, v.offer_price_usd * v.shares_after, rtol=1e-15
    )
    day1_price = v.offer_price_usd * (1 + v.first_day_return)
    np.testing.assert_allclose(v.market_value_day1, day1_price * v.shares_after, rtol=1e-12)


def test_upsize_exercised_where_the_book_covers_it_at_the_high() -> None:
    sc = _market({"adjustment": 0.5})
    run = _values(sc)
    v = run.kept.values
    up = v.upsized.astype(bool)
    assert 0.05 < up.mean() < 0.95
    assert np.all(v.offer_price_usd[up] == HI)
    discount = run.kept.inputs["offering.ipo_discount"]
    c = 1 - discount
    sold_up = NEW * (1 + UPSIZE) * (1 + SHOE)
    p_star_up = c * v.pre_offer / (BEFORE + sold_up - c * sold_up * (1 - FEES))
    assert np.array_equal(up, p_star_up >= HI)
    assert sc.offering is not None
    base = offer_price(sc.offering, v.pre_offer[~up], discount[~up], upsize=False)
    np.testing.assert_array_equal(v.offer_price_usd[~up], base)
    offer = summarise(run).offer_price
    assert offer is not None and offer.p_upsized == pytest.approx(up.mean(), abs=1e-12)


@pytest.mark.parametrize("down", [0.0, 0.05, 0.10])
def test_downward_adjustment_prices_a_cold_book_below_the_range(down: float) -> None:
    run = _values(_market({"adjustment": 0.5}, downward_adjustment=down))
    price = run.kept.values.offer_price_usd
    floor = LO * (1 - down)
    assert price.min() >= floor
    below = float(np.mean(price < LO))
    if down == 0:
        assert below == 0.0 and price.min() == LO
    else:
        assert below > 0.05 and price.min() == pytest.approx(floor, rel=1e-15)
    offer = summarise(run).offer_price
    assert offer is not None and offer.p_below_range == pytest.approx(below, abs=1e-12)
    assert offer.p_at_low == pytest.approx(float(np.mean(price <= LO)), abs=1e-12)


def test_default_noise_is_the_main_boards_mean_first_day() -> None:
    """normal(m, s) has mean first-day return exp(m + s^2/2) - 1: 7.7% (Ritter, HK Main
    Board 2009-2017), to the three decimals the constants are written with."""
    m, s = float(DAY1_NOISE_DEFAULT["mean"]), float(DAY1_NOISE_DEFAULT["sd"])  # type: ignore[arg-type]
    assert math.expm1(m + s * s / 2) == pytest.approx(0.077, abs=5e-4)
    am = _market({"adjustment": 0.5}).aftermarket
    assert am is not None and am.day1_noise.to_dict() == {"dist": "normal", "mean": m, "sd": s}


@pytest.mark.parametrize(
    ("table", "key", "value", "match"),
    [
        ("aftermarket", "adjustment", 1.2, r"adjustment towards fair value must lie in \[0, 1\]"),
        ("aftermarket", "adjustment", -0.1, r"must lie in \[0, 1\]"),
        (
            "aftermarket",
            "adjustment",
            {"dist": "normal", "mean": 0.5, "sd": 0.1},
            r"must lie in \[0, 1\]",
        ),
        ("aftermarket", "day1_sentiment", 0.6, "day1_sentiment .* is retired"),
        ("offering", "downward_adjustment", 0.15, r"in \[0, 0.1\] .*HKEX-GL90-18"),
        ("offering", "downward_adjustment", -0.01, r"in \[0, 0.1\]"),
    ],
)
def test_bad_values_are_refused(table: str, key: str, value: Any, match: str) -> None:
    raw = raw_scenario(
        offering=_deal(), aftermarket={"adjustment": 0.5, "volatility": 0.5, "days": 20}
    )
    raw[table][key] = value
    with pytest.raises(ScenarioError, match=match) as err:
        from sim.scenario import build_scenario

        build_scenario(raw, source=None, own_name="t")
    assert err.value.path == f"{table}.{key}"


def test_a_regime_setting_the_retired_key_is_told_what_replaced_it() -> None:
    from sim.scenario import build_scenario

    raw = raw_scenario(
        offering=_deal(),
        aftermarket={"adjustment": 0.5, "volatility": 0.5, "days": 20},
        regimes=[
            {"name": "hot", "weight": 0.5, "aftermarket": {"day1_sentiment": 0.6}},
            {"name": "cold", "weight": 0.5},
        ],
    )
    with pytest.raises(ScenarioError, match="is retired") as err:
        build_scenario(raw, source=None, own_name="t")
    assert err.value.path == "regimes.hot.aftermarket.day1_sentiment"


@pytest.mark.parametrize("name", ["baseline", "bull", "bear"])
def test_shipped_scenarios_state_the_new_day1_keys(name: str) -> None:
    """The retired key is gone from every shipped file (they load), and the baseline's
    hot regime enters day 1 only through its multiple: no regime sets a noise."""
    sc = load_scenario(SCENARIOS / f"{name}.toml")
    assert sc.aftermarket is not None and sc.offering is not None
    assert sc.offering.downward_adjustment == 0.10
    for regime in sc.regimes:
        assert "aftermarket.day1_noise" not in regime.overrides
