"""The summary's shock impact: what the shock page prints, computed once, from the run."""

from __future__ import annotations

import numpy as np

from sim import simulate, summarise
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
    impact = summarise(result).data["shock_impact"]

    hit = kept.values.shock_any.any(axis=1)
    loss = 1 - kept.values.equity[hit] / kept.values.equity_unshocked[hit]
    assert loss.size > 100
    np.testing.assert_array_equal(paired_loss(kept), loss)
    assert impact["median_loss"] == float(np.median(loss))
    assert impact["kept_paths_with_loss"] == loss.size
    cut = 1 - kept.values.equity.mean() / kept.values.equity_unshocked.mean()
    assert impact["mean_value_cut"] == float(cut) > 0

    off = impact["targets_shocks_off"]
    assert [t["label"] for t in off] == ["low", "high"]
    for t in off:
        count = int((kept.values.equity_unshocked >= t["value_usd"]).sum())
        assert t["p_at_least"] == count / result.paths
        assert t["ci95"] == list(wilson_interval(count, result.paths))


def test_no_shocks_no_shock_impact() -> None:
    result = simulate(scenario(), 1_000, seed=5)
    assert "shock_impact" not in summarise(result).data


def test_shock_impact_without_an_event_has_no_loss() -> None:
    never = {**_WIPE, "annual_probability": 0.0}
    impact = summarise(simulate(scenario(shocks=[never]), 1_000, seed=5)).data["shock_impact"]
    assert impact["median_loss"] is None and impact["mean_value_cut"] is None
    assert impact["kept_paths_with_loss"] == 0
