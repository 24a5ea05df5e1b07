"""Sensitivity: first-order (Sobol) indices from given data, their bootstrap intervals,
swings in USD, and the drivers of a run (inputs, summarised noise and shares, events)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import stats
from sim.analysis.sensitivity import drivers
from sim.analysis.summary import summarise
from sim.run.engine import Result, simulate
from sim.scenario import Scenario
from sim.stats import (
    Z95,
    first_order,
    first_order_bootstrap,
    rank_bins,
    sensitivity,
    spearman,
    swing,
)
from tests.builders import scenario


def _within_4se(est: np.ndarray, lo: np.ndarray, hi: np.ndarray, truth: np.ndarray) -> None:
    se = (hi - lo) / (2 * Z95)
    assert np.all(se > 0)
    assert np.all(np.abs(est - truth) <= 4 * se), (est, truth, se)


@pytest.mark.parametrize(("s1", "s2"), [(0.3, 0.5), (0.5, 0.7)])
def test_first_order_of_a_lognormal_matches_its_closed_form(s1: float, s2: float) -> None:
    # V = exp(X1 + X2), Xi ~ N(0, si^2) independent. E[V | X1] = exp(X1) exp(s2^2 / 2), so
    # Var(E[V | X1]) = exp(s2^2) exp(s1^2) (exp(s1^2) - 1) and
    # Var(V) = exp(s1^2 + s2^2) (exp(s1^2 + s2^2) - 1): S1 = (e^{s1^2} - 1) / (e^{s1^2+s2^2} - 1).
    rng = np.random.default_rng(20260001)
    x = rng.normal(size=(20_000, 2)) * [s1, s2]
    est, lo, hi = first_order_bootstrap(x, np.exp(x.sum(axis=1)), rng=np.random.default_rng(5))
    total = math.expm1(s1**2 + s2**2)
    truth = np.array([math.expm1(s1**2) / total, math.expm1(s2**2) / total])
    _within_4se(est, lo, hi, truth)


def test_first_order_of_the_ishigami_function() -> None:
    # Y = sin X1 + 7 sin^2 X2 + 0.1 X3^4 sin X1, Xi ~ U(-pi, pi): S = 0.3139, 0.4424, 0
    # (X3 acts only through its interaction with X1).
    rng = np.random.default_rng(20260002)
    x = rng.uniform(-math.pi, math.pi, size=(20_000, 3))
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    est, lo, hi = first_order_bootstrap(x, y, rng=np.random.default_rng(6))
    _within_4se(est, lo, hi, np.array([0.3139, 0.4424, 0.0]))
    assert lo[2] <= 0 <= hi[2]


def test_an_input_without_effect_reads_zero_on_average_not_the_bins_noise() -> None:
    # Uncorrected, Var of the bin means / Var(y) would be about (bins - 1) / n = 0.1 here.
    rng = np.random.default_rng(20260003)
    x = rng.random((2_000, 40))
    y = rng.normal(size=2_000)
    s = first_order(x, y, bins=200)
    assert abs(float(s.mean())) <= 4 * float(s.std(ddof=1)) / math.sqrt(40)


def test_an_event_indicator_is_conditioned_on_exactly() -> None:
    # Y = 2 I + e, I ~ Bernoulli(0.3), e ~ N(0, 1): S = 4 p (1 - p) / (4 p (1 - p) + 1).
    rng = np.random.default_rng(20260004)
    ind = (rng.random(40_000) < 0.3).astype(float)
    y = 2 * ind + rng.normal(size=ind.size)
    ids = rank_bins(ind[:, None])
    assert np.unique(ids).size == 2
    est, lo, hi = first_order_bootstrap(ind[:, None], y, rng=np.random.default_rng(7))
    _within_4se(est, lo, hi, np.array([0.84 / 1.84]))
    low, high = swing(ind[:, None], y)
    assert low[0] == pytest.approx(float(y[ind == 0].mean()))
    assert high[0] == pytest.approx(float(y[ind == 1].mean()))


def test_the_bootstrap_repeats_with_its_generator_and_a_constant_input_is_undefined() -> None:
    rng = np.random.default_rng(20260005)
    x = np.column_stack([rng.random(500), np.ones(500)])
    y = x[:, 0] + rng.normal(size=500)
    a = first_order_bootstrap(x, y, rng=np.random.default_rng(1))
    b = first_order_bootstrap(x, y, rng=np.random.default_rng(1))
    for u, v in zip(a, b, strict=True):
        assert np.array_equal(u, v, equal_nan=True)
    assert all(math.isnan(float(part[1])) for part in a)
    assert all(math.isnan(float(part[1])) for part in swing(x, y))


def test_swing_is_the_mean_over_the_bottom_and_top_deciles() -> None:
    x = np.arange(1_000, dtype=float)[::-1].copy()
    y = 3 * x
    low, high = swing(x[:, None], y)
    assert low[0] == pytest.approx(3 * np.arange(100).mean())
    assert high[0] == pytest.approx(3 * np.arange(900, 1_000).mean())


def _small_run() -> tuple[Scenario, Result]:
    sc = scenario(
        segments=[
            {
                "name": "a",
                "revenue": 100.0,
                "growth": {"dist": "uniform", "min": 0.1, "max": 0.9},
                "volatility": 0.2,
                "regions": {"X": 0.7, "Y": 0.3},
                "region_concentration": 20.0,
            }
        ],
        valuation={"year": 2026, "multiple": {"dist": "uniform", "min": 8.0, "max": 12.0}},
        shocks=[
            {
                "name": "ban",
                "regions": ["X"],
                "annual_probability": 0.2,
                "severity": 0.5,
                "recovery_years": "permanent",
            }
        ],
    )
    return sc, simulate(sc, 20_000, seed=20260006)


def test_the_drivers_of_a_run_and_their_swings_follow_the_model() -> None:
    sc, res = _small_run()
    table = drivers(res.kept, sc)
    assert {
        "segments.a.growth",
        "valuation.multiple",
        "segments.a.noise",
        "segments.a.regions",
        "shocks.ban.events",
    } <= set(table)
    # The noise's summary is the log-revenue shock to the valuation year (2 years here).
    noise = table["segments.a.noise"]
    assert abs(float(noise.std()) - 0.2 * math.sqrt(2)) <= 4 * 0.2 * math.sqrt(2) / math.sqrt(
        2 * noise.size
    )
    # The shares by the region with the largest base weight, X (0.7 of the segment).
    share = table["segments.a.regions"]
    assert abs(float(share.mean()) - 0.7) <= 4 * float(share.std()) / math.sqrt(share.size)
    rows = {r.input: r for r in summarise(res).sensitivity}
    for name in ("segments.a.growth", "valuation.multiple", "segments.a.noise"):
        low, high = rows[name].swing_usd
        assert low < high, name  # more growth, a higher multiple, more luck: more value
        assert rows[name].first_order > 0
    # An event (a ban on region X, 70% of revenue, halving it) lowers the value.
    without, with_event = rows["shocks.ban.events"].swing_usd
    assert with_event < without
    assert rows["shocks.ban.events"].rank_correlation < 0
    # Strongest first-order index first; every interval contains its estimate.
    s = [r.first_order for r in rows.values()]
    ordered = [r.first_order for r in summarise(res).sensitivity]
    assert ordered == sorted(s, reverse=True)
    for r in rows.values():
        assert r.first_order_ci95[0] <= r.first_order <= r.first_order_ci95[1]


def test_the_sensitivity_repeats_with_the_run_seed() -> None:
    _, res = _small_run()
    a = summarise(res).sensitivity
    b = summarise(res).sensitivity
    assert a == b


def test_inputs_that_act_after_listing_are_not_drivers_of_the_value() -> None:
    """The aftermarket's inputs do not enter the equity value; with a regime that
    overrides them they would only echo the regime, so they are not ranked."""
    from sim import simulate
    from sim.analysis.sensitivity import drivers
    from tests.builders import scenario

    regimes = [
        {"name": "hot", "weight": 0.5, "valuation": {"multiple": 30.0}},
        {
            "name": "cold",
            "weight": 0.5,
            "valuation": {"multiple": 10.0},
            "aftermarket": {"volatility": {"dist": "uniform", "min": 0.1, "max": 0.2}},
        },
    ]
    sc = scenario(
        valuation={"year": 2026, "multiple": {"dist": "uniform", "min": 5, "max": 40}},
        offering={"shares_outstanding": 100, "price_range": ["1", "100"]},
        aftermarket={
            "adjustment": 1.0,
            "day1_noise": {"dist": "normal", "mean": 0, "sd": 0.3},
            "volatility": {"dist": "uniform", "min": 0.5, "max": 1.0},
            "days": 20,
        },
        regimes=regimes,
    )
    result = simulate(sc, 5_000, seed=4)
    names = drivers(result.kept, sc)
    assert "regime" in names and "valuation.multiple" in names
    assert not [n for n in names if n.startswith("aftermarket.")]
    assert "aftermarket.volatility" in result.kept.inputs  # drawn, just not ranked


@pytest.mark.parametrize("reps", [2, 23])
def test_the_batched_bootstrap_equals_one_replicate_at_a_time_in_float64(reps: int) -> None:
    # The reference: each replicate's index from its per-path counts, in float64, as the
    # bootstrap was first written. The batched form sums chunks of replicates in float32
    # over the centred output: equal within 1e-6 of an index (its own noise is ~1e-2 here),
    # on outputs far from 0 (USD values in the billions) and with an event indicator.
    rng = np.random.default_rng(20260014)
    n = 3_000
    x = np.column_stack([rng.random(n), rng.normal(size=n), rng.random(n) < 0.1])
    y = 4e9 + 1e9 * (x[:, 0] + 0.5 * x[:, 1] - 0.8 * x[:, 2]) + 3e8 * rng.normal(size=n)
    est, lo, hi = first_order_bootstrap(x, y, rng=np.random.default_rng(3), reps=reps)
    m = stats._bins_for(n)
    ids = rank_bins(x, m)
    sizes = stats._bin_sizes(ids, m)
    draw = np.random.default_rng(3)
    boots = np.array(
        [
            stats._first_order_binned(
                ids, y, m, np.bincount(draw.integers(0, n, n), minlength=n).astype(float), sizes
            )
            for _ in range(reps)
        ]
    )
    se = boots.std(axis=0, ddof=1)
    np.testing.assert_array_equal(est, first_order(x, y))
    np.testing.assert_allclose(lo, est - Z95 * se, rtol=0, atol=1e-6)
    np.testing.assert_allclose(hi, est + Z95 * se, rtol=0, atol=1e-6)


def test_sensitivity_equals_spearman_first_order_bootstrap_and_swing() -> None:
    rng = np.random.default_rng(20260015)
    n = 2_000
    x = np.column_stack(
        [rng.random(n), np.round(rng.normal(size=n)), rng.random(n) < 0.2, np.ones(n)]
    )
    y = x[:, 0] + x[:, 1] + rng.normal(size=n)
    rho, est, lo, hi, low, high = sensitivity(x, y, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(rho, spearman(x, y))
    for got, want in zip(
        (est, lo, hi), first_order_bootstrap(x, y, rng=np.random.default_rng(9)), strict=True
    ):
        np.testing.assert_array_equal(got, want)
    for got, want in zip((low, high), swing(x, y), strict=True):
        np.testing.assert_array_equal(got, want)
