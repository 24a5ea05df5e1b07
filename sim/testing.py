"""Statistical assertions decided with the Monte Carlo error taken into account.

A scenario's ``[[expect]]`` entries are checked here, and users can call the same helpers
from pytest. An assertion *fails* only when its 95 % interval lies wholly outside the
bound, *passes* when the interval lies wholly inside, and is *inconclusive* otherwise (more
paths will decide it).

>>> from sim.testing import decide
>>> decide((0.20, 0.24), (None, 0.30))
'passed'
>>> decide((0.28, 0.33), (None, 0.30))
'inconclusive'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.engine import Result, metric_values
from sim.errors import SimError
from sim.scenario import Expectation
from sim.stats import Z95, quantile_interval, wilson_interval

__all__ = [
    "ExpectationOutcome",
    "assert_expectation",
    "check_expectation",
    "decide",
    "metric_estimate",
]


@dataclass(frozen=True, slots=True)
class ExpectationOutcome:
    """The verdict on one expectation: ``status`` is passed, failed or inconclusive."""

    expectation: Expectation
    status: str
    estimate: float
    ci95: tuple[float, float]

    @property
    def passed(self) -> bool | None:
        """True or False when decided; None when inconclusive."""
        return {"passed": True, "failed": False}.get(self.status)


def decide(ci95: tuple[float, float], bounds: tuple[float | None, float | None]) -> str:
    """Compare an interval with ``(lower, upper)`` bounds (``None`` = open)."""
    lo, hi = ci95
    low_bound, high_bound = bounds
    if (high_bound is not None and lo > high_bound) or (low_bound is not None and hi < low_bound):
        return "failed"
    inside_hi = high_bound is None or hi <= high_bound
    inside_lo = low_bound is None or lo >= low_bound
    return "passed" if inside_hi and inside_lo else "inconclusive"


def metric_estimate(
    result: Result,
    metric: str,
    stat: str,
    *,
    threshold: float | None = None,
    q: float | None = None,
) -> tuple[float, tuple[float, float]]:
    """Estimate a statistic of a metric from a run, with its 95 % interval.

    Parameters
    ----------
    result : Result
    metric : str
        ``valuation``, ``revenue.<year>``, ``hhi``, ``top_region_share``,
        ``value_per_share`` or ``shocks.<name>.p_any``.
    stat : {"p_at_least", "p_below", "quantile", "mean"}
    threshold : float, optional
        For ``p_at_least`` / ``p_below``: must be one the run counted exactly.
    q : float, optional
        For ``quantile``.

    Returns
    -------
    estimate, (low, high)
    """
    n = result.paths
    if metric.startswith("shocks.") and metric.endswith(".p_any"):
        name = metric.removeprefix("shocks.").removesuffix(".p_any")
        names = [k.name for k in result.scenario.shocks]
        if name not in names:
            raise SimError(f"no shock named {name!r}")
        count = int(result.shock_counts[names.index(name)])
        return count / n, wilson_interval(count, n)
    stream = result.streams.get(metric)
    if stream is None:
        raise SimError(f"the run has no metric {metric!r}")
    if stat in ("p_at_least", "p_below"):
        if threshold is None or threshold not in stream.thresholds:
            raise SimError(f"threshold {threshold} of {metric!r} was not counted by the run")
        count = stream.count_at_least(threshold)
        if stat == "p_below":
            count = n - count
        return count / n, wilson_interval(count, n)
    if stat == "mean":
        half = Z95 * stream.se if n > 1 else math.inf
        return stream.mean, (stream.mean - half, stream.mean + half)
    if stat == "quantile":
        if q is None:
            raise SimError("a quantile needs q")
        exact = dict(metric_values(result.scenario, result.kept)).get(metric)
        if exact is not None and result.exact:
            ordered = np.sort(exact)
            return float(np.quantile(ordered, q)), quantile_interval(ordered, None, n, q)
        return stream.sketch.quantile(q), quantile_interval(None, stream.sketch, n, q)
    raise SimError(f"unknown stat {stat!r}")


def check_expectation(result: Result, expectation: Expectation) -> ExpectationOutcome:
    """Decide one ``[[expect]]`` entry against a run."""
    estimate, ci = metric_estimate(
        result,
        expectation.metric,
        expectation.stat,
        threshold=expectation.threshold,
        q=expectation.q,
    )
    return ExpectationOutcome(expectation, decide(ci, expectation.bounds), estimate, ci)


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
