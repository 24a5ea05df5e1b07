"""The comparison's tables, page by page: the scenarios, the targets, and each target's
probability and its change against the reference as a grid of shaded cells.

Every table holds a fixed number of scenarios (rows) and targets (columns) per page and
repeats its headings on each page; names and labels wrap, and are never cut.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim import format as fmt
from sim.report.compared import (
    _chunks,
    _Cmp,
    _grid,
    _muted_note,
    _page_note,
    _wrapped,
)
from sim.report.layout import _Measure, _page, _text_page
from sim.report.style import _INK, _MUTED, PAGE

#: Scenarios per page of the overview table, and targets per page of the targets' key.
SCENARIOS_PER_PAGE = 15
TARGETS_PER_PAGE = 14
#: Scenarios (rows) and targets (columns) per page of the probability grids.
GRID_ROWS = 15
GRID_COLUMNS = 7

_PAGE_PT = (PAGE[0] * 72, PAGE[1] * 72)
#: A grid cell's lines of text: (depth below the cell's top, font size, weight) each.
_CELL_LINES = ((0.42, 8.5, "bold"), (0.75, 6.5, "normal"))


def overview_pages(c: _Cmp) -> int:
    return len(_chunks(len(c.results), SCENARIOS_PER_PAGE))


def _fig_overview(c: _Cmp, page: int = 0) -> Figure:
    """The scenarios, a row each: the run and its value's quantiles."""
    fig, ax, m = _text_page(c.footer())
    chunks = _chunks(len(c.results), SCENARIOS_PER_PAGE)
    n = len(c.results)
    title = (
        f"Scenario comparison: {n} scenarios against {c.reference}"
        if n > 1
        else (f"Scenario comparison: {c.reference} alone")
    )
    head = _wrapped(m, c.drawable(title) + _page_note(page, len(chunks)), 780, 16, bold=True)
    ax.text(0.03, 0.965, head, fontsize=16, fontweight="bold", va="top")
    y = 0.915 - 0.04 * head.count("\n")
    if page == 0:
        y = _how(c, ax, y)
    ax.text(
        0.03,
        y,
        f"Scenarios: equity value at listing ({c.currency_word()}), from each run's "
        "summary (every path)",
        fontsize=10.5,
        fontweight="bold",
        va="top",
        color=_INK,
    )
    y -= 0.035
    rows, colours = [], []
    for i in chunks[page]:
        r, s = c.results[i], c.summaries[i]
        q = s.equity.quantiles
        rows.append(
            [
                "",
                c.drawable(r.scenario.name) + ("  (reference)" if i == 0 and n > 1 else ""),
                f"{r.paths:,}",
                str(r.seed),
                r.sampler,
                r.scenario.sha256[:16],
                *(fmt.money(v, short=True) for v in (q.p5, q.at(0.1), q.median, q.at(0.9))),
                fmt.money(q.p95, short=True),
                fmt.money(s.equity.mean, short=True),
            ]
        )
        colours.append([None, c.colour(i), *[None] * 10])
    widths = (0.03, 0.33, 0.05, 0.07, 0.05, 0.11, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05)
    header = (
        "",
        "scenario",
        "paths",
        "seed",
        "sampler",
        "SHA-256, first 16",
        "p5",
        "p10",
        "median",
        "p90",
        "p95",
        "mean",
    )
    edges = _grid(
        ax,
        m,
        y,
        header,
        rows,
        widths=widths,
        align=("center", "left", "right", "right", "left", "left", *["right"] * 6),
        page_pt=_PAGE_PT,
        colours=colours,
        one_line=(False, *[True] * 11),
    )
    _swatches(c, ax, edges, chunks[page], 0.03 + widths[0] / 2)
    y = edges[-1]
    if page == len(chunks) - 1 and c.targets:
        _muted_note(
            ax,
            0.03,
            y - 0.015,
            f"{len(c.targets)} targets: the next page names them; the grids after the "
            "football field give each one's probability and its change.",
        )
    return fig


def _swatches(c: _Cmp, ax: Axes, edges: list[float], index: range, x: float) -> None:
    """Each row's marker in its colour in the first column (the plots' legend)."""
    for k, i in enumerate(index):
        y = (edges[k + 1] + edges[k + 2]) / 2
        ax.plot([x], [y], marker=c.marker(i), color=c.colour(i), ms=8, ls="none")


def _how(c: _Cmp, ax: Axes, y: float) -> float:
    """How the runs relate (paired or independent), and the currency, under the title."""
    if c.paired:
        how = (
            "Paired, common random numbers: the runs used the same seed, path count and "
            "sampler, so path k of every run drew the same inputs. Differences are measured "
            "path by path, far more precisely than independent runs would allow."
        )
    elif len(c.results) > 1:
        how = (
            "Independent runs: the runs differ in seed, path count or sampler, so their paths "
            "do not pair up; a difference's standard error is sqrt(se_A² + se_B²)."
        )
    else:
        how = "One scenario: nothing to compare it with."
    how += " " + c.currency_note()
    text = "\n".join(textwrap.wrap(how, 160))
    ax.text(0.03, y, text, fontsize=9, va="top", color=_INK, linespacing=1.4)
    return y - 0.03 * (text.count("\n") + 1) - 0.02


def target_pages(c: _Cmp) -> int:
    return len(_chunks(len(c.targets), TARGETS_PER_PAGE)) if c.targets else 0


def _fig_targets_key(c: _Cmp, page: int = 0) -> Figure:
    """Every target compared: its number (as on the plots), label, value and point in time,
    and the scenarios that do not have it."""
    fig, ax, m = _text_page(c.footer())
    chunks = _chunks(len(c.targets), TARGETS_PER_PAGE)
    ax.text(
        0.03,
        0.965,
        "Targets compared" + _page_note(page, len(chunks)),
        fontsize=16,
        fontweight="bold",
        va="top",
    )
    y = _muted_note(
        ax,
        0.03,
        0.915,
        "Targets are matched across scenarios by value and by the value they read (fair "
        "value, or market value at a point in time); the label is the first scenario's.",
    )
    names = c.names()
    tcolours = c.target_colours()
    rows, colours = [], []
    for j in chunks[page]:
        t = c.targets[j]
        missing = [names[i] for i, e in enumerate(t.estimates) if e is None]
        rows.append(
            [
                str(j + 1),
                c.drawable(t.label),
                fmt.money(t.value_usd),
                fmt.AT_VALUE[t.at],
                "every scenario" if not missing else "not in: " + ", ".join(missing),
            ]
        )
        colours.append([tcolours[j], None, None, None, _MUTED if missing else None])
    _grid(
        ax,
        m,
        y - 0.01,
        ("#", "target", "value", "compared with", "scenarios"),
        rows,
        widths=(0.04, 0.42, 0.11, 0.19, 0.18),
        align=("center", "left", "right", "left", "left"),
        page_pt=_PAGE_PT,
        colours=colours,
        one_line=(False, True, False, False, False),
    )
    return fig


def grid_pages(c: _Cmp, *, differences: bool) -> list[tuple[range, range]]:
    """The (scenarios, targets) of each page of a grid; the reference is left out of
    the grid of differences."""
    first = 1 if differences else 0
    scenarios = [
        range(r.start + first, r.stop + first) for r in _chunks(len(c.results) - first, GRID_ROWS)
    ]
    return [(s, t) for s in scenarios for t in _chunks(len(c.targets), GRID_COLUMNS)]


def _fig_grid(c: _Cmp, page: int = 0, *, differences: bool = False) -> Figure:
    """P(value >= target) (or its change against the reference) per scenario and target:
    a cell each, shaded by the figure, the estimate and its 95 % interval written in."""
    pages = grid_pages(c, differences=differences)
    rows, cols = pages[page]
    how = "paired, common random numbers" if c.paired else "independent runs"
    title = (
        f"Change in P(value ≥ target) against {c.reference} ({how})"
        if differences
        else "P(value ≥ target) by scenario"
    )
    fig, body = _page(c.drawable(title + _page_note(page, len(pages))), c.footer())
    ax = body.add_subplot()
    ax.set_axis_off()
    if not c.targets or not len(rows):
        ax.text(
            0.5,
            0.5,
            "No targets to compare."
            if not c.targets
            else "One scenario: nothing to compare it with.",
            ha="center",
            va="center",
            color=_MUTED,
        )
        return fig
    m_rows, m_cols = len(rows), len(cols)
    scale = max(
        (abs(d.estimate) for d in c.comparison.differences if math.isfinite(d.estimate)),
        default=0.0,
    )
    blues = matplotlib.colormaps["Blues"]
    diverging = matplotlib.colormaps["RdBu"]
    # Cells in data units: column k spans [k, k+1], row r spans [-(r+1), -r].
    for r, i in enumerate(rows):
        for k, j in enumerate(cols):
            t = c.targets[j]
            e = t.estimates[i]
            face, lines = "#f7f7f7", ["—"]
            if differences:
                d = c.comparison.difference(i, t.value_usd, t.at)
                if d is not None:
                    lo, hi = d.ci95
                    clear = lo > 0 or hi < 0
                    shade = 0.5 + 0.3 * (d.estimate / scale if scale > 0 else 0.0)
                    face = to_hex(diverging(shade)) if clear else "#ffffff"
                    lines = [
                        fmt.points(d.estimate),
                        f"[{fmt.points(lo, unit=False)}, {fmt.points(hi, unit=False)}]",
                    ]
            elif e is not None:
                face = to_hex(blues(0.05 + 0.55 * e.p_at_least))
                lines = [fmt.pct(e.p_at_least), fmt.interval(*e.ci95)]
            ax.add_patch(Rectangle((k, -r - 1), 1, 1, facecolor=face, edgecolor="white", lw=1.5))
            # The estimate in bold in the cell's upper part, its interval smaller below.
            for line, (dy, size, weight) in zip(lines, _CELL_LINES, strict=False):
                ax.text(
                    k + 0.5,
                    -r - dy,
                    line,
                    ha="center",
                    va="center",
                    fontsize=size,
                    color=_INK,
                    fontweight=weight,
                )
    ax.set_xlim(-3.2, m_cols)
    ax.set_ylim(-max(m_rows, 8), 1.6)
    m = _Measure(fig)
    width_pt = _PAGE_PT[0] * 0.9 / (m_cols + 3.2)
    names = c.names()
    for r, i in enumerate(rows):
        ax.plot([-3.05], [-r - 0.5], marker=c.marker(i), color=c.colour(i), ms=7, ls="none")
        ax.text(
            -2.9,
            -r - 0.5,
            _wrapped(m, names[i], 2.8 * width_pt, 8),
            ha="left",
            va="center",
            fontsize=8,
            color=c.colour(i),
            fontweight="bold",
        )
    tcolours = c.target_colours()
    for k, j in enumerate(cols):
        t = c.targets[j]
        head = f"{j + 1}\n≥ {fmt.money(t.value_usd, short=True)}\n" + (
            "fair value" if t.at == "fair" else f"at {fmt.at_short(t.at)}"
        )
        ax.text(
            k + 0.5,
            0.08,
            head,
            ha="center",
            va="bottom",
            fontsize=8,
            color=tcolours[j],
            fontweight="bold",
        )
    note = (
        "White: the 95% interval includes 0 (no clear change). Red: lower, blue: higher."
        if differences
        else "Shaded by the probability; the interval is Wilson's 95%."
    )
    ax.text(
        -3.2,
        -max(m_rows, 8) - 0.3,
        note + " Targets by number: the targets page.",
        fontsize=8,
        color=_MUTED,
        va="top",
    )
    return fig
