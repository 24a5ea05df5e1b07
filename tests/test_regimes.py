"""Market regimes (DESIGN.md 3.4): the keyed ``regime`` input, overrides, common random
numbers, and what a run reports about them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.analysis.expectations import check_expectation
from sim.analysis.summary import summarise
from sim.errors import ScenarioError
from sim.model.core import inputs
from sim.run.engine import simulate
from sim.run.sampling import block_draws
from sim.scenario import Scenario, load_scenario
from tests.builders import scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
HOT: dict[str, Any] = {
    "name": "hot",
    "weight": 0.3,
    "valuation": {"multiple": {"dist": "uniform", "min": 30, "max": 40}},
}
COLD: dict[str, Any] = {"name": "cold", "weight": 0.7}
# Random inputs of every kind: scalars, noise, a Dirichlet split and shock events.
SEGMENTS = [
    {
        "name": "a",
        "revenue": {"dist": "uniform", "min": 80.0, "max": 120.0},
        "growth": {"dist": "uniform", "min": 0.2, "max": 0.8},
        "volatility": 0.1,
        "regions": {"X": 0.5, "Y": 0.5},
        "region_concentration": 20,
    }
]
SHOCKS = [
    {
        "name": "k",
        "regions": ["X"],
        "annual_probability": 0.2,
        "severity": {"dist": "uniform", "min": 0.1, "max": 0.5},
        "recovery_years": 1,
    }
]
VALUATION = {"year": 2026, "multiple": {"dist": "lognormal", "p50": 10, "p90": 20}}
OFFERING = {
    "shares_outstanding": 100,
    "price_range": ["1", "100"],
    "ipo_discount": {"dist": "uniform", "min": 0.0, "max": 0.2},
}


def _scenario(regimes: list[dict[str, Any]] | None = None, **extra: Any) -> Scenario:
    sections: dict[str, Any] = {
        "segments": SEGMENTS,
        "shocks": SHOCKS,
        "valuation": VALUATION,
        "offering": OFFERING,
        **extra,
    }
    if regimes is not None:
        sections["regimes"] = regimes
    return scenario(**sections)


def _draws(sc: Scenario, sampler: str = "random", n: int = 5_000) -> dict[str, Any]:
    return block_draws(
        inputs(sc),
        sc.scalar_inputs(),
        seed=11,
        block=0,
        n=n,
        sampler=sampler,
        copula=None,
        overrides=sc.regime_overrides(),
    )


@pytest.mark.parametrize("sampler", ["random", "lhs"])
def test_regime_weights_are_recovered_within_4_se(sampler: str) -> None:
    weights = [0.5, 0.3, 0.2]
    regimes = [{"name": f"r{k}", "weight": w} for k, w in enumerate(weights)]
    n = 30_000
    result = simulate(_scenario(regimes), n, seed=2024, sampler=sampler)
    assert result.regime_counts.sum() == n
    for count, w in zip(result.regime_counts, weights, strict=True):
        se = math.sqrt(w * (1 - w) / n)
        assert abs(count / n - w) < 4 * se
    # The expectation metric reads the same counts.
    assert result.kept.values.regime is not None
    assert np.array_equal(np.bincount(result.kept.values.regime), result.regime_counts)


def test_regime_expectation_is_its_probability() -> None:
    expect = [{"name": "hot", "metric": "regime.hot", "stat": "mean", "between": [0.25, 0.35]}]
    sc = _scenario([HOT, COLD], expect=expect)
    result = simulate(sc, 20_000, seed=5)
    outcome = check_expectation(result, sc.expectations[0])
    assert outcome.estimate == result.regime_counts[0] / 20_000
    assert outcome.status == "passed"


def test_override_changes_only_its_own_regime_paths() -> None:
    plain = _scenario([{**HOT, "valuation": {}}, COLD])
    hot = _scenario([HOT, COLD])
    a, b = (simulate(sc, 20_000, seed=9).kept for sc in (plain, hot))
    assert a.values.regime is not None and b.values.regime is not None
    assert np.array_equal(a.values.regime, b.values.regime)
    on = b.values.regime == 0
    assert 0 < on.sum() < len(on)
    for x, y in ((a.values.equity, b.values.equity), (a.values.multiple, b.values.multiple)):
        assert np.array_equal(x[~on], y[~on])  # bit-identical off the regime
        assert not np.any(x[on] == y[on])
    drawn = b.inputs["valuation.multiple"]
    assert drawn[on].min() >= 30 and drawn[on].max() <= 40


def test_override_reads_the_base_uniform() -> None:
    # Quantile-first: on the regime's paths the override is its inverse CDF at the very
    # uniform the base input used there (recovered through the base's CDF).
    base, hot = _draws(_scenario([{**HOT, "valuation": {}}, COLD])), _draws(_scenario([HOT, COLD]))
    on = hot["regime"] == 0
    u = _scenario().valuation.scalar_inputs()["valuation.multiple"].cdf(base["valuation.multiple"])
    assert np.allclose(hot["valuation.multiple"][on], 30 + 10 * u[on], rtol=0, atol=1e-9)


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol"])
def test_adding_regimes_keeps_every_other_draw(sampler: str) -> None:
    without = _draws(_scenario(), sampler)
    offering_hot: dict[str, Any] = {
        **HOT,
        "offering": {"ipo_discount": {"dist": "uniform", "min": 0.3, "max": 0.4}},
    }
    cases: list[list[dict[str, Any]]] = [
        [COLD | {"weight": 1.0}],
        [HOT, COLD],
        [offering_hot, COLD],
    ]
    for regimes in cases:
        with_regimes = _draws(_scenario(regimes), sampler)
        assert set(with_regimes) == set(without) | {"regime"}
        overridden = {n for r in regimes for t in ("valuation", "offering") for n in r.get(t, {})}
        for name, x in without.items():
            if name.split(".")[-1] not in overridden:
                assert np.array_equal(x, with_regimes[name]), name


def test_fixed_base_input_with_a_random_override() -> None:
    hot = {
        "name": "hot",
        "weight": 0.5,
        "valuation": {"net_cash": {"dist": "uniform", "min": 1, "max": 2}},
    }
    draws = _draws(_scenario([hot, {"name": "cold", "weight": 0.5}]))
    on = draws["regime"] == 0
    cash = draws["valuation.net_cash"]
    assert np.all(cash[~on] == 0.0)
    assert np.all((cash[on] >= 1) & (cash[on] <= 2)) and np.unique(cash[on]).size > 100


def test_regime_can_be_correlated() -> None:
    corr = [{"between": ["regime", "valuation.multiple"], "spearman": 0.9}]
    sc = _scenario(
        [{"name": "lo", "weight": 0.5}, {"name": "hi", "weight": 0.5}], correlations=corr
    )
    kept = simulate(sc, 20_000, seed=3).kept
    assert kept.values.regime is not None
    hi = kept.values.regime == 1
    # Strongly rank-correlated: the high regime takes the high multiples.
    assert np.median(kept.inputs["valuation.multiple"][hi]) > 2 * np.median(
        kept.inputs["valuation.multiple"][~hi]
    )


def test_weights_normalised_within_tolerance() -> None:
    sc = _scenario(
        [{"name": "a", "weight": 0.1}, {"name": "b", "weight": 0.2}, {"name": "c", "weight": 0.7}]
    )
    assert math.fsum(r.weight for r in sc.regimes) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(
    ("regimes", "path", "message"),
    [
        ([{"name": "a", "weight": 0.5}], "regimes", "must sum to 1"),
        ([{"name": "a", "weight": 1.5}], "regimes.a.weight", "expected a number in (0, 1]"),
        ([{"name": "a", "weight": 0.5}, {"name": "a", "weight": 0.5}], "regimes.a", "duplicate"),
        ([{"weight": 1.0}], "regimes[0].name", "required key is missing"),
        (
            [{"name": "a", "weight": 1.0, "valuation": {"multipl": 3}}],
            "regimes.a.valuation.multipl",
            "did you mean 'multiple'",
        ),
        (
            [{"name": "a", "weight": 1.0, "valuation": {"method": "dcf"}}],
            "regimes.a.valuation.method",
            "not a random scalar input",
        ),
        (
            [{"name": "a", "weight": 1.0, "valuation": {"multiple": -3}}],
            "regimes.a.valuation.multiple",
            "multiple must lie in",
        ),
        (
            [{"name": "a", "weight": 1.0, "wieght": 1.0}],
            "regimes.a.wieght",
            "did you mean 'weight'",
        ),
    ],
)
def test_bad_regimes_name_the_key(regimes: list[dict[str, Any]], path: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        _scenario(regimes)
    assert info.value.path == path
    assert message in info.value.message


def test_offering_override_needs_an_offering() -> None:
    regimes = [{"name": "a", "weight": 1.0, "offering": {"ipo_discount": 0.1}}]
    with pytest.raises(ScenarioError) as info:
        scenario(regimes=regimes)
    assert info.value.path == "regimes.a.offering"
    assert "lacks" in info.value.message


def test_summary_reports_each_regime() -> None:
    sc = _scenario([HOT, COLD])
    result = simulate(sc, 20_000, seed=8)
    block = summarise(result).to_dict()["regimes"]
    assert [r["name"] for r in block] == ["hot", "cold"]
    regime = result.kept.values.regime
    assert regime is not None
    equity = result.kept.values.equity
    for k, r in enumerate(block):
        on = equity[regime == k]
        assert r["p"] == on.size / 20_000
        assert r["ci95"][0] < r["p"] < r["ci95"][1]
        assert r["mean"] == pytest.approx(on.mean(), rel=1e-12)
        assert r["quantiles"]["0.5"] == np.median(on)
    # The regimes' means, weighted by their shares, make the run's mean.
    total = sum(r["p"] * r["mean"] for r in block)
    assert total == pytest.approx(summarise(result).equity.mean, rel=1e-12)
    # The hot regime's richer multiples show in its values.
    assert block[0]["quantiles"]["0.5"] > block[1]["quantiles"]["0.5"]


def test_extends_merges_regimes_by_name(tmp_path: Path) -> None:
    child = tmp_path / "child.toml"
    child.write_text(
        f'[scenario]\nextends = "{BASELINE.as_posix()}"\n\n'
        '[[regimes]]\nname = "ai-frenzy"\nweight = 0.5\n\n'
        '[[regimes]]\nname = "cold-window"\nweight = 0.5\n',
        encoding="utf-8",
    )
    base, sc = load_scenario(BASELINE), load_scenario(child)
    assert [(r.name, r.weight) for r in sc.regimes] == [("ai-frenzy", 0.5), ("cold-window", 0.5)]
    # The overrides the child did not restate are the base's.
    for a, b in zip(base.regimes, sc.regimes, strict=True):
        assert a.overrides.keys() == b.overrides.keys()
        assert "valuation.multiple_shift" in a.overrides
        for key in a.overrides:
            assert a.overrides[key].to_dict() == b.overrides[key].to_dict()


def test_aftermarket_override_changes_only_its_own_regime_paths() -> None:
    aftermarket = {"adjustment": 1.0, "day1_noise": 0.0, "volatility": 0.5, "days": 20}
    hot = {**HOT, "aftermarket": {"day1_noise": {"dist": "uniform", "min": 1, "max": 2}}}
    plain = _scenario([{**HOT}, COLD], aftermarket=aftermarket)
    over = _scenario([hot, COLD], aftermarket=aftermarket)
    a, b = (simulate(sc, 10_000, seed=3).kept for sc in (plain, over))
    assert b.values.regime is not None and b.values.market_value_day1 is not None
    assert a.values.market_value_day1 is not None
    on = b.values.regime == 0
    assert 0 < on.sum() < len(on)
    assert np.array_equal(a.values.equity, b.values.equity)  # fair value untouched
    off_a, off_b = a.values.market_value_day1[~on], b.values.market_value_day1[~on]
    assert np.array_equal(off_a, off_b)
    # On its paths the day-1 close is fair value x exp(s), s in [1, 2].
    ratio = b.values.market_value_day1[on] / a.values.market_value_day1[on]
    assert ratio.min() >= math.exp(1) - 1e-9 and ratio.max() <= math.exp(2) + 1e-9


def test_aftermarket_override_is_checked_as_its_key() -> None:
    aftermarket = {"adjustment": 1.0, "day1_noise": 0.0, "volatility": 0.5, "days": 20}
    bad = {**HOT, "aftermarket": {"volatility": -1.0}}
    with pytest.raises(ScenarioError) as err:
        _scenario([bad, COLD], aftermarket=aftermarket)
    assert err.value.path == "regimes.hot.aftermarket.volatility"
