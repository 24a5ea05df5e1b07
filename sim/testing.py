"""Statistical assertions for users' pytest suites, decided with the Monte Carlo error.

The pytest-facing API of :mod:`sim.expectations` (where the rule is stated): the same
helpers, plus :func:`assert_expectation`, which raises only when an expectation failed.

>>> from sim.testing import assert_expectation, check_expectation  # in a user's test
"""

from __future__ import annotations

from sim.engine import Result
from sim.expectations import ExpectationOutcome, check_expectation, decide, metric_estimate
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
