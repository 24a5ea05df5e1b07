"""The summary: its typed fields, and the shock impact the shock page prints."""

from __future__ import annotations

import numpy as np
import pytest

from sim import simulate, summarise
from sim.analysis.summary import paired_loss
from sim.serial import serialise
from sim.stats import wilson_interval
from tests.builders import scenario

_WIPE = {
    "name": "wipe",
    "regions": ["X"],
    "annual_probability": 0.3,
    "severity": {"dist": "uniform", "min": 0.2, "max": 0.8},
    "recovery_years": "permanent",
}


def test_shock_impact_counts_every_path_and_pairs_the_kept_ones() -> None:
    sc = scenario(
        shocks=[_WIPE],
        valuation={"year": 2026, "multiple": {"dist": "uniform", "min": 5, "max": 15}},
        targets=[{"label": "low", "value": 1000.0}, {"label": "high", "value": 2500.0}],
    )
    result = simulate(sc, 5_000, seed=11)
    kept = result.kept
    assert kept.n == result.paths  # every path kept: the arrays below are the whole run
    impact = summarise(result).shock_impact
    assert impact is not None

    hit = kept.values.shock_any.any(axis=1)
    loss = 1 - kept.values.equity[hit] / kept.values.equity_unshocked[hit]
    assert loss.size > 100
    np.testing.assert_array_equal(paired_loss(kept), loss)
    assert impact.median_loss == float(np.median(loss))
    assert impact.kept_paths_with_loss == loss.size
    cut = 1 - kept.values.equity.mean() / kept.values.equity_unshocked.mean()
    assert impact.mean_value_cut == float(cut) > 0

    off = impact.targets_shocks_off
    assert off is not None
    assert [t.label for t in off] == ["low", "high"]
    for t in off:
        count = int((kept.values.equity_unshocked >= t.value_usd).sum())
        assert t.p_at_least == count / result.paths
        assert t.ci95 == wilson_interval(count, result.paths)


def test_no_shocks_no_shock_impact() -> None:
    result = simulate(scenario(), 1_000, seed=5)
    summary = summarise(result)
    assert summary.shock_impact is None
    assert "shock_impact" not in summary.to_dict()


def test_shock_impact_without_an_event_has_no_loss() -> None:
    never = {**_WIPE, "annual_probability": 0.0}
    impact = summarise(simulate(scenario(shocks=[never]), 1_000, seed=5)).shock_impact
    assert impact is not None
    assert impact.median_loss is None and impact.mean_value_cut is None
    assert impact.kept_paths_with_loss == 0


def test_the_typed_fields_are_what_summary_json_writes() -> None:
    sc = scenario(targets=[{"label": "low", "value": 1000.0}, {"label": "high", "value": 2500.0}])
    summary = summarise(simulate(sc, 2_000, seed=4))
    data = summary.to_dict()
    assert [t["label"] for t in data["targets"]] == [t.label for t in summary.targets]
    assert data["targets"][1]["ci95"] == list(summary.targets[1].ci95)
    assert data["valuation"]["quantiles"]["0.5"] == summary.equity.quantiles.median
    assert data["revenue"]["2026"]["p50"] == summary.revenue[-1].p50
    assert data["paths"] == summary.run.paths == 2_000
    with pytest.raises(KeyError, match=r"0\.42"):
        summary.equity.quantiles.at(0.42)
    # Each call builds a new dict: a caller's edits do not reach the summary.
    data["targets"].clear()
    assert len(summary.to_dict()["targets"]) == 2


def test_summary_json_carries_the_information_and_listing_dates() -> None:
    dated = {"name": "t", "base_year": 2024, "horizon": 2, "as_of": "2025-12-31"}
    data = summarise(simulate(scenario(scenario=dated), 100, seed=1)).to_dict()
    assert data["as_of"] == "2025-12-31"
    assert data["listing_date"] is None
    undated = summarise(simulate(scenario(), 100, seed=1)).to_dict()
    assert undated["as_of"] is None and undated["listing_date"] is None


def test_shock_impact_names_the_targets_read_at_a_market_value_it_leaves_out() -> None:
    """With shocks off only the fair value is simulated: a peak target has no probability
    there, and summary.json says which targets are left out and why."""
    sc = scenario(
        shocks=[_WIPE],
        offering={"shares_outstanding": 1_000, "price_range": [1.0, 3.0]},
        aftermarket={"adjustment": 1.0, "day1_noise": 0.1, "volatility": 0.5, "days": 20},
        targets=[
            {"label": "fair 2000", "value": 2000.0},
            {"label": "brief 2000", "value": 2000.0, "at": "peak"},
        ],
    )
    impact = summarise(simulate(sc, 2_000, seed=3)).shock_impact
    assert impact is not None and impact.targets_shocks_off is not None
    assert [t.label for t in impact.targets_shocks_off] == ["fair 2000"]
    assert impact.targets_left_out == ("brief 2000",)
    left_out = serialise(impact)["targets_left_out"]
    assert left_out["labels"] == ["brief 2000"]
    assert "fair value only" in left_out["why"]


# --------------------------------------------------------------------------- a reduction


def _model_entry_points() -> tuple[object, ...]:
    """What values paths, settles the deal or walks after listing: the model."""
    from sim.model import aftermarket, implied, offering
    from sim.model import core as model

    return (
        model.evaluate,
        aftermarket.fan,
        aftermarket.walk,
        offering.settle,
        offering.offer_price,
        implied.implied_target_margins,
        implied.pre_offer_at_medians,
    )


def test_summarise_never_calls_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scenario that needs the model for more than its paths (the DCF's implied target
    margins, the deal, the fan after listing) summarises with every entry point to the
    model refusing: the run computed those once; the summary only reduces."""
    import sys
    from pathlib import Path

    from sim.scenario import load_scenario
    from sim.valuation.dcf import Dcf
    from sim.valuation.ev_to_sales import EvToSales

    sc = load_scenario(Path(__file__).parent.parent / "scenarios" / "dcf.toml")
    result = simulate(sc, 3000, seed=3)
    expected = summarise(result).to_json()

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("summarise called the model")

    entry = _model_entry_points()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "sim" or name.startswith("sim.")):
            continue
        for attr, value in list(vars(module).items()):
            if any(value is f for f in entry):  # each module's own binding of it too
                monkeypatch.setattr(module, attr, refuse)
    for cls, method in (
        (Dcf, "enterprise_value"),
        (Dcf, "components"),
        (EvToSales, "enterprise_value"),
    ):
        monkeypatch.setattr(cls, method, refuse)
    with pytest.raises(AssertionError, match="called the model"):
        simulate(sc, 100, seed=3)  # the guard holds: a run does need the model
    summary = summarise(result)
    assert summary.to_json() == expected
    # What the run computed for it is there, not left out.
    assert summary.aftermarket is not None and summary.aftermarket.fan_paths == 3000
    margins = tuple(p.implied_target_margin for p in summary.pricing)
    assert len(result.implied_target_margins) == len(margins) > 0
    assert margins == result.implied_target_margins and all(p.dcf for p in summary.pricing)
    assert summary.deal is not None and summary.deal.form == "deal"


def test_the_deal_figures_are_the_offering_arithmetic_once() -> None:
    """DealFigures against the deal written out by hand, and the grid built from them."""
    raw_deal = {
        "shares_before": 1000,
        "new_shares": 100,
        "upsize_option": 0.2,
        "over_allotment": 0.15,
        "fees": 0.04,
        "price_range": [10.0, 12.0],
        "downward_adjustment": 0.1,
    }
    sc = scenario(offering=raw_deal)
    summary = summarise(simulate(sc, 2000, seed=4))
    deal = summary.deal
    assert deal is not None and deal.form == "deal"
    sold = 100 * 1.2 * 1.15
    assert deal.shares_sold == pytest.approx(sold, rel=1e-15)
    assert deal.shares_after == pytest.approx(1000 + sold, rel=1e-15)
    assert deal.break_even_shares == pytest.approx(1000 + sold * 0.04, rel=1e-15)
    assert deal.floor_price_usd == pytest.approx(9.0, rel=1e-15)
    assert deal.gross_proceeds_usd == pytest.approx((10 * sold, 12 * sold), rel=1e-15)
    assert deal.net_proceeds_usd == pytest.approx((10 * sold * 0.96, 12 * sold * 0.96), rel=1e-15)
    for g in summary.pricing:
        assert g.market_value_usd == g.price_usd * deal.shares_after
        assert g.net_proceeds_usd == g.price_usd * deal.proceeds_per_price
    written = summary.to_dict()["deal"]
    assert written["floor_price_usd"] == deal.floor_price_usd
    assert deal.net_proceeds_usd is not None
    assert written["net_proceeds_usd"] == list(deal.net_proceeds_usd)
    assert written["currency"] == deal.currency  # the offer's, not a reporting currency
    assert summary.value_per_share is not None
    assert summary.value_per_share.shares_outstanding == deal.shares_after
