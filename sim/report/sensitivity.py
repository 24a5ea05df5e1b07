"""Sensitivity: the tornado of each random input's rank correlation with the value."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim import format as fmt
from sim.report.layout import _Ctx, _message, _note
from sim.report.style import _EVENT, _INK, _MUTED
from sim.scenario import Scenario
from sim.summary import SensitivityRow

# The valuation method names its own inputs (``input_labels``); these are shared.
_INPUT_NAMES = {
    "valuation.net_cash": "net cash",
    "valuation.ipo_proceeds": "IPO proceeds",
}


def _pretty_input(name: str, labels: Mapping[str, str] = _INPUT_NAMES) -> str:
    """``segments.hailuo.growth`` -> ``hailuo: growth``: an input's name for readers."""
    if name in labels:
        return labels[name]
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in ("segments", "shocks"):
        return f"{parts[1]}: {parts[2].replace('_', ' ')}"
    return name.replace("_", " ").replace(".", ": ")


def _sensitivity_applies(sc: Scenario) -> bool:
    """Some scalar input is random: with every input fixed, none explains a spread."""
    return any(not d.is_fixed for d in sc.scalar_inputs().values())


def _fig_sensitivity(ctx: _Ctx) -> Figure:
    rows_all = [r for r in ctx.summary.sensitivity if math.isfinite(r.rank_correlation)]
    rows = rows_all[:12]
    note = (
        "Rank correlation measures a monotone association, one input at a time; "
        "first-order (variance-based) indices are not computed yet."
    )
    has_first = any(r.first_order is not None for r in rows)
    fig, body = ctx.page(
        f"What drives the value: {ctx.summary.run.scenario}", note="" if has_first else note
    )
    ax = body.add_subplot()
    if not rows:
        _message(
            ax,
            "No input's rank correlation with the value is defined:\n"
            "too few paths, or a value that does not vary across them.",
        )
        return fig
    _tornado(ctx, ax, rows, has_first=has_first)
    shown = (
        f"the {len(rows)} strongest of {len(rows_all)} random inputs"
        if len(rows_all) > len(rows)
        else f"all {len(rows)} random inputs"
    )
    ax.set_title(f"Sensitivity tornado: {shown}, strongest first")
    return fig


def _tornado(ctx: _Ctx, ax: Axes, rows: list[SensitivityRow], *, has_first: bool) -> None:
    """A bar per input: its rank correlation, and its first-order index when there is one."""
    rho = np.array([r.rank_correlation for r in rows], dtype=float)
    y = np.arange(len(rows))[::-1].astype(float)
    h = 0.38 if has_first else 0.62
    shift = h / 2 if has_first else 0.0
    colours = [ctx.colour if v >= 0 else _EVENT for v in rho]
    ax.barh(
        y + shift,
        rho,
        height=h,
        color=colours,
        alpha=0.85,
        label="Spearman rank correlation with the value",
    )
    if has_first:
        fo = np.array(
            [r.first_order if r.first_order is not None else np.nan for r in rows],
            dtype=float,
        )
        ax.barh(
            y - shift,
            fo,
            height=h,
            color=_MUTED,
            alpha=0.8,
            label="first-order (variance-based) index",
        )
        ax.legend(loc="lower right")
    for yy, v in zip(y, rho, strict=True):
        _note(
            ax,
            fmt.signed(float(v)),
            (v, yy + shift),
            offset=(4 if v >= 0 else -4, 0),
            ha="left" if v >= 0 else "right",
            va="center",
            fontsize=8,
        )
    ax.axvline(0, color=_INK, lw=0.8)
    lim = min(1.05, float(np.abs(rho).max()) * 1.2 + 0.05)
    ax.set_xlim(-lim, lim)
    labels = {**_INPUT_NAMES, **type(ctx.scenario.valuation).input_labels}
    ax.set_yticks(y, [ctx.drawable(_pretty_input(r.input, labels)) for r in rows])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Spearman rank correlation with equity value at listing (−1 to +1)")
