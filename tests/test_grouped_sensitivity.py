"""Issue 23, item 12: the sensitivity rows are a variance decomposition. Inputs that
depend on each other (a regime and the multiple it overrides, copula-correlated inputs)
are one row, their first-order index taken together, so that the rows' shares add up to
100% less the interactions, which summary.json states (``sensitivity_unexplained``) with
the method (``sensitivity_method``).

The synthetic scenarios are exactly additive, equity = revenue x multiple + net cash + IPO
proceeds (revenue fixed at USD 100 M), so the shares are known in closed form and the
groups' shares sum to 1; tolerances are from the bootstrap standard errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.dependence import GROUPING, dependent_groups
from sim.analysis.summary import SensitivityRow, summarise
from sim.run.engine import simulate
from sim.scenario import load_scenario
from sim.stats import Z95, sensitivity

PATHS = 20_000

ADDITIVE = """
[scenario]
name = "additive"
description = "synthetic: equity = revenue x multiple + net cash + IPO proceeds"
base_year = 2024
horizon = 2

[[segments]]
name = "core"
revenue = "100M"
growth = 0.0
regions = { US = 1.0 }

[valuation]
method = "ev_to_sales"
year = 2025
multiple = { dist = "uniform", min = 2, max = 8 }
net_cash = { dist = "normal", mean = "300M", sd = "100M" }
ipo_proceeds = { dist = "uniform", min = "100M", max = "500M" }

[simulation]
paths = 20000
seed = 11
"""

DEPENDENT = (
    ADDITIVE
    + """
[[regimes]]
name = "cold"
weight = 0.5
[regimes.valuation]
multiple = { dist = "uniform", min = 2, max = 8 }

[[regimes]]
name = "hot"
weight = 0.5
[regimes.valuation]
multiple = { dist = "uniform", min = 8, max = 14 }

[[correlations]]
between = ["valuation.net_cash", "valuation.ipo_proceeds"]
spearman = 0.8
"""
)


def _rows(tmp_path: Path, text: str, seed: int = 11) -> tuple[SensitivityRow, ...]:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    result = simulate(load_scenario(path), PATHS, seed=seed, keep=PATHS)
    return summarise(result).sensitivity


def _se(row: SensitivityRow) -> float:
    lo, hi = row.first_order_ci95
    return (hi - lo) / (2 * Z95)


def test_independent_linear_inputs_have_their_closed_form_shares(tmp_path: Path) -> None:
    """A linear model of independent inputs: share_i = b_i^2 var_i / sum_j b_j^2 var_j."""
    var = {
        "valuation.multiple": 1e8**2 * 6.0**2 / 12,  # revenue x uniform(2, 8)
        "valuation.net_cash": 1e8**2,  # normal, sd 100 M
        "valuation.ipo_proceeds": 4e8**2 / 12,  # uniform(100 M, 500 M)
    }
    total = sum(var.values())
    rows = {r.input: r for r in _rows(tmp_path, ADDITIVE)}
    assert set(rows) == set(var)
    for name, v in var.items():
        row = rows[name]
        assert row.members == (name,)
        # 4 bootstrap SEs, plus the binning's bias (the variation of E[V | X] inside a bin,
        # ~1/bins^2 of the share: 1e-5 at 736 bins).
        assert abs(row.first_order - v / total) < 4 * _se(row) + 1e-3, (name, row)
    assert abs(sum(r.first_order for r in rows.values()) - 1.0) < 4 * max(map(_se, rows.values()))


def test_dependent_inputs_are_grouped_and_their_shares_sum_to_one(tmp_path: Path) -> None:
    """A regime that overrides the multiple, and net cash correlated with the proceeds:
    two rows, whose shares sum to 1 (the model is additive across the groups), each at its
    closed form. Taken alone, the dependent inputs' indices overlap and sum past 1."""
    rows = _rows(tmp_path, DEPENDENT)
    by_members = {frozenset(r.members): r for r in rows}
    assert set(by_members) == {
        frozenset({"regime", "valuation.multiple"}),
        frozenset({"valuation.net_cash", "valuation.ipo_proceeds"}),
    }
    total = sum(r.first_order for r in rows)
    se = math.sqrt(sum(_se(r) ** 2 for r in rows))
    assert abs(total - 1.0) < 4 * se + 2e-3, (total, se)
    grouped = by_members[frozenset({"valuation.net_cash", "valuation.ipo_proceeds"})]
    regime = by_members[frozenset({"regime", "valuation.multiple"})]
    assert regime.input == " + ".join(regime.members)
    # A group has no sign: the value's rank correlation with the group's conditional mean.
    assert 0.5 < regime.rank_correlation <= 1.0
    assert regime.swing_usd[0] < regime.swing_usd[1]
    # Var(R m): within a regime 1e16 x 3, between them 1e16 x 36 / 4; the cash's is
    # under 1e16 x (1 + 1.33 + 2 x 0.8 x 1.15): the regime's group explains most.
    assert 0.5 < regime.first_order < 0.95 and 0.05 < grouped.first_order < 0.5

    # The same paths without the grouping: the regime and the multiple each count the
    # regime's share of the variance.
    path = tmp_path / "scenario.toml"
    result = simulate(load_scenario(path), PATHS, seed=11, keep=PATHS)
    names = list(result.kept.inputs)
    x = np.stack([result.kept.inputs[n] for n in names]).T
    alone = sensitivity(x, result.kept.values.equity, rng=np.random.default_rng(0), reps=2)[1]
    assert alone.sum() > 1.1


def test_the_groups_closed_form_with_the_drawn_correlation(tmp_path: Path) -> None:
    """Each group's share against Var(group) / Var(V), the variances of the drawn sums."""
    path = tmp_path / "scenario.toml"
    path.write_text(DEPENDENT, encoding="utf-8")
    result = simulate(load_scenario(path), PATHS, seed=5, keep=PATHS)
    rows = {frozenset(r.members): r for r in summarise(result).sensitivity}
    d = result.kept.inputs
    # The group's own part of the value, exact by the additive model.
    cash = d["valuation.net_cash"] + d["valuation.ipo_proceeds"]
    value = 1e8 * d["valuation.multiple"]
    total = np.var(cash + value)
    for members, part in (
        ({"valuation.net_cash", "valuation.ipo_proceeds"}, cash),
        ({"regime", "valuation.multiple"}, value),
    ):
        row = rows[frozenset(members)]
        # The joint bins' noise correction and bias: within 4 SEs plus a 1% allowance for
        # the coarser bins of a two-input group (27 per input at 20,000 paths).
        assert abs(row.first_order - np.var(part) / total) < 4 * _se(row) + 0.01, row


def test_groups_follow_the_scenarios_links(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(DEPENDENT, encoding="utf-8")
    scenario = load_scenario(path)
    names = ["valuation.multiple", "valuation.net_cash", "regime", "valuation.ipo_proceeds", "x"]
    assert dependent_groups(scenario, names) == [[0, 2], [1, 3], [4]]
    path.write_text(ADDITIVE, encoding="utf-8")
    assert dependent_groups(load_scenario(path), names) == [[0], [1], [2], [3], [4]]


def test_summary_json_names_the_method_and_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(DEPENDENT, encoding="utf-8")
    result = simulate(load_scenario(path), PATHS, seed=11, keep=PATHS)
    data = json.loads(summarise(result).to_json())
    assert data["sensitivity_method"] == GROUPING == "grouped_first_order"
    shares = [r["first_order"] for r in data["sensitivity"]]
    assert data["sensitivity_unexplained"] == pytest.approx(1.0 - sum(shares), abs=1e-12)
    assert sorted(len(r["inputs"]) for r in data["sensitivity"]) == [2, 2]


def test_single_inputs_are_unchanged_by_grouping() -> None:
    """Groups of one give the per-input estimator's numbers exactly (same bins, same
    bootstrap stream)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5000, 3))
    y = x[:, 0] + 0.5 * x[:, 1] * x[:, 2]
    plain = sensitivity(x, y, rng=np.random.default_rng(9))
    grouped = sensitivity(x, y, rng=np.random.default_rng(9), groups=[[0], [1], [2]])
    for a, b in zip(plain, grouped, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_heavy_tailed_value_is_decomposed_by_rank_in_closed_form() -> None:
    """Y = exp(5 (X1 + X2)) with X1, X2 iid N(0, 1): a few paths hold Y's variance, so its
    variance shares are noise; its rank's are not. The rank of Y is U = Phi((X1 + X2) /
    sqrt 2), E[U | X1] = Phi(X1 / sqrt 3), and Var(Phi(c X)) = arcsin(c^2 / (1 + c^2)) /
    (2 pi): each input's share of Var(U) = 1/12 is 12 arcsin(1/4) / (2 pi) = 0.4826."""
    rng = np.random.default_rng(20261207)
    n = 200_000
    x = rng.standard_normal((n, 2))
    y = np.exp(5.0 * x.sum(axis=1))
    expected = 12.0 * math.asin(0.25) / (2.0 * math.pi)
    _, est, lo, hi, low, high = sensitivity(x, y, rng=np.random.default_rng(1), of_ranks=True)
    se = (hi - lo) / (2 * Z95)
    assert np.all(np.abs(est - expected) <= 4 * se + 2e-3), (est, expected, se)
    # The swings are decile medians: finite and ordered around the median, not set by
    # the one path furthest out.
    median = float(np.median(y))
    assert np.all(low < median) and np.all(high > median)
    # The same paths by the value's own variance: shares far from the rank's.
    _, by_value, *_ = sensitivity(x, y, rng=np.random.default_rng(1))
    assert np.all(np.abs(by_value - expected) > 0.1)


def test_a_peer_multiple_scenario_names_the_rank_method() -> None:
    """The baseline's multiple is exp of a t: summary.json says its shares are of ranks,
    and they add up (what is left to interactions is small)."""
    path = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
    summary = summarise(simulate(load_scenario(path), PATHS, seed=5))
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["sensitivity_method"] == "grouped_first_order_of_ranks"
    top = data["sensitivity"][0]
    assert top["input"] == "valuation.comparables" and top["first_order"] > 0.3
    assert abs(data["sensitivity_unexplained"]) < 0.15
