"""The value's histogram and P(value >= x).

The value per share against the offer range is the pricing page's (:mod:`sim.report.pricing`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, PercentFormatter

from sim import format as fmt
from sim.analysis.summary import Quantiles
from sim.report.axes import (
    _beyond,
    _same_value,
    _set_money_axis,
    _sparse_minor_ticks,
    _value_axis,
)
from sim.report.layout import (
    _MAX_TARGETS_DRAWN,
    _bubble,
    _Ctx,
    _message,
    _note,
    _stagger,
    _target_key,
)
from sim.report.style import _INK, _MUTED
from sim.report.units import money_label, yi_unit
from sim.stats import wilson_interval

FloatArray = npt.NDArray[np.float64]


def _percent_tick(v: float, _pos: int | None = None) -> str:
    """A probability as a percentage with as many digits as it needs: ``0.01%``."""
    return f"{fmt.number(v * 100)}%"


def _key(ctx: _Ctx, body: SubFigure, *, below: bool) -> None:
    """The numbered target key, right of the plot or below it."""
    targets = ctx.summary.targets
    if below:
        loc: Any = "outside lower center"
        ncols, width = min(3, max(1, len(targets))), 46
    else:
        loc, ncols, width = "outside right upper", 1, 36
    _target_key(body, ctx.fonts, targets, ctx.target_colours, loc=loc, ncols=ncols, width=width)


def _axis(ctx: _Ctx) -> tuple[float, float, bool]:
    """The value axis: the kept values and every target drawn."""
    drawn = [tg.value_usd for tg in ctx.summary.targets[:_MAX_TARGETS_DRAWN]]
    return _value_axis(ctx.kept.values.equity, drawn, ctx.value_scale)


def _all_the_same(ctx: _Ctx, ax: Axes, body: SubFigure, why: str, *, below: bool) -> bool:
    """When every kept path gives one value: say so on ``ax`` (and ``why``), draw the key."""
    same = _same_value(ctx.kept.values.equity, ctx.value_scale)
    if same is None:
        return False
    value = fmt.money(same, reading=ctx.yi)
    _message(
        ax, ctx.drawable(f"All {ctx.kept.n:,} plotted paths give the same value: {value}.\n{why}")
    )
    _key(ctx, body, below=below)
    return True


# --------------------------------------------------------------------------- histogram


def _hist(ax: Axes, values: FloatArray, lo: float, hi: float, colour: str, *, log: bool) -> float:
    """A histogram (log or linear bins) as the percentage of paths per bin; returns the peak."""
    edges = np.geomspace(lo, hi, 121) if log else np.linspace(lo, hi, 121)
    counts, _ = np.histogram(values, bins=edges)
    share = counts / max(values.size, 1) * 100
    ax.stairs(share, edges, fill=True, color=colour, alpha=0.55, linewidth=0)
    ax.stairs(share, edges, color=colour, linewidth=0.8)
    _beyond(ax, values, hi)
    return float(share.max()) if share.size else 0.0


def _quantile_strip(ax: Axes, q: Quantiles, y: float) -> None:
    """p5-p95 (thin), p25-p75 (thick) and the median (dot) as a strip at height ``y``."""
    ax.plot([q.p5, q.p95], [y, y], color=_INK, lw=1.2, solid_capstyle="butt")
    ax.plot([q.p25, q.p75], [y, y], color=_INK, lw=5, solid_capstyle="butt")
    ax.plot([q.median], [y], "o", color="white", mec=_INK, ms=6, zorder=5)
    marks = [(0.5, "median", "center", 0, 8)]
    if q.p95 > q.p5 * 1.02:  # else the three labels would sit on one another
        # Beside the whisker's ends, unless an end is near the axes' edge, where the label
        # would run off them (onto the row names): then under the end, inward.
        near_left, near_right = (_edge(ax, q.p5) < 0.15, _edge(ax, q.p95) > 0.85)
        marks += [
            (0.05, "p5", "left", 0, -6) if near_left else (0.05, "p5", "right", -4, 0),
            (0.95, "p95", "right", 0, -6) if near_right else (0.95, "p95", "left", 4, 0),
        ]
    for key, name, ha, dx, dy in marks:
        _note(
            ax,
            f"{name} {fmt.money(q.at(key), short=True)}",
            (q.at(key), y),
            offset=(dx, dy),
            ha=ha,
            va="bottom" if dy > 0 else "top" if dy < 0 else "center",
            fontsize=7.5,
            color=_INK,
        )


def _edge(ax: Axes, x: float) -> float:
    """Where ``x`` falls across the axes' current x range, 0 at the left, 1 at the right."""
    x0, x1 = ax.get_xlim()
    if ax.get_xscale() == "log" and min(x, x0, x1) > 0:
        x, x0, x1 = math.log(x), math.log(x0), math.log(x1)
    return (x - x0) / (x1 - x0) if x1 != x0 else 0.5


def _fig_valuation(ctx: _Ctx) -> Figure:
    kept = ctx.kept
    fig, body = ctx.page(f"Equity value at listing: {ctx.summary.run.scenario}")
    ax = body.add_subplot()
    why = "There is no distribution to draw; each target's probability is in the key."
    if _all_the_same(ctx, ax, body, why, below=False):
        return fig
    lo, hi, log = _axis(ctx)
    peak = _hist(ax, kept.values.equity, lo, hi, ctx.colour, log=log)
    _set_money_axis(ax, "x", lo, hi, log=log, units=ctx.units, fonts=ctx.fonts)
    ax.set_ylim(0, peak * 1.6 if peak > 0 else 1)  # room above: the strip, then the discs
    # Ticks only up to the peak: the room above it holds labels, not data.
    ax.yaxis.set_major_locator(
        FixedLocator([v for v in MaxNLocator(6).tick_values(0, peak) if v <= peak * 1.02])
    )
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_ylabel("share of paths in each bin")
    xlabel = money_label("equity value at listing", ctx.units, ctx.fonts, log=log)
    if ctx.units == "both":
        xlabel += f"; top axis in {yi_unit(ctx.fonts)}" + (" (1亿 = 10⁸)" if ctx.fonts.cjk else "")
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", which="major")
    _quantile_strip(ax, ctx.summary.equity.quantiles, peak * 1.13)
    _target_lines(ctx, ax, lo, hi, log=log)
    _key(ctx, body, below=False)
    return fig


def _target_lines(ctx: _Ctx, ax: Axes, lo: float, hi: float, *, log: bool) -> None:
    """Targets as lines in their colours; numbered discs, staggered so that none overlap."""
    targets = ctx.summary.targets
    shown = [
        (i, tg) for i, tg in enumerate(targets[:_MAX_TARGETS_DRAWN]) if tg.value_usd > 0 or not log
    ]
    if log:
        xs = [math.log(tg.value_usd / lo) / math.log(hi / lo) for _, tg in shown]
    else:
        xs = [(tg.value_usd - lo) / (hi - lo) for _, tg in shown]
    for (i, tg), row in zip(shown, _stagger(xs, 0.03), strict=True):
        ax.axvline(tg.value_usd, color=ctx.target_colours[i], lw=1.4, zorder=4)
        _bubble(ax, tg.value_usd, 0.955 - 0.055 * row, str(i + 1), ctx.target_colours[i])
    if not targets:
        ax.text(
            0.99,
            0.97,
            "no targets in this scenario",
            ha="right",
            va="top",
            transform=ax.transAxes,
            color=_MUTED,
        )


# --------------------------------------------------------------------------- exceedance


def _fig_exceedance(ctx: _Ctx) -> Figure:
    kept = ctx.kept
    fig, body = ctx.page(f"P(equity value ≥ x): {ctx.summary.run.scenario}")
    left, right = body.subplots(1, 2)
    why = "P(value ≥ x) is 100% up to it and 0 above, a step with nothing to draw."
    if _all_the_same(ctx, left, body, why, below=True):
        right.set_axis_off()
        return fig
    lo, hi, log = _axis(ctx)
    n = kept.n
    grid = np.geomspace(lo, hi, 400) if log else np.linspace(lo, hi, 400)
    at_least = n - np.searchsorted(np.sort(kept.values.equity), grid, side="left")
    curve = (grid, at_least / max(n, 1), *wilson_interval(at_least, max(n, 1)))
    for ax, log_y in ((left, False), (right, True)):
        _exceedance_panel(ctx, ax, curve, (lo, hi), log=log, log_y=log_y)
        ax.set_xlabel(money_label("x: equity value at listing", ctx.units, ctx.fonts, log=log))
        _exceedance_targets(ctx, ax, log=log, log_y=log_y)
        ax.legend(loc="lower left" if log_y else "upper right", fontsize=7.5)
    _key(ctx, body, below=True)
    return fig


def _exceedance_panel(
    ctx: _Ctx,
    ax: Axes,
    curve: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    span: tuple[float, float],
    *,
    log: bool,
    log_y: bool,
) -> None:
    """P(value >= x) over the grid with its Wilson band, on a linear or log y axis.

    ``curve`` is (grid, P, band low, band high); ``span`` the value axis's (lo, hi).
    """
    grid, p, band_lo, band_hi = curve
    n = ctx.kept.n
    ax.fill_between(
        grid, band_lo, band_hi, color=ctx.colour, alpha=0.25, lw=0, label="95% interval (Wilson)"
    )
    ax.plot(grid, p, color=ctx.colour, lw=1.8, label=f"P(value ≥ x), {n:,} paths")
    _set_money_axis(ax, "x", *span, log=log, units=ctx.units, fonts=ctx.fonts)
    ax.grid(axis="x", which="major")
    if log_y:
        ax.set_yscale("log")
        _sparse_minor_ticks(ax.yaxis)
        ax.set_ylim(0.5 / max(n, 1), 1.6)
        ax.set_title("the tail (log scale)")
        ax.yaxis.set_major_formatter(FuncFormatter(_percent_tick))
    else:
        ax.set_ylim(0, 1.04)
        ax.set_title("the whole range")
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("probability that the value is at least x")


def _exceedance_targets(ctx: _Ctx, ax: Axes, *, log: bool, log_y: bool) -> None:
    """Each drawn target: its line, its estimate with error bars, its number."""
    floor = 0.5 / max(ctx.kept.n, 1)
    for i, tg in enumerate(ctx.summary.targets[:_MAX_TARGETS_DRAWN]):
        x, pt = tg.value_usd, tg.p_at_least
        if (log and x <= 0) or (log_y and pt <= 0):
            continue
        colour = ctx.target_colours[i]
        ax.axvline(x, color=colour, lw=0.8, alpha=0.6, zorder=3)
        lo_ci, hi_ci = tg.ci95
        y0 = max(pt, floor) if log_y else pt
        ax.errorbar(
            [x],
            [y0],
            yerr=[[y0 - max(lo_ci, floor if log_y else 0.0)], [hi_ci - y0]],
            fmt="o",
            color=colour,
            ms=5,
            capsize=3,
            zorder=5,
        )
        _note(ax, str(i + 1), (x, y0), offset=(6, 6), fontsize=8, fontweight="bold", color=colour)
