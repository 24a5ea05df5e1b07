"""The appendix, convergence: each target's probability as the paths accumulate."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import format as fmt
from sim.analysis.summary import TargetEstimate
from sim.report.axes import _count_tick, _sparse_minor_ticks
from sim.report.layout import _Ctx, _Measure, _message
from sim.report.style import _INK, _MUTED
from sim.scenario import Scenario

FloatArray = npt.NDArray[np.float64]


def _convergence_applies(sc: Scenario) -> bool:
    """The scenario has targets: their probabilities are what converges."""
    return bool(sc.targets)


def _fig_convergence(ctx: _Ctx) -> Figure:
    fig, body = ctx.page(
        f"Appendix: convergence of the target probabilities ({ctx.summary.run.scenario})",
        note="line: estimate after n paths · band: 95% Wilson interval · dashed: final estimate",
    )
    m = _Measure(fig)
    targets = ctx.summary.targets
    conv = ctx.summary.convergence
    if not targets or conv is None or conv.paths.size == 0:
        _message(body.add_subplot(), "No targets: nothing to converge.")
        return fig
    # With more targets than panels, the last cell says how many are left out.
    shown = targets[:12] if len(targets) <= 12 else targets[:11]
    ncols = 1 if len(shown) == 1 else 2 if len(shown) <= 4 else 3
    nrows = math.ceil(len(shown) / ncols)
    axes = np.asarray(body.subplots(nrows, ncols, squeeze=False)).ravel()
    checkpoints = np.asarray(conv.paths, dtype=np.float64)
    for i, tg in enumerate(shown):
        ax: Axes = axes[i]
        band = (conv.p[:, i], conv.low[:, i], conv.high[:, i])
        _panel(ctx, ax, m, i, tg, checkpoints, band)
        if i + ncols >= len(shown):
            ax.set_xlabel("paths (log scale)")
    for ax in axes[len(shown) :]:
        ax.set_axis_off()
    if len(targets) > len(shown):
        axes[len(shown)].set_axis_off()
        axes[len(shown)].text(
            0.5,
            0.5,
            f"… and {len(targets) - len(shown):,} more targets\n(all in summary.csv)",
            ha="center",
            transform=axes[len(shown)].transAxes,
            color=_MUTED,
        )
    return fig


def _panel(
    ctx: _Ctx,
    ax: Axes,
    m: _Measure,
    i: int,
    tg: TargetEstimate,
    checkpoints: FloatArray,
    band: tuple[FloatArray, FloatArray, FloatArray],
) -> None:
    """Target ``i``'s estimate after each checkpoint, its Wilson band (``band``: the
    estimate, low, high, from the summary), its final estimate."""
    colour = ctx.target_colours[i]
    p, lo, hi = band
    ax.fill_between(checkpoints, lo, hi, color=colour, alpha=0.22, lw=0)
    ax.plot(checkpoints, p, color=colour, lw=1.5)
    ax.axhline(tg.p_at_least, color=_INK, lw=0.8, ls="--")
    if checkpoints.size > 1:
        ax.set_xscale("log")
        _sparse_minor_ticks(ax.xaxis)
        ax.set_xlim(checkpoints[0], checkpoints[-1])
    ymin, ymax = float(lo.min()), float(hi.max())
    pad = max((ymax - ymin) * 0.08, 1e-6)
    y0, y1 = max(0.0, ymin - pad), min(1.0, ymax + pad)
    ax.set_ylim(y0, y1)
    # Steps of 1, 2 or 5 units, so that one significant digit of the step is exact.
    locator = ticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10])
    ticks = [v for v in locator.tick_values(y0, y1) if y0 <= v <= y1]
    ax.yaxis.set_major_locator(ticker.FixedLocator(ticks))
    step = round((ticks[1] - ticks[0]) * 100, 12) if len(ticks) > 1 else 1.0
    ax.yaxis.set_major_formatter(
        ticker.PercentFormatter(xmax=1, decimals=max(0, -math.floor(math.log10(step))))
    )
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(_count_tick))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_title(
        m.fit(ctx.drawable(f"{i + 1}  {tg.label}"), 240, 9.5, bold=True),
        color=colour,
        fontsize=9.5,
    )
    # The final estimate and interval, on the side of the panel the curve leaves free.
    low = (tg.p_at_least - y0) / (y1 - y0) < 0.5
    ax.text(
        0.98,
        0.95 if low else 0.04,
        fmt.probability(tg.p_at_least, tg.ci95),
        transform=ax.transAxes,
        ha="right",
        va="top" if low else "bottom",
        fontsize=7.5,
        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1},
    )
    ax.tick_params(labelsize=7.5)
