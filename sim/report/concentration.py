"""Regional concentration: shares by region, the largest region, HHI."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim import format as fmt
from sim.report.axes import _median_line
from sim.report.layout import _Ctx, _message
from sim.report.style import _EVENT, _INK, _MUTED
from sim.scenario import Scenario
from sim.valuation.both import Both
from sim.valuation.ev_to_sales import EvToSales

FloatArray = npt.NDArray[np.float64]


def _hist_share(ax: Axes, values: FloatArray, colour: str, *, what: str) -> None:
    """A histogram of a share (0..1) as the percentage of paths per bin."""
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-9:
        ax.bar([lo], [100], width=0.01, color=colour)
        ax.set_xlim(max(0.0, lo - 0.1), min(lo + 0.1, 1.02))
        ax.text(
            0.5,
            0.6,
            f"{what} is {lo:.2f} on every path",
            transform=ax.transAxes,
            ha="center",
            color=_MUTED,
        )
    else:
        pad = 0.05 * (hi - lo)
        edges = np.linspace(lo - pad, hi + pad, 61)
        counts, _ = np.histogram(values, bins=edges)
        ax.stairs(counts / values.size * 100, edges, fill=True, color=colour, alpha=0.55)
        ax.set_xlim(edges[0], edges[-1])
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_ylabel("share of paths")


def _concentration_applies(sc: Scenario) -> bool:
    """More than one region, and a regional split that can differ from path to path.

    With one region every share is 100% and the HHI 1 on every path. Without random
    shares (``region_concentration``), shocks, or segments split differently, the split
    is the scenario's own shares on every path, which the summary page already lists.
    """
    if len(sc.regions) < 2:
        return False
    splits = {(seg.shares, seg.shares_at_horizon or seg.shares) for seg in sc.segments}
    random_shares = any(seg.region_concentration for seg in sc.segments)
    return random_shares or bool(sc.shocks) or len(splits) > 1


def _fig_concentration(ctx: _Ctx) -> Figure:
    sc = ctx.scenario
    fig, body = ctx.page(f"Regional concentration of revenue in {sc.valuation.year}: {sc.name}")
    (shares_ax, top_ax), (hhi_ax, topshare_ax) = body.subplots(2, 2)
    if ctx.kept.n == 0:
        for ax in (shares_ax, top_ax, hhi_ax, topshare_ax):
            _message(ax, "no paths kept")
        return fig
    regions = [ctx.drawable(r) for r in sc.regions]
    _region_shares(ctx, shares_ax, regions)
    _largest_region(ctx, top_ax, regions)
    _hhi(ctx, hhi_ax)
    _top_share(ctx, topshare_ax)
    return fig


def _region_shares(ctx: _Ctx, shares_ax: Axes, regions: list[str]) -> None:
    """Each region's mean share of revenue, with 5-95 % whiskers."""
    year = ctx.scenario.valuation.year
    shares = ctx.kept.values.region_shares
    mean = shares.mean(axis=0)
    p5, p95 = np.quantile(shares, [0.05, 0.95], axis=0)
    order = np.argsort(mean)
    ypos = np.arange(len(regions))
    shares_ax.barh(ypos, mean[order], color=ctx.colour, alpha=0.75, height=0.6)
    shares_ax.errorbar(
        mean[order],
        ypos,
        xerr=[mean[order] - p5[order], p95[order] - mean[order]],
        fmt="none",
        ecolor=_INK,
        capsize=3,
        lw=1,
    )
    for y, i in zip(ypos, order, strict=True):
        shares_ax.text(p95[i] + 0.01, float(y), f"{mean[i]:.0%}", va="center", fontsize=8)
    shares_ax.set_yticks(ypos, [regions[i] for i in order])
    shares_ax.set_xlim(0, min(1.0, float(p95.max()) * 1.2 + 0.04))
    shares_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    shares_ax.set_title(f"share of {year} revenue by region: mean, whiskers 5–95%")
    shares_ax.grid(axis="y", visible=False)


def _largest_region(ctx: _Ctx, top_ax: Axes, regions: list[str]) -> None:
    """How often each region is the largest."""
    kept = ctx.kept
    ypos = np.arange(len(regions))
    top = (
        np.bincount(np.argmax(kept.values.region_shares, axis=1), minlength=len(regions)) / kept.n
    )
    top_order = np.argsort(top)
    top_ax.barh(ypos, top[top_order], color=_MUTED, alpha=0.75, height=0.6)
    for y, i in zip(ypos, top_order, strict=True):
        top_ax.text(top[i] + 0.01, float(y), fmt.pct(float(top[i])), va="center", fontsize=8)
    top_ax.set_yticks(ypos, [regions[i] for i in top_order])
    top_ax.set_xlim(0, 1.1)
    top_ax.set_xticks(np.linspace(0, 1, 6))
    top_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    top_ax.set_title("which region is the largest (share of paths)")
    top_ax.grid(axis="y", visible=False)


def _hhi(ctx: _Ctx, hhi_ax: Axes) -> None:
    """The Herfindahl index's histogram, its median and the valuation's reference HHI."""
    sc, kept = ctx.scenario, ctx.kept
    conc = ctx.summary.concentration
    _hist_share(hhi_ax, kept.values.hhi, ctx.colour, what="HHI")
    _median_line(hhi_ax, conc.hhi.median, f"median {conc.hhi.median:.3f}")
    val = sc.valuation
    if isinstance(val, Both):
        val = val.ev_to_sales
    # Only the EV/sales multiple has a concentration penalty and its reference HHI.
    ref = val.reference_hhi if isinstance(val, EvToSales) else 0.0
    x0, x1 = hhi_ax.get_xlim()
    if isinstance(val, EvToSales) and val.concentration_penalty and x0 <= ref <= x1:
        hhi_ax.axvline(ref, color=_EVENT, lw=1, ls="--")
        hhi_ax.annotate(
            f"reference HHI {ref:g}: above it the\nmultiple is cut, below it raised",
            xy=(ref, 0.62),
            xycoords=("data", "axes fraction"),
            xytext=(0.97, 0.72),
            textcoords="axes fraction",
            ha="right",
            va="center",
            fontsize=7.5,
            color=_EVENT,
            arrowprops={"arrowstyle": "->", "color": _EVENT, "lw": 0.8},
        )
    hhi_ax.set_title("Herfindahl index HHI = Σ share²")
    n_reg = len(sc.regions)
    hhi_ax.set_xlabel(f"HHI (1/{n_reg} = {1 / n_reg:.2f} is an even split; 1 is one region)")


def _top_share(ctx: _Ctx, topshare_ax: Axes) -> None:
    """The largest region's share: histogram and median."""
    conc = ctx.summary.concentration
    _hist_share(
        topshare_ax, ctx.kept.values.top_region_share, ctx.colour, what="the largest share"
    )
    med = conc.top_region_share.median
    _median_line(topshare_ax, med, f"median {med:.0%}")
    topshare_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    topshare_ax.set_title("share of the largest region")
    topshare_ax.set_xlabel("largest region's share of revenue")
