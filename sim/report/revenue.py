"""Revenue: the total's fan chart and the mean revenue by segment."""

from __future__ import annotations

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.report.axes import _money_label, _set_money_axis
from sim.report.layout import _MAX_LEGEND_SEGMENTS, _Ctx, _message, _note
from sim.report.style import _INK, _MUTED
from sim.report.units import money_label

FloatArray = npt.NDArray[np.float64]


def _fig_revenue(ctx: _Ctx) -> Figure:
    kept = ctx.kept
    sc = ctx.scenario
    fig, body = ctx.page(f"Revenue by year: {sc.name}")
    fan, seg = body.subplots(1, 2, width_ratios=(1.15, 1))
    years = np.array((sc.base_year, *sc.years))
    if kept.n == 0:
        _message(fan, "no paths kept")
        _message(seg, "no paths kept")
        return fig
    _fan(ctx, fan, years)
    _by_segment(ctx, seg, years)
    return fig


def _fan(ctx: _Ctx, fan: Axes, years: npt.NDArray[np.int64]) -> None:
    """The total revenue's median and 25-75 % and 5-95 % bands across paths."""
    kept = ctx.kept
    sc = ctx.scenario
    qs = np.quantile(kept.values.revenue, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    fan.fill_between(years, qs[0], qs[4], color=ctx.colour, alpha=0.18, lw=0, label="5–95%")
    fan.fill_between(years, qs[1], qs[3], color=ctx.colour, alpha=0.38, lw=0, label="25–75%")
    fan.plot(years, qs[2], "o-", color=ctx.colour, lw=2, ms=4, label="median")
    for yr, med in zip(years, qs[2], strict=True):
        _money_label(
            fan,
            float(med),
            (yr, med),
            7,
            color=_INK,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    _set_money_axis(
        fan,
        "y",
        0.0,
        float(qs[4].max()) * 1.08 or 1.0,
        log=False,
        units=ctx.units,
        fonts=ctx.fonts,
    )
    fan.axvline(sc.valuation.year, color=_MUTED, ls=":", lw=1)
    _note(
        fan,
        f"valuation year {sc.valuation.year}",
        (sc.valuation.year, 1.0),
        xycoords=("data", "axes fraction"),
        offset=(3, -3),
        va="top",
        fontsize=7.5,
        color=_MUTED,
    )
    fan.set_xticks(years, [f"{y}\n(actual)" if y == sc.base_year else str(y) for y in years])
    fan.set_xlim(years[0] - 0.3, years[-1] + 0.3)
    fan.set_ylabel(money_label("total revenue", ctx.units, ctx.fonts))
    fan.set_title("total revenue: median and bands across paths")
    fan.legend(loc="upper left")


def _by_segment(ctx: _Ctx, seg: Axes, years: npt.NDArray[np.int64]) -> None:
    """Mean revenue by segment, stacked: the means add up to the mean total (medians would not)."""
    kept = ctx.kept
    sc = ctx.scenario
    means = kept.values.segment_revenue.mean(axis=0)  # (segments, years)
    palette = matplotlib.colormaps["Set2"]
    bottom = np.zeros(len(years))
    total = means.sum(axis=0)
    for s, segment in enumerate(sc.segments):
        seg.bar(
            years,
            means[s],
            bottom=bottom,
            color=palette(s % 8),
            width=0.62,
            label=ctx.drawable(segment.name),
            edgecolor="white",
            lw=0.6,
        )
        for j, yr in enumerate(years):
            share = means[s, j] / total[j] if total[j] > 0 else 0.0
            if share >= 0.08:
                seg.text(
                    yr,
                    bottom[j] + means[s, j] / 2,
                    f"{share:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=_INK,
                )
        bottom += means[s]
    for yr, tot in zip(years, total, strict=True):
        _money_label(seg, float(tot), (yr, tot), 3)
    _set_money_axis(
        seg,
        "y",
        0.0,
        float(total.max()) * 1.12 or 1.0,
        log=False,
        units=ctx.units,
        fonts=ctx.fonts,
    )
    seg.set_xticks(years, [str(y) for y in years])
    seg.set_ylabel(money_label("mean revenue", ctx.units, ctx.fonts))
    seg.set_title("mean revenue by segment (share of the year's total)")
    seg.grid(axis="x", visible=False)
    handles, names = seg.get_legend_handles_labels()
    if len(handles) > _MAX_LEGEND_SEGMENTS:
        # The legend lists the first segments only, saying so; the bars hold them all.
        n_seg = len(handles)
        handles, names = handles[:_MAX_LEGEND_SEGMENTS], names[:_MAX_LEGEND_SEGMENTS]
        title = f"segment (the first {_MAX_LEGEND_SEGMENTS} of {n_seg:,})"
    else:
        title = "segment"
    seg.legend(handles[::-1], names[::-1], loc="upper left", title=title)
