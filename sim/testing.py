"""Statistical assertions for users' pytest suites, decided with the Monte Carlo error.

The logic lives in :mod:`sim.expectations` (the summary uses it for a scenario's
``[[expect]]`` entries); this module is the pytest-facing API. An assertion *fails* only
when its 95 % interval lies wholly outside the bound, *passes* when the interval lies
wholly inside, and is *inconclusive* otherwise (more paths will decide it).

>>> from sim.testing import decide
>>> decide((0.20, 0.24), (None, 0.30))
'passed'
>>> decide((0.28, 0.33), (None, 0.30))
'inconclusive'
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
