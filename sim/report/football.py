"""The comparison's value pages: the football field (each scenario's p10-p90 of the fair
equity value as a bar, the median marked, the offer range and the targets as vertical
lines) and the violins (each scenario's whole distribution, values <= 0 included).

The football field's figures (p10, median, p90, the offer range's market values) are the
summaries' (every path, :class:`sim.studies.compare.ComparedRun`); the violins draw the density
of the kept paths with the summaries' quantiles over it. Where a value is 0 or less the
value axis is symmetric-log (linear around 0), so nothing is dropped.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from functools import partial

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from matplotlib.ticker import FixedLocator, FuncFormatter

from sim import format as fmt
from sim.report.axes import _log_ticks, _money_tick, _set_money_axis, _yi_tick
from sim.report.compared import _chunks, _Cmp, _page_note, _wrapped
from sim.report.layout import _bubble, _bubble_legend, _Measure, _note, _page, _stagger
from sim.report.style import _INK, _MUTED, _OFFER
from sim.report.units import money_label

FloatArray = npt.NDArray[np.float64]

#: Scenarios per page of the football field and of the violins.
FIELD_ROWS = 10
VIOLINS = 10


def _axis(ax: Axes, which: str, lo: float, hi: float, linthresh: float | None, c: _Cmp) -> None:
    """A money axis from ``lo`` to ``hi``: log, or symmetric-log (linear within
    ``linthresh`` of 0) where values reach 0 or below."""
    if linthresh is None:
        _set_money_axis(ax, which, lo, hi, log=True, units=c.units, fonts=c.fonts)
        return
    axis = ax.xaxis if which == "x" else ax.yaxis
    if which == "x":
        ax.set_xscale("symlog", linthresh=linthresh, linscale=0.6)
        ax.set_xlim(lo, hi)
    else:
        ax.set_yscale("symlog", linthresh=linthresh, linscale=0.6)
        ax.set_ylim(lo, hi)
    ticks = [0.0, linthresh, -linthresh, linthresh / 2, -linthresh / 2]
    if hi > linthresh:
        ticks += _log_ticks(linthresh, hi)
    # Below 0 only 1 and 5 of each decade: the negative side is usually a tail.
    decade = linthresh
    while decade < -lo:
        ticks += [-decade, -5 * decade]
        decade *= 10
    axis.set_major_locator(FixedLocator(sorted(t for t in set(ticks) if lo <= t <= hi)))
    if c.units == "yi":
        axis.set_major_formatter(FuncFormatter(partial(_yi_tick, c.fonts, 1.0)))
    else:
        axis.set_major_formatter(FuncFormatter(_money_tick))


def _span(
    values: Sequence[float], marks: Sequence[float], *, up: bool = False
) -> tuple[float, float, float | None]:
    """``(lo, hi, linthresh)`` covering ``values`` and ``marks``: ``linthresh`` None (a log
    axis) when all are > 0, else the power of ten at or below (``up``: at or above) the
    largest magnitude below 0 (at least 1/1000 of the largest value), within which the
    axis is linear."""
    every = [v for v in [*values, *marks] if math.isfinite(v)]
    if not every:
        return 1.0, 10.0, None
    lo, hi = min(every), max(every)
    if lo > 0:
        if hi <= lo * 1.05:
            lo, hi = lo / 1.5, hi * 1.5
        return lo, hi, None
    top = max(abs(lo), abs(hi), 1.0)
    power = math.log10(max(abs(lo), top / 1000))
    linthresh = 10.0 ** (math.ceil(power) if up else math.floor(power))
    return lo, hi, linthresh


def _padded(ax: Axes, which: str, lo: float, hi: float, left: float, right: float) -> None:
    """Widen the axis by ``left`` and ``right`` of its span, in its own (log) coordinates."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    tr = axis.get_transform()
    t0, t1 = (float(v) for v in tr.transform(np.array([[lo], [hi]])).ravel())
    span = t1 - t0 or 1.0
    a, b = (
        float(v)
        for v in tr.inverted()
        .transform(np.array([[t0 - left * span], [t1 + right * span]]))
        .ravel()
    )
    if which == "x":
        ax.set_xlim(a, b)
    else:
        ax.set_ylim(a, b)


def field_pages(c: _Cmp) -> int:
    return len(_chunks(len(c.results), FIELD_ROWS))


def _fig_football(c: _Cmp, page: int = 0) -> Figure:
    """Football field: p10-p90 of each scenario's fair equity value, the median marked."""
    chunks = _chunks(len(c.results), FIELD_ROWS)
    fig, body = _page(
        c.drawable("Football field: fair equity value at listing, p10–p90 by scenario")
        + _page_note(page, len(chunks)),
        c.footer(),
    )
    ax = body.add_subplot()
    runs = c.comparison.runs
    stats = [r.quantiles for r in runs]
    ranges = [r.offer_range_usd for r in runs if r.offer_range_usd is not None]
    values = [v for q in stats if q is not None for v in (q.at(0.1), q.median, q.at(0.9))]
    marks = [t.value_usd for t in c.targets] + [v for rg in ranges for v in rg]
    # The bars' ends below 0 fall in the linear part: a p10 below 0 is a tail, not a scale.
    lo, hi, linthresh = _span(values, marks, up=True)
    _axis(ax, "x", lo, hi, linthresh, c)
    # Room for the p10 and p90 figures beside the bars at either end.
    _padded(ax, "x", lo, hi, 0.09, 0.07)
    index = list(chunks[page])
    names = c.names()
    m = _Measure(fig)
    for row, i in enumerate(index):
        q = stats[i]
        y = -float(row)
        if q is None:
            continue
        p10, p50, p90 = q.at(0.1), q.median, q.at(0.9)
        ax.barh(y, p90 - p10, left=p10, height=0.46, color=c.colour(i), alpha=0.8, zorder=3)
        ax.plot([p50], [y], marker=c.marker(i), ms=8, color="white", mec=_INK, mew=1.3, zorder=5)
        ax.plot([p50, p50], [y - 0.23, y + 0.23], color=_INK, lw=1.6, zorder=4)
        kw = {"fontsize": 7.5, "va": "center", "color": _INK, "zorder": 6, "bbox": _BACK}
        _note(ax, fmt.money(p10, short=True), (p10, y), offset=(-4, 0), ha="right", **kw)
        _note(ax, fmt.money(p90, short=True), (p90, y), offset=(4, 0), ha="left", **kw)
        _note(
            ax,
            "median " + fmt.money(p50, short=True),
            (p50, y + 0.23),
            offset=(0, 1),
            ha="center",
            va="bottom",
            fontsize=7,
            color=_INK,
            zorder=6,
            bbox=_BACK,
        )
    rows = max(len(index), 4)
    # Headroom over the first row for the targets' numbers (staggered rows of boxes).
    levels = _target_levels(c, ax)
    ax.set_ylim(-rows + 0.4, 0.75 + 0.55 * levels)
    ax.set_yticks(
        [-float(r) for r in range(len(index))],
        [_wrapped(m, names[i] + (" (reference)" if i == 0 else ""), 190, 8) for i in index],
        fontsize=8,
    )
    for k, lab in enumerate(ax.get_yticklabels()):
        lab.set_color(c.colour(index[k]))
        lab.set_fontweight("bold")
    ax.grid(axis="y", visible=False)
    _offer_lines(c, ax, index)
    _target_lines(c, body, ax)
    ax.set_xlabel(
        money_label("fair equity value at listing", c.units, c.fonts, log=linthresh is None)
        + ("" if linthresh is None else f" (symmetric log: linear within ±{fmt.money(linthresh)})")
    )
    ax.set_title(
        "bar: p10 to p90; line and marker: the median (every path, each run's summary)\n"
        "dashed: targets (numbered as in the key)" + _offer_words(c),
        fontsize=9,
        loc="left",
    )
    return fig


#: A light backing for figures printed over lines.
_BACK = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8}


def _target_groups(c: _Cmp) -> dict[float, list[int]]:
    """The targets' indices by value: one vertical line per value."""
    groups: dict[float, list[int]] = {}
    for j, t in enumerate(c.targets):
        groups.setdefault(t.value_usd, []).append(j)
    return groups


def _target_rows(c: _Cmp, ax: Axes) -> list[int]:
    """The row of each value's numbered box, so that no two boxes overlap."""
    groups = _target_groups(c)
    scale = ax.xaxis.get_transform()
    lo, hi = ax.get_xlim()
    x0, x1 = (float(v) for v in scale.transform(np.array([[lo], [hi]])).ravel())
    xs = [(float(scale.transform(np.array([[v]])).ravel()[0]) - x0) / (x1 - x0) for v in groups]
    widths = [0.012 + 0.008 * len(", ".join(str(j + 1) for j in m)) for m in groups.values()]
    return _stagger(xs, max(widths, default=0.05))


def _target_levels(c: _Cmp, ax: Axes) -> int:
    rows = _target_rows(c, ax)
    return max(rows, default=-1) + 1


def _offer_words(c: _Cmp) -> str:
    """The title's words for the offer range's lines (none without an offering)."""
    distinct = {r.offer_range_usd for r in c.comparison.runs if r.offer_range_usd is not None}
    if not distinct:
        return ""
    if len(distinct) > 1:
        return "; orange on each row: that scenario's offer range, market value"
    a, b = next(iter(distinct))
    return (
        f"; shaded: the offer range's market value, {fmt.money(a, short=True)}–"
        f"{fmt.money(b, short=True)}"
    )


def _offer_lines(c: _Cmp, ax: Axes, index: list[int]) -> None:
    """The offer range's market values: one band when every run has the same, else a pair
    of lines on each run's row."""
    ranges = [r.offer_range_usd for r in c.comparison.runs]
    distinct = {rg for rg in ranges if rg is not None}
    if not distinct:
        return
    if len(distinct) == 1:
        a, b = next(iter(distinct))
        ax.axvspan(a, b, color=_OFFER, alpha=0.25, lw=0, zorder=1)
        for v in (a, b):
            ax.axvline(v, color=_OFFER, lw=1.2, zorder=2)
        return
    for row, i in enumerate(index):
        rg = ranges[i]
        if rg is None:
            continue
        for v in rg:
            ax.plot([v, v], [-row - 0.4, -row + 0.4], color=_OFFER, lw=2, zorder=2)


def _target_lines(c: _Cmp, body: FigureBase, ax: Axes) -> None:
    """Every target as a dashed vertical line, numbered at the top (numbers of one value
    together, rows staggered so no two overlap), with a key below the plot."""
    colours = c.target_colours()
    groups = _target_groups(c)
    if not groups:
        return
    rows = _target_rows(c, ax)
    for (value, members), row in zip(groups.items(), rows, strict=True):
        colour = colours[members[0]]
        ax.axvline(value, color=colour, lw=1.1, ls="--", zorder=2)
        _bubble(
            ax,
            value,
            1.0,
            ", ".join(str(j + 1) for j in members),
            colour,
            shape="round",
            offset=(0, -4 - 14 * row),
            va="top",
        )
    labels = [
        c.drawable(f"{j + 1}: {c.targets[j].shown} ({fmt.money(c.targets[j].value_usd)})")
        for j in range(len(c.targets))
    ]
    _bubble_legend(
        body,
        list(colours),
        [_wrap_words(s, 60) for s in labels],
        title="Targets (numbers as on the lines)",
        loc="outside lower center",
        ncols=3 if len(labels) > 4 else max(1, len(labels)),
        labelspacing=0.5,
        columnspacing=1.5,
    )


def _wrap_words(s: str, width: int) -> str:
    """``s`` wrapped at spaces only (a label's words stay whole)."""
    return "\n".join(textwrap.wrap(s, width, break_long_words=False, break_on_hyphens=False)) or s


def violin_pages(c: _Cmp) -> int:
    return len(_chunks(len(c.results), VIOLINS))


def _fig_values(c: _Cmp, page: int = 0) -> Figure:
    """Each scenario's whole value distribution (violin: density of the kept paths; bars
    and dot: the summary's quantiles over every path)."""
    chunks = _chunks(len(c.results), VIOLINS)
    fig, body = _page(
        "Equity value at listing by scenario" + _page_note(page, len(chunks)), c.footer()
    )
    ax = body.add_subplot()
    kept = [r.kept.values.equity[: r.kept.n] for r in c.results]
    fair = [j for j, t in enumerate(c.targets) if t.at == "fair"]
    # One axis for every page: the pages compare with each other.
    bulk = [float(v) for k in kept if k.size for v in np.quantile(k, [0.0005, 0.9995])]
    quantiles = [q for r in c.comparison.runs if (q := r.quantiles) is not None]
    lo, hi, linthresh = _span(
        bulk + [q.p5 for q in quantiles] + [q.p95 for q in quantiles],
        [c.targets[j].value_usd for j in fair],
    )
    _axis(ax, "y", lo, hi, linthresh, c)
    _padded(ax, "y", lo, hi, 0.03, 0.03)
    lo, hi = ax.get_ylim()
    index = list(chunks[page])
    for x, i in enumerate(index):
        _violin(c, ax, float(x), kept[i], i, lo, hi)
    colours = c.target_colours()
    tr = ax.yaxis.get_transform()
    y0, y1 = (float(v) for v in tr.transform(np.array([[lo], [hi]])).ravel())
    ys = [
        (float(tr.transform(np.array([[c.targets[j].value_usd]])).ravel()[0]) - y0) / (y1 - y0)
        for j in fair
    ]
    rows = _stagger(ys, 0.03)
    for j, row in zip(fair, rows, strict=True):
        value = c.targets[j].value_usd
        ax.axhline(value, color=colours[j], lw=1, ls="--", zorder=1)
        _note(
            ax,
            str(j + 1),
            xy=(1.0, value),
            xycoords=("axes fraction", "data"),
            offset=(-10 - 18 * row, 0),
            ha="center",
            va="center",
            fontsize=7,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "circle,pad=0.25", "fc": colours[j], "ec": "none"},
            zorder=6,
        )
    m = _Measure(fig)
    slot = 540 / max(len(index), 4) - 6
    labels = []
    for i in index:
        q = c.comparison.runs[i].quantiles
        median = "" if q is None else "median " + fmt.money(q.median, short=True)
        labels.append(_wrapped(m, c.names()[i], slot, 8) + "\n" + _wrapped(m, median, slot, 8))
    ax.set_xticks(range(len(index)), labels, fontsize=8)
    for k, lab in enumerate(ax.get_xticklabels()):
        lab.set_color(c.colour(index[k]))
    ax.set_xlim(-0.6, max(len(index), 4) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(
        money_label("equity value at listing", c.units, c.fonts, log=linthresh is None)
        + ("" if linthresh is None else f"\nsymmetric log: linear within ±{fmt.money(linthresh)}")
    )
    ax.set_title(
        "violin: the density of the value, 0 and below included; over every path: 25–75% "
        "(thick), 5–95% (thin), the median (marker)\ndashed: targets of the fair value",
        fontsize=9,
        loc="left",
    )
    if fair:
        _bubble_legend(
            body,
            [colours[j] for j in fair],
            [_wrap_words(c.drawable(c.targets[j].label), 30) for j in fair],
            title="Targets (fair value)",
            numbers=[j + 1 for j in fair],
            loc="outside right upper",
            labelspacing=0.8,
        )
    if any(r.kept.n < r.paths for r in c.results):
        ax.text(
            0.0,
            -0.12,
            "violins use each run's kept paths; the quantiles count every path",
            transform=ax.transAxes,
            fontsize=7.5,
            color=_MUTED,
        )
    return fig


def _violin(c: _Cmp, ax: Axes, x: float, values: FloatArray, i: int, lo: float, hi: float) -> None:
    """A violin on the value axis (log or symmetric log): the smoothed density of the
    values in the axis's coordinates, mirrored; the summary's quantiles over it."""
    colour = c.colour(i)
    tr = ax.yaxis.get_transform()
    if values.size:
        t = tr.transform(values.reshape(-1, 1)).ravel()
        t0, t1 = (float(v) for v in tr.transform(np.array([[lo], [hi]])).ravel())
        edges = np.linspace(t0, t1, 241)
        counts, _ = np.histogram(np.clip(t, t0, t1), bins=edges)
        kernel = np.exp(-0.5 * (np.arange(-8, 9) / 2.5) ** 2)
        dens = np.convolve(counts.astype(np.float64), kernel / kernel.sum(), mode="same")
        if dens.max() > 0:
            dens = dens / dens.max() * 0.38
        centres = tr.inverted().transform(((edges[:-1] + edges[1:]) / 2).reshape(-1, 1)).ravel()
        keep = dens > 0.002
        ax.fill_betweenx(
            centres[keep], x - dens[keep], x + dens[keep], color=colour, alpha=0.35, lw=0
        )
    q = c.comparison.runs[i].quantiles
    if q is None:
        return
    ax.plot([x, x], [q.p5, q.p95], color=colour, lw=1.3)
    ax.plot([x, x], [q.p25, q.p75], color=colour, lw=7, solid_capstyle="butt")
    ax.plot([x], [q.median], c.marker(i), color="white", mec=colour, ms=7, mew=1.5, zorder=5)
