"""The peer table behind the multiple (``[comparables]``): peers, the fit, the company.

Everything printed and every line comes from the summary's ``comparables`` block (the
fit, its band along growth, the medians); the cloud of paths draws the kept arrays.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.analysis.results import ComparablesSummary
from sim.report.layout import _Ctx, _message
from sim.report.style import _INK, _MUTED, _OFFER
from sim.scenario import Scenario
from sim.valuation.ev_to_sales import comparables_of

#: Kept paths drawn in the cloud (the first ones).
_CLOUD_PATHS = 3000


def _comparables_applies(sc: Scenario) -> bool:
    """The scenario prices its multiple off a peer table."""
    return comparables_of(sc.valuation) is not None


def _fig_comparables(ctx: _Ctx) -> Figure:
    block = ctx.summary.comparables
    sc = ctx.scenario
    fig, body = ctx.page(
        f"Peer multiples and the fit behind the {sc.valuation.year} multiple: {sc.name}",
        note="line and band: the predictive median and 90% band, before any multiple_shift, "
        "concentration penalty or shock hit",
    )
    ax = body.subplots(1, 1)
    if block is None:
        _message(ax, "no comparables")
        return fig
    _draw(ctx, ax, block)
    ax.text(
        0.99,
        0.02,
        ctx.drawable(_fit_text(block)),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        color=_INK,
        linespacing=1.4,
        multialignment="left",
        bbox={"facecolor": "white", "edgecolor": _MUTED, "linewidth": 0.5, "alpha": 0.95},
        zorder=8,
    )
    return fig


def _fit_text(block: ComparablesSummary) -> str:
    """The fit in a few lines: what was regressed, each coefficient, the spread."""
    fit = block.fit
    on = ", ".join(r["column"] for r in fit["regressors"].values()) or "an intercept only"
    lines = [f"log(EV / NTM revenue) of {fit['n']} peers ({fit['file']}) on {on}"]
    lines += [
        f"{k['term']}: {k['estimate']:+.2f}  (90%: {k['ci90'][0]:+.2f} to {k['ci90'][1]:+.2f})"
        for k in fit["coefficients"]
    ]
    lines.append(f"residual sd {fit['residual_sd']:.2f}, R² {fit['r2']:.2f}, {fit['df']} df")
    margin = block.band.gross_margin
    if margin is not None:
        lines.append(f"line and band at gross margin {margin:.0%} (the scenario's median)")
    return "\n".join(lines)


def _draw(ctx: _Ctx, ax: Axes, block: ComparablesSummary) -> None:
    band = block.band
    growth = np.asarray(band.growth)
    ax.fill_between(
        growth,
        band.low,
        band.high,
        color=ctx.colour,
        alpha=0.12,
        linewidth=0,
        label=f"{band.level:.0%} predictive band (a new company at that growth)",
    )
    ax.plot(growth, band.median, color=ctx.colour, linewidth=1.8, label="fit: predictive median")
    kept = ctx.kept
    values_growth = kept.values.valuation_growth
    if kept.n and values_growth is not None:
        k = min(_CLOUD_PATHS, kept.n)
        multiple = kept.values.multiple[:k]
        ok = multiple > 0
        ax.scatter(
            values_growth[:k][ok],
            multiple[ok],
            s=3,
            color=_MUTED,
            alpha=0.18,
            linewidths=0,
            label=f"the company's paths (first {k:,})",
            rasterized=True,
        )
    peers = block.fit["peers"]
    shown = [
        (p["growth_ntm"], p["multiple"], p["name"]) for p in peers if p["growth_ntm"] is not None
    ]
    if shown:
        gx, my, _ = zip(*shown, strict=True)
        ax.scatter(
            gx, my, s=28, color=_INK, zorder=5, label="peers (NTM growth, EV / NTM revenue)"
        )
        for x, y, name in shown:
            ax.annotate(
                ctx.drawable(name),
                (x, y),
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=7,
                color=_INK,
                zorder=6,
            )
    if block.multiple_median is not None and math.isfinite(block.growth_median):
        ax.scatter(
            [block.growth_median],
            [block.multiple_median],
            marker="*",
            s=260,
            color=_OFFER,
            edgecolor=_INK,
            linewidths=0.8,
            zorder=7,
            label=(
                f"{ctx.drawable(ctx.scenario.name)}: median growth {block.growth_median:+.0%}, "
                f"median multiple {block.multiple_median:.1f}x"
            ),
        )
    ax.set_yscale("log")
    tops = [*band.high, *(p["multiple"] for p in peers)]
    bottoms = [*band.low, *(p["multiple"] for p in peers)]
    ax.set_ylim(min(bottoms) / 1.25, max(tops) * 1.25)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlim(growth[0], growth[-1])
    ax.set_xlabel(
        f"revenue growth into the valuation year (peers: NTM; the company: "
        f"{ctx.scenario.valuation.year} before shocks)"
    )
    ax.set_ylabel("EV / revenue (log scale)")
    ax.grid(which="major", alpha=0.4)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.95)
