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

from sim.engine import simulate
from sim.expectations import Status, check_expectation
from sim.scenario import Scenario, build_scenario, resolve_raw

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PATHS = 20_000
SEED = 20260109
LIBRARY = ("baseline", "article-2025-06", "dcf", "bull", "bear", "diversified")

# (scenario, expectation name, key path, new value). A key path names list entries by
# their ``name`` (``segments.talkie``), regimes included; the value replaces the key's.
MUTATIONS: list[tuple[str, str, str, Any]] = [
    # The baseline: Q4 2025 forgotten on one segment, 2025's hypergrowth carried into
    # 2026, net cash read ten times too large (the 亿/bn slip), a cold debut, a calm market.
    ("baseline", "FY2025 revenue median", "segments.hailuo.revenue", "17.46M"),
    (
        "baseline",
        "FY2026 revenue median",
        "segments.hailuo.growth",
        {"dist": "metalog", "p10": 1.5, "p50": 2.5, "p90": 4.0, "lower": -1},
    ),
    ("baseline", "fair value per share reaches the range's low", "valuation.net_cash", "9.5bn"),
    ("baseline", "median first-day return", "aftermarket.day1_sentiment.mean", -0.2),
    ("baseline", "the brief's 25 bn at the six-month peak", "aftermarket.volatility", 0.15),
    # The article: API growth into 2025 at +40%, Hailuo's growth fading at once, its 70 M
    # read as 2025 revenue (the prospectus' year), the cold window's multiple in the hot
    # one, a cold debut, a market that hardly moves after day 1.
    ("article-2025-06", "FY2025 revenue median", "segments.open_platform.growth.p50", 0.4),
    ("article-2025-06", "FY2026 revenue median", "segments.hailuo.fade", 0.0),
    (
        "article-2025-06",
        "the prospectus' FY2025 is below every path",
        "scenario.base_year",
        2025,
    ),
    (
        "article-2025-06",
        "fair value per share reaches the range's low",
        "regimes.ai-frenzy.valuation.multiple.p50",
        14,
    ),
    ("article-2025-06", "median first-day return", "aftermarket.day1_sentiment.mean", -0.5),
    (
        "article-2025-06",
        "the brief's 25 bn at the six-month peak",
        "aftermarket.volatility",
        0.05,
    ),
    # The DCF: growth that never fades, Hailuo sold in Singapore alone, a US restriction
    # at 40% a year, ten times the net cash (the 亿/bn slip: a runway the cash then funds,
    # and a value that reaches the range and the brief's peak), the target margin reached
    # in two years.
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
    ("dcf", "fair value per share reaches the range's low", "valuation.net_cash", "9.5bn"),
    ("dcf", "median first-day return", "valuation.margin_year", 2027),
    ("dcf", "the brief's 25 bn at the six-month peak", "valuation.net_cash", "9.5bn"),
    # The bull: API growth below the baseline's, a hot window priced near the cold one,
    # a debut that closes at fair value, a calm market.
    ("bull", "FY2026 revenue median", "segments.open_platform.growth.p50", 0.5),
    (
        "bull",
        "fair value per share reaches the range's low",
        "regimes.ai-frenzy.valuation.multiple.p50",
        20,
    ),
    ("bull", "median first-day return", "aftermarket.day1_sentiment.mean", 0.0),
    ("bull", "the brief's 25 bn at the six-month peak", "aftermarket.volatility", 0.3),
    # The bear: the bull's Hailuo growth, a hotter hot window, a warm debut in the cold
    # window, a wild volatility tail, a rising drift.
    (
        "bear",
        "FY2026 revenue median",
        "segments.hailuo.growth",
        {"dist": "metalog", "p10": 0.6, "p50": 1.2, "p90": 2.2, "lower": -1},
    ),
    (
        "bear",
        "fair value per share reaches the range's low",
        "regimes.ai-frenzy.valuation.multiple.p50",
        50,
    ),
    (
        "bear",
        "median first-day return",
        "regimes.cold-window.aftermarket.day1_sentiment.mean",
        0.8,
    ),
    ("bear", "the brief's 25 bn at the six-month peak", "aftermarket.volatility.p90", 3.0),
    ("bear", "the lock-up and the drift take the price down", "aftermarket.drift", 0.5),
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
