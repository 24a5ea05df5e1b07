"""Layout helpers shared by the pages: the page context, blank pages, tables, keys.

A page is either a plot page (:meth:`_Ctx.page`: constrained layout over a footer strip)
or a text page (:func:`_text_page`: tables placed in figure fractions, text measured
with the Agg renderer so that nothing runs past its column).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure, FigureBase, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerBase
from matplotlib.patches import Circle
from matplotlib.table import Table
from matplotlib.text import Text
from matplotlib.transforms import Transform

from sim import format as fmt
from sim.analysis.summary import Summary, TargetEstimate
from sim.report.style import _INK, _MUTED, PAGE, Fonts
from sim.report.units import Units
from sim.run.engine import Kept
from sim.scenario import Scenario

# The most rows, markers or panels drawn of one kind: past these a page would collapse
# (100 segments, 1000 targets); the rest are counted ("… and 985 more").
_MAX_SEGMENT_ROWS = 12
_MAX_SHOCK_ROWS = 8
_MAX_TARGET_ROWS = 15
_MAX_EXPECTATION_ROWS = 6
_MAX_TARGETS_DRAWN = 12
_MAX_SHOCKS_DRAWN = 6
_MAX_LEGEND_SEGMENTS = 12


@dataclass(frozen=True, slots=True)
class _Ctx:
    """What every figure of one scenario's report needs: the scenario, the kept paths
    (what the plots draw) and the summary (every number printed); nothing of the run
    besides."""

    scenario: Scenario
    kept: Kept
    summary: Summary
    fonts: Fonts
    colour: str
    target_colours: tuple[str, ...]
    units: Units
    """The money axes' scale (:mod:`sim.report.units`), ``auto`` already resolved."""

    @property
    def yi(self) -> bool:
        """Whether amounts are read in 亿 too: on the axes, and in brackets in the text."""
        return self.units != "usd"

    @property
    def value_scale(self) -> float:
        """The size of the plotted equity values, with shocks and without (0 if none)."""
        kept = self.kept
        if kept.n == 0:
            return 0.0
        return float(
            max(np.abs(kept.values.equity).max(), np.abs(kept.values.equity_unshocked).max())
        )

    def drawable(self, s: str) -> str:
        """``s`` with every character the fonts cannot draw replaced (Fonts.text)."""
        return self.fonts.text(s)

    def page(self, title: str, *, note: str = "") -> tuple[Figure, SubFigure]:
        """A blank plot page titled ``title`` (made drawable), with this report's footer."""
        return _page(self.drawable(title), self.footer(), note=note)

    def footer(self) -> str:
        run = self.summary.run
        parts = [
            f"ipo-sim {run.version}",
            f"scenario {run.scenario}",
            f"sha256 {run.scenario_sha256[:12]}…",
            f"seed {run.seed}",
            f"{run.paths:,} paths ({run.sampler})",
        ]
        kept = self.kept.n
        if kept < run.paths:
            parts.append(f"plots show the first {kept:,} paths; printed figures count all")
        return self.drawable("  ·  ".join(parts))


def _target_colours(n: int) -> tuple[str, ...]:
    """Colours for ``n`` targets ranked by value: purple to orange, no scenario colour."""
    if n == 0:
        return ()
    cmap = matplotlib.colormaps["plasma"]
    stops = np.linspace(0.1, 0.8, n) if n > 1 else np.array([0.45])
    return tuple(to_hex(cmap(float(s))) for s in stops)


def _colours_by_value(values: Sequence[float]) -> tuple[str, ...]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    palette = _target_colours(len(order))
    colours = [""] * len(order)
    for rank, i in enumerate(order):
        colours[i] = palette[rank]
    return tuple(colours)


def _page(title: str, footer: str, *, note: str = "") -> tuple[Figure, SubFigure]:
    """A blank A4-landscape page: the body (constrained layout) over a footer strip.

    The footer lives in its own subfigure, so no legend or label placed by the layout
    engine can run into it.
    """
    fig = Figure(figsize=PAGE, layout="constrained")
    FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    assert engine is not None
    engine.set(h_pad=0.05, w_pad=0.08, hspace=0.0, wspace=0.0)  # type: ignore[call-arg]
    parts = fig.subfigures(2, 1, height_ratios=(0.972, 0.028), squeeze=False)
    body: SubFigure = parts[0, 0]
    foot: SubFigure = parts[1, 0]
    if title:
        body.suptitle(title, x=0.012, ha="left", fontsize=14, fontweight="bold")
    foot.text(0.01, 0.5, footer, fontsize=6.5, color=_MUTED, ha="left", va="center")
    if note:
        foot.text(0.99, 0.5, note, fontsize=6.5, color=_MUTED, ha="right", va="center")
    return fig, body


def _message(ax: Axes, text: str) -> None:
    """An empty panel that says why it is empty."""
    ax.set_axis_off()
    ax.text(
        0.5, 0.5, text, ha="center", va="center", fontsize=11, color=_MUTED, transform=ax.transAxes
    )


class _Bubble(Artist):
    """A legend handle: a target's number in a disc of its colour."""

    def __init__(self, number: int, colour: str) -> None:
        super().__init__()
        self.number = number
        self.colour = colour


class _BubbleHandler(HandlerBase):
    """Draws a :class:`_Bubble` in a legend."""

    def create_artists(
        self,
        legend: Legend,
        orig_handle: Artist,
        xdescent: float,
        ydescent: float,
        width: float,
        height: float,
        fontsize: float,
        trans: Transform,
    ) -> list[Artist]:
        assert isinstance(orig_handle, _Bubble)
        cx, cy = width / 2 - xdescent, height / 2 - ydescent
        disc = Circle((cx, cy), radius=0.6 * height, color=orig_handle.colour, transform=trans)
        label = Text(
            cx,
            cy,
            str(orig_handle.number),
            ha="center",
            va="center_baseline",
            color="white",
            fontsize=0.8 * fontsize,
            fontweight="bold",
            transform=trans,
        )
        return [disc, label]


def _note(
    ax: Axes, text: str, xy: tuple[float, float], *, offset: tuple[float, float], **kw: Any
) -> None:
    """``text`` at ``xy`` (data coordinates unless ``xycoords`` says), moved ``offset`` points."""
    ax.annotate(text, xy, xytext=offset, textcoords="offset points", **kw)


def _bubble(
    ax: Axes,
    x: float,
    y: float,
    text: str,
    colour: str,
    *,
    shape: Literal["circle", "round"] = "circle",
    offset: tuple[float, float] = (0.0, 0.0),
    va: Literal["center", "top"] = "center",
) -> None:
    """Targets' numbers (``text``) in white on their colour at ``x`` (data) and ``y``
    (axes fraction), moved ``offset`` points: a disc for one number, a rounded box where
    several share a line."""
    ax.annotate(
        text,
        xy=(x, y),
        xycoords=("data", "axes fraction"),
        xytext=offset,
        textcoords="offset points",
        ha="center",
        va=va,
        fontsize=7,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": f"{shape},pad=0.25", "fc": colour, "ec": "none"},
        annotation_clip=False,
        zorder=6,
    )


def _stagger(xs: Sequence[float], width: float) -> list[int]:
    """A row for each label at axis fraction ``xs`` so that labels within ``width`` of
    each other never share a row."""
    rows = [0] * len(xs)
    last: dict[int, float] = {}
    for i in sorted(range(len(xs)), key=lambda j: xs[j]):
        row = 0
        while row in last and xs[i] - last[row] < width:
            row += 1
        rows[i] = row
        last[row] = xs[i]
    return rows


def _wrap(s: str, width: int) -> str:
    return "\n".join(textwrap.wrap(s, width)) or s


def _target_key(
    where: FigureBase,
    fonts: Fonts,
    targets: Sequence[TargetEstimate],
    colours: Sequence[str],
    *,
    loc: Literal["outside right upper", "outside lower center"],
    ncols: int,
    width: int,
) -> None:
    """The numbered target key: number, label, and P(value >= target) with its interval.

    At most :data:`_MAX_TARGETS_DRAWN` targets, the first in the scenario; the title says
    how many more there are.
    """
    if not targets:
        return
    title = "Targets: P(value ≥ target), 95% interval"
    if len(targets) > _MAX_TARGETS_DRAWN:
        title += f"\nthe first {_MAX_TARGETS_DRAWN} of {len(targets):,}; all in summary.csv"
        targets = targets[:_MAX_TARGETS_DRAWN]
    labels = [
        fonts.text(
            _wrap(t.label, width)
            + f"\nP(value ≥ {fmt.money(t.value_usd)})"
            + f" = {fmt.probability(t.p_at_least, t.ci95)}"
        )
        for t in targets
    ]
    _bubble_legend(
        where,
        colours[: len(targets)],
        labels,
        title=title,
        loc=loc,
        ncols=ncols,
        labelspacing=0.9,
        columnspacing=2.0,
    )


def _bubble_legend(
    where: FigureBase | Axes,
    colours: Sequence[str],
    labels: Sequence[str],
    *,
    title: str,
    numbers: Sequence[int] | None = None,
    **layout: Any,
) -> None:
    """A legend keyed by coloured discs in the report's style, carrying ``numbers`` (by
    default 1, 2, ...; the comparison's pages give the targets' own numbers, whichever
    targets a page shows)."""
    shown = range(1, len(colours) + 1) if numbers is None else numbers
    where.legend(
        [_Bubble(n, c) for n, c in zip(shown, colours, strict=True)],
        labels,
        handler_map={_Bubble: _BubbleHandler()},
        title=title,
        title_fontproperties={"weight": "bold", "size": 9},
        alignment="left",
        handlelength=1.2,
        handleheight=1.2,
        fontsize=8,
        **layout,
    )


class _Measure:
    """Text widths in points, as the figure's Agg renderer lays the text out."""

    def __init__(self, fig: Figure) -> None:
        canvas = fig.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        self._renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
        self._scale = 72.0 / fig.dpi

    def width(self, s: str, fontsize: float, *, bold: bool = False) -> float:
        prop = FontProperties(size=fontsize, weight="bold" if bold else "normal")
        w, _, _ = self._renderer.get_text_width_height_descent(s, prop, ismath=False)
        return float(w) * self._scale

    def fit(self, s: str, width_pt: float, fontsize: float, *, bold: bool = False) -> str:
        """``s``, cut short with ``…`` where it would be wider than ``width_pt``."""
        if self.width(s, fontsize, bold=bold) <= width_pt:
            return s
        lo, hi = 0, len(s)  # the longest prefix that fits, by bisection
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.width(s[:mid].rstrip() + "…", fontsize, bold=bold) <= width_pt:
                lo = mid
            else:
                hi = mid - 1
        return s[:lo].rstrip(" ,;·") + "…"

    def wrap(self, s: str, width_pt: float, fontsize: float, *, max_lines: int) -> list[str]:
        """``s`` broken into lines no wider than ``width_pt``; the last one cut if need be."""
        lines: list[str] = []
        current = ""
        words = s.split()
        for k, word in enumerate(words):
            trial = f"{current} {word}".strip()
            if not current or self.width(trial, fontsize) <= width_pt:
                current = trial
                continue
            lines.append(current)
            current = word
            if len(lines) == max_lines - 1:
                current = " ".join(words[k:])
                break
        lines.append(self.fit(current, width_pt, fontsize))
        return lines


def _table(
    ax: Axes,
    measure: _Measure,
    top: float,
    rows: list[list[str]],
    *,
    x: float,
    width: float,
    col_widths: Sequence[float],
    header: Sequence[str] | None = None,
    row_h: float = 0.03,
    fontsize: float = 8.5,
    align: Sequence[str] | None = None,
) -> tuple[float, Table]:
    """A plain table on the page axes (figure fractions), its top edge at ``top``.

    Text wider than its column is cut with ``…``. Returns the bottom edge and the table.
    """
    cells = ([list(header)] if header else []) + rows
    h = row_h * len(cells)
    total = sum(col_widths)
    widths_pt = [width * PAGE[0] * 72 * w / total for w in col_widths]
    pad = 3.0  # points between a cell's edge and its text
    fitted = [
        [
            "\n".join(
                measure.fit(line, widths_pt[c] - pad - 2, fontsize, bold=bool(header) and r == 0)
                for line in text.split("\n")
            )
            for c, text in enumerate(row)
        ]
        for r, row in enumerate(cells)
    ]
    table = ax.table(
        cellText=fitted,
        colWidths=[w / total for w in col_widths],
        bbox=(x, top - h, width, h),  # type: ignore[arg-type]
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        cell.set_linewidth(0.5)
        cell.PAD = pad / widths_pt[c]
        txt = cell.get_text()
        txt.set_horizontalalignment(align[c] if align else "left")  # type: ignore[arg-type]
        if header and r == 0:
            txt.set_fontweight("bold")
            cell.set_facecolor("#f2f2f2")
            cell.visible_edges = "closed"
            cell.set_edgecolor("#f2f2f2")
    return top - h, table


def _heading(ax: Axes, x: float, y: float, text: str) -> float:
    ax.text(x, y, text, fontsize=10.5, fontweight="bold", va="top", color=_INK)
    return y - 0.032


def _text_page(footer: str) -> tuple[Figure, Axes, _Measure]:
    """A page of tables and text: one invisible axes over the page in (0..1) units."""
    fig = Figure(figsize=PAGE)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.text(0.01, 0.008, footer, fontsize=6.5, color=_MUTED, va="bottom")
    return fig, ax, _Measure(fig)


def _more(
    ax: Axes, x: float, y: float, shown: int, total: int, what: str, *, fontsize: float
) -> float:
    """Under a table cut to ``shown`` of ``total`` rows: "… and K more <what>"; the new y."""
    if total <= shown:
        return y
    ax.text(
        x,
        y - 0.006,
        f"… and {total - shown:,} more {what}",
        fontsize=fontsize,
        va="top",
        color=_MUTED,
    )
    return y - 0.03


def _first_of(shown: int, total: int) -> str:
    """A title's note when only the first ``shown`` of ``total`` items are drawn."""
    return f"\n(the first {shown} of {total:,})" if total > shown else ""
