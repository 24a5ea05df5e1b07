"""sim.compare: the Comparison object that the CLI prints and writes and the report draws."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim.report.comparison
from sim.compare import Comparison, compare, compare_targets, target_p
from sim.engine import Result, simulate
from sim.report import render_comparison
from sim.summary import Summary, summarise
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
    assert list(data) == ["scenarios", "paired", "targets", "differences", "attribution"]
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
