"""Comparing runs: each target probability's difference between scenarios, with its error.

Runs made with the same seed, path count and sampler drew the same inputs path by path
(the engine's keyed streams), so a difference between two scenarios is measured on paired
paths: its standard error comes from the per-path differences and is far smaller than
that of independent runs when the scenarios are alike.

:func:`compare` gathers all of it into a :class:`Comparison`, which the CLI prints and
writes (``comparison.json``) and the comparison report draws.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from sim import metrics
from sim.analysis.results import Quantiles
from sim.analysis.summary import Summary, TargetEstimate
from sim.errors import SimError
from sim.format import target_label
from sim.model.core import FloatArray
from sim.run.engine import Result
from sim.serial import serialise
from sim.stats import Z95
from sim.studies.attribution import Attribution

if TYPE_CHECKING:
    from sim.report.units import UnitsChoice

_T = TypeVar("_T")

__all__ = [
    "DEFAULT_REFERENCE",
    "ComparedRun",
    "Comparison",
    "SharedTarget",
    "TargetDifference",
    "compare",
    "compare_targets",
    "order_by_reference",
    "paired",
    "reference_index",
    "shared_targets",
    "target_p",
    "target_values",
    "write_comparison",
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
    at : str
        The value it reads: ``fair``, ``offer``, ``day1``, ``end`` or ``peak``.
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
    at: str
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
    """One target (matched by value and the point in time it reads) in every compared run.

    ``estimates[i]`` is run i's estimate, None where run i has no such target.
    """

    label: str
    value_usd: float
    at: str
    estimates: tuple[TargetEstimate | None, ...]

    @property
    def shown(self) -> str:
        """The label, with the value it reads unless the label says it already."""
        return target_label(self.label, self.at)


@dataclass(frozen=True, slots=True)
class ComparedRun:
    """Which run a comparison column is: scenario, seed, path count, sampler; and its
    summary's equity value (quantiles, USD) and the offer range's market values.

    ``offer_range_usd`` is the market value at the low and the high price of the offer
    range (the pricing grid's ends of the range), None without an ``[offering]``;
    ``currency`` the scenario's reporting currency (the comparison's amounts are in the
    reference's).
    """

    name: str
    scenario_sha256: str
    seed: int
    paths: int
    sampler: str
    quantiles: Quantiles | None = None
    offer_range_usd: tuple[float, float] | None = None
    currency: str = "USD"

    @classmethod
    def of(cls, result: Result, summary: Summary) -> ComparedRun:
        """The run of ``result``, with the statistics of its ``summary``."""
        rng = [p.market_value_usd for p in summary.pricing if p.in_range]
        return cls(
            result.scenario.name,
            result.scenario.sha256,
            result.seed,
            result.paths,
            result.sampler,
            summary.equity.quantiles,
            (min(rng), max(rng)) if rng else None,
            result.scenario.currency,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "scenario_sha256": self.scenario_sha256,
            "seed": self.seed,
            "paths": self.paths,
            "sampler": self.sampler,
        }
        if self.quantiles is not None:
            out["valuation_quantiles_usd"] = serialise(self.quantiles)
        if self.offer_range_usd is not None:
            out["offer_range_market_value_usd"] = list(self.offer_range_usd)
        out["currency"] = self.currency
        return out


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
        Every target of the runs, matched by (value, at); the first label wins.
    differences : tuple of TargetDifference
        One per (target of the first run, later run that has it).
    attribution : tuple of Attribution
        Each later run's difference from the first attributed to each differing key
        (:func:`sim.studies.attribution.attribute`); empty when not asked for.
    """

    runs: tuple[ComparedRun, ...]
    paired: bool
    targets: tuple[SharedTarget, ...]
    differences: tuple[TargetDifference, ...]
    attribution: tuple[Attribution, ...] = ()

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.runs]

    @property
    def reference(self) -> str:
        """The scenario every difference is taken against: the first run."""
        return self.runs[0].name

    def difference(self, index: int, value: float, at: str = "fair") -> TargetDifference | None:
        """Run ``index`` minus the first run at target ``value`` read at ``at``; None if not
        compared."""
        return next(
            (
                d
                for d in self.differences
                if d.index == index and d.value_usd == value and d.at == at
            ),
            None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``comparison.json`` schema."""
        names = self.names
        return {
            "reference": self.reference,
            "currency": self.runs[0].currency,
            "scenarios": [r.to_dict() for r in self.runs],
            "paired": self.paired,
            "targets": [
                {
                    "label": t.label,
                    "value_usd": t.value_usd,
                    "at": t.at,
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
                    "at": d.at,
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
    runs = tuple(ComparedRun.of(r, s) for r, s in zip(results, summaries, strict=True))
    targets = tuple(
        SharedTarget(label, value, at, tuple(target_p(s, value, at) for s in summaries))
        for label, value, at in shared_targets(summaries)
    )
    return Comparison(runs, paired(results), targets, tuple(compare_targets(results, summaries)))


#: The scenario a batch is compared against when none is named and one has this name.
DEFAULT_REFERENCE = "baseline"


def reference_index(names: Sequence[str], reference: str | None = None) -> int:
    """Position of the reference scenario among ``names``.

    ``reference`` when given (it must be one of ``names``), else the scenario named
    :data:`DEFAULT_REFERENCE` if there is one, else the first.

    Raises
    ------
    SimError
        ``reference`` is not one of ``names``, or ``names`` is empty.

    Examples
    --------
    >>> reference_index(["article", "baseline", "bull"]), reference_index(["a", "b"], "b")
    (1, 1)
    """
    if not names:
        raise SimError("--reference: there is no scenario to compare against")
    if reference is None:
        return names.index(DEFAULT_REFERENCE) if DEFAULT_REFERENCE in names else 0
    if reference not in names:
        hint = difflib.get_close_matches(reference, names, n=1)
        raise SimError(
            f"--reference: no scenario named {reference!r}"
            + (f"; did you mean {hint[0]!r}?" if hint else "")
            + f" (the scenarios: {', '.join(names)})"
        )
    return list(names).index(reference)


def order_by_reference(items: Sequence[_T], index: int) -> list[_T]:
    """``items`` with the reference (position ``index``) moved first, the rest in order."""
    return [items[index], *(x for i, x in enumerate(items) if i != index)]


def shared_targets(summaries: Sequence[Summary]) -> list[tuple[str, float, str]]:
    """Every target of the runs as (label, USD, at), matched by value and the point in
    time it reads; the first label wins."""
    targets: list[tuple[str, float, str]] = []
    for s in summaries:
        for tg in s.targets:
            if not any(
                at == tg.at and math.isclose(tg.value_usd, v, rel_tol=1e-12)
                for _, v, at in targets
            ):
                targets.append((tg.label, tg.value_usd, tg.at))
    return targets


def target_p(summary: Summary, value: float, at: str = "fair") -> TargetEstimate | None:
    """The summary's estimate of P(value at ``at`` >= ``value``); None if it has no such
    target."""
    for tg in summary.targets:
        if tg.at == at and math.isclose(tg.value_usd, value, rel_tol=1e-12):
            return tg
    return None


def target_values(result: Result, at: str) -> FloatArray | None:
    """The kept paths' values a target read at ``at`` compares with: the fair value
    (``fair``) or the market value at that point in time; None when the run has none."""
    values = metrics.target_values(result.scenario, result.kept.values, at)
    return None if values is None else values[: result.kept.n]


def compare_targets(
    results: Sequence[Result], summaries: Sequence[Summary]
) -> list[TargetDifference]:
    """Each scenario's target probabilities against the first scenario's.

    Targets are matched by value and the point in time they read (``at``). Runs with the
    same seed, path count and sampler drew the same inputs path by path (common random
    numbers), so the standard error of a difference comes from the per-path differences
    ``1[B_k >= t] - 1[A_k >= t]`` of the kept paths, each read at the target's point in
    time (fair value, or market value at the offer, day 1, the end or the peak), which is
    far smaller than that of independent runs when the scenarios are alike.

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
    for label, value, at in shared_targets(summaries):
        a = target_p(summaries[0], value, at)
        if a is None:
            continue
        values_a = target_values(first, at) if is_paired else None
        for i in range(1, len(results)):
            b = target_p(summaries[i], value, at)
            if b is None:
                continue
            independent = math.hypot(a.se, b.se)
            se = independent
            values_b = target_values(results[i], at) if is_paired else None
            # Both runs keep these values whenever both have the target (the loader asks
            # for the table a point in time needs); else the runs cannot be paired on it.
            pair = values_a is not None and values_b is not None
            if pair:
                assert values_a is not None and values_b is not None
                diff = (values_b >= value).astype(np.float64) - (values_a >= value).astype(
                    np.float64
                )
                se = float(diff.std(ddof=1)) / math.sqrt(results[i].paths)
            out.append(
                TargetDifference(
                    label, value, at, i, b.p_at_least - a.p_at_least, se, independent, pair
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


def write_comparison(
    results: Sequence[Result],
    summaries: Sequence[Summary],
    comparison: Comparison,
    folder: Path,
    formats: Sequence[str],
    units: UnitsChoice = "auto",
) -> list[Path]:
    """Write ``comparison.json`` into ``folder`` and, with ``"pdf"`` or ``"png"`` among
    ``formats``, the comparison report (:func:`sim.report.render_comparison`); the files
    written, ``comparison.json`` first."""
    files = [folder / "comparison.json"]
    files[0].write_text(
        json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if "pdf" in formats or "png" in formats:
        from sim.report import render_comparison

        files.extend(
            render_comparison(
                results,
                summaries,
                folder,
                formats=formats,
                comparison=comparison,
                units=units,
            )
        )
    return files
