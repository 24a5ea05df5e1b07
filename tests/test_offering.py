"""The deal (DESIGN.md 3.2): pricing grid, offer price, and the two forms of [offering]."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, stats

from sim import metrics
from sim.analysis.summary import summarise
from sim.distributions import parse_distribution
from sim.errors import ScenarioError
from sim.model.offering import (
    break_even_shares,
    grid_prices,
    offer_price,
    proceeds_per_price,
    shares_after,
    shares_sold,
)
from sim.run.engine import simulate
from sim.scenario import Deal, Offering, load_scenario
from tests.builders import scenario

DEAL = Path(__file__).parent / "data" / "deal.toml"
Z90 = float(stats.norm.ppf(0.9))


def _deal_offering(**keys: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "shares_before": 100,
        "new_shares": 20,
        "upsize_option": 0.15,
        "over_allotment": 0.1,
        "fees": 0.04,
        "price_range": [15.0, 25.0],
    }
    return table | keys


# --------------------------------------------------------------------------- arithmetic


def test_deal_arithmetic() -> None:
    sc = scenario(offering=_deal_offering())
    o = sc.offering
    assert o is not None and o.deal == Deal(100, 20, 0.15, 0.1, 0.04)
    sold = 20 * 1.15 * 1.1
    assert shares_sold(o.deal) == pytest.approx(sold)
    assert shares_after(o) == pytest.approx(100 + sold)
    assert proceeds_per_price(o) == pytest.approx(sold * 0.96)
    assert break_even_shares(o) == pytest.approx(100 + sold * 0.04)


def test_grid_spans_the_default_and_holds_the_range_exactly() -> None:
    sc = scenario(offering=_deal_offering())
    assert sc.offering is not None
    prices = grid_prices(sc.offering)
    assert 15.0 in prices and 25.0 in prices
    assert list(prices) == sorted(prices)
    assert prices[0] >= 0.7 * 15 - 1e-9 and prices[-1] <= 1.5 * 25 + 1e-9
    assert len(prices) >= 8
    steps = np.diff(prices)
    assert steps == pytest.approx(np.full(steps.size, steps[0]))


def test_grid_in_the_offer_currency() -> None:
    fx = {"HKD": 0.125}
    sc = scenario(
        fx=fx,
        offering=_deal_offering(price_range=["HK$151", "HK$165"], price_grid=["HK$100", "HK$200"]),
    )
    o = sc.offering
    assert o is not None
    assert (o.currency, o.usd_per_unit, o.price_range_text) == ("HKD", 0.125, ("HK$151", "HK$165"))
    assert o.price_grid_usd == (12.5, 25.0)
    run = simulate(sc, 2000, seed=3)
    grid = summarise(run).pricing
    assert {p.currency for p in grid} == {"HKD"}
    in_range = [p.price for p in grid if p.in_range]
    assert (in_range[0], in_range[-1]) == pytest.approx((151.0, 165.0))
    assert all(151 <= p <= 165 for p in in_range)
    for p in grid:
        assert p.price_usd == pytest.approx(p.price * 0.125)


# --------------------------------------------------------------------------- closed form


@pytest.mark.parametrize(("fees", "upsize", "greenshoe"), [(0.0, 0.0, 0.0), (0.05, 0.15, 0.15)])
def test_p_fair_at_least_price_matches_the_closed_form(
    fees: float, upsize: float, greenshoe: float
) -> None:
    """With EV lognormal and a fixed deal, P(fair per share at P >= P) is
    P(EV >= P (shares_before + shares sold x fees) - net cash) at every grid price."""
    revenue, p50, p90, cash = 100.0, 20.0, 40.0, 300.0
    sc = scenario(
        segments=[{"name": "a", "revenue": revenue, "growth": 0.0, "regions": {"X": 1.0}}],
        valuation={
            "year": 2026,
            "multiple": {"dist": "lognormal", "p50": p50, "p90": p90},
            "net_cash": cash,
        },
        offering=_deal_offering(fees=fees, upsize_option=upsize, over_allotment=greenshoe),
    )
    n = 200_000
    run = simulate(sc, n, seed=20250901)
    grid = summarise(run).pricing
    assert len(grid) >= 8
    mu, sigma = math.log(revenue * p50), math.log(p90 / p50) / Z90
    sold = 20 * (1 + upsize) * (1 + greenshoe)
    for p in grid:
        need = p.price_usd * (100 + sold * fees) - cash
        exact = float(stats.norm.sf((math.log(need) - mu) / sigma)) if need > 0 else 1.0
        se = math.sqrt(exact * (1 - exact) / n)
        assert abs(p.p_fair_at_least - exact) <= 4 * se + 1e-12, (p.price_usd, exact)


# --------------------------------------------------------------------------- the offer price


def _offering(lo: float, hi: float, deal: Deal | None, shares: int | None = None) -> Offering:
    return Offering(
        price_range_usd=(lo, hi),
        price_range_text=(str(lo), str(hi)),
        currency="USD",
        usd_per_unit=1.0,
        price_grid_usd=(0.7 * lo, 1.5 * hi),
        ipo_discount=parse_distribution(0.0, path="offering.ipo_discount"),
        shares_outstanding=shares,
        deal=deal,
    )


@given(
    before=st.integers(1, 10**9),
    new=st.integers(1, 10**9),
    upsize=st.floats(0, 0.99),
    greenshoe=st.floats(0, 0.99),
    fees=st.floats(0, 0.99),
    discount=st.floats(0, 0.99),
    lo=st.floats(0.01, 1000),
    width=st.floats(0, 1000),
    pre_offer_per_share=st.floats(-2000, 5000),
    down=st.floats(0, 0.1),
)
def test_offer_price_is_the_fixed_point_a_root_find_finds(
    before: int,
    new: int,
    upsize: float,
    greenshoe: float,
    fees: float,
    discount: float,
    lo: float,
    width: float,
    pre_offer_per_share: float,
    down: float,
) -> None:
    hi = lo + width
    o = dataclasses.replace(
        _offering(lo, hi, Deal(before, new, upsize, greenshoe, fees)), downward_adjustment=down
    )
    floor = lo * (1 - down)
    e0 = pre_offer_per_share * before
    n, a = shares_after(o), proceeds_per_price(o)

    def gap(p: float) -> float:
        return p - min(max((e0 + a * p) / n * (1 - discount), floor), hi)

    expected = optimize.brentq(gap, floor - 1.0, hi + 1.0, xtol=1e-12, rtol=1e-14)
    got = float(offer_price(o, np.array([e0]), np.array([discount]))[0])
    assert floor <= got <= hi
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # A fixed point of the clipped map, to rounding.
    assert abs(gap(got)) <= 1e-9 * max(1.0, got)


def test_offer_price_simple_form_is_the_clipped_discounted_value() -> None:
    o = _offering(10.0, 20.0, None, shares=100)
    e0 = np.array([500.0, 1500.0, 3000.0])
    got = offer_price(o, e0, np.array([0.1, 0.1, 0.1]))
    assert got.tolist() == pytest.approx([10.0, 13.5, 20.0])


# --------------------------------------------------------------------------- the two forms


def test_old_and_new_forms_agree_where_they_describe_the_same_deal() -> None:
    """The simple form fixes the proceeds; the deal form's follow from the price. With a
    one-price range P0 and no fees, the deal's proceeds are P0 x new shares: the same deal
    as shares_outstanding = shares_before + new_shares with ipo_proceeds = P0 x new_shares."""
    before, new, p0 = 100, 25, 18.0
    common: dict[str, Any] = {
        "targets": [
            {"label": "fair", "value": 2500.0},
            {"label": "offer", "value": 2000.0, "at": "offer"},
        ],
    }
    mult = {"dist": "lognormal", "p50": 20, "p90": 40}
    deal = scenario(
        valuation={"year": 2026, "multiple": mult, "net_cash": 300.0},
        offering={
            "shares_before": before,
            "new_shares": new,
            "price_range": [p0, p0],
            "ipo_discount": 0.1,
        },
        **common,
    )
    simple = scenario(
        valuation={
            "year": 2026,
            "multiple": mult,
            "net_cash": 300.0,
            "ipo_proceeds": p0 * new,
        },
        offering={
            "shares_outstanding": before + new,
            "price_range": [p0, p0],
            "ipo_discount": 0.1,
        },
        **common,
    )
    runs = [summarise(simulate(s, 30_000, seed=11)) for s in (deal, simple)]
    a, b = (r.to_dict() for r in runs)
    assert a["valuation"]["quantiles"] == pytest.approx(b["valuation"]["quantiles"], rel=1e-12)
    assert a["value_per_share"]["quantiles"] == pytest.approx(
        b["value_per_share"]["quantiles"], rel=1e-12
    )
    for at in ("fair", "offer"):
        assert a["market_value"][at]["quantiles"] == pytest.approx(
            b["market_value"][at]["quantiles"], rel=1e-12
        )
    assert [t["p_at_least"] for t in a["targets"]] == [t["p_at_least"] for t in b["targets"]]
    assert [t["at"] for t in a["targets"]] == ["fair", "offer"]
    # The grid agrees at the price where the proceeds agree.
    at_p0 = [next(p for p in r.pricing if p.price_usd == p0) for r in runs]
    assert at_p0[0].p_fair_at_least == at_p0[1].p_fair_at_least
    assert at_p0[0].market_value_usd == pytest.approx(at_p0[1].market_value_usd)
    assert at_p0[0].implied_ev_usd == pytest.approx(at_p0[1].implied_ev_usd)


# --------------------------------------------------------------------------- end to end


def test_deal_scenario_end_to_end() -> None:
    sc = load_scenario(DEAL)
    assert "offering.ipo_discount" in sc.scalar_inputs()
    run = simulate(sc, 20_000, seed=5)
    kept = run.kept.values
    o = sc.offering
    assert o is not None and kept.offer_price_usd is not None and kept.pre_offer is not None
    lo, hi = o.price_range_usd
    assert ((kept.offer_price_usd >= lo) & (kept.offer_price_usd <= hi)).all()
    # Equity at the offer is the equity before it plus the net proceeds at the offer price,
    # on the shares the path sells (no [aftermarket]: the greenshoe as allotted).
    assert kept.shares_after is not None and kept.upsized is not None and o.deal is not None
    sold = kept.shares_after - o.deal.shares_before
    np.testing.assert_allclose(sold, 25_389_220 * (1 + 0.15 * kept.upsized) * 1.15, rtol=1e-12)
    np.testing.assert_allclose(
        kept.equity, kept.pre_offer + sold * (1 - o.deal.fees) * kept.offer_price_usd, rtol=1e-12
    )
    s = summarise(run)
    data = s.to_dict()
    assert set(data["market_value"]) == {"fair", "offer"}
    assert data["market_value"]["fair"]["quantiles"] == data["valuation"]["quantiles"]
    assert {"price", "currency", "market_value_usd", "implied_ev_to_sales", "p_fair_at_least"} <= (
        set(data["pricing"][0])
    )
    probs = [p.p_fair_at_least for p in s.pricing]
    assert probs == sorted(probs, reverse=True)  # fair >= P gets rarer as P rises
    offer = s.offer_price
    assert offer is not None and 0 < offer.p_at_low < 1 and 0 < offer.p_at_high < 1
    # The kept paths are all the paths here: the counts are exact.
    assert offer.p_at_low == pytest.approx(float(np.mean(kept.offer_price_usd == lo)), abs=1e-12)
    assert offer.p_below_range == 0.0 and offer.p_greenshoe == 1.0
    assert offer.p_upsized == pytest.approx(float(np.mean(kept.upsized)), abs=1e-12)
    assert offer.p_at_high == pytest.approx(float(np.mean(kept.offer_price_usd == hi)), abs=1e-12)
    assert 151 <= offer.quantiles.median <= 165
    # The offer target counts market value at the offer.
    offer_target = next(t for t in s.targets if t.at == "offer")
    mv = metrics.per_path(sc, kept, "market_value.offer")
    assert mv is not None
    assert offer_target.p_at_least == float(np.mean(mv >= offer_target.value_usd))
    assert [e.status for e in s.expectations] == ["passed"]
    rows = list(csv.DictReader(io.StringIO(s.to_csv())))
    assert [r["kind"] for r in rows] == ["target"] * 2 + ["pricing"] * len(s.pricing)
    assert [r["at"] for r in rows[:2]] == ["fair", "offer"]


def test_the_convergence_counts_follow_each_targets_value() -> None:
    sc = load_scenario(DEAL)
    run = simulate(sc, 9000, seed=2)
    s = summarise(run)
    final = run.target_counts[-1] / run.paths
    assert final.tolist() == [t.p_at_least for t in s.targets]


def test_market_value_fair_is_the_valuation_stream() -> None:
    sc = load_scenario(DEAL)
    assert metrics.stream_name("market_value.fair") == "valuation"
    assert "market_value.fair" not in metrics.thresholds(sc)
    with pytest.raises(ScenarioError, match="needs an \\[offering\\]"):
        scenario(expect=[{"metric": "market_value.offer", "stat": "mean", "at_least": 0}])


def test_report_renders_the_deal_form(tmp_path: Path) -> None:
    """The report's offering lines once read ``shares_outstanding``, which the deal lacks."""
    from sim.report import render

    sc = load_scenario(DEAL)
    run = simulate(sc, 3000, seed=4)
    written = render(run, summarise(run), tmp_path, formats=["png"])
    assert tmp_path / "pricing.png" in written
