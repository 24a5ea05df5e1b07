"""The sensitivity table: which drivers move the value, as summary.json's ``sensitivity``.

Each driver of the value, one number per kept path (:func:`drivers`), ranked by its
first-order index with a bootstrap interval, its rank correlation and its swing; drivers
that depend on each other as one row (:mod:`sim.analysis.dependence`), so that the rows'
shares add up to 1 less the interactions (:func:`unexplained`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sim.analysis.dependence import dependent_groups
from sim.analysis.results import SensitivityRow
from sim.run.engine import Kept, Result
from sim.run.sampling import input_rng
from sim.scenario import Scenario
from sim.stats import sensitivity

__all__ = ["drivers", "sensitivity_rows", "unexplained"]

#: The name keying the bootstrap's own random stream (no input has it, so no input's
#: draws are shared with it).
_BOOTSTRAP_STREAM = "sensitivity.bootstrap"


#: The prefix of the inputs that act only after listing (:func:`drivers` leaves them out).
_AFTER_LISTING = "aftermarket."


def drivers(kept: Kept, scenario: Scenario) -> dict[str, npt.NDArray[np.float64]]:
    """Every driver of the value the sensitivity analysis ranks, one number per kept path.

    The scalar inputs drawn; each multi-dimensional input as one number
    (:func:`sim.model.core.input_summaries`: growth noise as the segment's log-revenue shock to
    the valuation year, Dirichlet shares as the share of the largest base-weight region);
    and each shock's event indicator (1 on a path with an event up to the valuation year).
    The ``[aftermarket]`` inputs are left out: they act after listing and do not enter the
    value ranked here (with regimes that override them they would only echo the regime).
    """
    out: dict[str, npt.NDArray[np.float64]] = {
        name: x for name, x in kept.inputs.items() if not name.startswith(_AFTER_LISTING)
    }
    out.update(kept.summaries)
    for k, shock in enumerate(scenario.shocks):
        out[f"shocks.{shock.name}.events"] = kept.values.shock_any[:, k].astype(float)
    return out


def sensitivity_rows(result: Result, *, of_ranks: bool = False) -> tuple[SensitivityRow, ...]:
    """Each driver's rank correlation, first-order index (with a bootstrap 95% interval)
    and USD swing over the kept paths, largest first-order index first; drivers that
    depend on each other (:func:`sim.analysis.dependence.dependent_groups`) as one row, so that
    the rows' shares add up (to 1 less the interactions, :func:`unexplained`).

    The bootstrap's stream is keyed by the run's seed (:func:`sim.run.sampling.input_rng`), so
    a run's intervals repeat with its seed.
    """
    kept = result.kept
    table = drivers(kept, result.scenario)
    # A driver the same on every kept path (a shock that never struck) explains nothing.
    names = [name for name, x in table.items() if np.ptp(x) > 0] if kept.n else list(table)
    if not names or kept.n < 3:
        return ()
    # One contiguous row per driver, read as (paths, drivers) columns without a copy.
    x = np.stack([table[name] for name in names]).T
    y = kept.values.equity
    if not np.ptp(y) > 0:
        return ()  # a value the same on every path: no variance for an input to explain
    rng = input_rng(result.seed, 0, _BOOTSTRAP_STREAM)
    groups = dependent_groups(result.scenario, names)
    rho, s, lo, hi, low, high = sensitivity(x, y, rng=rng, groups=groups, of_ranks=of_ranks)
    members = [tuple(names[j] for j in g) for g in groups]

    def strength(i: int) -> tuple[float, float]:
        return (
            -s[i] if math.isfinite(s[i]) else math.inf,
            -abs(rho[i]) if math.isfinite(rho[i]) else 0.0,
        )

    return tuple(
        SensitivityRow(
            " + ".join(members[i]),
            float(rho[i]),
            float(s[i]),
            (float(lo[i]), float(hi[i])),
            (float(low[i]), float(high[i])),
            members[i],
        )
        for i in sorted(range(len(groups)), key=strength)
    )


def unexplained(rows: tuple[SensitivityRow, ...]) -> float:
    """The share of the value's variance no row explains alone: 1 - the rows' shares,
    the interactions between groups (and the estimates' noise); NaN without rows."""
    shares = [r.first_order for r in rows if math.isfinite(r.first_order)]
    return 1.0 - math.fsum(shares) if shares else math.nan
