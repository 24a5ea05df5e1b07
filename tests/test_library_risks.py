"""The risk scenarios' expectations can fail: one changed key in the scenario fails each.

For every ``[[expect]]`` entry that ``geopolitics.toml`` and ``litigation.toml`` add, a
mutation of the resolved scenario (one key set to another value, as a mis-specified file
would have it) must turn that expectation's status to "failed", while the unmutated
scenario passes it at the same paths and seed.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sim.run.engine import simulate
from sim.scenario import Scenario, build_scenario, resolve_raw
from sim.testing import check_expectation

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PATHS = 20_000
SEED = 1302

# (scenario, expectation name, key path into the resolved TOML, the mis-specified value).
# A key path's list steps pick the entry of [[shocks]] by its name.
MUTATIONS: list[tuple[str, str, str, Any]] = [
    (
        "geopolitics",
        "a US ban by 2026 is a real risk, not a tail",
        # the baseline's 4% a year: the file forgot to raise it
        "shocks.us-restriction.annual_probability",
        0.04,
    ),
    (
        "geopolitics",
        "a US or Japan removal by 2026 is about one in three",
        # the baseline's beta(2, 10), mean 17%
        "shocks.app-store-removal.annual_probability",
        {"dist": "beta", "a": 2, "b": 10},
    ),
    (
        "geopolitics",
        "a mainland rules shock by 2026 is as likely as the baseline's removal",
        # a yearly campaign read as a yearly shock on MiniMax: mean 50%
        "shocks.china-genai-rules.annual_probability",
        {"dist": "beta", "a": 2, "b": 2},
    ),
    (
        "geopolitics",
        "one path in eight or more books under 100 M in 2026",
        # a ban that costs nothing: the US revenue stays
        "shocks.us-restriction.severity",
        0.0,
    ),
    (
        "litigation",
        "the suit costs real money by 2026 on nearly half the paths",
        # the filed suit read as certain to cost money in its first year
        "shocks.hailuo-legal-costs.annual_probability",
        0.9,
    ),
    (
        "litigation",
        "an injunction by 2026 is unlikely but not negligible",
        # an injunction as likely as a settlement: mean 33% a year
        "shocks.hailuo-injunction.annual_probability",
        {"dist": "beta", "a": 2, "b": 4},
    ),
    (
        "litigation",
        "the suit rarely drags 2026 revenue under the no-growth floor",
        # an injunction that takes all of Hailuo's overseas revenue, not part of it
        "shocks.hailuo-injunction.severity",
        1.0,
    ),
]


def _mutated(raw: dict[str, Any], key_path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``raw`` with ``key_path`` set to ``value`` (list steps by name)."""
    out = copy.deepcopy(raw)
    *steps, last = key_path.split(".")
    node: Any = out
    for step in steps:
        if isinstance(node, list):
            (node,) = [entry for entry in node if entry.get("name") == step]
        else:
            node = node[step]
    assert isinstance(node, dict) and last in node, key_path  # a mutation changes a written key
    node[last] = value
    return out


@cache
def _raw(name: str) -> dict[str, Any]:
    return resolve_raw(SCENARIOS / f"{name}.toml")


def _status(scenario: Scenario, expectation: str) -> str:
    result = simulate(scenario, PATHS, seed=SEED, sampler="random")
    (entry,) = [e for e in scenario.expectations if e.name == expectation]
    return check_expectation(result, entry).status


@cache
def _unmutated_statuses(name: str) -> dict[str, str]:
    scenario = build_scenario(_raw(name), source=SCENARIOS / f"{name}.toml", own_name=name)
    result = simulate(scenario, PATHS, seed=SEED, sampler="random")
    return {e.name: check_expectation(result, e).status for e in scenario.expectations}


@pytest.mark.parametrize("name", ["geopolitics", "litigation"])
def test_each_risk_scenario_states_at_least_three_failable_expectations(name: str) -> None:
    own = {m[1] for m in MUTATIONS if m[0] == name}
    assert len(own) >= 3
    statuses = _unmutated_statuses(name)
    assert own <= statuses.keys()
    # Every expectation of the file, its base's included, passes as written.
    assert set(statuses.values()) == {"passed"}, statuses


@pytest.mark.parametrize(("name", "expectation", "key_path", "value"), MUTATIONS)
def test_a_mis_specified_scenario_fails_its_expectation(
    name: str, expectation: str, key_path: str, value: Any
) -> None:
    assert _unmutated_statuses(name)[expectation] == "passed"
    raw = _mutated(_raw(name), key_path, value)
    scenario = build_scenario(raw, source=SCENARIOS / f"{name}.toml", own_name=name)
    assert _status(scenario, expectation) == "failed"
