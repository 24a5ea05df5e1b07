"""The DCF as practitioners write it (issue 21): limited liability, failure that costs,
the runway rule, year-by-year inputs, the NOL, options and mid-year discounting."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.run.engine import simulate
from sim.scenario import Scenario
from sim.valuation.dcf import FAILURE_DRAW, Dcf
from tests.builders import scenario

R = 100.0
BASE: dict[str, Any] = {
    "method": "dcf",
    "year": 2025,
    "operating_margin": 0.2,
    "target_margin": 0.2,
    "margin_year": 2025,
    "tax_rate": 0.25,
    "sales_to_capital": 1e12,
    "wacc": 0.1,
    "terminal_growth": 0.0,
}


def _company(
    valuation: dict[str, Any],
    *,
    horizon: int = 3,
    growth: Any = 0.0,
    offering: dict[str, Any] | None = None,
) -> Scenario:
    sections: dict[str, Any] = {
        "scenario": {"name": "t", "base_year": 2024, "horizon": horizon},
        "segments": [{"name": "a", "revenue": R, "growth": growth, "regions": {"X": 1.0}}],
        "valuation": valuation,
    }
    if offering is not None:
        sections["offering"] = offering
    return scenario(**sections)


def _equity(sc: Scenario, n: int = 64, seed: int = 3) -> Any:
    res = simulate(sc, n, seed=seed)
    assert res.kept.n == n
    return res.kept.values


# --------------------------------------------------------------------------- properties

_margin = st.floats(-3.0, 0.5)
_cash = st.floats(-400.0, 400.0)
_wacc = st.floats(0.05, 0.3)
_prob = st.floats(0.0, 1.0)
_rule = st.sampled_from(["fixed", "both", "runway"])


def _random_company(
    m0: float, m1: float, cash: float, wacc: float, d: float, rule: str, p: float, growth: float
) -> dict[str, Any]:
    val: dict[str, Any] = {
        **BASE,
        "operating_margin": m0,
        "target_margin": {"dist": "uniform", "min": m1 - 0.3, "max": m1},
        "margin_year": 2027,
        "sales_to_capital": 1.5,
        "wacc": {"dist": "uniform", "min": wacc, "max": wacc + 0.05},
        "terminal_growth": 0.02,
        "terminal_roic": 0.12,
        "net_cash": cash,
        "distress_proceeds": d,
        "failure": rule,
        "nol": 50.0,
        "options_value": 10.0,
    }
    if rule != "runway":
        val["failure_probability"] = p
    return val


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m0=_margin,
    m1=_margin,
    cash=_cash,
    wacc=_wacc,
    d=_prob,
    p=_prob,
    rule=_rule,
    growth=st.floats(-0.5, 1.5),
)
def test_limited_liability_no_equity_and_no_share_below_zero(
    m0: float, m1: float, cash: float, wacc: float, d: float, p: float, rule: str, growth: float
) -> None:
    sc = _company(
        _random_company(m0, m1, cash, wacc, d, rule, p, growth),
        horizon=4,
        growth=growth,
        offering={"shares_outstanding": 10, "price_range": ["US$1", "US$2"]},
    )
    values = _equity(sc, n=200, seed=5)
    assert np.all(values.equity >= 0.0)
    assert values.value_per_share is not None and np.all(values.value_per_share >= 0.0)
    assert np.all(values.equity_unshocked >= 0.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m0=_margin,
    m1=_margin,
    cash=_cash,
    wacc=_wacc,
    d=_prob,
    p=st.tuples(_prob, _prob),
    rule=st.sampled_from(["fixed", "both"]),
    growth=st.floats(-0.5, 1.5),
)
def test_raising_the_failure_probability_never_raises_any_quantile(
    m0: float,
    m1: float,
    cash: float,
    wacc: float,
    d: float,
    p: tuple[float, float],
    rule: str,
    growth: float,
) -> None:
    """Common random numbers: the failure draw is one uniform per path, so a larger
    probability fails a superset of the paths; each fails to at most its going concern."""
    lo, hi = sorted(p)
    runs = []
    for prob in (0.0, lo, hi):
        val = _random_company(m0, m1, cash, wacc, d, rule, prob, growth)
        runs.append(_equity(_company(val, horizon=4, growth=growth), n=300, seed=9).equity)
    alive, low, high = runs
    assert np.all(high <= low) and np.all(low <= alive)  # path by path
    qs = np.linspace(0.0, 1.0, 21)
    assert np.all(np.quantile(high, qs) <= np.quantile(low, qs))
    assert np.all(np.quantile(low, qs) <= np.quantile(alive, qs))


# --------------------------------------------------------------------------- failure


def test_fixed_failure_keeps_d_of_a_positive_going_concern_and_the_cash() -> None:
    """Damodaran's rule on a positive going concern: the business fetches d x its value,
    the cash stays; a negative going concern stays as it is (never lifted to 0)."""
    v = R * 0.2 * 0.75 / 0.1  # a perpetuity: 150
    val = {**BASE, "failure_probability": 0.5, "distress_proceeds": 0.4, "net_cash": 30.0}
    values = _equity(_company(val), n=400)
    fails = np.isclose(values.equity, 0.4 * v + 30.0)
    assert np.all(fails | np.isclose(values.equity, v + 30.0))
    assert 0.3 < fails.mean() < 0.7
    losing = {**val, "operating_margin": -0.1, "target_margin": -0.1, "net_cash": 150.0}
    values = _equity(_company(losing), n=400)
    assert np.allclose(values.equity, -R * 0.1 / 0.1 + 150.0)  # failed or not: 50


def test_runway_failure_when_the_burn_uses_up_the_cash() -> None:
    """Losing 30 a year with 70 of cash: the cash runs out in the third year (2027)."""
    val = {
        **BASE,
        "operating_margin": -0.3,
        "target_margin": -0.3,
        "net_cash": 70.0,
        "failure": "runway",
        "distress_proceeds": 0.5,
    }
    sc = _company(val, horizon=4)
    assert isinstance(sc.valuation, Dcf)
    assert "valuation.failure_probability" not in sc.scalar_inputs()
    assert FAILURE_DRAW not in sc.scalar_inputs()
    values = _equity(sc)
    # What is left at the end of 2027 is 70 - 90 = -20 owed, the rest of the business is
    # worth less than nothing (a loss-making perpetuity), so nothing is sold: -20 x DF_3.
    # Equity max(-20 / 1.1^3, 0) = 0; the going concern is 70 - 300 < 0 too.
    assert np.allclose(values.equity, 0.0)
    # A company whose margin climbs to 30% by 2028 loses 15 in 2025 alone: 20 of cash
    # see it through.
    rich = {**val, "net_cash": 20.0, "margin_year": 2028, "target_margin": 0.3}
    parts = _parts(_company(rich, horizon=4))
    assert not parts.runway_failed.any()
    # With 10 it fails in 2025 and keeps d x the value of 2026 on, less the 5 it owes.
    poor = {**rich, "net_cash": 10.0}
    sc = _company(poor, horizon=4)
    parts = _parts(sc)
    assert parts.runway_failed.all()
    margins = [-0.3, -0.3 + 0.6 / 4 * 1, -0.3 + 0.6 / 4 * 2, -0.3 + 0.6 / 4 * 3, 0.3]
    fcff = [R * m * (0.75 if m > 0 else 1.0) for m in margins[1:]]  # 2025..2028
    df = [1.1**-k for k in range(1, 5)]
    left = 10.0 + np.cumsum(fcff)
    t = int(np.argmax(left < 0))
    assert t == 0
    tv = R * 0.3 * 0.75 / 0.1 * df[-1]
    after = sum(f * x for f, x in zip(fcff[t + 1 :], df[t + 1 :], strict=True)) + tv
    expected_equity = 0.5 * max(after, 0.0) + df[t] * left[t]
    going = sum(f * x for f, x in zip(fcff, df, strict=True)) + tv
    assert np.allclose(parts.ev, min(expected_equity - 10.0, going), rtol=1e-12)
    assert np.all(parts.ev <= parts.going_concern)


def _parts(sc: Scenario) -> Any:
    res = simulate(sc, 16, seed=1)
    assert res.kept.dcf is not None  # the run values the kept paths' DCF in its parts
    return res.kept.dcf.parts


def test_runway_counts_the_deals_proceeds_at_the_range_low() -> None:
    """The deal raises at least low x shares sold x (1 - fees): that is the runway's cash."""
    val = {
        **BASE,
        "operating_margin": -0.3,
        "target_margin": -0.3,
        "net_cash": 40.0,
        "failure": "runway",
    }
    deal = {
        "shares_before": 100,
        "new_shares": 10,
        "price_range": ["US$3", "US$4"],
    }
    # 40 + 10 x 3 = 70 of cash: the 30-a-year burn runs out in the third year (2027);
    # with 40 alone it would in the second.
    from sim.model.core import runway_cash

    sc = _company(val, horizon=4, offering=deal)
    draws = {
        k: np.full(1, float(d.ppf(np.array([0.5]))[0])) for k, d in sc.scalar_inputs().items()
    }
    assert np.allclose(runway_cash(sc, draws), 70.0)


# --------------------------------------------------------------------------- conventions


def test_a_wacc_by_year_compounds_and_the_terminal_rate_is_its_own() -> None:
    rates = [0.08, 0.09, 0.10]
    val = {**BASE, "wacc": rates, "terminal_wacc": 0.12}
    sc = _company(val)
    assert {"valuation.wacc[1]", "valuation.wacc[3]"} <= set(sc.scalar_inputs())
    fcff = R * 0.2 * 0.75
    df = np.cumprod([1 / (1 + r) for r in rates])  # rows 2025, 2026, 2027
    expected = fcff * df.sum() + fcff / 0.12 * df[-1]
    assert np.allclose(_equity(sc).equity, expected, rtol=1e-12)
    # Without terminal_wacc the last year's rate is the terminal one.
    expected = fcff * df.sum() + fcff / 0.10 * df[-1]
    assert np.allclose(_equity(_company({**BASE, "wacc": rates})).equity, expected, rtol=1e-12)


def test_mid_year_discounting_brings_every_flow_half_a_year_forward() -> None:
    end = _equity(_company(BASE)).equity
    mid = _equity(_company({**BASE, "discounting": "mid-year"})).equity
    assert np.allclose(mid, end * math.sqrt(1.1), rtol=1e-12)


def test_the_nol_shields_profits_until_used_and_losses_add_to_it() -> None:
    """Margins -10%, 20%, 20% on revenue 100: the loss of 10 adds to an NOL of 15; 20 of
    year 2's 20 is shielded, 5 of year 3's."""
    val = {
        **BASE,
        "operating_margin": 0.0,
        "margin_year": None,
        "target_margin": None,
        "margins": [-0.1, 0.2, 0.2],
        "nol": 15.0,
        "terminal_tax_rate": 0.3,
    }
    del val["margin_year"], val["target_margin"]
    sc = _company(val)
    taxes = [0.0, 0.0, 0.25 * 15.0]
    ebit = [-10.0, 20.0, 20.0]
    df = [1.1**-k for k in (1, 2, 3)]
    explicit = sum((e - t) * x for e, t, x in zip(ebit, taxes, df, strict=True))
    terminal = 20.0 * 0.7 / 0.1 * df[-1]  # taxed in full, at the terminal rate
    assert np.allclose(_equity(sc).equity, explicit + terminal, rtol=1e-12)
    # Without nol no loss is carried: tax on each positive EBIT.
    plain = {k: v for k, v in val.items() if k != "nol"}
    explicit = sum((e - 0.25 * max(e, 0)) * x for e, x in zip(ebit, df, strict=True))
    assert np.allclose(_equity(_company(plain)).equity, explicit + terminal, rtol=1e-12)


def test_tax_and_sales_to_capital_by_year_and_options_on_the_equity() -> None:
    val = {
        **BASE,
        "tax_rate": [0.0, 0.1, 0.2],
        "sales_to_capital": [1.0, 2.0, 4.0],
        "options_value": 20.0,
        "net_cash": 5.0,
    }
    sc = _company(val, growth=[0.1, 0.2, 0.0])
    revenue = [R, 110.0, 132.0, 132.0]
    values = _equity(sc)
    assert np.allclose(values.revenue[:, 1:], revenue[1:], rtol=1e-12)
    fcff = [
        revenue[k] * 0.2 * (1 - [0.0, 0.1, 0.2][k - 1])
        - (revenue[k] - revenue[k - 1]) / [1.0, 2.0, 4.0][k - 1]
        for k in (1, 2, 3)
    ]
    df = [1.1**-k for k in (1, 2, 3)]
    terminal = 132.0 * 0.2 * 0.8 / 0.1 * df[-1]
    ev = sum(f * x for f, x in zip(fcff, df, strict=True)) + terminal
    assert np.allclose(values.equity, ev + 5.0 - 20.0, rtol=1e-12)


def test_growth_by_year_is_one_input_per_year_and_correlates() -> None:
    growth = [
        {"dist": "uniform", "min": 0.0, "max": 0.5},
        0.1,
        {"dist": "uniform", "min": -0.2, "max": 0.2},
    ]
    sc = scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 3},
        segments=[{"name": "a", "revenue": R, "growth": growth, "regions": {"X": 1.0}}],
        valuation={**BASE, "wacc": {"dist": "uniform", "min": 0.08, "max": 0.12}},
        correlations=[{"between": ["segments.a.growth[1]", "valuation.wacc"], "spearman": 0.5}],
    )
    names = set(sc.scalar_inputs())
    assert {"segments.a.growth[1]", "segments.a.growth[2]", "segments.a.growth[3]"} <= names
    assert "segments.a.growth" not in names
    res = simulate(sc, 4000, seed=2)
    rev = res.kept.values.revenue
    g1 = res.kept.inputs["segments.a.growth[1]"]
    g3 = res.kept.inputs["segments.a.growth[3]"]
    assert np.allclose(rev[:, 1], R * (1 + g1), rtol=1e-12)
    assert np.allclose(rev[:, 3], R * (1 + g1) * 1.1 * (1 + g3), rtol=1e-12)
    rho = np.corrcoef(
        np.argsort(np.argsort(g1)), np.argsort(np.argsort(res.kept.inputs["valuation.wacc"]))
    )
    assert 0.4 < rho[0, 1] < 0.6


# --------------------------------------------------------------------------- refusals


def _refused(valuation: dict[str, Any], path: str, match: str, **kw: Any) -> None:
    with pytest.raises(ScenarioError, match=match) as info:
        _company(valuation, **kw)
    assert info.value.path == path


def test_refusals_name_the_key() -> None:
    _refused({**BASE, "wacc": [0.1, 0.1]}, "valuation.wacc", "one entry per simulated year, 3")
    _refused({**BASE, "tax_rate": [0.2, 1.0, 0.2]}, "valuation.tax_rate[2]", "below 1")
    _refused(
        {**BASE, "wacc": [0.1, 0.1, 0.02], "terminal_growth": 0.03}, "valuation.wacc[3]", "exceed"
    )
    _refused(
        {**BASE, "terminal_wacc": 0.02, "terminal_growth": 0.03},
        "valuation.terminal_wacc",
        "terminal_wacc's lowest value 0.02",
    )
    _refused(
        {**BASE, "failure": "runway", "failure_probability": 0.1},
        "valuation.failure_probability",
        "both",
    )
    _refused({**BASE, "failure": "sometimes"}, "valuation.failure", "failure rule")
    _refused({**BASE, "discounting": "continuous"}, "valuation.discounting", "discounting")
    _refused({**BASE, "margins": [0.1, 0.1, 0.1]}, "valuation.target_margin", "drop target_margin")
    _refused({**BASE, "margins": 0.1}, "valuation.margins", "expected an array")
    _refused({**BASE, "nol": -5.0}, "valuation.nol", "non-negative money")
    _refused(BASE, "segments.a.growth", "one growth rate per simulated year, 3", growth=[0.1])
    with pytest.raises(ScenarioError, match="does not fade") as info:
        scenario(
            scenario={"name": "t", "base_year": 2024, "horizon": 1},
            segments=[
                {"name": "a", "revenue": R, "growth": [0.1], "fade": 0.5, "regions": {"X": 1.0}}
            ],
            valuation={**BASE},
        )
    assert info.value.path == "segments.a.fade"


def test_defaults_leave_the_old_keys_output_as_it_was() -> None:
    """Without the new keys, settings() writes exactly the keys it wrote before them."""
    sc = _company(BASE)
    assert isinstance(sc.valuation, Dcf)
    assert set(sc.valuation.settings()) == {
        "operating_margin",
        "target_margin",
        "margin_year",
        "tax_rate",
        "sales_to_capital",
        "wacc",
        "terminal_growth",
        "terminal_roic",
        "failure_probability",
        "distress_proceeds",
    }


# --------------------------------------------------------------------------- attribution


def test_the_attribution_never_credits_failure_with_value() -> None:
    """The compare bridge (sim.studies.attribution): raising the failure probability, alone or
    beside another key, gets a contribution <= 0 to the median and to each target's P.
    (Under the old rule this small company, half of whose going concerns are negative,
    gained by failing.)"""
    import tomllib
    from pathlib import Path

    from sim.studies.attribution import attribute

    data = Path(__file__).parent / "data" / "dcf_small.toml"
    a = tomllib.loads(data.read_text("utf-8"))
    a["valuation"]["failure_probability"] = 0.0
    b = tomllib.loads(data.read_text("utf-8"))
    b["valuation"]["failure_probability"] = 0.6
    b["valuation"]["terminal_growth"] = 0.01  # a second key: Shapley over interactions
    targets = [("1.1 bn", 1.1e9, "fair"), ("1.5 bn", 1.5e9, "fair")]
    att = attribute(
        a,
        b,
        names=("a", "b"),
        source=None,
        targets=targets,
        paths=4000,
        seed=7,
        sampler="random",
    )
    assert att.method == "shapley" and att.error is None
    by_key = {c.key: c for c in att.contributions}
    failure = by_key["valuation.failure_probability"]
    assert failure.median_usd <= 0
    assert all(p <= 0 for p in failure.p)
    assert failure.p[0] < -0.05  # it costs: fewer paths worth more than the cash
