"""``summarise(result) -> Summary``: the machine-readable results of DESIGN.md section 6.

The keys of :meth:`Summary.to_dict` follow the ``summary.json`` schema; more are added
(``se`` and intervals everywhere, the quantile method, value per share) but none renamed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sim import metrics
from sim._version import __version__
from sim.engine import Kept, Result
from sim.expectations import ExpectationOutcome, check_expectation
from sim.sampling import BLOCK_SIZE
from sim.stats import QUANTILE_LEVELS, proportion_se, quantiles, spearman, wilson_interval

__all__ = ["Summary", "paired_loss", "summarise"]


@dataclass(frozen=True, slots=True, eq=False)
class Summary:
    """A run's results as plain data (``data`` follows the summary.json schema)."""

    data: dict[str, Any]
    expectations: tuple[ExpectationOutcome, ...]

    @property
    def failed(self) -> bool:
        """True when an ``[[expect]]`` entry failed (the run exits 1)."""
        return any(o.status == "failed" for o in self.expectations)

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def to_json(self) -> str:
        return json.dumps(_finite(self.data), indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """One row per target."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            [
                "scenario",
                "label",
                "value_usd",
                "p_at_least",
                "ci95_low",
                "ci95_high",
                "se",
                "paths",
                "seed",
            ]
        )
        for t in self.data["targets"]:
            writer.writerow(
                [
                    self.data["scenario"],
                    t["label"],
                    repr(t["value_usd"]),
                    f"{t['p_at_least']:.6f}",
                    f"{t['ci95'][0]:.6f}",
                    f"{t['ci95'][1]:.6f}",
                    f"{t['se']:.6f}",
                    self.data["paths"],
                    self.data["seed"],
                ]
            )
        return buf.getvalue()


def _finite(value: Any) -> Any:
    """JSON has no NaN: undefined numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _quantiles(result: Result, metric: str) -> dict[str, float]:
    """A streamed metric's quantiles: exact when every path was kept, else from its sketch."""
    exact = metrics.per_path(result.scenario, result.kept.values, metric)
    if exact is not None and result.exact:
        return quantiles(exact)
    stream = result.streams[metric]
    return {f"{q:g}": stream.sketch.quantile(q) for q in QUANTILE_LEVELS}


def _sensitivity(result: Result) -> list[dict[str, Any]]:
    """Spearman rank correlation of each drawn input with equity value, strongest first.

    First-order (variance-based) indices are not computed yet: ``first_order`` is null.
    """
    kept = result.kept
    names = list(kept.inputs)
    if not names or kept.n < 3:
        return []
    rho = spearman(np.stack([kept.inputs[x] for x in names], axis=1), kept.values.equity)
    order = sorted(range(len(names)), key=lambda i: -abs(rho[i]) if math.isfinite(rho[i]) else 0.0)
    return [
        {"input": names[i], "rank_correlation": float(rho[i]), "first_order": None} for i in order
    ]


def paired_loss(kept: Kept) -> npt.NDArray[np.float64]:
    """The value each kept path with a shock event lost: 1 - value / value with shocks off.

    Paired: both values are the same path's, with its shocks on and switched off. Paths
    whose loss is undefined (worth 0 with shocks off) are left out.

    Returns
    -------
    (m,) array, one entry per kept path with an event and a finite loss.
    """
    hit = kept.values.shock_any.any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = 1 - kept.values.equity[hit] / kept.values.equity_unshocked[hit]
    return loss[np.isfinite(loss)]


def _shock_impact(result: Result, targets: list[dict[str, Any]]) -> dict[str, Any]:
    """What the shocks did: each target's probability with shocks off (every path), and the
    paired loss of the kept paths with an event (``median_loss``: null when none has one)."""
    n = result.paths
    kept = result.kept
    loss = paired_loss(kept)
    impact: dict[str, Any] = {
        "kept_paths": kept.n,
        "kept_paths_with_loss": int(loss.size),
        "median_loss": float(np.median(loss)) if loss.size else None,
        "mean_value_cut": None,
    }
    off_mean = float(kept.values.equity_unshocked.mean()) if loss.size else 0.0
    if off_mean != 0:
        # Over the kept paths, all of them: how much lower the mean is with shocks on.
        impact["mean_value_cut"] = 1 - float(kept.values.equity.mean()) / off_mean
    off = result.streams.get("valuation_unshocked")
    if off is not None:
        impact["targets_shocks_off"] = []
        for t in targets:
            count = off.count_at_least(t["value_usd"])
            impact["targets_shocks_off"].append(
                {
                    "label": t["label"],
                    "value_usd": t["value_usd"],
                    "p_at_least": count / n,
                    "ci95": list(wilson_interval(count, n)),
                    "se": proportion_se(count, n),
                }
            )
    return impact


def summarise(result: Result) -> Summary:
    """Summarise a run: valuation, targets, revenue, concentration, shocks, sensitivity.

    Quantiles are exact sample quantiles when every path was kept, else read from the
    streaming sketch (relative error ``quantile_relative_error``).
    """
    scenario = result.scenario
    n = result.paths
    val = result.streams[metrics.VALUATION.name()]
    targets = []
    for t in scenario.targets:
        count = val.count_at_least(t.value_usd)
        targets.append(
            {
                "label": t.label,
                "value_usd": t.value_usd,
                "written": t.text,
                "p_at_least": count / n,
                "ci95": list(wilson_interval(count, n)),
                "se": proportion_se(count, n),
            }
        )
    revenue = {}
    for year in (scenario.base_year, *scenario.years):
        name = metrics.REVENUE.name(year)
        s = result.streams[name]
        q = _quantiles(result, name)
        revenue[str(year)] = {
            "p5": q["0.05"],
            "p50": q["0.5"],
            "p95": q["0.95"],
            "mean": s.mean,
            "se": s.se,
        }
    shocks = []
    for k, shock in enumerate(scenario.shocks):
        count = int(result.shock_counts[k])
        shocks.append(
            {
                "name": shock.name,
                "p_any": count / n,
                "ci95": list(wilson_interval(count, n)),
                "se": proportion_se(count, n),
            }
        )
    sensitivity = _sensitivity(result)
    outcomes = tuple(check_expectation(result, e) for e in scenario.expectations)
    data: dict[str, Any] = {
        "scenario": scenario.name,
        "scenario_sha256": scenario.sha256,
        "version": __version__,
        "seed": result.seed,
        "paths": n,
        "sampler": result.sampler,
        "elapsed_s": result.elapsed_s,
        "workers": result.workers,
        # LHS and Sobol lay out designs over whole blocks; paths of a short final block
        # are a random subset of a design and carry no stratification.
        "stratified_paths": (
            0 if result.sampler == "random" else (result.paths // BLOCK_SIZE) * BLOCK_SIZE
        ),
        "quantile_method": "exact" if result.exact else "sketch",
        "quantile_relative_error": 0.0 if result.exact else val.sketch.alpha,
        "valuation": {
            "currency": "USD",
            "year": scenario.valuation.year,
            "mean": val.mean,
            "sd": val.sd,
            "se": val.se,
            "quantiles": _quantiles(result, metrics.VALUATION.name()),
        },
        "targets": targets,
        "revenue": revenue,
        "concentration": {
            "year": scenario.valuation.year,
            "hhi": _quantiles(result, metrics.HHI.name()),
            "top_region_share": _quantiles(result, metrics.TOP_REGION_SHARE.name()),
            "region_share_mean": {
                r: float(result.region_share_sums[i] / n) for i, r in enumerate(scenario.regions)
            },
        },
        "shocks": shocks,
        "sensitivity": sensitivity,
        "expectations": [
            {
                "text": o.expectation.text,
                "passed": o.passed,
                "status": o.status,
                "estimate": o.estimate,
                "ci95": list(o.ci95),
            }
            for o in outcomes
        ],
    }
    if result.precision is not None:
        data["precision"] = {
            "requested": result.precision,
            "max_half_width": result.max_half_width,
            "reached": result.max_half_width < result.precision,
        }
    if scenario.shocks:
        data["shock_impact"] = _shock_impact(result, targets)
    if scenario.offering is not None:
        vps = result.streams[metrics.VALUE_PER_SHARE.name()]
        lo, hi = scenario.offering.price_range_usd
        data["value_per_share"] = {
            "currency": "USD",
            "shares_outstanding": scenario.offering.shares_outstanding,
            "mean": vps.mean,
            "quantiles": _quantiles(result, metrics.VALUE_PER_SHARE.name()),
            "offer_price_range_usd": [lo, hi],
            "p_at_least_offer_low": vps.count_at_least(lo) / n,
            "p_at_least_offer_high": vps.count_at_least(hi) / n,
        }
    return Summary(data, outcomes)
