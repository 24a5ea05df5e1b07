"""Statistical assertions for users' pytest suites, decided with the Monte Carlo error.

The pytest-facing API of :mod:`sim.analysis.expectations` (where the logic lives; the summary uses
it for a scenario's ``[[expect]]`` entries). A test states an expectation and asserts it::

    def test_the_baseline_keeps_its_expectations():
        result = simulate(load_scenario("scenarios/baseline.toml"), 50_000, seed=1)
        for expectation in result.scenario.expectations:
            assert_expectation(result, expectation)  # raises only when one failed

An inconclusive outcome (the interval straddles the bound) does not raise: more paths
will decide it.
"""

from __future__ import annotations

from sim.analysis.expectations import (
    ExpectationOutcome,
    check_expectation,
    decide,
    metric_estimate,
)
from sim.run.engine import Result
from sim.scenario import Expectation

__all__ = [
    "ExpectationOutcome",
    "assert_expectation",
    "check_expectation",
    "decide",
    "metric_estimate",
]


def assert_expectation(result: Result, expectation: Expectation) -> ExpectationOutcome:
    """Like :func:`check_expectation`, raising ``AssertionError`` when it failed.

    For users' pytest suites: an inconclusive outcome does not raise (ask for more paths).
    """
    outcome = check_expectation(result, expectation)
    if outcome.status == "failed":
        lo, hi = outcome.ci95
        raise AssertionError(
            f"{expectation.text}: estimate {outcome.estimate:.6g}, 95% interval "
            f"[{lo:.6g}, {hi:.6g}] lies outside the bound"
        )
    return outcome
