"""sim.studies.compare: the Comparison object that the CLI prints and writes and the report
draws."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim.report.comparison
from sim.analysis.summary import Summary, summarise
from sim.report import render_comparison
from sim.run.engine import Result, simulate
from sim.studies.compare import Comparison, compare, compare_targets, target_p
from tests.builders import scenario

TARGETS = [{"label": "low", "value": 1500.0}, {"label": "high", "value": 2500.0}]


def _run(name: str, multiple: float, targets: list[dict[str, object]]) -> tuple[Result, Summary]:
    sc = scenario(
        scenario={"name": name, "base_year": 2024, "horizon": 2},
        valuation={"year": 2026, "multiple": {"dist": "uniform", "min": 5, "max": multiple}},
        targets=targets,
    )
    result = simulate(sc, 4_000, seed=3)
    return result, summarise(result)


@pytest.fixture(scope="module")
def runs() -> tuple[list[Result], list[Summary]]:
    (a, sa), (b, sb) = _run("calm", 15.0, TARGETS), _run("bold", 20.0, [TARGETS[1]])
    return [a, b], [sa, sb]


def test_compare_holds_each_runs_estimates_and_the_differences(
    runs: tuple[list[Result], list[Summary]],
) -> None:
    results, summaries = runs
    c = compare(results, summaries)
    assert c.paired
    assert [t.label for t in c.targets] == ["low", "high"]
    # Each run's estimate is its summary's own, None where the run has no such target.
    assert c.targets[0].estimates == (summaries[0].targets[0], None)
    assert c.targets[1].estimates == (summaries[0].targets[1], summaries[1].targets[0])
    assert target_p(summaries[1], 2500.0) is summaries[1].targets[0]
    assert list(c.differences) == compare_targets(results, summaries)
    d = c.difference(1, 2500.0)
    assert d is not None and d.index == 1
    assert d.estimate == summaries[1].targets[0].p_at_least - summaries[0].targets[1].p_at_least
    assert c.difference(1, 1500.0) is None


def test_comparison_json_names_the_runs(runs: tuple[list[Result], list[Summary]]) -> None:
    results, summaries = runs
    data = json.loads(json.dumps(compare(results, summaries).to_dict()))
    assert list(data) == [
        "reference",
        "currency",
        "scenarios",
        "paired",
        "targets",
        "differences",
        "attribution",
    ]
    assert data["reference"] == "calm"  # the first run, the one differences are against
    assert data["attribution"] == []  # only `ipo-sim compare` attributes the difference
    assert [s["name"] for s in data["scenarios"]] == ["calm", "bold"]
    assert [t["p_at_least"] for t in data["targets"]] == [
        {"calm": summaries[0].targets[0].p_at_least, "bold": None},
        {"calm": summaries[0].targets[1].p_at_least, "bold": summaries[1].targets[0].p_at_least},
    ]
    (diff,) = data["differences"]
    assert (diff["scenario"], diff["minus"]) == ("bold", "calm")
    assert diff["value_usd"] == 2500.0 and diff["paired"] is True


def test_compare_needs_a_summary_per_result(runs: tuple[list[Result], list[Summary]]) -> None:
    results, summaries = runs
    with pytest.raises(ValueError, match="one summary per result"):
        compare(results, summaries[:1])


def test_render_comparison_draws_the_comparison_it_is_given(
    runs: tuple[list[Result], list[Summary]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, summaries = runs
    given = compare(results, summaries)

    def recompute(*args: object) -> Comparison:
        raise AssertionError("the report recomputed the comparison")

    monkeypatch.setattr(sim.report.comparison, "compare", recompute)
    written = render_comparison(results, summaries, tmp_path, ["pdf"], comparison=given)
    assert [p.name for p in written] == ["comparison.pdf"]


def _market_run(name: str, sentiment: float) -> tuple[Result, Summary]:
    """A fixed fair value of 2250 (builders) and a walk after listing: the fair-value target
    at 3000 is never reached, the peak one often, more with a warmer day 1."""
    sc = scenario(
        scenario={"name": name, "base_year": 2024, "horizon": 2},
        offering={"shares_outstanding": 1_000, "price_range": [1.0, 3.0]},
        aftermarket={
            "adjustment": 1.0,
            "day1_noise": {"dist": "normal", "mean": sentiment, "sd": 0.2},
            "volatility": 0.6,
            "days": 60,
        },
        targets=[
            {"label": "3000", "value": 3000.0},
            {"label": "3000 at the top", "value": 3000.0, "at": "peak"},
            {"label": "2500", "value": 2500.0, "at": "day1"},
        ],
    )
    result = simulate(sc, 4_000, seed=5)
    return result, summarise(result)


def test_targets_are_matched_by_value_and_point_in_time_and_paired_on_their_own_value() -> None:
    (a, sa), (b, sb) = _market_run("cool", 0.0), _market_run("warm", 0.15)
    c = compare([a, b], [sa, sb])
    assert [(t.value_usd, t.at) for t in c.targets] == [
        (3000.0, "fair"),
        (3000.0, "peak"),
        (2500.0, "day1"),
    ]
    # The peak target keeps its own estimate, not the fair one at the same value.
    assert c.targets[1].estimates == (sa.targets[1], sb.targets[1])
    assert sa.targets[0].p_at_least == 0.0 < sa.targets[1].p_at_least
    assert [t.shown for t in c.targets] == ["3000", "3000 at the top (at peak)", "2500 (at day 1)"]
    fair = c.difference(1, 3000.0, "fair")
    assert fair is not None and fair.estimate == 0.0 and fair.se == 0.0
    for at, values in (("peak", "market_value_peak"), ("day1", "market_value_day1")):
        value = 3000.0 if at == "peak" else 2500.0
        d = c.difference(1, value, at)
        assert d is not None and d.paired and d.at == at
        ta, tb = target_p(sa, value, at), target_p(sb, value, at)
        assert ta is not None and tb is not None
        assert d.estimate == tb.p_at_least - ta.p_at_least > 0
        # Paired on the market value at that point in time, path by path.
        hit_a = getattr(a.kept.values, values)[: a.kept.n] >= value
        hit_b = getattr(b.kept.values, values)[: b.kept.n] >= value
        diff = hit_b.astype(float) - hit_a.astype(float)
        assert d.se == pytest.approx(float(diff.std(ddof=1)) / 4_000**0.5, rel=1e-12)
        assert 0 < d.se < d.se_independent
    data = c.to_dict()
    assert [t["at"] for t in data["targets"]] == ["fair", "peak", "day1"]
    assert [d["at"] for d in data["differences"]] == ["fair", "peak", "day1"]
