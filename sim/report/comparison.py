"""The comparison report: several runs side by side, and their differences.

Runs with the same seed, path count and sampler share common random numbers, so a
difference is taken path by path (paired); otherwise the runs count as independent.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim import format as fmt
from sim._version import __version__
from sim.analysis.summary import Summary
from sim.money import batch_currency
from sim.report.axes import _tick
from sim.report.batch_tables import (
    _fig_grid,
    _fig_overview,
    _fig_targets_key,
    grid_pages,
    overview_pages,
    target_pages,
)
from sim.report.compared import _Cmp
from sim.report.football import _fig_football, _fig_values, field_pages, violin_pages
from sim.report.layout import _message, _page, _wrap
from sim.report.style import _MUTED, SCENARIO_COLOURS, Fonts, choose_fonts
from sim.report.units import UnitsChoice, resolve_units
from sim.report.write import _write
from sim.run.engine import Result
from sim.studies.attribution import Attribution
from sim.studies.compare import Comparison, compare

__all__ = ["render_comparison"]


def render_comparison(
    results: Sequence[Result],
    summaries: Sequence[Summary],
    out_dir: Path,
    formats: Sequence[str] = ("pdf", "png"),
    *,
    fonts: Fonts | None = None,
    comparison: Comparison | None = None,
    units: UnitsChoice = "auto",
) -> list[Path]:
    """Write a comparison of several runs: ``comparison.pdf`` and its PNGs.

    Pages, each family cut into pages of a fixed size with its headings repeated
    (:mod:`sim.report.batch_tables`, :mod:`sim.report.football`): the overview (15
    scenarios a page), the targets by number, the football field (10 a page), the
    violins (10 a page; symmetric-log where a value is 0 or below), the grid of
    P(value >= target) and the grid of each scenario's change against the first (the
    reference), with 95 % intervals (15 scenarios x 7 targets a page). Every amount is
    in the first scenario's reporting currency (:func:`sim.money.batch_currency`). Runs with
    the same seed, path count and sampler share common random numbers, so the difference
    is taken path by path (paired); otherwise the runs count as independent. Targets are
    matched by value and the point in time they read (the label is the first scenario's).

    Parameters
    ----------
    results, summaries : sequences of Result and Summary, in the same order
        The first is the reference for the differences; position i has colour
        ``SCENARIO_COLOURS[i]`` on every page.
    out_dir : Path
        Folder to write into (created if missing).
    formats : sequence of str
        ``"pdf"`` writes ``comparison.pdf``; ``"png"`` writes one PNG per page:
        ``comparison_overview.png``, ``comparison_targets.png``,
        ``comparison_football.png``, ``comparison_values.png``,
        ``comparison_probabilities.png`` and ``comparison_differences.png`` (each
        ``_1``, ``_2``... when its family takes several pages), and with an attribution
        ``comparison_attribution.png`` (``_2``, ``_3``... with several): the waterfall
        of each key's share of the change.
    fonts : Fonts, optional
        The fonts to draw with; by default :func:`choose_fonts`.
    comparison : Comparison, optional
        The runs' comparison (:func:`sim.studies.compare.compare`), drawn as given; computed
        from ``results`` and ``summaries`` when not given.
    units : {"auto", "usd", "yi", "both"}
        The money axes' scale (:mod:`sim.report.units`); ``auto`` draws 亿 beside USD
        when any of the scenarios writes 亿 or 万.

    Returns
    -------
    list of Path
        The files written, the PDF first.

    Raises
    ------
    ValueError
        No results, or not one summary per result, or ``units`` unknown.
    """
    if not results or len(results) != len(summaries):
        raise ValueError("render_comparison needs one summary per result, and at least one")
    fonts = fonts if fonts is not None else choose_fonts()
    if comparison is None:
        comparison = compare(results, summaries)
    c = _Cmp(
        results, summaries, fonts, comparison, resolve_units(units, (r.scenario for r in results))
    )
    names = [r.scenario.name for r in results]
    metadata = {
        "Title": "ipo-sim comparison: " + " vs ".join(names),
        "Subject": ", ".join(names),
        "Keywords": " ".join(f"sha256:{r.scenario.sha256}" for r in results),
        "Creator": f"ipo-sim {__version__}",
    }
    pages: list[tuple[str, Callable[[_Cmp], Figure]]] = []
    pages += _numbered("comparison_overview", overview_pages(c), _fig_overview)
    pages += _numbered("comparison_targets", target_pages(c), _fig_targets_key)
    pages += _numbered("comparison_football", field_pages(c), _fig_football)
    pages += _numbered("comparison_values", violin_pages(c), _fig_values)
    pages += _numbered(
        "comparison_probabilities", len(grid_pages(c, differences=False)), _fig_grid
    )
    if len(results) > 1:
        pages += _numbered(
            "comparison_differences",
            len(grid_pages(c, differences=True)),
            partial(_fig_grid, differences=True),
        )
    for i, a in enumerate(comparison.attribution):
        suffix = "" if len(comparison.attribution) == 1 else f"_{i + 1}"
        pages.append((f"comparison_attribution{suffix}.png", partial(_fig_cmp_attribution, a=a)))
    currency = batch_currency(r.scenario for r in results)
    return _write(pages, c, fonts, out_dir, "comparison.pdf", metadata, formats, currency=currency)


def _numbered(
    stem: str, n: int, draw: Callable[..., Figure]
) -> list[tuple[str, Callable[[_Cmp], Figure]]]:
    """A page family of ``n`` pages: ``stem.png``, or ``stem_1.png``, ``stem_2.png``..."""
    if n == 1:
        return [(f"{stem}.png", partial(draw, page=0))]
    return [(f"{stem}_{k + 1}.png", partial(draw, page=k)) for k in range(n)]


_UP = "#1B7837"
_DOWN = "#B2182B"


def _fig_cmp_attribution(c: _Cmp, a: Attribution) -> Figure:
    """The waterfall of one attribution: A's median, each key's share, B's median; and
    the same for the target probability that changed most."""
    fig, body = _page(
        c.drawable(f"Why {a.scenario} differs from {a.minus}: each key's share of the change"),
        c.footer(),
    )
    if not a.contributions:
        _message(body.add_subplot(), c.drawable(_wrap(a.note, 90)))
        return fig
    body.supxlabel(
        c.drawable("\n".join(textwrap.wrap(a.note[0].upper() + a.note[1:], 170))),
        fontsize=8.5,
        color=_MUTED,
        x=0.01,
        ha="left",
    )
    left, right = body.subplots(1, 2, gridspec_kw={"width_ratios": (1.15, 1)})
    names = [c.drawable(k.key) for k in a.contributions]
    _waterfall(
        left,
        c.drawable(a.minus),
        c.drawable(a.scenario),
        names,
        a.median_a,
        [k.median_usd for k in a.contributions],
        partial(fmt.money, short=True),
        fmt.signed_money,
    )
    left.set_title(f"median equity value at listing, {fmt.shown_currency().code}")
    if a.targets:
        j = max(range(len(a.targets)), key=lambda t: abs(a.p_b[t] - a.p_a[t]))
        label = fmt.target_label(a.targets[j][0], a.targets[j][2])
        _waterfall(
            right,
            c.drawable(a.minus),
            c.drawable(a.scenario),
            ["" for _ in names],
            a.p_a[j],
            [k.p[j] for k in a.contributions],
            fmt.pct,
            fmt.points,
        )
        right.xaxis.set_major_formatter(PercentFormatter(1.0))
        right.set_title(c.drawable(_wrap(f"P(value ≥ {label})", 50)), fontsize=10)
    else:
        _message(right, "No target shared by both scenarios.")
    return fig


def _signed_points(decimals: int, v: float) -> str:
    """A change in percentage points, signed, with a true minus: ``+1.5``, ``−0.25``, ``0``."""
    return (f"{v * 100:+.{decimals}f}" if v else "0").replace("-", "−")


def _waterfall(
    ax: Axes,
    first: str,
    last: str,
    names: list[str],
    start: float,
    steps: list[float],
    label: Callable[[float], str],
    step_label: Callable[[float], str],
) -> None:
    """A horizontal waterfall, top to bottom: ``start``, each step, the total."""
    n = len(steps)
    ys = np.arange(n + 2)[::-1].astype(float)
    level = start
    ax.barh(ys[0], start, color=SCENARIO_COLOURS[0], height=0.6)
    ax.text(start, ys[0], " " + label(start), va="center", fontsize=8)
    for i, step in enumerate(steps):
        colour = _UP if step >= 0 else _DOWN
        ax.barh(ys[i + 1], step, left=level, color=colour, height=0.6)
        ax.plot([level, level], [ys[i] - 0.3, ys[i + 1] + 0.3], color=_MUTED, lw=0.6)
        ax.text(
            max(level, level + step),
            ys[i + 1],
            " " + step_label(step),
            va="center",
            fontsize=8,
            color=colour,
        )
        level += step
    end = start + math.fsum(steps)
    ax.barh(ys[-1], end, color=SCENARIO_COLOURS[1], height=0.6)
    ax.text(end, ys[-1], " " + label(end), va="center", fontsize=8)
    ax.set_yticks(ys, [first, *names, last] if any(names) else ["", *names, ""])
    ax.grid(axis="y", visible=False)
    lo = min(0.0, start, end, *np.cumsum([start, *steps]))
    hi = max(start, end, *np.cumsum([start, *steps]))
    ax.set_xlim(lo, hi + 0.22 * (hi - lo or 1.0))
    ax.xaxis.set_major_formatter(FuncFormatter(partial(_tick, label)))
