"""After listing: the fan of market value, the first-day return, each target over time.

The statistics are :mod:`sim.analysis.summary`'s (``aftermarket``, ``first_day_return``); the
first-day return's histogram draws the kept paths.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim import format as fmt
from sim.analysis.results import AftermarketSummary, TargetOverTime
from sim.report.axes import _count_tick, _set_money_axis, _value_range
from sim.report.layout import _MAX_TARGETS_DRAWN, _Ctx, _Measure, _message
from sim.report.style import _INK, _MUTED
from sim.report.units import money_label
from sim.scenario import Scenario

#: The points in time of a target's probability, in the order they come.
_AT = ("fair", "offer", "day1", "end", "peak")
_AT_LABEL = {
    "fair": "fair value",
    "offer": "at the offer",
    "day1": "day-1 close",
    "end": "end",
    "peak": "peak close",
}


def _aftermarket_applies(sc: Scenario) -> bool:
    """The scenario has an ``[aftermarket]``."""
    return sc.aftermarket is not None


def _fig_aftermarket(ctx: _Ctx) -> Figure:
    am = ctx.summary.aftermarket
    fig, body = ctx.page(
        f"After listing: market value from the day-1 close ({ctx.summary.run.scenario})",
        note="fan: exact quantiles given each path's day-1 value · bands 5-95% and 25-75%",
    )
    if am is None:  # pragma: no cover - the page applies only with an aftermarket
        _message(body.add_subplot(), "No [aftermarket]: nothing after listing.")
        return fig
    m = _Measure(fig)
    parts = body.subfigures(2, 1, height_ratios=(1.15, 1.0), squeeze=False)
    _fan(ctx, parts[0, 0].add_subplot(), am)
    left, right = parts[1, 0].subplots(1, 2, width_ratios=(1.0, 1.25))
    _first_day(ctx, left)
    _targets_over_time(ctx, right, m, am)
    return fig


def _fan(ctx: _Ctx, ax: Axes, am: AftermarketSummary) -> None:
    """Quantile bands of market value by trading day, the peak's at the right, the targets."""
    days = np.asarray(am.fan_days, dtype=np.float64)
    grid = np.asarray(am.fan_values)
    level = {q: j for j, q in enumerate(am.fan_levels)}
    peak = next((mv for mv in ctx.summary.market_value if mv.at == "peak"), None)
    x_peak = am.days * 1.08
    values = grid.ravel().tolist()  # every band's values: where the median runs too
    if peak is not None:
        q = peak.quantiles
        ax.plot([x_peak, x_peak], [q.p5, q.p95], color=_INK, lw=1.2)
        ax.plot([x_peak, x_peak], [q.p25, q.p75], color=_INK, lw=4, solid_capstyle="butt")
        ax.plot([x_peak], [q.median], "o", color="white", mec=_INK, ms=5)
        ax.annotate(
            "peak close\n(5-95%)",
            (x_peak, q.p95),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7.5,
        )
        values += [q.p5, q.p95]
    targets = ctx.summary.targets[:_MAX_TARGETS_DRAWN]
    marks = sorted({t.value_usd for t in targets})
    lo, hi = _value_range(np.asarray(values), marks)
    _set_money_axis(ax, "y", lo, hi, log=True, units=ctx.units, fonts=ctx.fonts)
    # A company trading at 0 (a failed one) sits below any log axis: the bands stop at
    # the axis's floor rather than run towards log(0), which makes a polygon hundreds of
    # thousands of points tall that the PDF keeps and a rasteriser must fill.
    shown = np.maximum(grid, lo)
    for (q_lo, q_hi), alpha in (((0.05, 0.95), 0.15), ((0.25, 0.75), 0.3)):
        band = (shown[:, level[q_lo]], shown[:, level[q_hi]])
        ax.fill_between(days, *band, color=ctx.colour, alpha=alpha)
    ax.plot(days, shown[:, level[0.5]], color=ctx.colour, lw=1.8)
    for v in marks:
        ax.axhline(v, color=_MUTED, lw=0.7, ls="--")
        ax.text(0.5, v, fmt.money(v, short=True), fontsize=7, color=_MUTED, va="bottom")
    if am.lockup_day is not None:
        ax.axvline(am.lockup_day, color=_INK, lw=0.8, ls=":")
        ax.text(
            am.lockup_day,
            0.02,
            " lock-up ends",
            transform=ax.get_xaxis_transform(),
            fontsize=7.5,
            rotation=90,
            va="bottom",
            ha="right",
        )
    ax.set_xlim(0, am.days * 1.14)
    ticks = [d for d in am.fan_days if am.lockup_day is None or d != am.lockup_day - 1]
    ax.set_xticks(ticks)
    ax.set_xlabel("trading days after the day-1 close (252 a year)")
    ax.set_ylabel(money_label("market value", ctx.units, ctx.fonts, log=True))
    ax.set_title(
        "Market value over the days after listing (line: median; dashed: the targets' values)",
        loc="left",
    )


def _first_day(ctx: _Ctx, ax: Axes) -> None:
    """The first-day return's histogram, the offer (0) and the median marked."""
    fdr = ctx.summary.first_day_return
    values = ctx.kept.values.first_day_return
    if fdr is None or values is None or values.size == 0:  # pragma: no cover - applies()
        _message(ax, "No first-day return.")
        return
    lo, hi = (float(v) for v in np.quantile(values, [0.005, 0.99]))
    lo, hi = min(lo, -0.05), max(hi, 0.05)
    ax.hist(np.clip(values, lo, hi), bins=60, range=(lo, hi), color=ctx.colour, alpha=0.8)
    ax.axvline(0.0, color=_INK, lw=1.0)
    ax.axvline(fdr.quantiles.median, color=_INK, lw=0.8, ls="--")
    ax.text(
        0.98,
        0.95,
        f"median {fmt.signed_pct(fdr.quantiles.median)} · mean {fmt.signed_pct(fdr.mean)}\n"
        f"P(day-1 close ≥ offer) {fmt.probability(fdr.p_at_least_offer, fdr.ci95)}"
        f"{_greenshoe_line(ctx)}",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=8,
        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1},
    )
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.yaxis.set_major_formatter(FuncFormatter(_count_tick))
    ax.set_xlabel("first-day return: day-1 close ÷ offer price − 1 (clipped at p99)")
    ax.set_ylabel("paths")
    ax.set_title("First-day return, from the offer price", loc="left")


def _greenshoe_line(ctx: _Ctx) -> str:
    """The share of paths exercising the greenshoe (only at or above the offer)."""
    op = ctx.summary.offer_price
    deal = ctx.scenario.offering.deal if ctx.scenario.offering is not None else None
    if op is None or op.p_greenshoe is None or deal is None or deal.over_allotment == 0:
        return ""
    return f"\ngreenshoe exercised {fmt.pct(op.p_greenshoe)}"


def _targets_over_time(ctx: _Ctx, ax: Axes, m: _Measure, am: AftermarketSummary) -> None:
    """A table: each target's P(market value ≥ target) at every point in time."""
    ax.set_axis_off()
    ax.set_title("P(market value ≥ target) at each point in time", loc="left")
    # One row per value: a ladder stated at fair value and again at the peak has the
    # same probabilities at every point in time, so its targets share a row, with each
    # point in time a target of that value is read at highlighted.
    reads: dict[float, set[str]] = {}
    for t in ctx.summary.targets:
        reads.setdefault(t.value_usd, set()).add(t.at)
    by_value: dict[float, TargetOverTime] = {}
    for target in am.targets:
        by_value.setdefault(target.value_usd, target)
    distinct = list(by_value.values())
    rows = distinct[:_MAX_TARGETS_DRAWN]
    if not rows:
        _message(ax, "No targets.")
        return
    ats = [a for a in _AT if a in rows[0].p_at_least]
    header = ["target", *(_AT_LABEL[a] for a in ats)]
    label_pt = 128.0
    cells = [
        [m.fit(ctx.drawable(r.label), label_pt, 7.5), *(fmt.pct(r.p_at_least[a]) for a in ats)]
        for r in rows
    ]
    table = ax.table(
        cellText=[header, *cells],
        colWidths=[0.36, *([0.64 / len(ats)] * len(ats))],
        bbox=(0.0, 0.0, 1.0, 1.0),  # type: ignore[arg-type]
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        cell.set_linewidth(0.5)
        text = cell.get_text()
        text.set_horizontalalignment("left" if c == 0 else "right")
        if r == 0:
            text.set_fontweight("bold")
            cell.set_facecolor("#f2f2f2")
        elif c > 0 and ats[c - 1] in reads.get(rows[r - 1].value_usd, ()):
            # The point in time the target is read at in the scenario.
            text.set_fontweight("bold")
            cell.set_facecolor("#fff4d6")
    if len(distinct) > len(rows):
        ax.text(
            0,
            -0.04,
            f"… and {len(distinct) - len(rows)} more targets (summary.json)",
            transform=ax.transAxes,
            fontsize=7,
            color=_MUTED,
            va="top",
        )
    ax.text(
        0,
        -0.1,
        "one row per value (the first target's label); highlighted: the points in time "
        "the scenario's targets of that value are read at",
        transform=ax.transAxes,
        fontsize=7,
        color=_MUTED,
        va="top",
    )
