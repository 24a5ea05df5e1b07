"""Sensitivity: the tornado of each driver's swing of the mean value in USD, ordered by its
first-order (variance-based) index, with the index and the rank correlation printed; a
group of dependent drivers is one bar (:mod:`sim.analysis.dependence`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import format as fmt
from sim.analysis.dependence import GROUPING_OF_RANKS
from sim.analysis.sensitivity import unexplained
from sim.analysis.summary import SensitivityRow
from sim.report.axes import _set_money_axis
from sim.report.layout import _Ctx, _message, _note
from sim.report.style import _INK, _MUTED
from sim.report.units import money_label, yi_unit
from sim.scenario import Scenario
from sim.scenario.types import REGIME_INPUT

# Points between the axes' top and the title or column header, clear of a 亿 axis on top.
_TOP_PAD = 20

# The valuation method names its own inputs (``input_labels``); these are shared.
_INPUT_NAMES = {
    "valuation.net_cash": "net cash",
    "valuation.ipo_proceeds": "IPO proceeds",
}


def _pretty_input(name: str, labels: Mapping[str, str] = _INPUT_NAMES) -> str:
    """``segments.hailuo.growth`` -> ``hailuo: growth``: an input's name for readers."""
    if name in labels:
        return labels[name]
    base, bracket, k = name.partition("[")
    if bracket and k.endswith("]"):  # one year of a year-by-year input: "...wacc[3]"
        return f"{_pretty_input(base, labels)}, year {k[:-1]}"
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in ("segments", "shocks"):
        return f"{parts[1]}: {parts[2].replace('_', ' ')}"
    return name.replace("_", " ").replace(".", ": ")


def _sensitivity_applies(sc: Scenario) -> bool:
    """Some scalar input is random: with every input fixed, none explains a spread."""
    return any(not d.is_fixed for d in sc.scalar_inputs().values())


def _fig_sensitivity(ctx: _Ctx) -> Figure:
    rows_all = [
        r
        for r in ctx.summary.sensitivity
        if math.isfinite(r.first_order) and all(math.isfinite(v) for v in r.swing_usd)
    ]
    rows = rows_all[:12]
    # A heavy-tailed value (a peer multiple) is decomposed by rank: its variance is noise.
    by_rank = ctx.summary.sensitivity_method == GROUPING_OF_RANKS
    fig, body = ctx.page(
        f"What drives the value: {ctx.summary.run.scenario}",
        note=(
            "grouped first-order (Sobol) shares"
            + (" of the value's rank (its variance is infinite)" if by_rank else "")
            + f"; {_unexplained_note(ctx.summary.sensitivity)}"
        ),
    )
    ax = body.add_subplot()
    if not rows:
        _message(
            ax,
            "No input's effect on the value is defined:\n"
            "too few paths, or a value that does not vary across them.",
        )
        return fig
    _tornado(ctx, ax, rows)
    shown = (
        f"the {len(rows)} strongest of {len(rows_all)} drivers"
        if len(rows_all) > len(rows)
        else f"all {len(rows)} drivers"
    )
    # Above the 亿 axis when there is one on top.
    ax.set_title(
        f"Tornado in {fmt.shown_currency().code}: {shown}",
        loc="left",
        pad=_TOP_PAD if ctx.units == "both" else 6,
    )
    return fig


def _unexplained_note(rows: tuple[SensitivityRow, ...]) -> str:
    """What the rows leave to interactions, for the page's note (grouped first-order)."""
    left = unexplained(rows)
    if math.isnan(left):
        return "no share is defined"
    # Not fmt.pct, which reads a probability: estimation noise may take this below 0.
    rest = f"{100.0 * left:.1f}%".replace("-", "−")
    return f"{rest} left to interactions"


def _row_label(row: SensitivityRow, labels: Mapping[str, str]) -> str:
    """A row's name for readers: a group's members joined by " + "."""
    return " + ".join(_label(name, labels) for name in row.members)


def _label(name: str, labels: Mapping[str, str]) -> str:
    """A driver's name for readers; a shock's event indicator reads ``<shock>: an event``."""
    if name == REGIME_INPUT:
        return "regime"
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "shocks" and parts[2] == "events":
        return f"{parts[1]}: an event"
    if len(parts) == 3 and parts[0] == "segments" and parts[2] == "noise":
        return f"{parts[1]}: yearly noise"
    if len(parts) == 3 and parts[0] == "segments" and parts[2].startswith("regions"):
        return f"{parts[1]}: main region's share" + (
            " at horizon" if parts[2].endswith("at_horizon") else ""
        )
    return _pretty_input(name, labels)


def _tornado(ctx: _Ctx, ax: Axes, rows: list[SensitivityRow]) -> None:
    """A bar per driver from its bottom-decile to its top-decile mean value (USD), around
    the kept paths' mean, with its first-order index and rank correlation printed."""
    # By rank (a heavy-tailed value): the swings are decile medians, around the median.
    by_rank = ctx.summary.sensitivity_method == GROUPING_OF_RANKS
    at = "median" if by_rank else "mean"
    values = ctx.kept.values.equity
    centre = float(np.median(values) if by_rank else values.mean())
    low = np.array([r.swing_usd[0] for r in rows])
    high = np.array([r.swing_usd[1] for r in rows])
    y = np.arange(len(rows))[::-1].astype(float)
    h = 0.6
    ax.barh(
        y,
        low - centre,
        left=centre,
        height=h,
        color=_MUTED,
        alpha=0.55,
        label="input in its bottom decile (no event)",
    )
    ax.barh(
        y,
        high - centre,
        left=centre,
        height=h,
        color=ctx.colour,
        alpha=0.85,
        label="input in its top decile (an event)",
    )
    ax.axvline(centre, color=_INK, lw=0.8)
    lo = float(min(low.min(), high.min(), centre))
    hi = float(max(low.max(), high.max(), centre))
    pad = (hi - lo) * 0.04 or abs(centre) * 0.05 or 1.0
    _set_money_axis(ax, "x", lo - pad, hi + pad, log=False, units=ctx.units, fonts=ctx.fonts)
    labels = {**_INPUT_NAMES, **type(ctx.scenario.valuation).input_labels}
    ax.set_yticks(y, [ctx.drawable(_row_label(r, labels)) for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="y", visible=False)
    for yy, r in zip(y, rows, strict=True):
        _note(
            ax,
            ctx.drawable(
                f"{fmt.probability(r.first_order, r.first_order_ci95)}   "
                f"ρ {fmt.signed(r.rank_correlation)}" + (" (group)" if len(r.members) > 1 else "")
            ),
            (1.0, yy),
            offset=(6, 0),
            xycoords=("axes fraction", "data"),
            ha="left",
            va="center",
            fontsize=8,
            color=_INK,
        )
    _note(
        ax,
        f"share of {'the rank' if by_rank else 'the value'}'s variance [bootstrap 95%]   "
        "ρ (Spearman)",
        (1.0, 1.0),
        offset=(6, _TOP_PAD if ctx.units == "both" else 4),
        xycoords="axes fraction",
        ha="left",
        va="bottom",
        fontsize=8,
        color=_MUTED,
    )
    ax.legend(loc="lower right", fontsize=8)
    xlabel = money_label(
        f"{at} equity value at listing, around the {at} {fmt.money(centre)}",
        ctx.units,
        ctx.fonts,
    )
    if ctx.units == "both":
        xlabel += f"; top axis in {yi_unit(ctx.fonts)}" + (" (1亿 = 10⁸)" if ctx.fonts.cjk else "")
    ax.set_xlabel(xlabel)
