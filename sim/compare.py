"""Comparing runs: each target probability's difference between scenarios, with its error.

Runs made with the same seed, path count and sampler drew the same inputs path by path
(the engine's keyed streams), so a difference between two scenarios is measured on paired
paths: its standard error comes from the per-path differences and is far smaller than
that of independent runs when the scenarios are alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.engine import Result
from sim.stats import Z95
from sim.summary import Summary

__all__ = ["TargetDifference", "compare_targets", "paired", "shared_targets", "target_p"]


@dataclass(frozen=True, slots=True)
class TargetDifference:
    """P(value >= target) in one scenario minus in the first scenario, with its error.

    Attributes
    ----------
    label : str
        The target's label (the first scenario's, where several have the target).
    value_usd : float
        The target, USD.
    scenario : int
        Position of the scenario compared with the first (1, 2, ...).
    estimate : float
        ``P_scenario - P_first`` over all paths of both runs.
    se : float
        Its standard error: from the per-path differences of the indicators when the
        runs are paired, else ``sqrt(se_first**2 + se_scenario**2)``.
    se_independent : float
        ``sqrt(se_first**2 + se_scenario**2)``: what independent runs would give.
    paired : bool
        True when the runs share seed, path count and sampler, so path k of each drew
        the same inputs (common random numbers).
    """

    label: str
    value_usd: float
    scenario: int
    estimate: float
    se: float
    se_independent: float
    paired: bool

    @property
    def ci95(self) -> tuple[float, float]:
        """Normal 95 % interval ``estimate ± 1.96 se``."""
        return (self.estimate - Z95 * self.se, self.estimate + Z95 * self.se)


def shared_targets(summaries: Sequence[Summary]) -> list[tuple[str, float]]:
    """Every target of the runs as (label, USD), matched by value; the first label wins."""
    targets: list[tuple[str, float]] = []
    for s in summaries:
        for tg in s.data["targets"]:
            if not any(math.isclose(tg["value_usd"], v, rel_tol=1e-12) for _, v in targets):
                targets.append((tg["label"], tg["value_usd"]))
    return targets


def target_p(summary: Summary, value: float) -> tuple[float, tuple[float, float], float] | None:
    """P(value >= ``value``), its interval and se from a summary; None if not a target."""
    for tg in summary.data["targets"]:
        if math.isclose(tg["value_usd"], value, rel_tol=1e-12):
            return tg["p_at_least"], (tg["ci95"][0], tg["ci95"][1]), tg["se"]
    return None


def compare_targets(
    results: Sequence[Result], summaries: Sequence[Summary]
) -> list[TargetDifference]:
    """Each scenario's target probabilities against the first scenario's.

    Targets are matched by value. Runs with the same seed, path count and sampler drew
    the same inputs path by path (common random numbers), so the standard error of a
    difference comes from the per-path differences ``1[B_k >= t] - 1[A_k >= t]`` of the
    kept paths, which is far smaller than that of independent runs when the scenarios
    are alike.

    Parameters
    ----------
    results, summaries : sequences of Result and Summary, in the same order

    Returns
    -------
    list of TargetDifference
        One per (target of the first scenario, later scenario that has it).
    """
    is_paired = paired(results)
    out: list[TargetDifference] = []
    first = results[0]
    for label, value in shared_targets(summaries):
        a = target_p(summaries[0], value)
        if a is None:
            continue
        for i in range(1, len(results)):
            b = target_p(summaries[i], value)
            if b is None:
                continue
            independent = math.hypot(a[2], b[2])
            se = independent
            if is_paired:
                n = first.kept.n
                hit_a = first.kept.values.equity[:n] >= value
                hit_b = results[i].kept.values.equity[:n] >= value
                diff = hit_b.astype(np.float64) - hit_a.astype(np.float64)
                se = float(diff.std(ddof=1)) / math.sqrt(results[i].paths)
            out.append(TargetDifference(label, value, i, b[0] - a[0], se, independent, is_paired))
    return out


def paired(results: Sequence[Result]) -> bool:
    """True when the runs share seed, path count and sampler, so their paths pair up."""
    first = results[0]
    return len(results) > 1 and all(
        r.seed == first.seed
        and r.paths == first.paths
        and r.sampler == first.sampler
        and r.kept.n == first.kept.n
        and r.kept.n > 1
        for r in results[1:]
    )
