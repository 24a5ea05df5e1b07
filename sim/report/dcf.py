"""The DCF's pages: its value bridge, margin path and terminal value; the two methods.

``dcf.png`` (method ``dcf`` or ``both``) shows where the DCF's value comes from, on the
kept paths: their DCF parts and the DCF's equity before limited liability, which the run
works out once (``Kept.dcf``, :func:`sim.run.derived.kept_dcf`); the page only takes their
means and quantiles. ``methods.png`` (method
``both``) sets the multiple's equity value beside the DCF's and shows their ratio.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim import format as fmt
from sim.report.axes import _median_line, _set_money_axis
from sim.report.layout import _Ctx, _message, _note
from sim.report.style import _EVENT, _INK, _MUTED, _OFFER
from sim.report.units import money_label
from sim.run.derived import KeptDcf
from sim.scenario import Scenario
from sim.valuation.both import Both
from sim.valuation.dcf import Dcf, DcfParts

FloatArray = npt.NDArray[np.float64]

_BANDS = (0.05, 0.25, 0.5, 0.75, 0.95)

#: Points each method's P(value >= x) is drawn at (a page is about 1,500 pixels wide).
_CURVE_POINTS = 2001


def _dcf_of(scenario: Scenario) -> Dcf | None:
    val = scenario.valuation
    if isinstance(val, Both):
        return val.dcf
    return val if isinstance(val, Dcf) else None


def _dcf_applies(scenario: Scenario) -> bool:
    """A DCF runs: method ``dcf`` or ``both``."""
    return _dcf_of(scenario) is not None


def _methods_apply(scenario: Scenario) -> bool:
    """Both methods run."""
    return isinstance(scenario.valuation, Both)


def failure_rule(dcf: Dcf) -> str:
    """The failure rule the page states (docs/scenarios.md says the same)."""
    fixed = (
        "fixed chance: a failed path's business fetches distress proceeds x its "
        "going-concern EV where that is positive; a negative one stays as it is."
    )
    runway = (
        "runway: a path fails in the first year its cumulative free cash flow uses up its "
        "cash at listing, and keeps distress proceeds x the rest of the business then, "
        "less the shortfall."
    )
    rules = {"fixed": [fixed], "runway": [runway], "both": [fixed, runway]}[dcf.failure]
    return "\n".join(
        [
            "Failure never adds value: a failed path's EV is at most its going concern's. "
            "Equity = max(EV + net cash + IPO proceeds - options, 0): limited liability.",
            *(f"Failure by {r}" for r in rules),
        ]
    )


# --------------------------------------------------------------------------- dcf.png


def _fig_dcf(ctx: _Ctx) -> Figure:
    dcf = _dcf_of(ctx.scenario)
    assert dcf is not None
    fig, body = ctx.page(f"The DCF: where its value comes from: {ctx.summary.run.scenario}")
    # The rule under the plots, inside the body (the layout makes room for it).
    body.supxlabel(ctx.drawable(failure_rule(dcf)), fontsize=7.5, color=_MUTED, ha="left", x=0.01)
    axes = body.subplot_mosaic([["bridge", "bridge"], ["margin", "share"]], height_ratios=(1, 1))
    kept = ctx.kept.dcf
    if kept is None or ctx.kept.n == 0:
        for ax in axes.values():
            _message(ax, "no paths kept")
        return fig
    _bridge(ctx, axes["bridge"], kept)
    _margin_fan(ctx, axes["margin"], kept.parts)
    _terminal_share(axes["share"], kept.parts)
    return fig


def _bridge(ctx: _Ctx, ax: Axes, kept: KeptDcf) -> None:
    """Means from the explicit years to the equity value (means add up; medians do not)."""
    equity = ctx.kept.values.equity_dcf
    assert equity is not None  # a DCF runs
    parts = kept.parts
    explicit, terminal = float(parts.explicit.mean()), float(parts.terminal.mean())
    going = explicit + terminal
    ev = float(parts.ev.mean())
    # Each path's equity is max(EV + claims + the deal's proceeds at its price, 0): the
    # floor's lift is limited liability, the rest the cash and the options.
    options, before = kept.options, kept.before_floor
    lift = float(np.mean(np.maximum(before, 0.0) - before))
    owed = 0.0 if options is None else float(options.mean())
    total = float(equity.mean())
    cash = float(before.mean()) - ev + owed
    failed = f"failure\n({fmt.pct(float(parts.failed.mean()))} of paths)"
    steps = [
        ("explicit years'\ncash flows (PV)", 0.0, explicit, False),
        ("terminal value\n(PV)", explicit, terminal, False),
        ("going-concern\nEV", 0.0, going, True),
        (failed, going, ev - going, False),
        ("EV", 0.0, ev, True),
        ("net cash and\nIPO proceeds", ev, cash, False),
    ]
    at = ev + cash
    if options is not None:
        steps.append(("employee\noptions", at, -owed, False))
        at -= owed
    if lift > 0.0:
        steps.append(("limited liability\n(equity >= 0)", at, lift, False))
        at += lift
    steps.append(("equity value\n(DCF)", 0.0, total, True))
    tops = []
    for i, (_label, start, change, total) in enumerate(steps):
        colour = ctx.colour if total else (_EVENT if change < 0 else _MUTED)
        ax.bar(i, change, bottom=start, color=colour, alpha=0.9 if total else 0.6, width=0.62)
        tops += [start, start + change]
        end = start + change
        _note(
            ax,
            fmt.money(change, short=True) if not total else fmt.money(end, short=True),
            (i, max(start, end)),
            offset=(0, 3),
            ha="center",
            va="bottom",
            fontsize=8,
            color=_INK,
        )
    lo, hi = min(0.0, *tops), max(0.0, *tops)
    pad = (hi - lo) * 0.12 or 1.0
    _set_money_axis(
        ax, "y", lo - (pad if lo < 0 else 0), hi + pad, log=False, units=ctx.units, fonts=ctx.fonts
    )
    ax.axhline(0, color=_INK, lw=0.8)
    ax.set_xticks(range(len(steps)), [s[0] for s in steps], fontsize=8)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(money_label("mean over paths", ctx.units, ctx.fonts))
    ax.set_title("value bridge: means over the kept paths (means add up, medians would not)")


def _margin_fan(ctx: _Ctx, ax: Axes, parts: DcfParts) -> None:
    """The operating margin's median and bands by year, base year first."""
    sc = ctx.scenario
    years = np.array((sc.base_year, *sc.years))
    margin = parts.margin
    if np.isnan(margin[0]).all():  # margins by year, no base-year margin given
        years, margin = years[1:], margin[1:]
    qs = np.quantile(margin, _BANDS, axis=1)
    ax.fill_between(years, qs[0], qs[4], color=ctx.colour, alpha=0.18, lw=0, label="5–95%")
    ax.fill_between(years, qs[1], qs[3], color=ctx.colour, alpha=0.38, lw=0, label="25–75%")
    ax.plot(years, qs[2], "o-", color=ctx.colour, lw=2, ms=4, label="median")
    for yr, med in zip(years, qs[2], strict=True):
        _note(ax, f"{med:.0%}", (yr, med), offset=(0, 6), ha="center", fontsize=7.5, color=_INK)
    dcf = _dcf_of(sc)
    assert dcf is not None
    if dcf.margin_year is not None:
        ax.axvline(dcf.margin_year, color=_MUTED, ls=":", lw=1)
        _note(
            ax,
            f"target reached {dcf.margin_year}",
            (dcf.margin_year, 0.0),
            xycoords=("data", "axes fraction"),
            offset=(3, 3),
            va="bottom",
            fontsize=7.5,
            color=_MUTED,
        )
    ax.axhline(0, color=_INK, lw=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_xlim(years[0] - 0.3, years[-1] + 0.3)
    ax.set_ylabel("operating margin (EBIT / revenue)")
    ax.set_title("operating margin by year: median and bands across paths")
    ax.legend(loc="upper left")


def _terminal_share(ax: Axes, parts: DcfParts) -> None:
    """The terminal value's share of the going-concern EV, where that EV is positive."""
    going = parts.going_concern
    positive = going > 0
    if not positive.any():
        _message(ax, "no path has a positive going-concern EV:\nno share to show")
        return
    share = parts.terminal[positive] / going[positive]
    # The tail (explicit years that lose nearly all the terminal value) goes in the end
    # bins: the axis spans the middle 90% and 0-100%.
    lo, hi = np.quantile(share, [0.05, 0.95])
    lo, hi = min(float(lo), 0.0), max(float(hi), 1.0)
    _clipped_histogram(ax, share, lo, hi, face=_OFFER, edge=_OFFER, alpha=0.55)
    med = float(np.median(share))
    _median_line(ax, med, f"median {med:.0%}")
    ax.axvline(1.0, color=_MUTED, ls=":", lw=1)
    negative = 1.0 - float(positive.mean())
    outside = float(np.mean((share < lo) | (share > hi)))
    notes = [f"{fmt.pct(outside)} of the shown paths beyond the axis, in its end bins"]
    if negative:
        notes.append(f"{fmt.pct(negative)} of paths have a going-concern EV <= 0: not shown")
    _note(
        ax,
        "\n".join(notes),
        (1.0, 0.82),
        xycoords="axes fraction",
        offset=(-4, 0),
        ha="right",
        va="top",
        fontsize=7.5,
        color=_MUTED,
    )
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_xlabel("terminal value (PV) / going-concern EV; above 100%: the explicit years lose")
    ax.set_ylabel("share of paths in each bin")
    ax.set_title("terminal value's share of the going-concern EV")


# --------------------------------------------------------------------------- methods.png


def _fig_methods(ctx: _Ctx) -> Figure:
    values = ctx.kept.values
    fig, body = ctx.page(f"The multiple and the DCF, path by path: {ctx.summary.run.scenario}")
    curve, ratio_ax = body.subplots(1, 2, width_ratios=(1.25, 1))
    if ctx.kept.n == 0 or values.equity_dcf is None or values.equity_multiple is None:
        _message(curve, "no paths kept")
        _message(ratio_ax, "no paths kept")
        return fig
    _exceedance(ctx, curve, values.equity_multiple, values.equity_dcf)
    _ratio(ratio_ax, values.equity_dcf, values.equity_multiple)
    return fig


def _exceedance(ctx: _Ctx, ax: Axes, multiple: FloatArray, dcf: FloatArray) -> None:
    """P(equity value >= x) by each method, their medians marked."""
    methods = ctx.summary.methods
    primary = methods.primary if methods is not None else "multiple"
    both = np.concatenate([multiple, dcf])
    lo, hi = (float(v) for v in np.quantile(both, [0.005, 0.995]))
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    for name, x, colour in (("EV/sales multiple", multiple, ctx.colour), ("DCF", dcf, _OFFER)):
        # On a grid finer than the page can show, not a point per path (a page heavy to
        # draw and to send between processes).
        grid = np.linspace(lo, hi, _CURVE_POINTS)
        p = 1.0 - np.searchsorted(np.sort(x), grid, side="left") / x.size
        key = "multiple" if name.startswith("EV") else "dcf"
        label = f"{name} (median {fmt.money(float(np.median(x)), short=True)})"
        if key == primary:
            label += ", primary"
        ax.plot(grid, p, color=colour, lw=2, label=label)
        med = float(np.median(x))
        ax.plot([med], [0.5], "o", color=colour, ms=5)
    _set_money_axis(ax, "x", lo, hi, log=False, units=ctx.units, fonts=ctx.fonts)
    ax.set_ylim(0, 1.02)
    ax.axhline(0.5, color=_MUTED, ls=":", lw=1)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_ylabel("P(equity value ≥ x)")
    ax.set_xlabel(money_label("equity value at listing, x", ctx.units, ctx.fonts))
    ax.set_title("equity value by each method: P(value ≥ x)")
    ax.legend(loc="upper right")


def _clipped_histogram(
    ax: Axes, x: FloatArray, lo: float, hi: float, *, face: str, edge: str, alpha: float
) -> None:
    """The share of ``x`` (in %) in 60 bins over ``[lo, hi]``, the tails in the end bins."""
    edges = np.linspace(lo, hi, 61)
    counts, _ = np.histogram(np.clip(x, lo, hi), bins=edges)
    pct = counts / x.size * 100
    ax.stairs(pct, edges, fill=True, color=face, alpha=alpha, lw=0)
    ax.stairs(pct, edges, color=edge, lw=0.8)


def _ratio(ax: Axes, dcf: FloatArray, multiple: FloatArray) -> None:
    """The DCF's equity value / the multiple's on the same path."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = dcf / multiple
    ratio = ratio[np.isfinite(ratio)]
    if ratio.size == 0:
        _message(ax, "no finite ratio")
        return
    lo, hi = (float(v) for v in np.quantile(ratio, [0.01, 0.99]))
    lo, hi = min(lo, 0.0), max(hi, 1.2)
    _clipped_histogram(ax, ratio, lo, hi, face=_MUTED, edge=_INK, alpha=0.45)
    med = float(np.median(ratio))
    below = float(np.mean(ratio < 1.0))
    ax.axvline(1.0, color=_EVENT, ls="--", lw=1)
    text = f"median ×{fmt.number(med, 2)}\nDCF below the multiple on {fmt.pct(below)} of paths"
    _median_line(ax, med, text)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_xlabel("DCF equity value / multiple's equity value (same path)")
    ax.set_ylabel("share of paths in each bin")
    ax.set_title("their ratio, path by path (1 = they agree)")
