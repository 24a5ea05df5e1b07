"""Page 1, the summary: the scenario's inputs on the left, its results on the right.

A text page: tables laid out in figure fractions, one row height for every table, as
roomy as the fuller column allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.table import Table

from sim import format as fmt
from sim.analysis.summary import DealFigures, Run
from sim.distributions import Distribution
from sim.report.layout import (
    _MAX_EXPECTATION_ROWS,
    _MAX_SEGMENT_ROWS,
    _MAX_SHOCK_ROWS,
    _MAX_TARGET_ROWS,
    _Ctx,
    _heading,
    _Measure,
    _more,
    _table,
    _text_page,
)
from sim.report.pricing import _money_range, _price, _range_ends, _range_text
from sim.report.style import _INK, _MUTED, PAGE
from sim.scenario import Scenario
from sim.valuation import Valuation
from sim.valuation.both import Both, mean_is_finite
from sim.valuation.ev_to_sales import COMPARABLES_INPUT, EvToSales

# The value a target reads (its ``at``), in the targets table's narrow column.
_READS = {"fair": "fair", "offer": "offer", "day1": "day 1", "end": "end", "peak": "peak"}
# More rows than this for inputs overridden by regimes: the regimes page shows them.
_MAX_REGIME_ROWS = 4
_KEY_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
# The two columns: left edge and width, in figure fractions.
_LX, _LW = 0.03, 0.455
_RX, _RW = 0.525, 0.445
_FS = 8.5  # the tables' font size
_PAGE_W = PAGE[0] * 72  # points
_GAP = 0.035  # between one table and the next heading
# An expectation's row holds two lines of text at the table's font (1.25 line spacing,
# 4 pt of padding), in fractions of the page's height: its least height.
_EXP_ROW_MIN = (2 * 1.25 * (_FS - 0.5) + 4) / (PAGE[1] * 72)
# The least row height the other tables are drawn at before expectations are left out.
_ROW_MIN = 0.0165
_STATUS_COLOURS = {"passed": "#1a7f37", "failed": "#c62828", "inconclusive": "#b26a00"}


@dataclass(frozen=True, slots=True)
class _Sheet:
    """The page being filled: its axes, text measure, row height, and the rows shown."""

    ctx: _Ctx
    ax: Axes
    m: _Measure
    row_h: float
    description: list[str]
    n_expectations: int

    def table(
        self, y: float, rows: list[list[str]], *, left: bool, **kw: Any
    ) -> tuple[float, Table]:
        """:func:`_table` in the left or right column, at the page's row height and size."""
        x, width = (_LX, _LW) if left else (_RX, _RW)
        kw.setdefault("row_h", self.row_h)
        kw.setdefault("fontsize", _FS)
        return _table(self.ax, self.m, y, rows, x=x, width=width, **kw)


def _fig_summary(ctx: _Ctx) -> Figure:
    fig, ax, m = _text_page(ctx.footer())
    top = _headline(ctx, ax, m)
    description = ctx.drawable(" ".join(ctx.scenario.description.split()) or "(no description)")
    lines = m.wrap(description, _LW * _PAGE_W, 8.2, max_lines=7)
    row_h, n_exp = _row_height(ctx, top, len(lines))
    sheet = _Sheet(ctx, ax, m, row_h, lines, n_exp)
    y = _scenario_text(sheet, top)
    y = _segments(sheet, y)
    y = _valuation(sheet, y)
    _shocks(sheet, y)
    # Right column: the results and where they came from.
    y = _targets(sheet, top)
    y = _quantiles(sheet, y)
    y = _expectations(sheet, y)
    _provenance(sheet, y)
    return fig


def _headline(ctx: _Ctx, ax: Axes, m: _Measure) -> float:
    """The title and the answer: with an offering, the decision first (:func:`_decision`);
    returns the top of the columns."""
    v = ctx.summary.equity
    q = v.quantiles
    title = m.fit(
        ctx.drawable(f"{ctx.scenario.name}: IPO valuation report"), 0.94 * _PAGE_W, 18, bold=True
    )
    ax.text(0.03, 0.965, title, fontsize=18, fontweight="bold", va="top")
    decision = _decision(ctx)
    if decision:
        sentences = [
            *decision,
            f"Equity value at listing: median {fmt.money(q.median, reading=ctx.yi)}; 90% of the "
            f"paths between {fmt.money(q.p5)} and {fmt.money(q.p95)}.",
        ]
        head_lines = [
            line
            for sentence in sentences
            for line in m.wrap(ctx.drawable(sentence), 0.94 * _PAGE_W, 10.5, max_lines=2)
        ]
    else:
        headline = ctx.drawable(
            f"Median equity value at listing {fmt.money(q.median, reading=ctx.yi)}; 90% of the "
            f"paths lie between {fmt.money(q.p5)} and {fmt.money(q.p95)}. EV = "
            f"{ctx.scenario.valuation.describe()}; equity = EV + net cash + IPO proceeds."
        )
        head_lines = m.wrap(headline, 0.94 * _PAGE_W, 10.5, max_lines=2)
    ax.text(
        0.03,
        0.915,
        "\n".join(head_lines),
        fontsize=10.5,
        va="top",
        color=_INK,
        linespacing=1.4,
        gid="headline",
    )
    return 0.875 - 0.024 * (len(head_lines) - 1)


def _decision(ctx: _Ctx) -> list[str]:
    """The offer in two sentences: the range (offer currency and USD), the market value
    and EV/sales it implies at its ends; the fair value per share's median and
    P(fair >= low), P(fair >= high) with their intervals. Empty without an offering."""
    offering, summary = ctx.scenario.offering, ctx.summary
    ends = _range_ends(summary.pricing)
    if offering is None or ends is None or summary.value_per_share is None:
        return []
    low, high = ends
    cur = offering.currency
    price = _range_text(low.price, high.price, cur) + " a share"
    shown = fmt.shown_currency()
    if cur != shown.code:
        lo, hi = low.price_usd / shown.usd_per_unit, high.price_usd / shown.usd_per_unit
        price += f" ({_range_text(lo, hi, shown.code)})"
    ev_sales = f"{fmt.number(low.implied_ev_to_sales)}–{fmt.number(high.implied_ev_to_sales)}"
    offer = (
        f"The offer: {price}, a market value of "
        f"{_money_range(low.market_value_usd, high.market_value_usd, ctx.units)}, "
        f"{ev_sales}× EV / {ctx.scenario.valuation.year} sales."
    )
    median = summary.value_per_share.quantiles.median / offering.usd_per_unit
    odds = (
        f"Fair value per share: median {_price(median, cur, 3)}; "
        f"P(fair ≥ {_price(low.price, cur)}) = {fmt.probability(low.p_fair_at_least, low.ci95)}, "
        f"P(fair ≥ {_price(high.price, cur)}) = "
        f"{fmt.probability(high.p_fair_at_least, high.ci95)}."
    )
    return [offer, odds]


def _row_height(ctx: _Ctx, top: float, description_lines: int) -> tuple[float, int]:
    """One row height for every table, as roomy as the fuller column allows, and how many
    expectations the right column shows: each needs two lines (:data:`_EXP_ROW_MIN`), and
    they are left out, last first, while the other rows would be squeezed below
    :data:`_ROW_MIN` (summary.json has them all)."""
    sc, summary = ctx.scenario, ctx.summary
    heads = 0.032 + 0.035  # a heading and the gap before the next one
    n_seg = min(len(sc.segments), _MAX_SEGMENT_ROWS)
    n_shock = min(len(sc.shocks), _MAX_SHOCK_ROWS)
    n_target = min(len(summary.targets), _MAX_TARGET_ROWS)
    cut_left = (n_seg < len(sc.segments)) + (n_shock < len(sc.shocks))
    left_fixed = 4 * heads + 0.0195 * description_lines + 0.03 * cut_left
    left_rows = n_seg + 1 + len(_valuation_rows(sc, summary.deal)) + max(n_shock + 1, 1)
    n_provenance = 6 + sum(day is not None for _, day in _dates(summary.run))
    other_rows = n_target + 1 + (3 if ctx.yi else 2) + n_provenance
    t_note = not mean_is_finite(sc.valuation)
    left = (top - 0.03 - left_fixed) / left_rows

    def fit(n_exp: int) -> float:
        cut_right = (n_target < len(summary.targets)) + (n_exp < len(summary.expectations))
        right_fixed = (4 if n_exp else 3) * heads + 0.03 * cut_right + _MEAN_NOTE_H * t_note
        room = top - 0.03 - right_fixed
        # Rows at row_h, expectations at max(1.7 row_h, _EXP_ROW_MIN).
        row_h = min(0.033, left, room / (other_rows + 1.7 * n_exp))
        if 1.7 * row_h < _EXP_ROW_MIN:
            row_h = min(row_h, (room - n_exp * _EXP_ROW_MIN) / other_rows)
        return row_h

    n_exp = min(len(summary.expectations), _MAX_EXPECTATION_ROWS)
    while n_exp > 1 and fit(n_exp) < _ROW_MIN:
        n_exp -= 1
    return fit(n_exp), n_exp


def _scenario_text(s: _Sheet, top: float) -> float:
    y = _heading(s.ax, _LX, top, "Scenario")
    s.ax.text(
        _LX, y, "\n".join(s.description), fontsize=8.2, va="top", color=_INK, linespacing=1.4
    )
    return y - (0.0195 * len(s.description) + 0.03)


def _segments(s: _Sheet, y: float) -> float:
    sc, drawable = s.ctx.scenario, s.ctx.drawable
    y = _heading(
        s.ax,
        _LX,
        y,
        f"Segments: revenue {sc.base_year} ({fmt.shown_currency().code}), growth into "
        f"{sc.base_year + 1} "
        "(p10 · p50 · p90)",
    )
    segments = sc.segments[:_MAX_SEGMENT_ROWS]
    rows = []
    for seg in segments:
        shares = sorted(zip(sc.regions, seg.shares, strict=True), key=lambda rs: -rs[1])
        rows.append(
            [
                drawable(seg.name),
                # The median: a ranged base year's three figures do not fit the column.
                fmt.money(float(seg.revenue.ppf(np.array([0.5]))[0]), short=True),
                fmt.distribution(seg.growth, "growth"),
                drawable(", ".join(f"{r} {w:.0%}" for r, w in shares[:3] if w > 0)),
            ]
        )
    y, _ = s.table(
        y,
        rows,
        left=True,
        col_widths=(0.19, 0.17, 0.29, 0.35),
        header=("segment", "revenue p50", "growth", "main regions"),
    )
    y = _more(s.ax, _LX, y, len(segments), len(sc.segments), "segments", fontsize=_FS)
    return y - _GAP


def _method_inputs(sc: Scenario) -> list[list[str]]:
    """A row per random input of the valuation method, then one row for the fixed ones
    (a DCF has ten inputs: one row each would run off the page). An input that regimes
    override is shown by regime: its base law is only their mixture."""
    val = sc.valuation
    labels = type(val).input_labels
    shown = val.shown_inputs()

    def text(name: str, d: Distribution) -> str:
        return fmt.distribution(d, "multiple" if name.endswith(".multiple") else "", note=True)

    rows: list[list[str]] = []
    by_regime = [k for k in shown if any(k in r.overrides for r in sc.regimes)]
    for k, d in shown.items():
        if k == COMPARABLES_INPUT:
            continue  # the standard t behind the peer multiple: its row says so
        if k in by_regime:
            if len(sc.regimes) * len(by_regime) > _MAX_REGIME_ROWS:
                rows.append([labels.get(k, k), "by regime: see the regimes page"])
                continue
            for r in sc.regimes:
                law = r.overrides.get(k, d)
                # Without the quantiles' note (the rows above and below have it): it fits.
                what = "multiple" if k.endswith(".multiple") else ""
                law_text = fmt.distribution(law, what)
                rows.append([r.name, f"regime, {r.weight:.0%}: {labels.get(k, k)} {law_text}"])
        elif not d.is_fixed:
            rows.append([labels.get(k, k), text(k, d)])
    fixed = [f"{labels.get(k, k)} {text(k, d)}" for k, d in shown.items() if d.is_fixed]
    if fixed:
        rows.append(["fixed inputs", "; ".join(fixed)])
    return rows


def _describe(val: Valuation) -> str:
    """The method in a row's width: a peer multiple's table gets a row of its own."""
    if isinstance(val, EvToSales) and val.comparables is not None:
        return f"{val.year} revenue x a peer multiple"
    return val.describe()


def _peer_rows(val: Valuation) -> list[list[str]]:
    """The peer table behind the multiple, where there is one: its size, fit and law."""
    ev = val.ev_to_sales if isinstance(val, Both) else val
    if not isinstance(ev, EvToSales) or ev.comparables is None:
        return []
    peers = ev.comparables
    on = " + ".join(r.replace("_", " ") for r in peers.regressors)
    return [
        [
            "peer multiple",
            f"{peers.n} peers ({peers.file}) on {on or 'an intercept'}, t({peers.df})",
        ]
    ]


def _method_rows(val: Valuation) -> list[list[str]]:
    """How the value is made, a short row each (a long one is cut at the column's edge)."""
    if isinstance(val, Both):
        pair: list[Valuation] = [val.dcf, val.ev_to_sales]
        main, beside = pair if val.primary == "dcf" else pair[::-1]
        return [
            ["method", f"both: {main.name} (primary), {beside.name} beside it"],
            ["EV (primary)", _describe(main)],
            ["EV beside it", _describe(beside)],
            *_peer_rows(val),
            ["equity", "EV + net cash + IPO proceeds"],
        ]
    return [
        ["method", f"{val.name}: EV = {_describe(val)}"],
        *_peer_rows(val),
        ["equity", "EV + net cash + IPO proceeds"],
    ]


def _valuation_rows(sc: Scenario, deal: DealFigures | None) -> list[list[str]]:
    """The valuation table's rows: method, its inputs, net cash, proceeds, the offering
    (its figures from the summary's ``deal``)."""
    val = sc.valuation
    rows = [
        *_method_rows(val),
        *_method_inputs(sc),
        ["net cash", fmt.distribution(val.net_cash, "money", note=True)],
        ["IPO proceeds", _proceeds(sc, deal)],
    ]
    if sc.offering is not None and deal is not None:
        shown = fmt.shown_currency()
        lo, hi = (p / shown.usd_per_unit for p in sc.offering.price_range_usd)
        written = " – ".join(sc.offering.price_range_text)
        rows.append(
            [
                "offering",
                f"{deal.shares_after:,.0f} shares at {written} ({shown.code} {lo:.2f} – {hi:.2f})",
            ]
        )
    return rows


def _proceeds(sc: Scenario, deal: DealFigures | None) -> str:
    """Fixed proceeds (the simple form), or the deal's, which move with the offer price."""
    if deal is None or deal.net_proceeds_usd is None:
        return fmt.distribution(sc.valuation.ipo_proceeds, "money", note=True)
    lo, hi = deal.net_proceeds_usd
    return (
        f"net of fees, at the offer price: {fmt.money(lo, short=True)} – "
        f"{fmt.money(hi, short=True)} across the range"
    )


def _valuation(s: _Sheet, y: float) -> float:
    y = _heading(s.ax, _LX, y, f"Valuation and offering (amounts in {fmt.shown_currency().code})")
    y, _ = s.table(
        y,
        [
            [s.ctx.drawable(a), s.ctx.drawable(b)]
            for a, b in _valuation_rows(s.ctx.scenario, s.ctx.summary.deal)
        ],
        left=True,
        col_widths=(0.22, 0.78),
    )
    return y - _GAP


def _shocks(s: _Sheet, y: float) -> None:
    sc, drawable = s.ctx.scenario, s.ctx.drawable
    y = _heading(s.ax, _LX, y, "Shocks (means of their inputs)")
    if not sc.shocks:
        s.ax.text(
            _LX, y, "none: this scenario has no shocks", fontsize=_FS, va="top", color=_MUTED
        )
        return
    shocks = sc.shocks[:_MAX_SHOCK_ROWS]
    all_segments = {seg.name for seg in sc.segments}
    rows = []
    for k in shocks:
        hit_all = set(k.segments or all_segments) == all_segments
        segs = "all segments" if hit_all else ", ".join(k.segments)
        rec = "permanent" if k.recovery_years is None else f"{k.recovery_years.mean():.1f} y"
        rows.append(
            [
                drawable(k.name),
                drawable(f"{', '.join(k.regions)} × {segs}"),
                f"{k.annual_probability.mean():.1%}",
                f"{k.severity.mean():.0%}",
                rec,
                f"−{k.multiple_hit:.0%}" if k.multiple_hit else "none",
            ]
        )
    y, _ = s.table(
        y,
        rows,
        left=True,
        col_widths=(0.23, 0.25, 0.11, 0.12, 0.15, 0.14),
        header=("shock", "hits", "p / year", "severity", "recovery", "multiple"),
    )
    _more(s.ax, _LX, y, len(shocks), len(sc.shocks), "shocks", fontsize=_FS)


def _targets(s: _Sheet, top: float) -> float:
    all_targets = s.ctx.summary.targets
    targets = all_targets[:_MAX_TARGET_ROWS]
    y = _heading(s.ax, _RX, top, "Targets: P(value ≥ target), the value each reads")
    rows = [
        [
            str(i + 1),
            s.ctx.drawable(tg.label),
            _READS[tg.at],
            fmt.money(tg.value_usd, short=True),
            fmt.pct(tg.p_at_least),
            fmt.interval(*tg.ci95),
        ]
        for i, tg in enumerate(targets)
    ]
    if not rows:
        s.ax.text(_RX, y, "no targets in this scenario", fontsize=_FS, va="top", color=_MUTED)
        return y - 0.03 - _GAP
    y, table = s.table(
        y,
        rows,
        left=False,
        col_widths=(0.05, 0.4, 0.08, 0.11, 0.12, 0.24),
        header=("", "target", "at", fmt.shown_currency().code, "P", "95% interval"),
        align=("center", "left", "left", "right", "right", "right"),
    )
    for i in range(len(rows)):
        cell = table[i + 1, 0]
        cell.visible_edges = "closed"
        cell.set_facecolor(s.ctx.target_colours[i])
        cell.set_edgecolor("white")
        cell.set_linewidth(1.5)
        cell.get_text().set_color("white")
        cell.get_text().set_fontweight("bold")
    what = "targets (all in summary.csv)"
    return _more(s.ax, _RX, y, len(targets), len(all_targets), what, fontsize=_FS) - _GAP


def _quantiles(s: _Sheet, y: float) -> float:
    v = s.ctx.summary.equity
    q = v.quantiles
    how = "exact" if s.ctx.summary.run.quantile_method == "exact" else "streaming-sketch"
    code, rate = fmt.shown_currency().code, fmt.shown_currency().usd_per_unit
    y = _heading(s.ax, _RX, y, f"Equity value at listing, {code} ({how} quantiles)")
    labels = ["", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "mean"]
    values = [fmt.cents(q.at(k) / rate) for k in _KEY_QUANTILES] + [fmt.cents(v.mean / rate)]
    finite_mean = mean_is_finite(s.ctx.scenario.valuation)
    # One unit per row, so that the cells hold bare numbers and stay narrow.
    unit, scale = (f"{code} bn", 1e9) if abs(q.median / rate) >= 1e8 else (f"{code} M", 1e6)
    rows = [[unit, *(fmt.number(x / scale) for x in values)]]
    if s.ctx.yi:
        yi_unit = f"亿 {code}" if s.ctx.fonts.cjk else f"10⁸ {code}"
        rows.append([yi_unit, *(fmt.number(x / 1e8, group=False) for x in values)])
    if not finite_mean:
        for row in rows:
            row[-1] = "none"  # the sample's mean would read as a figure (note below)
    y, _ = s.table(
        y,
        rows,
        left=False,
        col_widths=[1.5] + [1.0] * (len(labels) - 1),
        header=labels,
        align=["left"] + ["right"] * (len(labels) - 1),
        fontsize=_FS - 0.5,
    )
    if not mean_is_finite(s.ctx.scenario.valuation):
        note = (
            "mean: none: the peer multiple is the exponential of a Student t, which has no "
            "finite mean (summary.json gives the sample's, which moves with the paths drawn)."
        )
        s.ax.text(_RX, y - 0.004, "\n".join(s.m.wrap(note, _RW * _PAGE_W, _FS - 1, max_lines=2)),
                  fontsize=_FS - 1, va="top", color=_MUTED)  # fmt: skip
        y -= _MEAN_NOTE_H
    return y - _GAP


_MEAN_NOTE_H = 0.04
"""The height of the note under the equity table where its mean has no finite law."""


def _expectations(s: _Sheet, y: float) -> float:
    all_expectations = s.ctx.summary.expectations
    expectations = all_expectations[: s.n_expectations]
    if not expectations:
        return y
    y = _heading(s.ax, _RX, y, "Expectations stated in the scenario")
    text_w = 0.85 * _RW * _PAGE_W - 8
    rows = [
        [
            e.status,
            "\n".join(
                s.m.wrap(s.ctx.drawable(e.expectation.text), text_w, _FS - 0.5, max_lines=2)
            ),
        ]
        for e in expectations
    ]
    y, table = s.table(
        y,
        rows,
        left=False,
        col_widths=(0.15, 0.85),
        row_h=max(1.7 * s.row_h, _EXP_ROW_MIN),
        fontsize=_FS - 0.5,
    )
    for i, e in enumerate(expectations):
        text = table[i, 0].get_text()
        text.set_color(_STATUS_COLOURS.get(e.status, _INK))
        text.set_fontweight("bold")
    what = "expectations (all in summary.json)"
    y = _more(s.ax, _RX, y, len(expectations), len(all_expectations), what, fontsize=_FS)
    return y - _GAP


def _provenance(s: _Sheet, y: float) -> None:
    run, sc = s.ctx.summary.run, s.ctx.scenario
    y = _heading(s.ax, _RX, y, "Run provenance")
    kept = s.ctx.kept.n
    rows = [
        [
            "scenario",
            s.ctx.drawable(run.scenario + (f"  ({sc.source.name})" if sc.source else "")),
        ],
        ["SHA-256", run.scenario_sha256],
        *[[what, day] for what, day in _dates(run) if day is not None],
        ["seed, sampler", f"{run.seed}, {run.sampler}"],
        [
            "paths",
            f"{run.paths:,}"
            + (f"  (plots use the first {kept:,})" if kept < run.paths else "  (all plotted)"),
        ],
        ["package", f"ipo-sim {run.version}"],
        ["run time", f"{run.elapsed_s:.2f} s on {run.workers} worker(s)"],
    ]
    s.table(y, rows, left=False, col_widths=(0.17, 0.83), fontsize=_FS - 1)


def _dates(run: Run) -> tuple[tuple[str, str | None], ...]:
    """The information set (DESIGN 3.1): what was known when, and the date values are for."""
    return (("known as of", run.as_of), ("listing date", run.listing_date))
