"""Expectations decided with the Monte Carlo error taken into account.

A scenario's ``[[expect]]`` entries are checked here (the summary asks this module), and
:mod:`sim.testing` offers the same helpers to users' pytest suites. An assertion *fails*
only when its 95 % interval lies wholly outside the bound, *passes* when the interval lies
wholly inside, and is *inconclusive* otherwise (more paths will decide it).

>>> decide((0.20, 0.24), (None, 0.30))
'passed'
>>> decide((0.28, 0.33), (None, 0.30))
'inconclusive'
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np

from sim import metrics
from sim.errors import SimError
from sim.run.engine import Result
from sim.scenario import Expectation
from sim.serial import PLAIN, Item, Spec
from sim.stats import Z95, quantile_interval, wilson_interval

__all__ = [
    "ExpectationOutcome",
    "Status",
    "bound_dict",
    "check_expectation",
    "decide",
    "metric_estimate",
]

Status: TypeAlias = Literal["passed", "failed", "inconclusive"]
"""The verdict on an expectation (written as is to summary.json)."""


@dataclass(frozen=True, slots=True)
class ExpectationOutcome:
    """The verdict on one expectation: ``status`` is passed, failed or inconclusive."""

    expectation: Expectation
    status: Status
    estimate: float
    ci95: tuple[float, float]

    @property
    def passed(self) -> bool | None:
        """True or False when decided; None when inconclusive."""
        return {"passed": True, "failed": False}.get(self.status)

    def serial_fields(self) -> Iterator[Item]:
        """The verdict as summary.json writes it: the statement as text and as fields.

        ``metric`` and ``stat`` as written in the scenario; ``threshold`` (with
        ``p_at_least`` / ``p_below``) and ``q`` (with ``quantile``) only where the stat
        takes them; ``bound`` is ``{"at_most": x}``, ``{"at_least": x}`` or
        ``{"between": [lo, hi]}``, in the statistic's units. Money (a money metric's
        threshold; its bound and estimate unless the stat is a probability) is marked so,
        and is written in the run's reporting currency.
        """
        e = self.expectation
        money = e.unit == "money"
        statistic = Spec(money=money and e.stat not in ("p_at_least", "p_below"))
        yield "text", e.text, PLAIN
        yield "name", e.name, PLAIN
        yield "metric", e.metric, PLAIN
        yield "stat", e.stat, PLAIN
        yield "threshold", e.threshold, Spec(money=money, omit="none")
        yield "q", e.q, Spec(omit="none")
        yield "bound", bound_dict(e.bounds), statistic
        yield "passed", self.passed, PLAIN
        yield "status", self.status, PLAIN
        yield "estimate", self.estimate, statistic
        yield "ci95", self.ci95, statistic


def bound_dict(bounds: tuple[float | None, float | None]) -> dict[str, Any]:
    """``(lower, upper)`` as the scenario wrote it: ``at_most``, ``at_least`` or ``between``.

    >>> bound_dict((None, 0.5))
    {'at_most': 0.5}
    >>> bound_dict((0.1, 0.2))
    {'between': [0.1, 0.2]}
    """
    lo, hi = bounds
    if lo is not None and hi is not None:
        return {"between": [lo, hi]}
    if hi is not None:
        return {"at_most": hi}
    if lo is not None:
        return {"at_least": lo}
    raise ValueError("an expectation has at least one bound")


def decide(ci95: tuple[float, float], bounds: tuple[float | None, float | None]) -> Status:
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
        A name of :data:`sim.metrics.METRICS`: ``valuation``, ``revenue.<year>``, ``hhi``,
        ``top_region_share``, ``value_per_share`` or ``shocks.<name>.p_any``.
    stat : {"p_at_least", "p_below", "quantile", "mean"}
        An indicator (``shocks.<name>.p_any``) gives the share of paths whatever ``stat``.
    threshold : float, optional
        For ``p_at_least`` / ``p_below``: must be one the run counted exactly.
    q : float, optional
        For ``quantile``.

    Returns
    -------
    estimate, (low, high)

    Raises
    ------
    SimError
        A metric, threshold or stat the run cannot answer.
    """
    n = result.paths
    entry = metrics.find(metric)
    if entry is not None and entry.count is not None:
        fill = entry.fill_of(metric)
        assert fill is not None
        count = entry.count(result, fill)
        return count / n, wilson_interval(count, n)
    stream = result.streams.get(metrics.stream_name(metric))
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
        exact = metrics.per_path(result.scenario, result.kept.values, metric)
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
