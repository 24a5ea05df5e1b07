"""What every page of a comparison report shares: the runs, their colours and markers,
pages cut into chunks, and a table whose cells wrap instead of being cut.

Scenario ``i`` is drawn in colour ``SCENARIO_COLOURS[i % 8]`` with marker
``MARKERS[i // 8]``: the pair is distinct for up to 64 scenarios, and the first eight
look as they always did (a disc).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes

from sim import format as fmt
from sim._version import __version__
from sim.analysis.summary import Summary
from sim.report.layout import _colours_by_value, _Measure
from sim.report.style import _INK, _MUTED, SCENARIO_COLOURS, Fonts
from sim.report.units import Units
from sim.run.engine import Result
from sim.studies.compare import Comparison, SharedTarget

#: The marker of each block of eight scenarios (one per colour of SCENARIO_COLOURS).
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass(frozen=True, slots=True)
class _Cmp:
    """What every page of a comparison needs."""

    results: Sequence[Result]
    summaries: Sequence[Summary]
    fonts: Fonts
    comparison: Comparison
    units: Units

    @property
    def targets(self) -> tuple[SharedTarget, ...]:
        """Every target of the runs, matched by (value, at); the first label wins."""
        return self.comparison.targets

    @property
    def paired(self) -> bool:
        return self.comparison.paired

    @property
    def reference(self) -> str:
        """The scenario the differences are taken against (the first run)."""
        return self.drawable(self.comparison.reference)

    def drawable(self, s: str) -> str:
        """``s`` with every character the fonts cannot draw replaced (Fonts.text)."""
        return self.fonts.text(s)

    @staticmethod
    def colour(i: int) -> str:
        return SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]

    @staticmethod
    def marker(i: int) -> str:
        return MARKERS[(i // len(SCENARIO_COLOURS)) % len(MARKERS)]

    def names(self) -> list[str]:
        return [self.drawable(r.scenario.name) for r in self.results]

    def target_colours(self) -> tuple[str, ...]:
        """A colour per target (:attr:`targets`), by value: the same on every page."""
        return _colours_by_value([t.value_usd for t in self.targets])

    def currency_word(self) -> str:
        """The currency every amount of the comparison is in (the reference's)."""
        return fmt.shown_currency().code

    def currency_note(self) -> str:
        """What the comparison does with the runs' currencies, in a sentence."""
        codes = sorted({r.scenario.currency for r in self.results})
        code = self.currency_word()
        if codes == [code]:
            return f"Amounts are in {code}."
        return (
            f"The scenarios report in {', '.join(codes)}: every amount here is in the "
            f"reference's currency, {code}, converted at the reference's [fx] rate "
            f"(1 {code} = {fmt.number(fmt.shown_currency().usd_per_unit, 6)} USD)."
        )

    def footer(self) -> str:
        """Short whatever the number of runs: the runs' hashes are in the overview."""
        n = len(self.results)
        how = "paired: common random numbers" if self.paired else "independent runs"
        runs = f"{n} scenarios, reference {self.comparison.reference}" if n > 1 else "1 scenario"
        return self.drawable(
            f"ipo-sim {__version__}  ·  {runs}  ·  {how}  ·  SHA-256 of each scenario: the "
            "overview"
        )


def _chunks(n: int, size: int) -> list[range]:
    """``range(n)`` cut into runs of ``size`` (at least one, possibly empty, chunk)."""
    return [range(i, min(i + size, n)) for i in range(0, max(n, 1), size)] or [range(0)]


def _page_note(k: int, pages: int) -> str:
    """`` (page 2 of 3)`` when a page family has several pages, else nothing."""
    return f" (page {k + 1} of {pages})" if pages > 1 else ""


#: Where a line may break: after a space, a hyphen, a slash or a comma.
_BREAKS = re.compile(r"(?<=[\s\-/,_])")


def _wrapped(m: _Measure, s: str, width_pt: float, fontsize: float, *, bold: bool = False) -> str:
    """``s`` in lines no wider than ``width_pt`` (at ``fontsize``), broken after spaces,
    hyphens, slashes or commas, and within a word only where a word alone is wider.
    Nothing is cut: every character of ``s`` is kept, in order."""
    lines: list[str] = []
    for paragraph in s.split("\n"):
        current = ""
        for piece in (p for p in _BREAKS.split(paragraph) if p):
            trial = current + piece
            if not current or m.width(trial.rstrip(), fontsize, bold=bold) <= width_pt:
                current = trial
                continue
            lines.append(current.rstrip())
            current = piece
        while current and m.width(current.rstrip(), fontsize, bold=bold) > width_pt:
            # A piece wider than the column: cut it where it fills the line.
            cut = max(1, _fits(m, current, width_pt, fontsize, bold))
            lines.append(current[:cut])
            current = current[cut:]
        lines.append(current.rstrip())
    return "\n".join(lines)


def _fits(m: _Measure, s: str, width_pt: float, fontsize: float, bold: bool) -> int:
    """The longest prefix of ``s`` no wider than ``width_pt`` (by bisection)."""
    lo, hi = 0, len(s)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if m.width(s[:mid], fontsize, bold=bold) <= width_pt:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _one_line(
    m: _Measure, s: str, width_pt: float, fontsize: float, floor: float, *, bold: bool = False
) -> float:
    """The font size, from ``fontsize`` down to ``floor``, at which ``s`` fits one line."""
    size = fontsize
    while size > floor and m.width(s, size, bold=bold) > width_pt:
        size = max(floor, size - 0.5)
    return size


#: Points per line of table text, per point of font size.
_LEADING = 1.3


def _grid(
    ax: Axes,
    m: _Measure,
    top: float,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    widths: Sequence[float],
    align: Sequence[str],
    page_pt: tuple[float, float],
    x: float = 0.03,
    fontsize: float = 8.5,
    colours: Sequence[Sequence[str | None]] | None = None,
    one_line: Sequence[bool] | None = None,
) -> list[float]:
    """A table on a text page (axes in page fractions) whose cells wrap, never cut.

    ``widths`` are page fractions per column; a row is as tall as its tallest cell. A
    column marked in ``one_line`` keeps each cell on one line by shrinking its font (to
    6.5 pt at least) before wrapping. ``colours[r][c]`` colours a cell's text. Returns
    the rows' edges, top first: the header spans ``edges[0]..edges[1]``, row r
    ``edges[r + 1]..edges[r + 2]``; the last is the bottom.
    """
    page_w, page_h = page_pt
    pad = 3.0
    y = top
    edges = [top]
    for r, row in enumerate([list(header), *map(list, rows)]):
        bold = r == 0
        cells = []
        for c, text in enumerate(row):
            width_pt = widths[c] * page_w - 2 * pad
            size = fontsize
            if one_line is not None and one_line[c]:
                size = _one_line(m, text, width_pt, fontsize, 6.5, bold=bold)
            cells.append((_wrapped(m, text, width_pt, size, bold=bold), size))
        lines = max(t.count("\n") + 1 for t, _ in cells)
        h = (lines * fontsize * _LEADING + 2 * pad) / page_h
        if bold:
            ax.axhspan(y - h, y, xmin=x, xmax=x + sum(widths), color="#f2f2f2", lw=0)
        left = x
        for c, (text, size) in enumerate(cells):
            ha = align[c]
            tx = left + pad / page_w if ha == "left" else left + widths[c] - pad / page_w
            if ha == "center":
                tx = left + widths[c] / 2
            colour = colours[r - 1][c] if colours is not None and r > 0 else None
            ax.text(
                tx,
                y - pad / page_h,
                text,
                fontsize=size,
                fontweight="bold" if bold else "normal",
                ha=ha,
                va="top",
                color=colour or _INK,
                linespacing=_LEADING * fontsize / size if size < fontsize else _LEADING,
            )
            left += widths[c]
        y -= h
        edges.append(y)
        ax.plot([x, x + sum(widths)], [y, y], color="#cccccc", lw=0.5)
    return edges


def _rows_fit(lines_per_row: float, fontsize: float, room: float, page_h: float) -> int:
    """How many rows of ``lines_per_row`` lines fit in ``room`` (a page fraction)."""
    per_row = (lines_per_row * fontsize * _LEADING + 6.0) / page_h
    return max(1, math.floor(room / per_row))


def _muted_note(ax: Axes, x: float, y: float, text: str) -> float:
    """A muted line of text at ``y``; returns the y under it."""
    ax.text(x, y, text, fontsize=8, color=_MUTED, va="top")
    return y - 0.025
