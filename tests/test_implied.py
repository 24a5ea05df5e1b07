"""The implied target margin at each price of the pricing grid (issue 10, sim/model/implied.py)."""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim import format as fmt
from sim.analysis.summary import summarise
from sim.model.core import evaluate
from sim.model.implied import BRACKET, dcf_inputs, implied_target_margins, median_draws
from sim.model.offering import grid_prices, proceeds_per_price, shares_after
from sim.report.pricing import implied_sentence
from sim.run.engine import simulate
from sim.scenario import Scenario, build_scenario, load_scenario
from sim.valuation.dcf import FAILURE_DRAW

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

# dcf_small's company is worth HK$0.4-38 a share by DCF for target margins of -100%..100%
# (its own range, HK$151-165, is out of reach): a range inside that, a grid (HK$2-60, in
# the range's HK$2 steps) across its top. (HK$4 at -100% before a failed path stopped
# gaining from a negative going concern, issue 21.)
SIMPLE = {
    "shares_outstanding": 313_635_308,
    "price_range": ["HK$8", "HK$10"],
    "price_grid": ["HK$1", "HK$60"],
}
DEAL = {
    "shares_before": 290_000_000,
    "new_shares": 20_000_000,
    "upsize_option": 0.15,
    "over_allotment": 0.15,
    "fees": 0.03,
    "price_range": ["HK$8", "HK$10"],
    "price_grid": ["HK$1", "HK$60"],
}


def _small(offering: dict[str, Any]) -> Scenario:
    raw = tomllib.loads((DATA / "dcf_small.toml").read_text(encoding="utf-8"))
    raw["offering"] = offering
    return build_scenario(raw, source=None, own_name="dcf_small")


def _fair_per_share(
    sc: Scenario, margins: np.ndarray[Any, Any], prices: np.ndarray[Any, Any]
) -> Any:
    """The fair value per share at each price by the engine's own model (sim.model.core.evaluate),
    at the medians with each target margin, failure mixed over its two branches."""
    dcf = dcf_inputs(sc)
    offering = sc.offering
    assert dcf is not None and offering is not None
    draws = median_draws(sc, margins.size)
    draws["valuation.target_margin"] = margins.astype(np.float64)
    p = float(draws["valuation.failure_probability"][0])
    d = float(draws["valuation.distress_proceeds"][0])
    cash = draws["valuation.net_cash"] + draws["valuation.ipo_proceeds"]
    going = evaluate(sc, draws).pre_offer
    draws[FAILURE_DRAW] = np.zeros(margins.size)  # every path fails: 0 < p
    failed = evaluate(sc, draws).pre_offer
    assert going is not None and failed is not None
    ev = going - cash  # a failed path keeps d x a positive EV; a negative one stays
    np.testing.assert_allclose(failed - cash, np.where(ev > 0, d * ev, ev), rtol=1e-12)
    pre_offer = (1 - p) * going + p * failed
    return (pre_offer + proceeds_per_price(offering) * prices) / shares_after(offering)


@pytest.mark.parametrize("offering", [SIMPLE, DEAL], ids=["simple", "deal"])
def test_the_implied_margin_reproduces_the_price(offering: dict[str, Any]) -> None:
    sc = _small(offering)
    assert sc.offering is not None
    prices = np.array(grid_prices(sc.offering))
    implied = implied_target_margins(sc, tuple(prices))
    reached = np.array([m is not None for m in implied])
    assert reached.sum() >= 5  # the range and its neighbours
    margins = np.array([m for m in implied if m is not None])
    fair = _fair_per_share(sc, margins, prices[reached])
    np.testing.assert_allclose(fair, prices[reached], rtol=1e-9)


def test_the_implied_margin_rises_with_price_and_is_none_out_of_reach() -> None:
    sc = _small(SIMPLE)
    assert sc.offering is not None
    prices = grid_prices(sc.offering)
    implied = implied_target_margins(sc, prices)
    # The grid's top, HK$60, is above the value at 100%; its bottom, HK$2, above the
    # value at -100% (HK$0.4).
    assert implied[-1] is None and implied[0] is not None
    inside = [m for m in implied if m is not None]
    assert all(BRACKET[0] < m < BRACKET[1] for m in inside)
    assert inside == sorted(inside) and len(set(inside)) == len(inside)
    # Reachable prices form one run: None only at the grid's ends.
    first = implied.index(inside[0])
    assert all(m is not None for m in implied[first : first + len(inside)])
    # The bracket's ends themselves are values the search can return.
    at_ends = _fair_per_share(sc, np.array(BRACKET), np.zeros(2))
    for p, m in zip(prices, implied, strict=True):
        assert (m is not None) == (at_ends[0] <= p <= at_ends[1])


def test_the_shipped_range_is_out_of_reach_for_the_small_company() -> None:
    sc = load_scenario(DATA / "dcf_small.toml")
    assert sc.offering is not None
    assert set(implied_target_margins(sc, grid_prices(sc.offering))) == {None}


def test_summary_json_csv_and_the_page_sentence_carry_the_implied_margin() -> None:
    sc = _small(SIMPLE)
    s = summarise(simulate(sc, 400, seed=3))
    data = s.to_dict()["pricing"]
    assert all("implied_target_margin" in p for p in data)
    assert [p["implied_target_margin"] for p in data] == [
        p.implied_target_margin for p in s.pricing
    ]
    assert data[-1]["implied_target_margin"] is None  # HK$60: out of reach
    rows = [r for r in csv.DictReader(io.StringIO(s.to_csv())) if r["kind"] == "pricing"]
    assert rows[-1]["implied_target_margin"] == ""
    low, high = (p for p in s.pricing if p.in_range)
    assert low.implied_target_margin is not None and high.implied_target_margin is not None
    assert [float(r["implied_target_margin"]) for r in rows if r["implied_target_margin"]] == [
        p.implied_target_margin for p in s.pricing if p.implied_target_margin is not None
    ]
    sentence = implied_sentence(s.pricing)
    assert sentence is not None
    assert sentence.startswith(
        f"To justify HK$10 a share you must believe a {fmt.margin(high.implied_target_margin)} "
        "target margin (HK$8: "
    )


def test_a_multiple_scenario_has_no_implied_margin() -> None:
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml")
    assert dcf_inputs(sc) is None
    s = summarise(simulate(sc, 200, seed=1))
    assert s.pricing and all("implied_target_margin" not in p for p in s.to_dict()["pricing"])
    assert implied_sentence(s.pricing) is None
    assert implied_target_margins(sc, (1.0, 2.0)) == ()
