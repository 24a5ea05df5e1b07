"""Market regimes (DESIGN.md 3.4): the value distribution within each regime, with its P.

The probabilities and quantiles printed here come from the summary (``regimes``); the
histograms draw the kept paths of each regime.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim import format as fmt
from sim.report.axes import _beyond, _set_money_axis
from sim.report.layout import _Ctx, _message
from sim.report.style import _INK, SCENARIO_COLOURS
from sim.report.units import money_label
from sim.report.values import _axis, _key, _quantile_strip, _target_lines
from sim.scenario import Scenario


def _regimes_apply(sc: Scenario) -> bool:
    """The scenario has ``[[regimes]]``."""
    return bool(sc.regimes)


def _fig_regimes(ctx: _Ctx) -> Figure:
    kept = ctx.kept
    regimes = ctx.summary.regimes
    fig, body = ctx.page(
        f"Market regimes: {ctx.summary.run.scenario}",
        note="Each regime's paths as a share of all paths: the areas add up to P(regime).",
    )
    hist_ax, strip_ax = body.subplots(2, 1, height_ratios=(3, 2), sharex=True)
    regime = kept.values.regime
    if kept.n == 0 or regime is None:
        _message(hist_ax, "no paths kept")
        strip_ax.set_axis_off()
        return fig
    lo, hi, log = _axis(ctx)
    edges = np.geomspace(lo, hi, 81) if log else np.linspace(lo, hi, 81)
    peak = 0.0
    for k, r in enumerate(regimes):
        colour = SCENARIO_COLOURS[k % len(SCENARIO_COLOURS)]
        counts, _ = np.histogram(kept.values.equity[regime == k], bins=edges)
        share = counts / kept.n * 100
        label = ctx.drawable(
            f"{r.name}: P = {fmt.probability(r.p, r.ci95)} (weight {fmt.pct(r.weight)})"
        )
        hist_ax.stairs(share, edges, fill=True, color=colour, alpha=0.35, linewidth=0)
        hist_ax.stairs(share, edges, color=colour, linewidth=1.2, label=label)
        peak = max(peak, float(share.max()))
    _set_money_axis(hist_ax, "x", lo, hi, log=log, units=ctx.units, fonts=ctx.fonts)
    _beyond(hist_ax, kept.values.equity, hi)
    hist_ax.set_ylim(0, peak * 1.35 if peak > 0 else 1)
    hist_ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    hist_ax.set_ylabel("share of all paths in each bin")
    hist_ax.grid(axis="x", which="major")
    _target_lines(ctx, hist_ax, lo, hi, log=log)
    # In the strips' panel, top right, where no target line or numbered disc runs: over
    # the histogram the discs and lines struck through its text.
    handles, labels = hist_ax.get_legend_handles_labels()
    legend = strip_ax.legend(
        handles,
        labels,
        loc="upper right",
        fontsize=8,
        facecolor="white",
        edgecolor="none",
        framealpha=0.95,
    )
    legend.set_zorder(10)

    # Quantile strips: each regime's, then all paths', from the summary.
    rows = [(r.name, r.quantiles) for r in regimes] + [("all paths", ctx.summary.equity.quantiles)]
    for y, (name, q) in enumerate(reversed(rows)):
        if q is not None:
            _quantile_strip(strip_ax, q, float(y))
        strip_ax.text(
            0.0,
            y,
            ctx.drawable(name) + "  ",
            transform=strip_ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=8,
            color=_INK,
        )
    strip_ax.set_ylim(-0.6, len(rows) - 0.2)
    strip_ax.set_yticks([])
    strip_ax.grid(axis="x", which="major")
    strip_ax.set_xlabel(money_label("equity value at listing", ctx.units, ctx.fonts, log=log))
    _key(ctx, body, below=False)
    return fig
