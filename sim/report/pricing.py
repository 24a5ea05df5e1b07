"""Page 2 with an offering, the pricing page: value per share against the price range.

What an IPO committee asks first (DESIGN.md 3.2): at which price in the range should the
shares be sold, and how likely is each price to be worth it? The page puts the fair value
per share, in the offer currency, against the range; P(fair value per share >= price) at
each price of the grid with its interval; the grid's implied market value and EV/sales;
and, where the scenario gives an ``ipo_discount``, where in the range the offer prices.

The helpers that write prices and ranges (:func:`_price`, :func:`_range_text`,
:func:`_money_range`, :func:`_range_ends`) are shared with page 1's headline.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim import format as fmt
from sim.analysis.summary import DealFigures, PricePoint
from sim.report.axes import _beyond, _tick
from sim.report.layout import _Ctx, _heading, _Measure, _message, _note, _table, _text_page
from sim.report.style import _INK, _MUTED, _OFFER, PAGE
from sim.report.units import Units, yi_unit
from sim.scenario import Offering, Scenario

FloatArray = npt.NDArray[np.float64]

# Prices as people write them: a mark glued to the number where there is a usual one.
_MARKS = {"HKD": "HK$"}
# The range's rows of the grid table, and its band on the plots.
_RANGE_FILL = "#fbe8c4"
_RANGE_INK = "#8a5a00"
_PAGE_W = PAGE[0] * 72  # points


#: Points the offer price's distribution is drawn at (a page is about 1,500 pixels wide).
_CDF_POINTS = 2001


def _pricing_applies(sc: Scenario) -> bool:
    """The scenario has an ``[offering]``: a price range to decide on."""
    return sc.offering is not None


# --------------------------------------------------------------------------- words


def _price(x: float, currency: str, digits: int = 4) -> str:
    """A price per share in ``currency``: ``HK$151``, ``USD 19.36``, ``CNY 12.5``; to
    ``digits`` significant figures (a range's prices are written to four)."""
    mark = _MARKS.get(currency)
    number = fmt.number(x, digits)
    return f"{mark}{number}" if mark else f"{currency} {number}"


def _usd_price_tick(v: float, _pos: int | None = None) -> str:
    """A price per share in the reporting currency, as a tick: ``USD 19.36``."""
    return f"{fmt.shown_currency().code} {fmt.number(v)}"


def _times(rate: float, v: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``v * rate`` (the secondary axis's forward function)."""
    return np.asarray(v, dtype=float) * rate


def _over(rate: float, v: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``v / rate`` (the secondary axis's inverse)."""
    return np.asarray(v, dtype=float) / rate


def _range_text(lo: float, hi: float, currency: str) -> str:
    """A price range per share: ``HK$151–165``, ``USD 19.36–21.15`` (one value if equal)."""
    if fmt.number(lo, 4) == fmt.number(hi, 4):
        return _price(lo, currency)
    return f"{_price(lo, currency)}–{fmt.number(hi, 4)}"


def _money_range(lo: float, hi: float, units: Units) -> str:
    """Two USD amounts as a range in the report's units: ``USD 6.07–6.63 bn``, with the 亿
    reading in brackets (``both``) or alone (``yi``: ``60.7亿–66.3亿 USD``)."""
    yi = f"{fmt.yi(lo)}–{fmt.yi(hi)}"
    if units == "yi":
        return f"{yi} {fmt.shown_currency().code}"
    a, b = fmt.money(lo), fmt.money(hi)
    unit_a, unit_b = a.rsplit(" ", 1)[-1], b.rsplit(" ", 1)[-1]
    code = fmt.shown_currency().code
    usd = f"{a.rsplit(' ', 1)[0]}–{b.removeprefix(code + ' ')}" if unit_a == unit_b else f"{a}–{b}"
    return f"{usd} ({yi})" if units == "both" else usd


def _money_cell(usd: float, units: Units) -> str:
    """An amount in a table cell under a heading that names the unit."""
    if units == "yi":
        return fmt.yi(usd)
    short = fmt.money(usd, short=True)
    return f"{short} ({fmt.yi(usd)})" if units == "both" else short


def _range_ends(pricing: tuple[PricePoint, ...]) -> tuple[PricePoint, PricePoint] | None:
    """The grid's rows at the range's low and high (the grid holds both exactly)."""
    inside = [p for p in pricing if p.in_range]
    return (inside[0], inside[-1]) if inside else None


def _discount_given(offering: Offering) -> bool:
    """Whether the scenario prices below fair value (an ``ipo_discount`` other than 0):
    only then is the offer price a distribution worth a panel of its own."""
    d = offering.ipo_discount
    return not (d.is_fixed and float(d.ppf(np.array([0.5]))[0]) == 0.0)


# --------------------------------------------------------------------------- the page

# The page's layout, in figure fractions: the two plots on the left (sharing the price
# axis), the grid's table and the offer price on the right.
_PLOT_X, _PLOT_W = 0.065, 0.475
_HIST_Y, _HIST_H = 0.49, 0.34
_PROB_Y, _PROB_H = 0.1, 0.32
_TAB_X, _TAB_W = 0.6, 0.385
_TOP = 0.905
_FS = 8.0  # the table's font size
_FS_DCF = 7.2  # ... with the implied margin's column too
_OFFER_AXES = (0.645, 0.1, 0.335, 0.19)
# Text is wrapped to this share of its column: the PDF lays text out a few per cent wider
# than the Agg renderer that measures it.
_SLACK = 0.93


def _fig_pricing(ctx: _Ctx) -> Figure:
    sc = ctx.scenario
    offering = sc.offering
    assert offering is not None  # the page is drawn for scenarios with an offering only
    fig, page, m = _text_page(ctx.footer())
    lo_t, hi_t = offering.price_range_text
    title = ctx.drawable(f"The offer: value per share against the range {lo_t}–{hi_t}: {sc.name}")
    page.text(
        0.012, 0.975, m.fit(title, 0.97 * _PAGE_W, 14, bold=True), fontsize=14,
        fontweight="bold", va="top",
    )  # fmt: skip
    vps = ctx.kept.values.value_per_share
    grid = ctx.summary.pricing
    if vps is None or vps.size == 0 or not grid:
        _message(page, "no paths kept")
        return fig
    hist_ax = fig.add_axes((_PLOT_X, _HIST_Y, _PLOT_W, _HIST_H))
    prob_ax = fig.add_axes((_PLOT_X, _PROB_Y, _PLOT_W, _PROB_H), sharex=hist_ax)
    values = vps / offering.usd_per_unit
    span = _span(values, grid)
    _fair_histogram(ctx, hist_ax, values, span)
    _probabilities(ctx, prob_ax, span)
    y = _grid_table(ctx, page, m)
    if _discount_given(offering):
        # Below the table's notes, room left for its two-line title.
        x0, y0, w, h = _OFFER_AXES
        _offer_prices(ctx, fig.add_axes((x0, y0, w, max(h, y - 0.075 - y0))), offering, m)
    return fig


def _span(values: FloatArray, grid: tuple[PricePoint, ...]) -> tuple[float, float]:
    """The price axis: the bulk of the fair values and the whole grid, in the offer currency.

    The top stops at the 90th percentile (or the grid's top): a multiple drawn from a
    Student t has a tail so long that a wider axis squeezes the bulk into a few bins; the
    histogram says how many paths lie beyond.
    """
    q_lo, q_hi = (float(v) for v in np.quantile(values, [0.002, 0.90]))
    lo, hi = min(q_lo, grid[0].price), max(q_hi, grid[-1].price)
    pad = 0.03 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - pad, hi + pad


def _shade_range(ax: Axes, offering: Offering) -> None:
    lo, hi = (p / offering.usd_per_unit for p in offering.price_range_usd)
    ax.axvspan(lo, hi, color=_OFFER, alpha=0.25, lw=0, zorder=0)


def _price_ticks(ax: Axes, currency: str) -> None:
    ax.xaxis.set_major_formatter(FuncFormatter(partial(_tick, partial(_price, currency=currency))))
    ax.grid(axis="x", which="major")


def _usd_axis(ax: Axes, offering: Offering) -> None:
    """The price per share in the reporting currency (USD unless the scenario names
    another) on a secondary axis above, when the offer currency is not that one."""
    shown = fmt.shown_currency()
    cur, rate = offering.currency, offering.usd_per_unit / shown.usd_per_unit
    if cur == shown.code:
        return
    sec = ax.secondary_xaxis("top", functions=(partial(_times, rate), partial(_over, rate)))
    sec.xaxis.set_major_formatter(FuncFormatter(_usd_price_tick))
    sec.tick_params(labelsize=7.5, colors=_MUTED)
    sec.set_xlabel(
        f"{shown.code} per share (at {fmt.number(1 / rate, 4)} {cur} per {shown.code})",
        fontsize=8,
        color=_MUTED,
    )


def _fair_histogram(ctx: _Ctx, ax: Axes, values: FloatArray, span: tuple[float, float]) -> None:
    """The kept paths' fair value per share, the range shaded, the median marked."""
    offering = ctx.scenario.offering
    assert offering is not None
    cur = offering.currency
    lo, hi = span
    edges = np.linspace(lo, hi, 91)
    counts, _ = np.histogram(values, bins=edges)
    share = counts / values.size * 100
    _shade_range(ax, offering)
    ax.stairs(share, edges, fill=True, color=ctx.colour, alpha=0.55, lw=0)
    ax.stairs(share, edges, color=ctx.colour, lw=0.8)
    ax.set_xlim(lo, hi)
    _beyond(ax, values, hi, y=0.6, shown=_price(hi, cur, 3))
    ax.set_ylim(0, (float(share.max()) or 1.0) * 1.55)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_ylabel("share of paths in each bin")
    _price_ticks(ax, cur)
    ax.tick_params(labelbottom=False)
    _usd_axis(ax, offering)
    r_lo, r_hi = (p / offering.usd_per_unit for p in offering.price_range_usd)
    ax.text(
        (r_lo + r_hi) / 2,
        0.97,
        ctx.drawable(f"price range\n{_range_text(r_lo, r_hi, cur)}"),
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=8,
        color=_RANGE_INK,
        fontweight="bold",
        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1.5},
        zorder=6,
    )
    vd = ctx.summary.value_per_share
    assert vd is not None  # summarise fills it whenever there is an offering
    med = vd.quantiles.median / offering.usd_per_unit
    ax.axvline(med, color=_INK, lw=1.2, ls="--")
    # On the side away from the range, unless the axes' edge is too near on that side;
    # below the range's label when the two are close.
    left = med < (r_lo + r_hi) / 2 and (med - lo) > 0.25 * (hi - lo)
    close = abs(med - (r_lo + r_hi) / 2) < 0.2 * (hi - lo)
    _note(
        ax,
        f"median fair value\n{_price(med, cur, 3)} a share",
        (med, 0.8 if close else 0.97),
        xycoords=("data", "axes fraction"),
        offset=(-5 if left else 5, 0),
        ha="right" if left else "left",
        va="top",
        fontsize=8,
        bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1.5},
    )
    basis = (
        "equity value / shares after the offer"
        if offering.deal is None
        else "at each path's offer price"
    )
    ax.set_title(
        f"Fair value per share, {cur} ({basis}; {ctx.kept.n:,} paths)",
        fontsize=9.5,
        loc="left",
        pad=24 if cur != "USD" else 6,
    )


def _probabilities(ctx: _Ctx, ax: Axes, span: tuple[float, float]) -> None:
    """P(fair value per share >= price) at each grid price, with its 95% interval."""
    offering = ctx.scenario.offering
    assert offering is not None
    grid = ctx.summary.pricing
    cur = offering.currency
    _shade_range(ax, offering)
    x = np.array([g.price for g in grid])
    p = np.array([g.p_fair_at_least for g in grid])
    err = np.array([[g.p_fair_at_least - g.ci95[0], g.ci95[1] - g.p_fair_at_least] for g in grid])
    ax.plot(x, p, color=ctx.colour, lw=1.2, zorder=3)
    ax.errorbar(
        x, p, yerr=err.T, fmt="o", color=ctx.colour, ms=4, capsize=3, zorder=4,
        label="P(fair value per share ≥ price) at each grid price, 95% interval",
    )  # fmt: skip
    ends = _range_ends(grid)
    if ends is not None:
        for k, g in enumerate(ends):
            ax.plot([g.price], [g.p_fair_at_least], "o", color=_OFFER, mec=_INK, ms=7, zorder=5)
            _note(
                ax,
                f"{_price(g.price, cur)}: {fmt.pct(g.p_fair_at_least)}",
                (g.price, g.p_fair_at_least),
                offset=(-8, -5) if k == 0 else (8, 5),
                ha="right" if k == 0 else "left",
                va="top" if k == 0 else "bottom",
                fontsize=8,
                fontweight="bold",
                color=_RANGE_INK,
            )
    ax.set_xlim(*span)
    ax.set_ylim(0, 1.04)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("P(fair value per share ≥ price)")
    ax.set_xlabel(f"price per share, {cur}")
    _price_ticks(ax, cur)
    ax.grid(axis="y", which="major")
    ax.legend(loc="upper right", fontsize=7.5)


def _grid_table(ctx: _Ctx, page: Axes, m: _Measure) -> float:
    """The grid's implied values and probabilities as a table and what they follow from;
    returns the bottom of the notes."""
    offering = ctx.scenario.offering
    assert offering is not None
    grid = ctx.summary.pricing
    cur, units = offering.currency, ctx.units
    year = ctx.scenario.valuation.year
    code = fmt.shown_currency().code
    mv_unit = {"usd": code, "yi": yi_unit(ctx.fonts), "both": f"{code} (亿)"}[units]
    y = _heading(page, _TAB_X, _TOP, "The pricing grid")
    what = ctx.drawable(
        f"At each price: the market value ({mv_unit}), the implied EV / {year} sales and "
        "P = P(fair value per share ≥ price), counted over every path."
    )
    what_lines = m.wrap(what, _SLACK * _TAB_W * _PAGE_W, 7.5, max_lines=2)
    page.text(
        _TAB_X, y + 0.004, "\n".join(what_lines), fontsize=7.5, va="top", color=_MUTED,
        linespacing=1.3,
    )  # fmt: skip
    y -= 0.018 * len(what_lines)
    dcf = grid[0].dcf
    rows = [
        [
            fmt.number(g.price, 4),
            fmt.number(g.price_usd / fmt.shown_currency().usd_per_unit, 4),
            ctx.drawable(_money_cell(g.market_value_usd, units)),
            f"{fmt.number(g.implied_ev_to_sales)}×",
            *([_margin_cell(g.implied_target_margin)] if dcf else []),
            fmt.pct(g.p_fair_at_least),
            fmt.interval(*g.ci95),
        ]
        for g in grid
    ]
    # Leave room below for the notes and, with a discount, the offer price's panel.
    below = _OFFER_AXES[1] + _OFFER_AXES[3] + 0.17 if _discount_given(offering) else 0.25
    if dcf:
        below += 0.0205 * 3  # the implied-margin sentence above the notes
    room = (y - 0.006) - below
    row_h = min(0.03, room / (len(rows) + 1))
    header = (
        cur,
        fmt.shown_currency().code,
        "market value",
        "EV/sales",
        *(["margin"] if dcf else []),
        "P",
        "95% interval",
    )
    mv_w = 0.28 if units == "both" else 0.2
    widths = (
        (0.075, 0.09, mv_w - 0.04, 0.12, 0.1, 0.1, 0.235)
        if dcf
        else (0.1, 0.1, mv_w, 0.15, 0.11, 0.25)
    )
    bottom, table = _table(
        page,
        m,
        y - 0.006,
        rows,
        x=_TAB_X,
        width=_TAB_W,
        col_widths=widths,
        header=header,
        row_h=row_h,
        fontsize=_FS_DCF if dcf else _FS,
        align=("right",) * len(header),
    )
    for (r, _c), cell in table.get_celld().items():
        if r > 0 and grid[r - 1].in_range:
            cell.set_facecolor(_RANGE_FILL)
    lines = [
        line
        for note in _deal_notes(ctx, offering)
        for line in m.wrap(ctx.drawable(note), _SLACK * _TAB_W * _PAGE_W, 7.5, max_lines=3)
    ]
    page.text(
        _TAB_X, bottom - 0.012, "\n".join(lines), fontsize=7.5, va="top", color=_INK,
        linespacing=1.4,
    )  # fmt: skip
    return bottom - 0.012 - 0.0205 * len(lines)


def _margin_cell(m: float | None) -> str:
    """An implied target margin in the grid's table (a dash where none reaches)."""
    return "–" if m is None else fmt.margin(m)


def implied_sentence(pricing: tuple[PricePoint, ...]) -> str | None:
    """What the range's top asks one to believe of the DCF's target margin: "To justify
    HK$165 a share you must believe a 31.0% target margin (HK$151: 28.2%) ..."; ``None``
    without DCF inputs."""
    ends = _range_ends(pricing)
    if ends is None or not ends[0].dcf:
        return None
    low, high = ends
    cur = high.currency
    m_high = high.implied_target_margin
    if m_high is None:
        head = f"No target margin in −100%–100% justifies {_price(high.price, cur)} a share"
    else:
        head = (
            f"To justify {_price(high.price, cur)} a share you must believe a "
            f"{fmt.margin(m_high)} target margin"
        )
    tail = f" ({_price(low.price, cur)}: {fmt.margin(low.implied_target_margin)})"
    return (
        f"{head}{tail if low is not high else ''}: the DCF with every other input at its "
        "median and failure at its expectation (column margin)."
    )


def _deal_of(ctx: _Ctx) -> DealFigures:
    """The deal's figures (the summary has them whenever there is an offering)."""
    deal = ctx.summary.deal
    assert deal is not None  # the pages that read it are drawn with an offering only
    return deal


def _deal_notes(ctx: _Ctx, offering: Offering) -> list[str]:
    """What the table's columns mean and the deal they follow from (the summary's
    :class:`~sim.analysis.summary.DealFigures`)."""
    year = ctx.scenario.valuation.year
    deal = _deal_of(ctx)
    notes = [
        "Shaded: the price range. Market value = price × shares after the offer; implied EV "
        f"= market value − median net cash − net proceeds at the price; EV/sales on the "
        f"median {year} revenue. P counts every path; 95% Wilson interval.",
    ]
    implied = implied_sentence(ctx.summary.pricing)
    if implied is not None:
        notes.insert(0, implied)
    if deal.form == "simple":
        notes.append(
            f"{deal.shares_after:,.0f} shares after the offer; the proceeds are fixed "
            "(valuation.ipo_proceeds)."
        )
    else:
        assert deal.shares_before is not None and deal.shares_sold is not None
        assert deal.new_shares is not None and deal.fees is not None
        assert deal.upsize_option is not None and deal.over_allotment is not None
        op = ctx.summary.offer_price
        exercised = ""
        if op is not None and op.p_upsized is not None and op.p_greenshoe is not None:
            exercised = (
                f" Exercised: the upsize on {fmt.pct(op.p_upsized)} of paths, the greenshoe "
                f"on {fmt.pct(op.p_greenshoe)}."
            )
        notes.append(
            f"Shares after the offer with both options {deal.shares_after:,.0f}: "
            f"{deal.shares_before:,.0f} before + {deal.shares_sold:,.0f} sold "
            f"({deal.new_shares:,.0f} new, +{deal.upsize_option:.0%} upsize, "
            f"+{deal.over_allotment:.0%} over-allotment); fees {fmt.pct(deal.fees)}."
            f"{exercised}"
        )
    return notes


def _offer_prices(ctx: _Ctx, ax: Axes, offering: Offering, m: _Measure) -> None:
    """Where in the range the offer prices: P(offer price <= x) over the range, with the
    shares of paths priced at its low and at its high (from the summary)."""
    op = ctx.summary.offer_price
    kept = ctx.kept.values.offer_price_usd
    cur = offering.currency
    lo, hi = (p / offering.usd_per_unit for p in offering.price_range_usd)
    if op is None or kept is None or kept.size == 0 or hi <= lo:
        _message(ax, "no offer prices to show")
        return
    floor = _deal_of(ctx).floor_price_usd / offering.usd_per_unit
    pad = 0.06 * (hi - floor)
    # The distribution on a grid finer than the page can show (every path a point would
    # make the page heavy to draw and to send between processes), with the range's ends
    # and the floor on it exactly: most offers price at one of them.
    grid = np.union1d(np.linspace(floor - pad, hi + pad, _CDF_POINTS), [floor, lo, hi])
    x = np.sort(kept / offering.usd_per_unit)
    cdf = np.searchsorted(x, grid, side="right") / x.size
    ax.axvspan(lo, hi, color=_OFFER, alpha=0.25, lw=0, zorder=0)
    ax.step(grid, cdf, where="post", color=ctx.colour, lw=1.6)
    ax.set_xlim(floor - pad, hi + pad)
    ax.set_ylim(0, 1.05)
    ax.set_xticks([floor, lo, hi] if floor < lo else [lo, (lo + hi) / 2, hi])
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("P(offer ≤ price)", fontsize=8)
    _price_ticks(ax, cur)
    ax.grid(axis="y", which="major")
    ax.tick_params(labelsize=7.5)
    low_text, low_at = f"at the low: {fmt.pct(op.p_at_low)}", lo
    if floor < lo:
        low_text = f"below the range: {fmt.pct(op.p_below_range)}\n(floor: low − "
        low_text += f"{fmt.pct(offering.downward_adjustment)})"
        low_at = floor
    for xy, text, dx, ha in (
        ((low_at, op.p_below_range / 2 if floor < lo else op.p_at_low / 2), low_text, 6, "left"),
        ((hi, 1 - op.p_at_high / 2), f"at the high: {fmt.pct(op.p_at_high)}", -6, "right"),
    ):
        _note(ax, text, xy, offset=(dx, 0), ha=ha, va="center", fontsize=7.5, color=_INK)
    d = offering.ipo_discount
    spread = "" if d.is_fixed else " (p10 · p50 · p90)"
    low = "low" if floor == lo else f"low × {1 - offering.downward_adjustment:g}"
    title = (
        f"The offer price = clip(fair × (1 − discount), {low}, high): median "
        f"{_price(op.quantiles.median, cur, 4)}; discount {fmt.distribution(d, 'share')}{spread}"
    )
    lines = m.wrap(ctx.drawable(title), _SLACK * _OFFER_AXES[2] * _PAGE_W, 8, max_lines=2)
    ax.set_title("\n".join(lines), fontsize=8, loc="left")
