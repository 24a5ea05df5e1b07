"""``method = "dcf"`` (DESIGN.md 3.3): closed forms, the margin path, refusals, end to end."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.distributions import Distribution
from sim.errors import ScenarioError
from sim.run.engine import simulate
from sim.scenario import Scenario, build_scenario, load_scenario
from sim.valuation.dcf import FAILURE_DRAW, Dcf
from tests.builders import scenario

DATA = Path(__file__).parent / "data"
AIRBNB = (
    Path(__file__).parent.parent / "scenarios" / "reproductions" / "damodaran-airbnb-2020.toml"
)

# A flat company: revenue 100 every year, margin 20%, tax 25%, no growth after the horizon.
R, M, T = 100.0, 0.2, 0.25
FLAT: dict[str, Any] = {
    "method": "dcf",
    "year": 2026,
    "operating_margin": M,
    "target_margin": M,
    "margin_year": 2026,
    "tax_rate": T,
    "sales_to_capital": 1e12,
    "wacc": 0.1,
    "terminal_growth": 0.0,
}


def _company(valuation: dict[str, Any], *, horizon: int = 2, growth: float = 0.0) -> Scenario:
    return scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": horizon},
        segments=[{"name": "a", "revenue": R, "growth": growth, "regions": {"X": 1.0}}],
        valuation=valuation,
    )


def _ev(sc: Scenario, n: int, seed: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    res = simulate(sc, n, seed=seed)
    assert res.kept.n == n  # every path kept: the sample itself
    ev: np.ndarray[Any, np.dtype[np.float64]] = res.kept.values.equity  # no cash
    return ev


def _within_4se(hits: np.ndarray[Any, np.dtype[np.bool_]], p: float) -> None:
    se = math.sqrt(p * (1.0 - p) / hits.size)
    assert abs(hits.mean() - p) <= 4 * se, (hits.mean(), p, se)


@pytest.mark.parametrize("horizon", [2, 3, 7])
def test_a_flat_company_is_a_perpetuity_at_any_horizon(horizon: int) -> None:
    sc = _company(FLAT, horizon=horizon)
    assert isinstance(sc.valuation, Dcf)
    ev = _ev(sc, 1000, seed=3)
    assert np.allclose(ev, R * M * (1 - T) / 0.1, rtol=1e-12)
    assert np.allclose(simulate(sc, 10, seed=3).kept.values.multiple, M * (1 - T) / 0.1)
    assert FAILURE_DRAW not in sc.scalar_inputs()  # no failure, no draw for it


def test_a_lognormal_wacc_gives_the_perpetuitys_probabilities() -> None:
    wacc = {"dist": "lognormal", "p50": 0.10, "p90": 0.14, "lower": 0.02, "upper": 0.5}
    sc = _company({**FLAT, "wacc": wacc})
    assert isinstance(sc.valuation, Dcf)
    n = 40_000
    ev = _ev(sc, n, seed=11)
    for x in (100.0, 150.0, 220.0):
        c = R * M * (1 - T) / x  # EV >= x  <=>  wacc <= c
        assert isinstance(sc.valuation.wacc, Distribution)
        _within_4se(ev >= x, float(sc.valuation.wacc.cdf(np.array([c]))[0]))


def test_failure_is_the_two_branch_mixture() -> None:
    wacc = {"dist": "lognormal", "p50": 0.10, "p90": 0.14, "lower": 0.02, "upper": 0.5}
    p, d = 0.3, 0.4
    sc = _company({**FLAT, "wacc": wacc, "failure_probability": p, "distress_proceeds": d})
    assert isinstance(sc.valuation, Dcf)
    assert sc.scalar_inputs()[FAILURE_DRAW].support() == (0.0, 1.0)
    n = 40_000
    ev = _ev(sc, n, seed=12)
    assert isinstance(sc.valuation.wacc, Distribution)
    cdf = sc.valuation.wacc.cdf
    for x in (60.0, 100.0, 150.0):
        c = R * M * (1 - T) / x
        # going concern: wacc <= c; failed: d x EV >= x, wacc <= d c.
        expected = (1 - p) * cdf(np.array([c]))[0] + p * cdf(np.array([d * c]))[0]
        _within_4se(ev >= x, float(expected))
    # With a fixed wacc the two branches are two values, in proportions p and 1 - p.
    fixed = _company({**FLAT, "failure_probability": p, "distress_proceeds": d})
    ev = _ev(fixed, n, seed=13)
    v = R * M * (1 - T) / 0.1
    assert np.all(np.isclose(ev, v) | np.isclose(ev, d * v))
    _within_4se(np.isclose(ev, d * v), p)


def test_gordon_growth_with_a_terminal_roic() -> None:
    w, g, roic, s2c, growth = 0.12, 0.04, 0.16, 2.0, 0.1
    base = {**FLAT, "wacc": w, "terminal_growth": g, "sales_to_capital": s2c}
    sc = _company({**base, "terminal_roic": roic}, growth=growth)
    ev = _ev(sc, 50, seed=5)
    r1, r2 = R * (1 + growth), R * (1 + growth) ** 2  # 2025, 2026 (the last year)
    fcff = r2 * M * (1 - T) - (r2 - r1) / s2c
    terminal = r2 * M * (1 + g) * (1 - T) * (1 - g / roic) / (w - g)
    assert np.allclose(ev, (fcff + terminal) / (1 + w), rtol=1e-12)
    # Without a ROIC the explicit years' reinvestment rule carries on: g R_N / s2c.
    ev = _ev(_company(base, growth=growth), 50, seed=5)
    terminal = (r2 * M * (1 + g) * (1 - T) - g * r2 / s2c) / (w - g)
    assert np.allclose(ev, (fcff + terminal) / (1 + w), rtol=1e-12)


def _reference_ev(
    revenue: list[float], v: int, m0: float, m1: float, span: int, t: float, s2c: float
) -> float:
    """The DCF year by year in plain Python (rows from the base year)."""
    w, g, roic = 0.1, 0.02, 0.2
    ev, ebit = 0.0, 0.0
    for k, row in enumerate(range(v, len(revenue))):
        m = m0 + (m1 - m0) * min(1.0, row / span)
        ebit = revenue[row] * m
        cash = ebit - t * max(ebit, 0.0) - (revenue[row] - revenue[row - 1]) / s2c
        ev += cash / (1 + w) ** (k + 1)
    nxt = ebit * (1 + g)
    tv = (nxt - t * max(nxt, 0.0)) * (1 - g / roic) / (w - g)
    return ev + tv / (1 + w) ** (len(revenue) - v)


def test_a_growing_loss_maker_against_a_year_by_year_reference() -> None:
    val = {
        **FLAT,
        "operating_margin": -0.5,
        "target_margin": 0.25,
        "margin_year": 2028,
        "terminal_growth": 0.02,
        "terminal_roic": 0.2,
        "sales_to_capital": 1.5,
    }
    sc = _company(val, horizon=6, growth=0.3)
    ev = _ev(sc, 20, seed=9)
    revenue = [R * 1.3**k for k in range(7)]
    assert np.allclose(ev, _reference_ev(revenue, 2, -0.5, 0.25, 4, T, 1.5), rtol=1e-10)


def test_the_margin_path_hits_the_target_in_margin_year() -> None:
    val = {
        **FLAT,
        "operating_margin": {"dist": "uniform", "min": -2.0, "max": 0.0},
        "target_margin": {"dist": "uniform", "min": 0.1, "max": 0.4},
        "margin_year": 2029,
    }
    sc = _company(val, horizon=7)
    dcf = sc.valuation
    assert isinstance(dcf, Dcf)
    rng = np.random.default_rng(21)
    draws = {
        "valuation.operating_margin": rng.uniform(-2.0, 0.0, 64),
        "valuation.target_margin": rng.uniform(0.1, 0.4, 64),
    }
    m = dcf.margins(2024, 8, draws)
    assert np.array_equal(m[0], draws["valuation.operating_margin"])
    for row in (5, 6, 7):  # 2029 and after: exactly the target
        assert np.array_equal(m[row], draws["valuation.target_margin"])
    steps = np.diff(m[:6], axis=0)  # linear up to it
    assert np.allclose(steps, steps[0])


def _refused(valuation: dict[str, Any], path: str, match: str, *, horizon: int = 2) -> str:
    with pytest.raises(ScenarioError, match=match) as info:
        _company(valuation, horizon=horizon)
    assert info.value.path == path
    return str(info.value)


def test_wacc_at_or_below_terminal_growth_is_refused() -> None:
    text = _refused({**FLAT, "wacc": 0.03, "terminal_growth": 0.03}, "valuation.wacc", "exceed")
    assert "valuation.terminal_growth" in text
    # Over the supports: the wacc's lowest value against the growth's highest.
    uniform_wacc = {"dist": "uniform", "min": 0.02, "max": 0.2}
    text = _refused(
        {**FLAT, "wacc": uniform_wacc, "terminal_growth": 0.03}, "valuation.wacc", "exceed"
    )
    assert "lowest value 0.02" in text and "highest 0.03" in text
    uniform_g = {"dist": "uniform", "min": 0.0, "max": 0.12}
    text = _refused(
        {**FLAT, "wacc": 0.1, "terminal_growth": uniform_g}, "valuation.wacc", "exceed"
    )
    assert "lowest value 0.1" in text and "highest 0.12" in text
    # Within both supports it loads.
    _company({**FLAT, "wacc": uniform_wacc, "terminal_growth": -0.01})


def test_a_horizon_short_of_margin_year_is_refused() -> None:
    _refused({**FLAT, "margin_year": 2027}, "valuation.margin_year", "horizon must reach")
    _refused({**FLAT, "margin_year": 2024}, "valuation.margin_year", "2025..2026")
    _refused({**FLAT, "margin_year": 2026.5}, "valuation.margin_year", "integer")
    _company({**FLAT, "margin_year": 2027}, horizon=3)


def test_unknown_and_other_methods_keys_are_refused() -> None:
    _refused({**FLAT, "multiple": 10.0}, "valuation.multiple", "unknown key 'multiple'")
    _refused({**FLAT, "terminal_rioc": 0.1}, "valuation.terminal_rioc", "unknown key")
    missing = {k: v for k, v in FLAT.items() if k != "wacc"}
    _refused(missing, "valuation.wacc", "required key is missing")


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("tax_rate", 1.0, "tax rate must lie below 1"),
        ("tax_rate", -0.1, "tax rate must lie in"),
        ("operating_margin", -11.0, "margin must lie in"),
        ("target_margin", 1.5, "margin must lie in"),
        ("wacc", 0.0, "wacc must lie in"),
        ("wacc", 1.0, "wacc must lie below 1"),
        ("wacc", {"dist": "lognormal", "p50": 0.1, "p90": 0.14}, "truncate it with upper"),
        ("sales_to_capital", 0.0, "sales to capital must lie in"),
        ("terminal_roic", 0.0, "ROIC must lie in"),
        ("failure_probability", 1.5, "probability must lie in"),
        ("distress_proceeds", -0.1, "fraction must lie in"),
    ],
)
def test_rates_outside_their_ranges_are_refused(key: str, value: Any, match: str) -> None:
    _refused({**FLAT, key: value}, f"valuation.{key}", match)


def test_the_small_dcf_scenario_runs_with_every_dcf_key() -> None:
    path = DATA / "dcf_small.toml"
    raw = tomllib.loads(path.read_text("utf-8"))
    # The practitioners' keys are the Airbnb reproduction's (tests/test_dcf_conventions.py);
    # margins replaces target_margin and margin_year, so no one file has every key.
    reproduction = tomllib.loads(AIRBNB.read_text("utf-8"))
    assert set(raw["valuation"]) | set(reproduction["valuation"]) >= set(Dcf.own_keys)
    assert set(raw["valuation"]) >= set(Dcf.own_keys) - set(reproduction["valuation"])
    sc = load_scenario(path)
    dcf = sc.valuation
    assert isinstance(dcf, Dcf)
    assert dcf.describe() == "DCF of 2026-2030 cash flows at wacc"
    assert "terminal growth fixed(0.03)" in dcf.describe(lambda d: d.describe())
    assert set(dcf.inputs()) <= set(Dcf.input_labels)
    assert sc.to_dict()["valuation"]["margin_year"] == 2029
    res = simulate(sc, 4000, seed=17)
    values = res.kept.values
    ev = values.equity - 1.05e9
    assert np.all(np.isfinite(ev))
    assert np.allclose(values.multiple, ev / values.revenue[:, 2])


def test_a_failed_path_is_never_worth_more_than_its_going_concern() -> None:
    """Fixed failure keeps d x a positive going-concern EV, and leaves a negative one as it
    is: failing never lifts a path (the old rule floored a failed EV at 0, so ~92% of
    dcf.toml's paths, negative going concerns, gained by failing)."""
    losing = _company({**FLAT, "operating_margin": -M, "target_margin": -M})
    going = _ev(losing, 200, seed=14)
    assert np.allclose(going, 0.0)  # EV -200 and no cash: limited liability floors it
    # On the small scenario (about half its going concerns are negative), every failed
    # path keeps d x its going-concern EV where that is positive, the EV where not.
    sc = load_scenario(DATA / "dcf_small.toml")
    raw = tomllib.loads((DATA / "dcf_small.toml").read_text("utf-8"))
    raw["valuation"]["failure_probability"] = 0.0
    alive = build_scenario(raw, source=None, own_name="t")
    res, res_alive = simulate(sc, 4000, seed=16), simulate(alive, 4000, seed=16)
    cash = 1.05e9
    eq, eq_alive = res.kept.values.equity, res_alive.kept.values.equity
    fails = res.kept.inputs[FAILURE_DRAW] < 0.2
    ev_alive = eq_alive - cash
    assert 0.1 < np.mean(ev_alive < 0) < 0.9
    expected = np.maximum(np.where(ev_alive > 0, 0.3 * ev_alive, ev_alive) + cash, 0.0)
    assert np.allclose(eq[fails], expected[fails], rtol=1e-12, atol=1.0)
    assert np.array_equal(eq[~fails], eq_alive[~fails])
    assert np.all(eq <= eq_alive) and np.all(eq >= 0.0)
