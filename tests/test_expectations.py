"""Expectations and the metric registry: every metric a run streams or counts is read back.

Each estimate is checked against the kept per-path arrays of a run that keeps every path,
so these hold whatever the registry's layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim import metrics
from sim.errors import ScenarioError, SimError
from sim.run.engine import Result, simulate
from sim.scenario import Expectation
from sim.serial import serialise
from sim.stats import wilson_interval
from sim.testing import (
    ExpectationOutcome,
    assert_expectation,
    check_expectation,
    decide,
    metric_estimate,
)
from tests.builders import scenario

PATHS = 3_000
DATA = Path(__file__).resolve().parent / "data"

SHOCK = {
    "name": "ban",
    "regions": ["X"],
    "annual_probability": 0.3,
    "severity": 0.5,
    "recovery_years": 1.0,
}


@pytest.fixture(scope="module")
def run() -> Result:
    s = scenario(
        segments=[
            {
                "name": "a",
                "revenue": 100.0,
                "growth": {"dist": "normal", "mean": 0.5, "sd": 0.3, "lower": -0.9},
                "regions": {"X": 0.6, "Y": 0.4},
                "region_concentration": 20,
            }
        ],
        shocks=[SHOCK],
        valuation={"year": 2026, "multiple": {"dist": "uniform", "min": 5, "max": 15}},
        offering={"shares_outstanding": 100, "price_range": [15.0, 25.0]},
        targets=[{"label": "t1", "value": 2000.0}],
        expect=[
            {"metric": "hhi", "stat": "p_below", "threshold": 0.6, "at_most": 1.0},
            {"metric": "revenue.2025", "stat": "quantile", "q": 0.5, "at_least": 0},
        ],
    )
    return simulate(s, PATHS, seed=11, keep=PATHS)


def test_every_streamed_metric_is_read_from_its_per_path_values(run: Result) -> None:
    s = run.scenario
    expected = {"valuation", "valuation_unshocked", "hhi", "top_region_share"}
    expected |= {f"revenue.{y}" for y in (s.base_year, *s.years)} | {"value_per_share"}
    expected |= {"market_value.offer", "pre_offer", "offer_price"}
    assert set(run.streams) == expected
    kept = run.kept
    columns = {
        "valuation": kept.values.equity,
        "valuation_unshocked": kept.values.equity_unshocked,
        "hhi": kept.values.hhi,
        "top_region_share": kept.values.top_region_share,
        "value_per_share": kept.values.value_per_share,
        "market_value.offer": kept.values.market_value_offer,
        "market_value.fair": kept.values.equity,
        "pre_offer": kept.values.pre_offer,
        "offer_price": kept.values.offer_price_usd,
        **{
            f"revenue.{y}": kept.values.revenue[:, j]
            for j, y in enumerate((s.base_year, *s.years))
        },
    }
    for name, x in columns.items():
        assert x is not None
        mean, _ = metric_estimate(run, name, "mean")
        assert mean == pytest.approx(float(np.mean(x)), rel=1e-9), name
        median, (lo, hi) = metric_estimate(run, name, "quantile", q=0.5)
        assert median == float(np.quantile(x, 0.5)), name
        assert lo <= median <= hi


def test_thresholds_counted_exactly(run: Result) -> None:
    kept = run.kept
    cases = [
        ("valuation", 2000.0, kept.values.equity),  # a target
        ("valuation_unshocked", 2000.0, kept.values.equity_unshocked),
        ("value_per_share", 15.0, kept.values.value_per_share),  # the price range
        ("value_per_share", 25.0, kept.values.value_per_share),
        ("hhi", 0.6, kept.values.hhi),  # an expectation's threshold
    ]
    for name, threshold, x in cases:
        assert x is not None
        count = int(np.sum(x >= threshold))
        p, ci = metric_estimate(run, name, "p_at_least", threshold=threshold)
        assert (p, ci) == (count / PATHS, wilson_interval(count, PATHS)), name
        p_below, _ = metric_estimate(run, name, "p_below", threshold=threshold)
        assert p_below == (PATHS - count) / PATHS
    with pytest.raises(SimError, match="was not counted"):
        metric_estimate(run, "valuation", "p_at_least", threshold=1234.0)
    with pytest.raises(SimError, match="was not counted"):
        metric_estimate(run, "revenue.2026", "p_below", threshold=None)


def test_shock_indicator_is_counted_whatever_the_stat(run: Result) -> None:
    count = int(run.kept.values.shock_any[:, 0].sum())
    assert count == int(run.shock_counts[0]) > 0
    for stat in ("mean", "quantile", "p_at_least"):
        p, ci = metric_estimate(run, "shocks.ban.p_any", stat)
        assert (p, ci) == (count / PATHS, wilson_interval(count, PATHS))
    with pytest.raises(SimError, match="no shock named 'bna'"):
        metric_estimate(run, "shocks.bna.p_any", "mean")


@pytest.mark.parametrize(
    ("metric", "stat", "message"),
    [
        ("revenue.2030", "mean", "the run has no metric 'revenue.2030'"),
        ("volume", "mean", "the run has no metric 'volume'"),
        ("valuation", "median", "unknown stat 'median'"),
        ("valuation", "quantile", "a quantile needs q"),
    ],
)
def test_questions_the_run_cannot_answer(
    run: Result, metric: str, stat: str, message: str
) -> None:
    with pytest.raises(SimError, match=message):
        metric_estimate(run, metric, stat)


def test_check_and_assert_decide_with_the_interval(run: Result) -> None:
    outcomes = [check_expectation(run, e) for e in run.scenario.expectations]
    assert [o.status for o in outcomes] == ["passed", "passed"]
    p, _ = metric_estimate(run, "valuation", "p_at_least", threshold=2000.0)
    failing = Expectation("f", "valuation", "p_at_least", 2000.0, None, (p + 0.2, None))
    outcome = check_expectation(run, failing)
    assert isinstance(outcome, ExpectationOutcome)
    assert (outcome.status, outcome.passed) == ("failed", False)
    with pytest.raises(AssertionError, match="lies outside the bound"):
        assert_expectation(run, failing)
    unsure = Expectation("u", "valuation", "p_at_least", 2000.0, None, (None, p))
    assert assert_expectation(run, unsure).passed is None


def test_decide() -> None:
    assert decide((0.1, 0.2), (0.0, 0.3)) == "passed"
    assert decide((0.1, 0.2), (0.25, None)) == "failed"
    assert decide((0.1, 0.2), (None, 0.05)) == "failed"
    assert decide((0.1, 0.2), (0.15, None)) == "inconclusive"


def test_registry_names_the_patterns_in_one_place() -> None:
    assert metrics.EXPECT_METRICS == (
        "valuation",
        "revenue.<year>",
        "hhi",
        "top_region_share",
        "shocks.<name>.p_any",
        "value_per_share",
        "market_value.<at>",
        "dcf_value",
        "regime.<name>",
        "first_day_return",
    )
    assert metrics.find("market_value.offer") is metrics.MARKET_VALUE
    assert metrics.find("regime.hot") is metrics.REGIME
    assert metrics.find("revenue.2025") is metrics.REVENUE
    assert metrics.find("shocks.a.b.p_any") is metrics.SHOCK_P_ANY
    assert metrics.SHOCK_P_ANY.fill_of("shocks.a.b.p_any") == "a.b"
    assert metrics.find("valuation_unshocked") is metrics.VALUATION_UNSHOCKED
    assert metrics.find("revenue") is None
    assert metrics.REVENUE.name(2025) == "revenue.2025"
    s = scenario(shocks=[SHOCK])
    assert metrics.REVENUE.names(s) == ("revenue.2024", "revenue.2025", "revenue.2026")
    assert metrics.SHOCK_P_ANY.names(s) == ("shocks.ban.p_any",)
    assert metrics.VALUE_PER_SHARE.names(s) == ()
    assert metrics.unit("shocks.ban.p_any", s, path="p") == "probability"
    assert metrics.unit("hhi", s, path="p") == "fraction"
    assert metrics.unit("revenue.2024", s, path="p") == "money"
    for name, message in [
        ("valuation_unshocked", "unknown metric 'valuation_unshocked'; expected valuation, "),
        ("revenue.02025", r"expected revenue.<year> with a year in 2024..2026, got"),
        ("shocks.bna.p_any", "unknown shock 'bna'; did you mean 'ban'"),
        ("value_per_share", r"value_per_share needs an \[offering\] table"),
        ("first_day_return", r"first_day_return needs an \[aftermarket\] table"),
        ("market_value.peak", r"market_value.peak needs an \[aftermarket\] table"),
    ]:
        with pytest.raises(ScenarioError, match=message) as info:
            metrics.unit(name, s, path="expect[0].metric")
        assert info.value.path == "expect[0].metric"


def test_summary_json_states_each_expectation_as_fields(run: Result) -> None:
    from sim.analysis.summary import summarise

    written = summarise(run).to_dict()["expectations"]
    hhi, revenue = written
    assert hhi["metric"] == "hhi"
    assert (hhi["stat"], hhi["threshold"], hhi["bound"]) == ("p_below", 0.6, {"at_most": 1.0})
    assert "q" not in hhi
    assert (revenue["stat"], revenue["q"], revenue["bound"]) == ("quantile", 0.5, {"at_least": 0})
    assert "threshold" not in revenue
    for entry, e in zip(written, run.scenario.expectations, strict=True):
        outcome = check_expectation(run, e)
        assert entry["status"] == outcome.status
        assert entry["estimate"] == outcome.estimate
        assert entry["ci95"] == list(outcome.ci95)
        assert entry["text"] == e.text
    between = Expectation("b", "valuation", "mean", None, None, (1.0, 2.0), "money")
    assert serialise(check_expectation(run, between))["bound"] == {"between": [1.0, 2.0]}


def test_check_prints_value_per_share_as_money_a_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.cli import main

    path = tmp_path / "per_share.toml"
    path.write_text(
        f'[scenario]\nextends = {str(DATA / "small.toml")!r}\nname = "per-share"\n\n'
        '[[expect]]\nname = "low"\nmetric = "value_per_share"\nstat = "p_at_least"\n'
        'threshold = "HK$151"\nat_most = 1\n\n'
        '[[expect]]\nname = "median"\nmetric = "value_per_share"\nstat = "quantile"\n'
        'q = 0.5\nat_least = "HK$1"\n',
        encoding="utf-8",
    )
    assert main(["check", str(path), "--paths", "2000", "--quiet"]) == 0
    out = capsys.readouterr().out
    # HK$151 at 0.1282 USD per HKD is USD 19.3582: written as a price is.
    assert "P(value_per_share >= USD 19.36 a share) <= 1" in out
    assert "q0.5(value_per_share) >= USD 0.1282 a share" in out
    assert "19.3582" not in out
    median_line = next(line for line in out.splitlines() if "median:" in line)
    assert median_line.count(" a share") == 4  # the bound, the estimate, the interval
