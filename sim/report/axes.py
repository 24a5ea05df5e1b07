"""Value axes: money ticks with a 亿 reading, log or linear by the values drawn."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from sim import format as fmt
from sim.report.layout import _note
from sim.report.style import _INK, _MUTED, Fonts
from sim.report.units import Units

FloatArray = npt.NDArray[np.float64]


# Tick labels shared by the report's pages, bound with functools.partial where a label
# needs more than the value (a figure that holds only named functions also pickles).


def _tick(label: Callable[[float], str], v: float, _pos: int | None = None) -> str:
    """A tick formatter from a one-argument label: ``FuncFormatter(partial(_tick, label))``."""
    return label(v)


def _money_tick(v: float, _pos: int | None = None) -> str:
    """A money tick in USD, short: ``USD 4.4 bn``."""
    return fmt.money(v, short=True)


def _count_tick(v: float, _pos: int | None = None) -> str:
    """A count tick with thousands separators: ``12,000``."""
    return f"{v:,.0f}"


def _yi_tick(fonts: Fonts, scale: float, v: float, _pos: int | None = None) -> str:
    """A tick in 亿 (``v * scale`` USD), in a form ``fonts`` can draw."""
    return fonts.text(fmt.yi(v * scale))


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Round values (a 1-2-3-5 series, finer for a narrow range) for a log axis."""
    decades = math.log10(hi / lo)
    if decades > 3:
        mantissas: tuple[float, ...] = (1,)
    elif decades > 2:
        mantissas = (1, 2, 5)
    elif decades > 0.8:
        mantissas = (1, 2, 3, 5)
    elif decades > 0.3:
        mantissas = (1, 1.5, 2, 3, 4, 5, 6, 8)
    else:
        mantissas = (1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9)
    ticks = [
        m * 10.0**e
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        for m in mantissas
        if lo <= m * 10.0**e <= hi
    ]
    if len(ticks) < 3:
        ticks = [float(v) for v in np.geomspace(lo, hi, 5)]
    return ticks


def _sparse_minor_ticks(axis: Axis) -> None:
    """Unlabelled minor ticks at 2 and 5 of each decade only, on log ``axis``.

    Matplotlib's default puts eight in each decade (56 on a 7-decade axis, 24 in each of
    convergence's panels), and each tick is an artist updated and drawn on every save:
    they were a good part of a page's drawing time for little a reader uses.
    """
    axis.set_minor_locator(LogLocator(base=10.0, subs=(2.0, 5.0)))
    axis.set_minor_formatter(NullFormatter())


def _to_yi(v: Any) -> Any:
    return np.asarray(v, dtype=np.float64) / 1e8


def _from_yi(v: Any) -> Any:
    return np.asarray(v, dtype=np.float64) * 1e8


def _set_money_axis(
    ax: Axes, which: str, lo: float, hi: float, *, log: bool, units: Units, fonts: Fonts
) -> None:
    """Money ticks on ``ax``'s x or y axis (``lo``, ``hi`` in USD), scaled by ``units``.

    ``usd``: USD ticks; ``yi``: 亿 ticks; ``both``: USD ticks and a 亿 reading opposite.
    The data stay in USD: only the ticks' labels change.
    """
    axis = ax.xaxis if which == "x" else ax.yaxis
    if which == "x":
        ax.set_xlim(lo, hi)
        if log:
            ax.set_xscale("log")
    else:
        ax.set_ylim(lo, hi)
        if log:
            ax.set_yscale("log")
    if log:
        # Round in the currency shown, so round in 亿 too (10⁸ is a power of ten).
        rate = fmt.shown_currency().usd_per_unit
        axis.set_major_locator(FixedLocator([t * rate for t in _log_ticks(lo / rate, hi / rate)]))
        _sparse_minor_ticks(axis)
    if units == "yi":
        axis.set_major_formatter(FuncFormatter(partial(_yi_tick, fonts, 1.0)))
        return
    axis.set_major_formatter(FuncFormatter(_money_tick))
    if units != "both":
        return
    if which == "x":
        sec = ax.secondary_xaxis("top", functions=(_to_yi, _from_yi))
        sec_axis: Any = sec.xaxis
    else:
        sec = ax.secondary_yaxis("right", functions=(_to_yi, _from_yi))
        sec_axis = sec.yaxis
    if log:
        sec_axis.set_major_locator(FixedLocator(_log_ticks(lo / 1e8, hi / 1e8)))
        _sparse_minor_ticks(sec_axis)
    sec_axis.set_major_formatter(FuncFormatter(partial(_yi_tick, fonts, 1e8)))
    sec.tick_params(labelsize=7.5, colors=_MUTED)


# A spread of values below this fraction of their scale is float rounding, not a distribution.
_NOISE = 1e-9

_TOP = 0.995
"""The value axes' top quantile (before the targets): a value riding on a peer multiple
(exp of a Student t) has a tail decades long, which a wider axis would draw as an empty
plain beside a squeezed bulk; :func:`_beyond` says how many paths lie past it."""


def _beyond(
    ax: Axes, values: FloatArray, hi: float, *, y: float = 0.45, shown: str | None = None
) -> None:
    """``n% of paths above X ->`` at the right edge, where some values lie past ``hi``;
    ``shown`` is how ``hi`` reads (the amount in USD by default, a price per share on the
    pricing page)."""
    share = float(np.count_nonzero(values > hi)) / max(values.size, 1)
    if share > 0:
        at = fmt.money(hi, short=True) if shown is None else shown
        ax.text(
            0.995, y, f"{fmt.pct(share)} of paths\nabove {at} →",
            transform=ax.transAxes, ha="right", va="top", fontsize=8, color=_MUTED,
            bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1.5}, zorder=6,
        )  # fmt: skip


def _same_value(values: FloatArray, scale: float) -> float | None:
    """The value every path gives, when ``values`` differ only by float rounding; else None.

    ``scale`` is the size of the amounts the values are made of (the values with shocks
    off, say): a path that loses all its revenue is worth 0 up to rounding (±1e-7), and a
    spread that small against billions must not be drawn as a distribution.
    """
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    size = max(abs(lo), abs(hi), scale)
    if hi - lo > _NOISE * size:
        return None
    mid = lo + (hi - lo) / 2
    return 0.0 if abs(mid) <= _NOISE * size else mid


def _value_axis(
    values: FloatArray, extra: Sequence[float], scale: float
) -> tuple[float, float, bool]:
    """``(lo, hi, log)``: a log axis when every value is clearly positive, else a linear one.

    A log axis would silently drop the paths worth 0 or less (and stretch rounding noise
    around 0 over decades), so those get a linear axis covering them and every ``extra``.
    """
    size = max(scale, float(np.abs(values).max()) if values.size else 0.0)
    if values.size == 0 or float(values.min()) > _NOISE * size:
        return (*_value_range(values, extra), True)
    lo, hi = (float(v) for v in np.quantile(values, [0.0005, _TOP]))
    marks = [v for v in extra if math.isfinite(v)]
    lo, hi = min([lo, 0.0, *marks]), max([hi, *marks])
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0)
    return lo - pad, hi + pad, False


def _value_range(values: FloatArray, extra: Sequence[float]) -> tuple[float, float]:
    """A log-axis range covering the bulk of ``values`` and every positive ``extra``."""
    pos = values[values > 0]
    if pos.size == 0:
        pos = np.array([1.0])
    lo, hi = (float(v) for v in np.quantile(pos, [0.0005, _TOP]))
    marks = [v for v in extra if v > 0]
    lo = min([lo, *marks])
    hi = max([hi, *marks])
    if hi <= lo * 1.05:
        lo, hi = lo / 1.5, hi * 1.5
    return lo / 1.15, hi * 1.15


def _median_line(ax: Axes, x: float, text: str) -> None:
    """A vertical line at ``x`` labelled at the top, on the side with room for the label."""
    ax.axvline(x, color=_INK, lw=1.2)
    x0, x1 = ax.get_xlim()
    right_part = x1 > x0 and (x - x0) / (x1 - x0) > 0.7
    _note(
        ax,
        text,
        (x, 1),
        xycoords=("data", "axes fraction"),
        offset=(-4 if right_part else 4, -4),
        ha="right" if right_part else "left",
        va="top",
        fontsize=7.5,
    )


def _median_label(ax: Axes, value: float, xy: tuple[float, float], dx: float, **kw: Any) -> None:
    """``median 4.48 bn`` at ``xy``, ``dx`` points to the right, centred vertically."""
    _note(ax, f"median {fmt.money(value, short=True)}", xy, offset=(dx, 0), va="center", **kw)


def _money_label(ax: Axes, value: float, xy: tuple[float, float], dy: float, **kw: Any) -> None:
    """An amount (``72.4 M``) centred ``dy`` points above ``xy``."""
    _note(ax, fmt.money(value, short=True), xy, offset=(0, dy), ha="center", fontsize=7.5, **kw)
