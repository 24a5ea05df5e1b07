"""The summary: its typed fields, and the shock impact the shock page prints."""

from __future__ import annotations

import numpy as np
import pytest

from sim import simulate, summarise
from sim.serial import serialise
from sim.stats import wilson_interval
from sim.summary import paired_loss
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
