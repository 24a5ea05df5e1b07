"""The scenario library's assumptions can fail: each expectation has a mutation that breaks it.

Every ``[[expect]]`` of the scenarios below (bull, bear, diversified, and the baseline,
the article and the DCF it extends) is a belief of its author. The table pairs each with
a one-key change of the scenario (the mutation, applied to the file's resolved TOML, its
``extends`` chain merged in) that a mis-specified file could contain: the expectation must
pass as shipped and fail under its mutation, at modest paths and a fixed seed (the verdict
is decided on the 95% interval, so Monte Carlo error is accounted for).

A new expectation in one of these files without a row here is a failing test.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sim.analysis.expectations import Status, check_expectation
from sim.run.engine import simulate
from sim.scenario import Scenario, build_scenario, resolve_raw

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PATHS = 20_000
SEED = 20260109
LIBRARY = ("baseline", "article-2025-06", "dcf", "bull", "bear", "diversified")

# (scenario, expectation name, key path, new value). A key path names list entries by
# their ``name`` (``segments.talkie``), regimes included; the value replaces the key's.
MUTATIONS: list[tuple[str, str, str, Any]] = [
    # The baseline: Q4 2025 forgotten on one segment, 2025's hypergrowth carried into
    # 2026, a Q4 range read as a half-year's. No expectation pins an output (value per
    # share, first day, market value): those are what the model answers.
    ("baseline", "FY2025 revenue median", "segments.hailuo.revenue", "17.46M"),
    (
        "baseline",
        "FY2026 revenue median",
        "segments.hailuo.growth",
        {"dist": "metalog", "p10": 1.5, "p50": 2.5, "p90": 4.0, "lower": -1},
    ),
    ("baseline", "FY2025 revenue upper tail", "segments.hailuo.revenue.max", "39.46M"),
    # The article: API growth into 2025 at +40%, Hailuo's growth fading at once, its 70 M
    # read as 2025 revenue (the prospectus' year), 2025's growth spread read as certain.
    ("article-2025-06", "FY2025 revenue median", "segments.open_platform.growth.p50", 0.4),
    ("article-2025-06", "FY2026 revenue median", "segments.hailuo.fade", 0.0),
    (
        "article-2025-06",
        "the prospectus' FY2025 is below every path",
        "scenario.base_year",
        2025,
    ),
    ("article-2025-06", "FY2025 revenue upper tail", "segments.hailuo.growth.p90", 20.0),
    # The DCF: growth that never fades (twice), Hailuo sold in Singapore alone, a US
    # restriction at 40% a year, the API's long-run growth set to the cash flows' 3%
    # terminal rate.
    ("dcf", "ten years of the baseline's growth", "segments.open_platform.fade", 1.0),
    (
        "dcf",
        "2026's largest region near the prospectus' largest",
        "segments.hailuo.regions",
        {"SG": 1.0},
    ),
    (
        "dcf",
        "a US restriction by the listing year",
        "shocks.us-restriction.annual_probability",
        0.4,
    ),
    ("dcf", "2030 revenue, halfway to the target margin", "segments.hailuo.fade", 1.0),
    ("dcf", "2035 revenue's lower tail", "segments.open_platform.terminal_growth", 0.03),
    # The bull: API growth below the baseline's, the baseline's removal and restriction
    # hazards left in place.
    ("bull", "FY2026 revenue median", "segments.open_platform.growth.p50", 0.5),
    (
        "bull",
        "app-store removal by 2026 less likely than the baseline's",
        "shocks.app-store-removal.annual_probability",
        {"dist": "beta", "a": 2, "b": 10},
    ),
    (
        "bull",
        "a US restriction by 2026 at half the baseline's rate",
        "shocks.us-restriction.annual_probability",
        0.04,
    ),
    # The bear: the bull's Hailuo growth, the baseline's removal and restriction hazards.
    (
        "bear",
        "FY2026 revenue median",
        "segments.hailuo.growth",
        {"dist": "metalog", "p10": 0.6, "p50": 1.2, "p90": 2.2, "lower": -1},
    ),
    (
        "bear",
        "app-store removal by 2026 more likely than the baseline's",
        "shocks.app-store-removal.annual_probability",
        {"dist": "beta", "a": 2, "b": 10},
    ),
    (
        "bear",
        "a US restriction by 2026 at twice the baseline's rate",
        "shocks.us-restriction.annual_probability",
        0.04,
    ),
    # Diversified: the API's China share falling, Hailuo moving away from China, a US
    # restriction that also hits mainland China.
    (
        "diversified",
        "mainland China overtakes the rest as the largest region",
        "segments.open_platform.regions_at_horizon",
        {"CN": 0.40, "US": 0.10, "SG": 0.25, "other": 0.25},
    ),
    (
        "diversified",
        "away from the US is towards China, not a spread",
        "segments.hailuo.regions_at_horizon",
        {"CN": 0.10, "US": 0.20, "SG": 0.30, "other": 0.40},
    ),
    (
        "diversified",
        "a US ban does not take 2028 into the tail",
        "shocks.us-restriction.regions",
        ["US", "CN"],
    ),
]


def _mutate(raw: dict[str, Any], key_path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``raw`` with the key at ``key_path`` set to ``value``."""
    out = copy.deepcopy(raw)
    node: Any = out
    *parents, last = key_path.split(".")
    for part in parents:
        if isinstance(node, list):
            matches = [e for e in node if e.get("name") == part]
            assert len(matches) == 1, f"{key_path}: no single entry named {part!r}"
            node = matches[0]
        else:
            assert part in node, f"{key_path}: no key {part!r}"
            node = node[part]
    assert isinstance(node, dict) and last in node, f"{key_path}: no key {last!r}"
    node[last] = value
    return out


@cache
def _raw(name: str) -> dict[str, Any]:
    return resolve_raw(SCENARIOS / f"{name}.toml")


def _build(name: str, raw: dict[str, Any]) -> Scenario:
    return build_scenario(raw, source=SCENARIOS / f"{name}.toml", own_name=name)


def _statuses(scenario: Scenario) -> dict[str, Status]:
    result = simulate(scenario, PATHS, seed=SEED)
    return {e.name: check_expectation(result, e).status for e in scenario.expectations}


@cache
def _shipped(name: str) -> dict[str, Status]:
    return _statuses(_build(name, _raw(name)))


@pytest.mark.parametrize("name", LIBRARY)
def test_every_shipped_expectation_passes_at_modest_paths(name: str) -> None:
    assert _shipped(name) and set(_shipped(name).values()) == {"passed"}, _shipped(name)


def _expect_entries(name: str) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in _raw(name).get("expect", [])}


@pytest.mark.parametrize("name", LIBRARY)
def test_every_expectation_has_a_mutation_and_at_least_three_do(name: str) -> None:
    """An expectation inherited unchanged from the baseline is covered by the baseline's row."""
    own = {e for s, e, _, _ in MUTATIONS if s == name}
    base = _expect_entries("baseline")
    entries = _expect_entries(name).items()
    inherited = {k for k, v in entries if name != "baseline" and base.get(k) == v}
    assert set(_shipped(name)) == own | inherited, set(_shipped(name)) ^ (own | inherited)
    assert len(own) >= 3


@pytest.mark.parametrize(
    ("name", "expectation", "key_path", "value"),
    MUTATIONS,
    ids=[f"{s}:{e}" for s, e, _, _ in MUTATIONS],
)
def test_the_mutation_fails_the_expectation(
    name: str, expectation: str, key_path: str, value: Any
) -> None:
    assert _shipped(name)[expectation] == "passed"
    mutated = _statuses(_build(name, _mutate(_raw(name), key_path, value)))
    assert mutated[expectation] == "failed", mutated
