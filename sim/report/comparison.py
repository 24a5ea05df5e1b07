"""The comparison report: several runs side by side, and their differences.

Runs with the same seed, path count and sampler share common random numbers, so a
difference is taken path by path (paired); otherwise the runs count as independent.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim import format as fmt
from sim._version import __version__
from sim.attribution import Attribution
from sim.compare import Comparison, SharedTarget, TargetDifference, compare
from sim.engine import Result
from sim.report.axes import _median_label, _set_money_axis, _tick, _value_range
from sim.report.layout import (
    _bubble_legend,
    _colours_by_value,
    _heading,
    _Measure,
    _message,
    _note,
    _page,
    _stagger,
    _table,
    _text_page,
    _wrap,
)
from sim.report.style import _INK, _MUTED, SCENARIO_COLOURS, Fonts, choose_fonts
from sim.report.units import Units, UnitsChoice, money_label, resolve_units
from sim.report.write import _write
from sim.summary import Summary

FloatArray = npt.NDArray[np.float64]


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

    def drawable(self, s: str) -> str:
        """``s`` with every character the fonts cannot draw replaced (Fonts.text)."""
        return self.fonts.text(s)

    @staticmethod
    def colour(i: int) -> str:
        return SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]

    def names(self) -> list[str]:
        return [self.drawable(r.scenario.name) for r in self.results]

    def footer(self) -> str:
        runs = ", ".join(
            f"{r.scenario.name} (sha256 {r.scenario.sha256[:8]}…)" for r in self.results
        )
        how = "paired: common random numbers" if self.paired else "independent runs"
        return self.drawable(f"ipo-sim {__version__}  ·  {runs}  ·  {how}")


def _fig_cmp_overview(c: _Cmp) -> Figure:
    fig, ax, m = _text_page(c.footer())
    _overview_head(c, ax, m)
    y = _heading(ax, 0.03, 0.83, "Scenarios: equity value at listing, USD")
    y = _scenario_table(c, ax, m, y) - 0.05
    y = _heading(
        ax,
        0.03,
        y,
        "Targets: P(value ≥ target), the fair value unless a point in time is named, and "
        f"the change against {c.names()[0]}, with 95% intervals",
    )
    y = _target_table(c, ax, m, y)
    for i, r in enumerate(c.results):
        missing = [t.shown for t in c.targets if t.estimates[i] is None]
        if missing:
            y -= 0.012
            ax.text(
                0.03,
                y,
                m.fit(
                    c.drawable(f"{r.scenario.name} has no target at: " + ", ".join(missing)),
                    780,
                    8,
                ),
                fontsize=8,
                color=_MUTED,
                va="top",
            )
            y -= 0.02
    return fig


def _overview_head(c: _Cmp, ax: Axes, m: _Measure) -> None:
    """The title, and how the runs relate (paired or independent)."""
    ax.text(
        0.03,
        0.965,
        m.fit(c.drawable("Scenario comparison: " + " vs ".join(c.names())), 780, 18, bold=True),
        fontsize=18,
        fontweight="bold",
        va="top",
    )
    if c.paired:
        how = (
            "Paired, common random numbers: the runs used the same seed, path count and "
            "sampler, so path k of every run drew the same inputs. Differences are measured "
            "path by path, far more precisely than two independent runs would allow."
        )
    elif len(c.results) > 1:
        how = (
            "Independent runs: the runs differ in seed, path count or sampler, so their paths "
            "do not pair up; a difference's standard error is sqrt(se_A² + se_B²)."
        )
    else:
        how = "One scenario: nothing to compare it with."
    ax.text(
        0.03,
        0.915,
        "\n".join(textwrap.wrap(how, 150)),
        fontsize=9.5,
        va="top",
        color=_INK,
        linespacing=1.4,
    )


def _scenario_table(c: _Cmp, ax: Axes, m: _Measure, y: float) -> float:
    """One row per scenario: its run and its value's quantiles; returns the bottom edge."""
    rows = []
    for r, s in zip(c.results, c.summaries, strict=True):
        q = s.equity.quantiles
        rows.append(
            [
                "",
                c.drawable(r.scenario.name),
                f"{r.paths:,}",
                str(r.seed),
                r.sampler,
                r.scenario.sha256[:16] + "…",
                fmt.money(q.p5, short=True),
                fmt.money(q.median, short=True),
                fmt.money(q.p95, short=True),
                fmt.money(s.equity.mean, short=True),
            ]
        )
    y, table = _table(
        ax,
        m,
        y,
        rows,
        x=0.03,
        width=0.94,
        col_widths=(0.03, 0.2, 0.09, 0.1, 0.07, 0.17, 0.085, 0.085, 0.085, 0.085),
        header=(
            "",
            "scenario",
            "paths",
            "seed",
            "sampler",
            "scenario SHA-256",
            "p5",
            "median",
            "p95",
            "mean",
        ),
        align=(
            "center",
            "left",
            "right",
            "right",
            "left",
            "left",
            "right",
            "right",
            "right",
            "right",
        ),
        row_h=0.034,
        fontsize=9,
    )
    for i in range(len(rows)):
        cell = table[i + 1, 0]
        cell.visible_edges = "closed"
        cell.set_facecolor(c.colour(i))
        cell.set_edgecolor("white")
        cell.set_linewidth(1.5)
    return y


def _target_table(c: _Cmp, ax: Axes, m: _Measure, y: float) -> float:
    """Each target's probability in every scenario, and its change against the first."""
    ncol = len(c.results)
    trows = []
    for tg in c.targets:
        row = [c.drawable(tg.shown), fmt.money(tg.value_usd, short=True)]
        for p in tg.estimates:
            row.append("—" if p is None else fmt.probability(p.p_at_least, p.ci95))
        for i in range(1, ncol):
            d = c.comparison.difference(i, tg.value_usd, tg.at)
            row.append(
                "—"
                if d is None
                else f"{fmt.points(d.estimate)}  [{fmt.points(d.ci95[0], unit=False)}, "
                f"{fmt.points(d.ci95[1], unit=False)}]"
            )
        trows.append(row)
    if trows:
        n_cols = 2 * ncol - 1
        y, table = _table(
            ax,
            m,
            y,
            trows,
            x=0.03,
            width=0.94,
            col_widths=(0.24, 0.07, *[0.69 / n_cols] * n_cols),
            header=("target", "USD", *c.names(), *[f"Δ {n}" for n in c.names()[1:]]),
            align=("left", "right", *["right"] * n_cols),
            row_h=min(0.034, 0.5 / (len(trows) + 1)),
            fontsize=8.5 if n_cols <= 3 else 7.5,
        )
        for i in range(ncol):
            table[0, 2 + i].get_text().set_color(c.colour(i))
        for i in range(1, ncol):
            table[0, 1 + ncol + i].get_text().set_color(c.colour(i))
    return y


def _violin(ax: Axes, x: float, values: FloatArray, colour: str, lo: float, hi: float) -> None:
    """A violin on a log value axis: the smoothed density of log(value), mirrored."""
    pos = values[values > 0]
    if pos.size == 0:
        return
    edges = np.linspace(math.log10(lo), math.log10(hi), 241)
    counts, _ = np.histogram(np.log10(pos), bins=edges)
    kernel = np.exp(-0.5 * (np.arange(-8, 9) / 2.5) ** 2)
    dens = np.convolve(counts.astype(np.float64), kernel / kernel.sum(), mode="same")
    if dens.max() > 0:
        dens = dens / dens.max() * 0.38
    centres = 10 ** ((edges[:-1] + edges[1:]) / 2)
    keep = dens > 0.002
    ax.fill_betweenx(centres[keep], x - dens[keep], x + dens[keep], color=colour, alpha=0.35, lw=0)
    p5, p25, p50, p75, p95 = (float(v) for v in np.quantile(pos, [0.05, 0.25, 0.5, 0.75, 0.95]))
    ax.plot([x, x], [p5, p95], color=colour, lw=1.3)
    ax.plot([x, x], [p25, p75], color=colour, lw=7, solid_capstyle="butt")
    ax.plot([x], [p50], "o", color="white", mec=colour, ms=6, zorder=5)
    _median_label(
        ax,
        p50,
        (x, p50),
        12,
        fontsize=8,
        color=_INK,
        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
    )


def _fig_cmp_values(c: _Cmp) -> Figure:
    fig, body = _page("Equity value at listing by scenario", c.footer())
    ax = body.add_subplot()
    values = [r.kept.values.equity for r in c.results]
    # The page draws the fair value: the targets that read it (the others are on the
    # target pages).
    targets = [t for t in c.targets if t.at == "fair"]
    lo, hi = _value_range(np.concatenate(values), [t.value_usd for t in targets])
    for i, v in enumerate(values):
        _violin(ax, float(i), v, c.colour(i), lo, hi)
    colours = _colours_by_value([t.value_usd for t in targets])
    ys = [math.log(t.value_usd / lo) / math.log(hi / lo) for t in targets if t.value_usd > 0]
    rows = iter(_stagger(ys, 0.03))
    for j, value in enumerate(t.value_usd for t in targets):
        if value <= 0:
            continue
        ax.axhline(value, color=colours[j], lw=1, ls="--", zorder=1)
        _note(
            ax,
            str(j + 1),
            xy=(1.0, value),
            xycoords=("axes fraction", "data"),
            offset=(-10 - 18 * next(rows), 0),
            ha="center",
            va="center",
            fontsize=7,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "circle,pad=0.25", "fc": colours[j], "ec": "none"},
            zorder=6,
        )
    _set_money_axis(ax, "y", lo, hi, log=True, units=c.units, fonts=c.fonts)
    ax.set_xticks(range(len(values)), c.names())
    for i, lab in enumerate(ax.get_xticklabels()):
        lab.set_color(c.colour(i))
        lab.set_fontweight("bold")
    ax.set_xlim(-0.6, len(values) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(money_label("equity value at listing", c.units, c.fonts, log=True))
    ax.set_title(
        "density of the value (violin); 25–75% (thick), 5–95% (thin), median (dot); "
        "dashed: targets of the fair value"
    )
    if targets:
        _bubble_legend(
            body,
            colours,
            [c.drawable(_wrap(t.label, 30)) for t in targets],
            title="Targets (fair value)",
            loc="outside right upper",
            labelspacing=0.8,
        )
    if any(r.kept.n < r.paths for r in c.results):
        ax.text(
            0.0,
            -0.08,
            "plots use each run's kept paths",
            transform=ax.transAxes,
            fontsize=7.5,
            color=_MUTED,
        )
    return fig


#: Bars on the targets page beyond which their figures are left to the overview page.
_MAX_LABELLED_BARS = 64


def _fig_cmp_targets(c: _Cmp) -> Figure:
    fig, body = _page("Target probabilities by scenario", c.footer())
    ax = body.add_subplot()
    if not c.targets:
        _message(ax, "No targets in these scenarios.")
        return fig
    k = len(c.results)
    width = 0.8 / k
    x = np.arange(len(c.targets))
    small = k > 3 or len(c.targets) > 6
    # A figure over each bar while the bars leave room for one (rotated 7 pt text needs
    # about 8 pt of bar); past that they would run into each other: the overview page and
    # comparison.json give the numbers.
    labelled = k * len(c.targets) <= _MAX_LABELLED_BARS
    for i in range(k):
        for j, tg in enumerate(c.targets):
            p = tg.estimates[i]
            if p is None:
                continue
            xx = x[j] - 0.4 + width * (i + 0.5)
            ax.bar(
                xx,
                p.p_at_least,
                width=width * 0.9,
                color=c.colour(i),
                alpha=0.85,
                label=c.names()[i] if j == 0 else None,
            )
            ax.errorbar(
                [xx],
                [p.p_at_least],
                yerr=[[p.p_at_least - p.ci95[0]], [p.ci95[1] - p.p_at_least]],
                fmt="none",
                ecolor=_INK,
                capsize=2,
                lw=0.9,
            )
            if not labelled:
                continue
            _note(
                ax,
                fmt.pct(p.p_at_least),
                (xx, p.ci95[1]),
                offset=(0, 3),
                ha="center",
                va="bottom",
                fontsize=7 if small else 8,
                rotation=90 if small else 0,
            )
    if len(c.targets) > 7:
        # Many targets (a ladder at fair value and at the peak): slanted labels that
        # do not run into each other.
        ax.set_xticks(
            x,
            [c.drawable(_wrap(t.shown, 36)) for t in c.targets],
            fontsize=7,
            rotation=35,
            ha="right",
            rotation_mode="anchor",
        )
    else:
        ax.set_xticks(x, [c.drawable(_wrap(t.shown, 28)) for t in c.targets], fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("P(value ≥ target): fair value unless a point in time is named")
    ax.grid(axis="x", visible=False)
    ax.set_title(
        "P(value ≥ target) in each scenario, with 95% intervals (Wilson)"
        + ("" if labelled else "; the figures: the overview page")
    )
    ax.legend(loc="upper right", title="scenario")
    return fig


def _fig_cmp_differences(c: _Cmp) -> Figure:
    how = "paired, common random numbers" if c.paired else "independent runs"
    first = c.names()[0]
    fig, body = _page(
        c.drawable(f"Change in target probabilities against {first} ({how})"), c.footer()
    )
    ax = body.add_subplot()
    diffs = c.comparison.differences
    if not diffs:
        _message(ax, "Nothing to compare: one scenario, or no target shared.")
        return fig
    index = {(t.value_usd, t.at): j for j, t in enumerate(c.targets)}
    rows = sorted({index[d.value_usd, d.at] for d in diffs})
    k = len(c.results) - 1
    step = 0.6 / max(k, 1)
    ypos = {t: float(len(rows) - 1 - r) for r, t in enumerate(rows)}
    finite = [d for d in diffs if math.isfinite(d.se)]
    left = min([0.0, *(d.ci95[0] for d in finite)])
    right = max([0.0, *(d.ci95[1] for d in finite)])
    span = max(right - left, 0.001)
    for d in diffs:
        y = ypos[index[d.value_usd, d.at]] + (k - 1) * step / 2 - (d.index - 1) * step
        _difference(c, ax, d, y, legend=index[d.value_usd, d.at] == rows[0])
    ax.axvline(0, color=_INK, lw=0.9)
    ax.set_xlim(left - 0.08 * span, right + 0.08 * span)
    _note(
        ax,
        "change  [95% interval]",
        xy=(1.0, len(rows) - 0.45),
        xycoords=("axes fraction", "data"),
        offset=(10, 0),
        va="bottom",
        fontsize=8.5,
        fontweight="bold",
    )
    ax.xaxis.set_major_formatter(
        FuncFormatter(partial(_tick, partial(_signed_points, _decimals(span * 100))))
    )
    ax.set_yticks(
        [ypos[t] for t in rows], [c.drawable(_wrap(c.targets[t].shown, 30)) for t in rows]
    )
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(
        f"P(value ≥ target) in the scenario minus in {first}, percentage points; "
        "bars: 95% intervals"
    )
    if c.paired:
        gains = [d.se_independent / d.se for d in diffs if d.se > 0]
        gain = f": {float(np.median(gains)):.1f}× narrower than independent runs" if gains else ""
        ax.set_title(f"intervals from the per-path differences{gain}")
    else:
        ax.set_title("standard error sqrt(se_A² + se_B²)")
    if k > 1:
        ax.legend(loc="lower right", title="scenario")
    return fig


def _difference(c: _Cmp, ax: Axes, d: TargetDifference, y: float, *, legend: bool) -> None:
    """One difference at height ``y``: its marker and interval, its figures right of the plot."""
    lo, hi = d.ci95
    colour = c.colour(d.index)
    ax.errorbar(
        [d.estimate],
        [y],
        xerr=[[d.estimate - lo], [hi - d.estimate]],
        fmt="o",
        color=colour,
        ms=6,
        capsize=4,
        lw=1.5,
        label=c.names()[d.index] if legend else None,
    )
    # The figures in a column right of the plot, where they cannot cover a marker.
    _note(
        ax,
        fmt.difference(d.estimate, d.ci95),
        xy=(1.0, y),
        xycoords=("axes fraction", "data"),
        offset=(10, 0),
        va="center",
        fontsize=8.5,
        color=colour,
    )


def _decimals(span: float) -> int:
    """Decimals for ticks over a range of about ``span`` (e.g. 0.4 -> 1, 30 -> 0)."""
    return max(0, 1 - math.floor(math.log10(span))) if span > 0 else 0


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

    Pages: an overview table; the value distributions side by side (violins on a log
    axis); the target probabilities grouped by target; and each scenario's difference in
    each target probability from the first scenario's, with a 95 % interval. Runs with
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
        ``"pdf"`` writes ``comparison.pdf``; ``"png"`` writes ``comparison_overview.png``,
        ``comparison_values.png``, ``comparison_targets.png`` and
        ``comparison_differences.png``, and with an attribution
        ``comparison_attribution.png`` (``_2``, ``_3``... with several): the waterfall
        of each key's share of the change.
    fonts : Fonts, optional
        The fonts to draw with; by default :func:`choose_fonts`.
    comparison : Comparison, optional
        The runs' comparison (:func:`sim.compare.compare`), drawn as given; computed
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
    pages: list[tuple[str, Callable[[_Cmp], Figure]]] = [
        ("comparison_overview.png", _fig_cmp_overview),
        ("comparison_values.png", _fig_cmp_values),
        ("comparison_targets.png", _fig_cmp_targets),
        ("comparison_differences.png", _fig_cmp_differences),
    ]
    for i, a in enumerate(comparison.attribution):
        suffix = "" if len(comparison.attribution) == 1 else f"_{i + 1}"
        pages.append((f"comparison_attribution{suffix}.png", partial(_fig_cmp_attribution, a=a)))
    return _write(pages, c, fonts, out_dir, "comparison.pdf", metadata, formats)


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
    left.set_title("median equity value at listing, USD")
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
