"""Comparing runs: each target probability's difference between scenarios, with its error.

Runs made with the same seed, path count and sampler drew the same inputs path by path
(the engine's keyed streams), so a difference between two scenarios is measured on paired
paths: its standard error comes from the per-path differences and is far smaller than
that of independent runs when the scenarios are alike.

:func:`compare` gathers all of it into a :class:`Comparison`, which the CLI prints and
writes (``comparison.json``) and the comparison report draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.attribution import Attribution
from sim.engine import Result
from sim.stats import Z95
from sim.summary import Summary, TargetEstimate

__all__ = [
    "ComparedRun",
    "Comparison",
    "SharedTarget",
    "TargetDifference",
    "compare",
    "compare_targets",
    "paired",
    "shared_targets",
    "target_p",
]


@dataclass(frozen=True, slots=True)
class TargetDifference:
    """P(value >= target) in one scenario minus in the first scenario, with its error.

    Attributes
    ----------
    label : str
        The target's label (the first scenario's, where several have the target).
    value_usd : float
        The target, USD.
    index : int
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
    index: int
    estimate: float
    se: float
    se_independent: float
    paired: bool

    @property
    def ci95(self) -> tuple[float, float]:
        """Normal 95 % interval ``estimate ± 1.96 se``."""
        return (self.estimate - Z95 * self.se, self.estimate + Z95 * self.se)


@dataclass(frozen=True, slots=True)
class SharedTarget:
    """One target (matched by value) in every compared run.

    ``estimates[i]`` is run i's estimate, None where run i has no target at this value.
    """

    label: str
    value_usd: float
    estimates: tuple[TargetEstimate | None, ...]


@dataclass(frozen=True, slots=True)
class ComparedRun:
    """Which run a comparison column is: scenario, seed, path count, sampler."""

    name: str
    scenario_sha256: str
    seed: int
    paths: int
    sampler: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scenario_sha256": self.scenario_sha256,
            "seed": self.seed,
            "paths": self.paths,
            "sampler": self.sampler,
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Several runs' target probabilities and their differences from the first run.

    Attributes
    ----------
    runs : tuple of ComparedRun
        In the order compared; the first is the reference.
    paired : bool
        True when the runs share common random numbers (see :func:`paired`).
    targets : tuple of SharedTarget
        Every target of the runs, matched by value; the first label wins.
    differences : tuple of TargetDifference
        One per (target of the first run, later run that has it).
    attribution : tuple of Attribution
        Each later run's difference from the first attributed to each differing key
        (:func:`sim.attribution.attribute`); empty when not asked for.
    """

    runs: tuple[ComparedRun, ...]
    paired: bool
    targets: tuple[SharedTarget, ...]
    differences: tuple[TargetDifference, ...]
    attribution: tuple[Attribution, ...] = ()

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.runs]

    def difference(self, index: int, value: float) -> TargetDifference | None:
        """Run ``index`` minus the first run at target ``value``; None if not compared."""
        return next(
            (d for d in self.differences if d.index == index and d.value_usd == value), None
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``comparison.json`` schema."""
        names = self.names
        return {
            "scenarios": [r.to_dict() for r in self.runs],
            "paired": self.paired,
            "targets": [
                {
                    "label": t.label,
                    "value_usd": t.value_usd,
                    "p_at_least": {
                        name: (e.p_at_least if e is not None else None)
                        for name, e in zip(names, t.estimates, strict=True)
                    },
                }
                for t in self.targets
            ],
            "differences": [
                {
                    "label": d.label,
                    "value_usd": d.value_usd,
                    "scenario": names[d.index],
                    "minus": names[0],
                    "estimate": d.estimate,
                    "ci95": list(d.ci95),
                    "se": d.se,
                    "se_independent": d.se_independent,
                    "paired": d.paired,
                }
                for d in self.differences
            ],
            "attribution": [a.to_dict() for a in self.attribution],
        }


def compare(results: Sequence[Result], summaries: Sequence[Summary]) -> Comparison:
    """Compare runs: each one's target probabilities, and their differences from the first.

    Parameters
    ----------
    results, summaries : sequences of Result and Summary, in the same order

    Raises
    ------
    ValueError
        No results, or not one summary per result.
    """
    if not results or len(results) != len(summaries):
        raise ValueError("a comparison needs one summary per result, and at least one")
    runs = tuple(
        ComparedRun(r.scenario.name, r.scenario.sha256, r.seed, r.paths, r.sampler)
        for r in results
    )
    targets = tuple(
        SharedTarget(label, value, tuple(target_p(s, value) for s in summaries))
        for label, value in shared_targets(summaries)
    )
    return Comparison(runs, paired(results), targets, tuple(compare_targets(results, summaries)))


def shared_targets(summaries: Sequence[Summary]) -> list[tuple[str, float]]:
    """Every target of the runs as (label, USD), matched by value; the first label wins."""
    targets: list[tuple[str, float]] = []
    for s in summaries:
        # Paired differences are measured on the kept equity values: fair-value targets.
        for tg in (tg for tg in s.targets if tg.at == "fair"):
            if not any(math.isclose(tg.value_usd, v, rel_tol=1e-12) for _, v in targets):
                targets.append((tg.label, tg.value_usd))
    return targets


def target_p(summary: Summary, value: float) -> TargetEstimate | None:
    """The summary's estimate of P(value >= ``value``); None if ``value`` is not a target."""
    for tg in summary.targets:
        if math.isclose(tg.value_usd, value, rel_tol=1e-12):
            return tg
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
            independent = math.hypot(a.se, b.se)
            se = independent
            if is_paired:
                n = first.kept.n
                hit_a = first.kept.values.equity[:n] >= value
                hit_b = results[i].kept.values.equity[:n] >= value
                diff = hit_b.astype(np.float64) - hit_a.astype(np.float64)
                se = float(diff.std(ddof=1)) / math.sqrt(results[i].paths)
            out.append(
                TargetDifference(
                    label, value, i, b.p_at_least - a.p_at_least, se, independent, is_paired
                )
            )
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
