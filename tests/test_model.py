"""The model against closed forms (tolerances from standard errors) and its invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim.model.core import evaluate, inputs
from sim.run.engine import simulate
from sim.run.sampling import block_draws
from tests.builders import scenario

N = 200_000


def _p_tol(p: float, n: int = N) -> float:
    """Four standard errors of a proportion."""
    return 4.0 * math.sqrt(p * (1.0 - p) / n) + 1e-12


def test_fixed_growth_lognormal_multiple_gives_lognormal_value() -> None:
    mu, sigma = math.log(12.0), 0.4
    sc = scenario(
        segments=[{"name": "a", "revenue": "10M", "growth": 0.5, "regions": {"X": 1.0}}],
        valuation={"year": 2026, "multiple": {"dist": "lognormal", "mu": mu, "sigma": sigma}},
        targets=[{"label": "t", "value": "300M"}],
    )
    res = simulate(sc, N, seed=11)
    log_scale = math.log(10e6 * 1.5**2) + mu
    value = stats.lognorm(s=sigma, scale=math.exp(log_scale))
    stream = res.streams["valuation"]
    assert abs(stream.mean - value.mean()) <= 4 * value.std() / math.sqrt(N)
    p = float(value.sf(300e6))
    p_hat = stream.count_at_least(300e6) / N
    assert abs(p_hat - p) <= _p_tol(p)
    # The log-value's standard deviation is sigma (se of an sd ~ sd / sqrt(2n)).
    sd_log = float(np.std(np.log(res.kept.values.equity), ddof=1))
    assert abs(sd_log - sigma) <= 4 * sigma / math.sqrt(2 * N)


def test_yearly_volatility_adds_variance_in_log_space() -> None:
    vol, sigma, years = 0.2, 0.3, 3
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": years},
        segments=[
            {
                "name": "a",
                "revenue": 100.0,
                "growth": 0.3,
                "volatility": vol,
                "regions": {"X": 1.0},
            }
        ],
        valuation={"year": 2027, "multiple": {"dist": "lognormal", "mu": 0.0, "sigma": sigma}},
    )
    res = simulate(sc, N, seed=12)
    logs = np.log(res.kept.values.equity)
    expected_sd = math.sqrt(years * vol**2 + sigma**2)
    expected_mean = math.log(100.0) + years * math.log1p(0.3)
    assert abs(logs.mean() - expected_mean) <= 4 * expected_sd / math.sqrt(N)
    assert abs(logs.std(ddof=1) - expected_sd) <= 4 * expected_sd / math.sqrt(2 * N)


def test_permanent_single_event_shock_gives_two_point_mixture() -> None:
    p, sev = 0.2, 0.4
    sc = scenario(
        shocks=[
            {
                "name": "ban",
                "regions": ["X"],
                "annual_probability": p,
                "severity": sev,
                "recovery_years": "permanent",
                "max_events": 1,
            }
        ],
        targets=[{"label": "t", "value": 2000.0}],
    )
    res = simulate(sc, N, seed=13)
    clean = 100.0 * 1.5**2 * 10.0
    p_none = (1 - p) ** 2
    values = res.kept.values.equity
    assert np.all(np.isclose(values, clean) | np.isclose(values, clean * (1 - sev)))
    p_hat = float(np.isclose(values, clean).mean())
    assert abs(p_hat - p_none) <= _p_tol(p_none)
    assert abs(res.shock_counts[0] / N - (1 - p_none)) <= _p_tol(1 - p_none)
    # The unshocked counterfactual is the clean value on every path.
    assert np.allclose(res.kept.values.equity_unshocked, clean)


def test_one_year_recovery_hits_only_the_event_year() -> None:
    p, sev = 0.3, 0.5
    sc = scenario(
        shocks=[
            {
                "name": "outage",
                "regions": ["X"],
                "annual_probability": p,
                "severity": sev,
                "recovery_years": 1,
            }
        ],
    )
    res = simulate(sc, N, seed=14)
    clean = 100.0 * 1.5**2
    rev = res.kept.values.revenue[:, 2]
    hit = np.isclose(rev, clean * (1 - sev))
    assert np.all(hit | np.isclose(rev, clean))
    assert abs(hit.mean() - p) <= _p_tol(p)
    # Year 1 is hit independently, with the same probability.
    hit1 = np.isclose(res.kept.values.revenue[:, 1], 150.0 * (1 - sev))
    assert abs(hit1.mean() - p) <= _p_tol(p)


def test_linear_recovery_ramp() -> None:
    """An event in year 1 with recovery 2 years costs s in year 1 and s/2 in year 2."""
    sc = scenario(
        segments=[{"name": "a", "revenue": 100.0, "growth": 0.0, "regions": {"X": 1.0}}],
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": 1.0,
                "severity": 0.4,
                "recovery_years": 2,
                "max_events": 1,
            }
        ],
    )
    res = simulate(sc, 1000, seed=1)
    assert np.allclose(res.kept.values.revenue[:, 1], 60.0)
    assert np.allclose(res.kept.values.revenue[:, 2], 80.0)


def test_events_compound_multiplicatively() -> None:
    sc = scenario(
        segments=[{"name": "a", "revenue": 100.0, "growth": 0.0, "regions": {"X": 1.0}}],
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": 1.0,
                "severity": 0.5,
                "recovery_years": "permanent",
            }
        ],
    )
    res = simulate(sc, 100, seed=1)
    assert np.allclose(res.kept.values.revenue[:, 1:], [50.0, 25.0])


def test_two_segments_two_regions_hhi_and_p_any() -> None:
    p, sev = 0.25, 0.5
    sc = scenario(
        segments=[
            {"name": "a", "revenue": 300.0, "growth": 0.0, "regions": {"X": 1.0}},
            {"name": "b", "revenue": 100.0, "growth": 0.0, "regions": {"Y": 1.0}},
        ],
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "segments": ["a"],
                "annual_probability": p,
                "severity": sev,
                "recovery_years": "permanent",
                "max_events": 1,
            }
        ],
    )
    res = simulate(sc, N, seed=15)
    hhi_clean = 0.75**2 + 0.25**2
    a = 300.0 * (1 - sev)
    hhi_hit = (a**2 + 100.0**2) / (a + 100.0) ** 2
    hhi = res.kept.values.hhi
    assert np.all(np.isclose(hhi, hhi_clean) | np.isclose(hhi, hhi_hit))
    p_any = 1 - (1 - p) ** 2
    assert abs(np.isclose(hhi, hhi_hit).mean() - p_any) <= _p_tol(p_any)
    assert abs(res.shock_counts[0] / N - p_any) <= _p_tol(p_any)
    assert np.allclose(
        res.kept.values.top_region_share,
        np.maximum(res.kept.values.region_shares[:, 0], res.kept.values.region_shares[:, 1]),
    )


def test_multiple_adjustments_and_cash() -> None:
    sc = scenario(
        segments=[{"name": "a", "revenue": 100.0, "growth": 1.0, "regions": {"X": 0.5, "Y": 0.5}}],
        valuation={
            "year": 2026,
            "multiple": 10.0,
            "growth_elasticity": 0.5,
            "reference_growth": 0.0,
            "concentration_penalty": 2.0,
            "reference_hhi": 0.25,
            "net_cash": "-50",
            "ipo_proceeds": 30.0,
        },
    )
    res = simulate(sc, 10, seed=1)
    multiple = 10.0 * math.exp(0.5 * math.log(2.0) - 2.0 * (0.5 - 0.25))
    assert np.allclose(res.kept.values.equity, 400.0 * multiple - 20.0)


def test_multiple_hit_needs_an_event_in_the_valuation_year_or_the_one_before() -> None:
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 3},
        segments=[{"name": "a", "revenue": 100.0, "growth": 0.0, "regions": {"X": 1.0}}],
        valuation={"year": 2027, "multiple": 10.0},
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": 0.5,
                "severity": 0.0,
                "recovery_years": 1,
                "multiple_hit": 0.2,
            }
        ],
    )
    spec_names = [s.name for s in inputs(sc)]
    draws = block_draws(
        inputs(sc), sc.scalar_inputs(), seed=3, block=0, n=20_000, sampler="random", copula=None
    )
    values = evaluate(sc, draws)
    events = draws["shocks.k.events"] < 0.5
    recent = events[1] | events[2]
    assert "shocks.k.events" in spec_names
    assert np.allclose(values.multiple, np.where(recent, 8.0, 10.0))


@given(st.floats(-0.5, 3.0), st.floats(0.01, 2.0), st.floats(1.0, 100.0), st.floats(0.0, 3.0))
def test_value_monotone_in_growth_and_multiple(g: float, dg: float, m: float, dm: float) -> None:
    def value(growth: float, multiple: float) -> float:
        sc = scenario(
            segments=[
                {
                    "name": "a",
                    "revenue": 100.0,
                    "growth": growth,
                    "fade": 0.7,
                    "regions": {"X": 0.6, "Y": 0.4},
                }
            ],
            valuation={
                "year": 2026,
                "multiple": multiple,
                "growth_elasticity": 0.3,
                "net_cash": 5.0,
            },
        )
        return float(simulate(sc, 1, seed=0).kept.values.equity[0])

    assert value(g + dg, m) > value(g, m)
    assert value(g, m + dm + 0.01) > value(g, m)


def test_shares_sum_to_one_with_dirichlet_and_moving_targets() -> None:
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 3},
        segments=[
            {
                "name": "a",
                "revenue": 100.0,
                "growth": 0.5,
                "regions": {"X": 0.5, "Y": 0.5},
                "region_concentration": 5.0,
                "regions_at_horizon": {"X": 0.2, "Y": 0.3, "Z": 0.5},
            },
            {"name": "b", "revenue": 50.0, "growth": 0.1, "regions": {"Z": 1.0}},
        ],
        valuation={"year": 2027, "multiple": 10.0},
        shocks=[
            {
                "name": "k",
                "regions": ["Y"],
                "annual_probability": 0.3,
                "severity": 0.5,
                "recovery_years": 2,
            }
        ],
    )
    res = simulate(sc, 50_000, seed=16)
    assert np.allclose(res.kept.values.region_shares.sum(axis=1), 1.0)
    assert np.all(res.kept.values.region_shares >= 0)
    assert np.all((res.kept.values.hhi > 0) & (res.kept.values.hhi <= 1 + 1e-12))


def test_shares_move_to_the_horizon_target() -> None:
    """With exact shares the valuation-year shares sit on the straight line."""
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 4},
        segments=[
            {
                "name": "a",
                "revenue": 100.0,
                "growth": 0.0,
                "regions": {"X": 1.0},
                "regions_at_horizon": {"X": 0.2, "Y": 0.8},
            }
        ],
        valuation={"year": 2026, "multiple": 1.0},
    )
    res = simulate(sc, 5, seed=1)
    assert np.allclose(res.kept.values.region_shares, [[0.6, 0.4]])


@pytest.mark.parametrize("kappa", [20.0, 200.0])
def test_dirichlet_shares_have_the_requested_mean(kappa: float) -> None:
    sc = scenario(
        segments=[
            {
                "name": "a",
                "revenue": 100.0,
                "growth": 0.0,
                "regions": {"X": 0.7, "Y": 0.3},
                "region_concentration": kappa,
            }
        ],
    )
    res = simulate(sc, 100_000, seed=17)
    x = res.kept.values.region_shares[:, 0]
    sd = math.sqrt(0.7 * 0.3 / (kappa + 1))
    assert abs(x.mean() - 0.7) <= 4 * sd / math.sqrt(len(x))
    assert abs(x.std() - sd) <= 4 * sd / math.sqrt(2 * len(x))


def test_growth_fades_to_the_terminal_rate_exactly() -> None:
    g1, fade, term = 1.0, 0.5, 0.1
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 3},
        segments=[
            {
                "name": "a",
                "revenue": 100.0,
                "growth": g1,
                "fade": fade,
                "terminal_growth": term,
                "regions": {"X": 1.0},
            }
        ],
        valuation={"year": 2027, "multiple": 1.0},
    )
    res = simulate(sc, 3, seed=1)
    l1, lt = math.log1p(g1), math.log1p(term)
    logs = [lt + (l1 - lt) * fade ** (t - 1) for t in (1, 2, 3)]
    expected = 100.0 * np.exp(np.cumsum(logs))
    assert np.allclose(res.kept.values.revenue[:, 1:], expected, rtol=1e-12)


def test_growth_elasticity_uses_growth_into_the_valuation_year() -> None:
    """Not the average growth since the base year: the last year's growth only."""
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 3},
        segments=[
            {"name": "a", "revenue": 100.0, "growth": 2.0, "fade": 0.3, "regions": {"X": 1.0}},
            {"name": "b", "revenue": 50.0, "growth": 0.2, "regions": {"Y": 1.0}},
        ],
        valuation={
            "year": 2027,
            "multiple": 10.0,
            "growth_elasticity": 0.8,
            "reference_growth": 0.5,
        },
    )
    res = simulate(sc, 3, seed=1)
    rev = res.kept.values.revenue[0]
    growth = math.log(rev[3] / rev[2])
    multiple = 10.0 * math.exp(0.8 * (growth - math.log1p(0.5)))
    assert np.allclose(res.kept.values.multiple, multiple, rtol=1e-12)
    assert np.allclose(res.kept.values.equity, rev[3] * multiple, rtol=1e-12)


def test_max_events_caps_compounding() -> None:
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 3},
        segments=[{"name": "a", "revenue": 100.0, "growth": 0.0, "regions": {"X": 1.0}}],
        valuation={"year": 2027, "multiple": 1.0},
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": 1.0,
                "severity": 0.5,
                "recovery_years": "permanent",
                "max_events": 2,
            }
        ],
    )
    res = simulate(sc, 10, seed=1)
    assert np.allclose(res.kept.values.revenue[:, 1:], [50.0, 25.0, 25.0])


def test_uncertain_hazard_p_any_matches_the_beta_mixture() -> None:
    a, b = 2.0, 8.0
    sc = scenario(
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": {"dist": "beta", "a": a, "b": b},
                "severity": 0.3,
                "recovery_years": 1,
            }
        ],
    )
    res = simulate(sc, N, seed=18)
    # P(no event in 2 years) = E[(1 - p)^2], and 1 - p ~ Beta(b, a).
    p_any = 1.0 - b * (b + 1) / ((a + b) * (a + b + 1))
    assert abs(res.shock_counts[0] / N - p_any) <= _p_tol(p_any)


def test_drawn_recovery_time_sets_each_paths_ramp() -> None:
    sc = scenario(
        segments=[{"name": "a", "revenue": 100.0, "growth": 0.0, "regions": {"X": 1.0}}],
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": 1.0,
                "severity": 0.6,
                "recovery_years": {"dist": "uniform", "min": 1.0, "max": 3.0},
                "max_events": 1,
            }
        ],
    )
    res = simulate(sc, 20_000, seed=19)
    recovery = res.kept.inputs["shocks.k.recovery_years"]
    assert np.allclose(res.kept.values.revenue[:, 1], 40.0)
    assert np.allclose(res.kept.values.revenue[:, 2], 100.0 * (1 - 0.6 * (1 - 1 / recovery)))


def test_a_path_that_loses_all_revenue_keeps_its_pre_shock_split() -> None:
    sc = scenario(
        segments=[
            {"name": "a", "revenue": 300.0, "growth": 0.0, "regions": {"X": 1.0}},
            {"name": "b", "revenue": 100.0, "growth": 0.0, "regions": {"Y": 1.0}},
        ],
        shocks=[
            {
                "name": "k",
                "regions": ["X", "Y"],
                "annual_probability": 1.0,
                "severity": 1.0,
                "recovery_years": "permanent",
                "max_events": 1,
            }
        ],
    )
    res = simulate(sc, 5, seed=1)
    assert np.allclose(res.kept.values.revenue[:, 2], 0.0)
    assert np.allclose(res.kept.values.hhi, 0.75**2 + 0.25**2)
    assert np.allclose(res.kept.values.region_shares, [[0.75, 0.25]])


def test_noise_and_shocks_never_touch_the_base_year() -> None:
    """The base year is known: its revenue is the drawn base revenue, exactly (DESIGN 3.1)."""
    sc = scenario(
        segments=[
            {
                "name": "a",
                "revenue": {"dist": "uniform", "min": 80.0, "max": 120.0},
                "growth": 0.5,
                "volatility": 0.4,
                "regions": {"X": 1.0},
            },
            {
                "name": "b",
                "revenue": {"dist": "lognormal", "p50": 50.0, "p90": 70.0},
                "growth": 0.2,
                "volatility": 0.2,
                "regions": {"X": 0.5, "Y": 0.5},
            },
        ],
        shocks=[
            {
                "name": "k",
                "regions": ["X", "Y"],
                "annual_probability": 1.0,
                "severity": 0.6,
                "recovery_years": "permanent",
            }
        ],
    )
    draws = block_draws(
        inputs(sc), sc.scalar_inputs(), seed=5, block=0, n=2_000, sampler="random", copula=None
    )
    values = evaluate(sc, draws)
    for s, name in enumerate(("a", "b")):
        base = draws[f"segments.{name}.revenue"]
        assert np.array_equal(values.segment_revenue[:, s, 0], base)
        # The simulated years are hit (so the test can fail if the base year were).
        assert not np.allclose(values.segment_revenue[:, s, 1], base * 1.5 ** (s == 0))
    assert np.array_equal(
        values.revenue[:, 0], draws["segments.a.revenue"] + draws["segments.b.revenue"]
    )


def test_a_recovered_shock_is_not_growth_the_market_pays_for() -> None:
    """The multiple reads growth into the valuation year before shocks (DESIGN 3).

    A certain one-off event in the first simulated year, recovered from by the valuation
    year, leaves valuation-year revenue as it was; read after shocks, the recovery would
    look like growth and lift the multiple above the unshocked path's.
    """
    sc = scenario(
        segments=[{"name": "a", "revenue": 100.0, "growth": 0.3, "regions": {"X": 1.0}}],
        valuation={
            "year": 2026,
            "multiple": 10.0,
            "growth_elasticity": 1.0,
            "reference_growth": 0.3,
        },
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": 1.0,
                "severity": 0.5,
                "recovery_years": 1,
                "max_events": 1,
            }
        ],
    )
    res = simulate(sc, 100, seed=1)
    values = res.kept.values
    assert np.allclose(values.revenue[:, 1], 130.0 * 0.5)  # the event happened
    assert np.allclose(values.revenue[:, 2], 169.0)  # and was recovered from
    assert np.all(values.equity <= values.equity_unshocked * (1 + 1e-12))
    assert np.allclose(values.multiple, 10.0, rtol=1e-12)


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol"])
def test_base_revenue_never_falls_below_what_was_booked(sampler: str) -> None:
    """Nine booked months plus a range for the last quarter: no path draws less."""
    booked = {"a": 60.0, "b": 30.0, "c": 12.0}
    sc = scenario(
        segments=[
            {
                "name": "a",
                "revenue": {"dist": "normal", "mean": 62.0, "sd": 5.0, "lower": 60.0},
                "booked": 60.0,
                "growth": 0.5,
                "volatility": 0.3,
                "regions": {"X": 1.0},
            },
            {
                "name": "b",
                "revenue": {"dist": "metalog", "p10": 31.0, "p50": 34.0, "p90": 40.0, "lower": 30},
                "booked": 30.0,
                "growth": 0.2,
                "regions": {"X": 1.0},
            },
            {
                "name": "c",
                "revenue": {"dist": "uniform", "min": 12.0, "max": 15.0},
                "booked": 12.0,
                "growth": 0.1,
                "regions": {"X": 1.0},
            },
        ],
        shocks=[
            {
                "name": "k",
                "regions": ["X"],
                "annual_probability": 0.5,
                "severity": 0.9,
                "recovery_years": "permanent",
            }
        ],
    )
    paths = 50_000
    res = simulate(sc, paths, seed=21, sampler=sampler, keep=paths)
    assert res.kept.n == paths
    base = res.kept.values.segment_revenue[:, :, 0]
    for s, name in enumerate(("a", "b", "c")):
        assert int(np.count_nonzero(base[:, s] < booked[name])) == 0
        # Not a vacuous bound: the draws come close to what was booked.
        assert base[:, s].min() < booked[name] * 1.01
    assert int(np.count_nonzero(res.kept.values.revenue[:, 0] < sum(booked.values()))) == 0
