"""Shock impact: value by event, P(an event), the paired loss, targets with shocks off.

The probabilities and loss statistics printed here come from the summary
(``shocks`` and ``shock_impact``); the page draws the kept paths.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter

from sim import format as fmt
from sim.analysis.summary import paired_loss
from sim.report.axes import _NOISE, _median_label, _median_line, _set_money_axis
from sim.report.layout import (
    _MAX_SHOCKS_DRAWN,
    _MAX_TARGETS_DRAWN,
    _Ctx,
    _first_of,
    _Measure,
    _message,
    _note,
)
from sim.report.style import _EVENT, _INK, _MUTED
from sim.report.units import Units, money_label
from sim.scenario import Scenario

FloatArray = npt.NDArray[np.float64]


def _shocks_apply(sc: Scenario) -> bool:
    """The scenario has shocks: without one there is no impact to show."""
    return bool(sc.shocks)


def _fig_shocks(ctx: _Ctx) -> Figure:
    sc = ctx.scenario
    assert sc.shocks  # the page is drawn for scenarios with shocks only
    fig, body = ctx.page(f"Shock impact: {sc.name}")
    m = _Measure(fig)
    (box_ax, p_ax), (loss_ax, tgt_ax) = body.subplots(2, 2)
    if ctx.kept.n == 0:
        for ax in (box_ax, p_ax, loss_ax, tgt_ax):
            _message(ax, "no paths kept")
        return fig
    _value_by_event(ctx, box_ax)
    _event_probabilities(ctx, p_ax)
    _loss(ctx, loss_ax)
    _shocks_off(ctx, tgt_ax, m)
    return fig


def _groups(ctx: _Ctx) -> list[tuple[str, FloatArray, str]]:
    """The kept values by event: (name, values, colour), all paths first."""
    kept = ctx.kept
    hit = kept.values.shock_any.any(axis=1)
    groups: list[tuple[str, FloatArray, str]] = [
        ("all paths", kept.values.equity, ctx.colour),
        ("no event", kept.values.equity[~hit], ctx.colour),
    ]
    for k, shock in enumerate(ctx.scenario.shocks[:_MAX_SHOCKS_DRAWN]):
        groups.append(
            (f"event: {shock.name}", kept.values.equity[kept.values.shock_any[:, k]], _EVENT)
        )
    groups.append(("shocks switched off\n(the same paths)", kept.values.equity_unshocked, _MUTED))
    return groups


def _box(ax: Axes, values: FloatArray, y: float, colour: str) -> tuple[float, float]:
    """A box (25-75 %), whiskers (5-95 %) and median at height ``y``; returns the whiskers."""
    p5, p25, p50, p75, p95 = (float(v) for v in np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95]))
    ax.plot([p5, p95], [y, y], color=colour, lw=1.2)
    ax.plot([p5, p5], [y - 0.12, y + 0.12], color=colour, lw=1.2)
    ax.plot([p95, p95], [y - 0.12, y + 0.12], color=colour, lw=1.2)
    ax.barh(y, p75 - p25, left=p25, height=0.5, color=colour, alpha=0.85)
    ax.plot([p50, p50], [y - 0.25, y + 0.25], color="white", lw=2)
    _median_label(ax, p50, (p95, y), 5, fontsize=7.5)
    return p5, p95


def _value_by_event(ctx: _Ctx, box_ax: Axes) -> None:
    groups = _groups(ctx)
    ypos = np.arange(len(groups))[::-1].astype(float)
    labels = []
    whisk_lo, whisk_hi = [], []
    for (name, values, colour), y in zip(groups, ypos, strict=True):
        labels.append(
            ctx.drawable(f"{name}\n{values.size:,} paths ({fmt.pct(values.size / ctx.kept.n)})")
        )
        if values.size == 0:
            box_ax.text(
                0.02,
                y,
                "no paths",
                transform=box_ax.get_yaxis_transform(),
                va="center",
                color=_MUTED,
                fontsize=8,
            )
            continue
        p5, p95 = _box(box_ax, values, y, colour)
        whisk_lo.append(p5)
        whisk_hi.append(p95)
    # A log axis while every whisker is clearly positive; paths worth 0 (all revenue lost)
    # or less need a linear one, which also keeps rounding noise around 0 at 0.
    log = bool(whisk_lo) and min(whisk_lo) > _NOISE * ctx.value_scale
    if log:
        lo, hi = min(whisk_lo) / 1.25, max(whisk_hi) * 2.2
    else:
        lo, hi = min([0.0, *whisk_lo]), max([0.0, *whisk_hi])
        span = hi - lo if hi - lo > _NOISE * ctx.value_scale else max(ctx.value_scale, 1.0)
        lo, hi = lo - 0.05 * span, hi + 0.45 * span  # room on the right for the labels
    # One scale only: a second one above the top panels would run into their titles.
    units: Units = "yi" if ctx.units == "yi" else "usd"
    _set_money_axis(box_ax, "x", lo, hi, log=log, units=units, fonts=ctx.fonts)
    box_ax.set_yticks(ypos, labels, fontsize=7.8)
    box_ax.set_ylim(-0.6, len(groups) - 0.4)
    box_ax.grid(axis="y", visible=False)
    box_ax.set_title(
        f"equity value by shock event up to {ctx.scenario.valuation.year}"
        + _first_of(_MAX_SHOCKS_DRAWN, len(ctx.scenario.shocks))
    )
    box_ax.set_xlabel(
        money_label("equity value", units, ctx.fonts, log=log) + ": box 25–75%, whiskers 5–95%"
    )


def _event_probabilities(ctx: _Ctx, p_ax: Axes) -> None:
    rows = ctx.summary.shocks[:_MAX_SHOCKS_DRAWN]
    y = np.arange(len(rows))[::-1].astype(float)
    pa = np.array([r.p_any for r in rows])
    ci = np.array([r.ci95 for r in rows])
    p_ax.barh(y, pa, color=_EVENT, alpha=0.75, height=0.5)
    p_ax.errorbar(pa, y, xerr=[pa - ci[:, 0], ci[:, 1] - pa], fmt="none", ecolor=_INK, capsize=3)
    for yy, r in zip(y, rows, strict=True):
        p_ax.text(
            r.ci95[1] + 0.008,
            yy,
            fmt.probability(r.p_any, r.ci95),
            va="center",
            fontsize=8,
        )
    p_ax.set_yticks(y, [ctx.drawable(r.name) for r in rows])
    room = max(0, 3 - len(rows)) / 2  # thin bars, centred, when there are few shocks
    p_ax.set_ylim(-0.7 - room, len(rows) - 0.3 + room)
    p_ax.set_xlim(0, min(1.0, float(ci[:, 1].max()) * 1.6 + 0.03))
    p_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    p_ax.set_title(
        f"P(at least one event by {ctx.scenario.valuation.year})"
        + _first_of(_MAX_SHOCKS_DRAWN, len(ctx.summary.shocks))
    )
    p_ax.set_xlabel(f"share of all {ctx.summary.run.paths:,} paths, with 95% intervals")
    p_ax.grid(axis="y", visible=False)


def _loss(ctx: _Ctx, loss_ax: Axes) -> None:
    loss_ax.set_title("value lost on the paths with an event (paired)")
    impact = ctx.summary.shock_impact
    assert impact is not None  # the page is drawn for scenarios with shocks only
    loss = paired_loss(ctx.kept)
    if impact.median_loss is None:
        _message(loss_ax, f"no plotted path has an event by {ctx.scenario.valuation.year}")
        return
    q_lo, q_hi = (float(v) for v in np.quantile(loss, [0.001, 0.999]))
    edges = np.linspace(min(0.0, q_lo), max(q_hi, 0.05) * 1.05, 61)
    counts, _ = np.histogram(np.clip(loss, edges[0], edges[-1]), bins=edges)
    share = counts / loss.size * 100
    loss_ax.stairs(share, edges, fill=True, color=_EVENT, alpha=0.6)
    # Room above the bars: the median's label takes the top line, the mean-loss note
    # the lines below it, on the side away from the median, so they never overlap.
    loss_ax.set_xlim(edges[0], edges[-1])
    peak = float(share.max())
    loss_ax.set_ylim(0, peak * 1.5 or 1.0)
    loss_ax.yaxis.set_major_locator(
        FixedLocator([v for v in MaxNLocator(6).tick_values(0, peak) if v <= peak * 1.02])
    )
    med = impact.median_loss
    _median_line(loss_ax, med, f"median loss {med:.0%}")
    left = (med - edges[0]) / (edges[-1] - edges[0]) > 0.5
    cut = "n/a" if impact.mean_value_cut is None else f"{impact.mean_value_cut:.1%}"
    _note(
        loss_ax,
        f"over all paths, shocks cut\nthe mean value by {cut}",
        (0.02 if left else 0.98, 1),
        xycoords="axes fraction",
        offset=(0, -18),
        ha="left" if left else "right",
        va="top",
        fontsize=8,
    )
    loss_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    loss_ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    loss_ax.set_xlabel("value lost: 1 − value ÷ value with shocks off (the same path)")
    loss_ax.set_ylabel("share of the paths with an event")


def _shocks_off(ctx: _Ctx, tgt_ax: Axes, m: _Measure) -> None:
    # Shocks switched off are known for the fair-value targets only (sim.analysis.summary).
    fair = [i for i, tg in enumerate(ctx.summary.targets) if tg.at == "fair"]
    all_targets = [ctx.summary.targets[i] for i in fair]
    colours = [ctx.target_colours[i] for i in fair]
    targets = all_targets[:_MAX_TARGETS_DRAWN]
    impact = ctx.summary.shock_impact
    off = None if impact is None else impact.targets_shocks_off
    if not targets or off is None:
        _message(tgt_ax, "no targets")
        return
    yt = np.arange(len(targets))[::-1].astype(float)
    with_p = np.array([tg.p_at_least for tg in targets])
    off_p = np.array([tg.p_at_least for tg in off[:_MAX_TARGETS_DRAWN]])
    tgt_ax.barh(yt + 0.19, off_p, height=0.36, color=_MUTED, alpha=0.7, label="shocks off")
    tgt_ax.barh(yt - 0.19, with_p, height=0.36, color=ctx.colour, alpha=0.85, label="with shocks")
    for yy, a, b in zip(yt, with_p, off_p, strict=True):
        tgt_ax.text(
            max(a, b) + 0.015,
            yy,
            f"{fmt.pct(float(a))} vs {fmt.pct(float(b))}  ({fmt.points(float(a - b))})",
            va="center",
            fontsize=7.5,
        )
    tgt_ax.set_yticks(
        yt,
        [m.fit(ctx.drawable(f"{i + 1}  {tg.label}"), 150, 7.8) for i, tg in enumerate(targets)],
        fontsize=7.8,
    )
    for i, lab in enumerate(tgt_ax.get_yticklabels()):
        lab.set_color(colours[i])
    tgt_ax.set_xlim(0, 1.5)
    tgt_ax.set_xticks(np.linspace(0, 1, 5))
    tgt_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    tgt_ax.legend(loc="lower right")
    tgt_ax.grid(axis="y", visible=False)
    tgt_ax.set_title(
        "P(fair value ≥ target): shocks on against off"
        + _first_of(_MAX_TARGETS_DRAWN, len(all_targets))
    )
    if impact is not None and impact.targets_left_out:
        # Targets read at a market value have no probability with shocks off.
        n = len(impact.targets_left_out)
        tgt_ax.text(
            0.0,
            -0.09,
            f"left out: {n} target{'s' if n > 1 else ''} read at a market value (shocks off "
            "is run at fair value)",
            transform=tgt_ax.transAxes,
            fontsize=7.5,
            color=_MUTED,
            va="top",
            in_layout=False,
        )
