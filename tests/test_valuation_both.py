"""``method = "both"``: the multiple and the DCF on the same paths, ``valuation.primary``."""

from __future__ import annotations

import io
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim import format as fmt
from sim.analysis.expectations import check_expectation
from sim.analysis.summary import summarise
from sim.cli.printing import _print_summary
from sim.errors import ScenarioError
from sim.run.engine import simulate
from sim.scenario import Scenario, build_scenario
from sim.valuation.both import Both
from sim.valuation.dcf import Dcf

DATA = Path(__file__).parent / "data"
MULTIPLE = {"multiple": {"dist": "lognormal", "p50": 20, "p90": 40}, "growth_elasticity": 0.5}


def _raw(method: str, **extra: Any) -> dict[str, Any]:
    """dcf_small.toml with ``method`` and the EV/sales keys (under ``both``) added."""
    raw: dict[str, Any] = tomllib.loads((DATA / "dcf_small.toml").read_text("utf-8"))
    val = raw["valuation"]
    ev_keys = {k: val.pop(k) for k in list(val) if k in MULTIPLE}
    dcf_keys = {k: val.pop(k) for k in list(val) if k in Dcf.own_keys}
    val["method"] = method
    if method in ("ev_to_sales", "both"):
        val.update(MULTIPLE, **ev_keys)
    if method in ("dcf", "both"):
        val.update(dcf_keys)
    else:
        del raw["correlations"]  # between two DCF inputs
    val.update(extra)
    expect = {"metric": "valuation", "stat": "p_at_least", "threshold": "2B", "at_most": 1}
    raw["expect"] = [expect]
    return raw


def _load(method: str, **extra: Any) -> Scenario:
    return build_scenario(_raw(method, **extra), source=None, own_name="dcf_small")


def test_both_gives_each_methods_own_values_path_by_path() -> None:
    """Common random numbers: each input keeps its keyed stream, so a path's two values
    are exactly those of the separate runs (with the offer price each value gives)."""
    n, seed = 3000, 23
    both = simulate(_load("both"), n, seed=seed).kept.values
    dcf = simulate(_load("dcf"), n, seed=seed).kept.values
    multiple = simulate(_load("ev_to_sales"), n, seed=seed).kept.values
    assert both.equity_dcf is not None and both.equity_multiple is not None
    assert np.array_equal(both.equity_dcf, dcf.equity)
    assert np.array_equal(both.equity_multiple, multiple.equity)
    assert dcf.equity_dcf is not None and np.array_equal(dcf.equity_dcf, dcf.equity)
    assert multiple.equity_dcf is None and multiple.equity_multiple is None
    # The primary (the multiple by default) is the run's valuation, offer and per share.
    assert np.array_equal(both.equity, multiple.equity)
    assert both.offer_price_usd is not None and multiple.offer_price_usd is not None
    assert np.array_equal(both.offer_price_usd, multiple.offer_price_usd)
    assert np.array_equal(both.multiple, multiple.multiple)
    # The two disagree (else the comparison tests nothing).
    assert not np.allclose(both.equity_dcf, both.equity_multiple)


def test_primary_says_which_value_targets_pricing_and_expectations_read() -> None:
    n, seed = 3000, 29
    runs = {p: simulate(_load("both", primary=p), n, seed=seed) for p in ("multiple", "dcf")}
    alone = {
        "multiple": simulate(_load("ev_to_sales"), n, seed=seed),
        "dcf": simulate(_load("dcf"), n, seed=seed),
    }
    for primary, res in runs.items():
        other = alone[primary]
        assert np.array_equal(res.kept.values.equity, other.kept.values.equity)
        s, o = summarise(res), summarise(other)
        assert s.targets == o.targets
        assert [p.p_fair_at_least for p in s.pricing] == [p.p_fair_at_least for p in o.pricing]
        assert s.offer_price == o.offer_price
        e = res.scenario.expectations[0]
        assert check_expectation(res, e).estimate == check_expectation(other, e).estimate
    # The values beside the primary do not depend on which one it is.
    a, b = (runs[p].kept.values for p in ("multiple", "dcf"))
    assert a.equity_dcf is not None and b.equity_dcf is not None
    assert np.array_equal(a.equity_dcf, b.equity_dcf)
    assert not np.array_equal(a.equity, b.equity)


def test_summary_json_has_each_method_and_their_ratio() -> None:
    res = simulate(_load("both", primary="dcf"), 4000, seed=31)
    data = json.loads(summarise(res).to_json())
    methods = data["methods"]
    assert methods["primary"] == "dcf"
    values = res.kept.values
    assert values.equity_dcf is not None and values.equity_multiple is not None
    ratio = values.equity_dcf / values.equity_multiple
    for key, x in (("dcf", values.equity_dcf), ("multiple", values.equity_multiple)):
        assert methods[key]["mean"] == pytest.approx(float(x.mean()), rel=1e-9)
        assert methods[key]["quantiles"]["0.5"] == pytest.approx(float(np.quantile(x, 0.5)))
    assert methods["dcf_to_multiple"]["quantiles"]["0.5"] == pytest.approx(
        float(np.quantile(ratio, 0.5))
    )
    # The existing block is the primary's.
    assert data["valuation"] == methods["dcf"]
    # One method alone has no block.
    alone = json.loads(summarise(simulate(_load("dcf"), 500, seed=31)).to_json())
    assert "methods" not in alone


def test_dcf_value_is_an_expectation_metric() -> None:
    raw = _raw("both")
    raw["expect"] = [
        {"metric": "dcf_value", "stat": "quantile", "q": 0.5, "between": ["-100B", "100B"]}
    ]
    sc = build_scenario(raw, source=None, own_name="t")
    res = simulate(sc, 2000, seed=3)
    est = check_expectation(res, sc.expectations[0]).estimate
    assert res.kept.values.equity_dcf is not None
    assert est == pytest.approx(float(np.quantile(res.kept.values.equity_dcf, 0.5)), rel=1e-9)
    raw = _raw("ev_to_sales")
    raw["expect"] = [{"metric": "dcf_value", "stat": "mean", "at_least": 0}]
    with pytest.raises(ScenarioError, match="dcf_value needs method") as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "expect[0].metric"


def test_both_parses_both_tables_keys_and_refuses_a_bad_primary() -> None:
    sc = _load("both")
    val = sc.valuation
    assert isinstance(val, Both) and val.primary == "multiple"
    assert val.dcf.last_year == 2030  # fit_years reached the DCF
    assert {"valuation.multiple", "valuation.wacc"} <= set(sc.scalar_inputs())
    assert "(primary)" in val.describe()
    assert sc.to_dict()["valuation"]["primary"] == "multiple"
    with pytest.raises(ScenarioError, match="did you mean 'dcf'") as info:
        _load("both", primary="dfc")
    assert info.value.path == "valuation.primary"
    raw = _raw("both")
    del raw["valuation"]["wacc"]
    with pytest.raises(ScenarioError, match="required key is missing") as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "valuation.wacc"
    with pytest.raises(ScenarioError, match="unknown key 'primary'"):
        _load("dcf", primary="dcf")
    assert math.isfinite(sc.valuation.year)


def test_the_run_prints_the_value_beside_the_primary_and_the_ratio() -> None:
    res = simulate(_load("both", primary="dcf"), 2000, seed=37)
    summary = summarise(res)
    out = io.StringIO()
    _print_summary(summary, out, valuation=res.scenario.valuation)
    text = out.getvalue()
    methods = summary.methods
    assert methods is not None
    assert (
        f"beside it, by the multiple: p5 {fmt.money(methods.multiple.quantiles.p5, reading=True)}"
        in text
    )
    assert f"p50 ×{fmt.number(methods.ratio.median, 2)}" in text
