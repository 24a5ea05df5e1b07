"""Reports render into tmp_path under Agg: pages, files, metadata, fonts, comparison."""

from __future__ import annotations

import math
import re
import shutil
import struct
import tomllib
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.table import Table
from matplotlib.text import Text

from sim import Result, Scenario, Summary, load_scenario, simulate, summarise
from sim import format as fmt
from sim._version import __version__
from sim.report import (
    PAGE,
    PNG_DPI,
    Fonts,
    choose_fonts,
    render,
    render_comparison,
)
from sim.report.aftermarket import _fig_aftermarket
from sim.report.convergence import _fig_convergence
from sim.report.layout import _Ctx
from sim.report.pricing import _discount_given, _fig_pricing
from sim.report.regimes import _fig_regimes
from sim.report.revenue import _fig_revenue
from sim.report.sensitivity import _fig_sensitivity
from sim.report.shocks import _fig_shocks
from sim.report.summary import _fig_summary
from sim.report.units import Units, resolve_units, writes_yi
from sim.report.values import _fig_exceedance, _fig_valuation
from sim.report.write import _PAGES, _pages
from sim.scenario import build_scenario
from sim.studies.compare import compare_targets
from tests.builders import all_lost_sections, scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
DEAL = Path(__file__).resolve().parent / "data" / "deal.toml"
PATHS = 20_000
SEED = 7
# Every page, in order: the baseline has them all (shocks, an offering, random inputs).
# Written for the old baseline (a mixture multiple per regime, no comparables page).
REPORT_PNGS = [
    "summary.png",
    "pricing.png",
    "aftermarket.png",
    "valuation.png",
    "exceedance.png",
    "comparables.png",
    "regimes.png",
    "revenue.png",
    "concentration.png",
    "shocks.png",
    "sensitivity.png",
    "convergence.png",
]
# No offering (so no aftermarket), no regimes, no peer table: the crowded scenario's pages.
NO_OFFER_PNGS = [
    n
    for n in REPORT_PNGS
    if n not in ("pricing.png", "aftermarket.png", "regimes.png", "comparables.png")
]
# No shocks, no offering, one region, every input fixed, one target.
PLAIN_PNGS = ["summary.png", "valuation.png", "exceedance.png", "revenue.png", "convergence.png"]
# Two scenarios with the baseline's 13 targets: the grids take two pages (7 targets each).
COMPARISON_PNGS = [
    "comparison_overview.png",
    "comparison_targets.png",
    "comparison_football.png",
    "comparison_values.png",
    "comparison_probabilities_1.png",
    "comparison_probabilities_2.png",
    "comparison_differences_1.png",
    "comparison_differences_2.png",
]


def _run(sc: Scenario, *, seed: int = SEED) -> tuple[Result, Summary]:
    result = simulate(sc, PATHS, seed=seed)
    return result, summarise(result)


@pytest.fixture(scope="module")
def baseline() -> tuple[Result, Summary]:
    return _run(load_scenario(BASELINE))


@pytest.fixture(scope="module")
def plain() -> tuple[Result, Summary]:
    """No shocks, no offering, one region, every input fixed."""
    return _run(scenario(scenario={"name": "plain", "base_year": 2024, "horizon": 2}))


def _ctx(result: Result, summary: Summary, *, units: Units = "usd") -> _Ctx:
    """A page context as render makes it, with the fallback fonts."""
    colours = ("#440154",) * max(len(summary.targets), 1)
    return _Ctx(
        result.scenario, result.kept, summary, choose_fonts(cjk=False), "#0072B2", colours, units
    )


def _pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def _pdf_has_string(data: bytes, text: str) -> bool:
    """``text`` as a PDF string: a literal when ASCII, else UTF-16 hex (matplotlib's way)."""
    literal = text.encode("ascii", "replace")
    utf16 = ("FEFF" + text.encode("utf-16-be").hex()).upper().encode()
    return literal in data or utf16 in data.upper()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _assert_pngs(folder: Path, names: list[str]) -> None:
    for name in names:
        path = folder / name
        assert path.stat().st_size > 10_000, f"{name} looks empty"
        width, height = _png_size(path)
        # At PNG_DPI (>= 150) an A4-landscape page is about 1754 x 1241 pixels.
        assert PNG_DPI >= 150
        assert width >= math.floor(PAGE[0] * 150) and height >= math.floor(PAGE[1] * 150)


@pytest.fixture
def no_glyph_warnings() -> object:
    """Turns any warning (a missing glyph among them) into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------- one scenario


def test_baseline_report_pages_files_and_metadata(
    baseline: tuple[Result, Summary], tmp_path: Path, no_glyph_warnings: object
) -> None:
    result, summary = baseline
    written = render(result, summary, tmp_path, formats=["json", "pdf", "png"])
    names = [p.name for p in written]
    assert names == ["report.pdf", *REPORT_PNGS]
    assert all(p.parent == tmp_path for p in written)
    data = (tmp_path / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert _pdf_pages(data) == len(REPORT_PNGS)
    sc = result.scenario
    assert _pdf_has_string(data, f"sha256:{sc.sha256}")
    assert _pdf_has_string(data, sc.name)
    assert _pdf_has_string(data, f"ipo-sim report: {sc.name}")
    assert _pdf_has_string(data, f"ipo-sim {__version__}")
    _assert_pngs(tmp_path, REPORT_PNGS)


def test_no_figure_format_writes_nothing(baseline: tuple[Result, Summary], tmp_path: Path) -> None:
    result, summary = baseline
    assert render(result, summary, tmp_path / "none", formats=["json", "csv"]) == []
    assert not (tmp_path / "none").exists()


def test_scenario_without_shocks_or_offering_renders(
    plain: tuple[Result, Summary], tmp_path: Path, no_glyph_warnings: object
) -> None:
    result, summary = plain
    assert not result.scenario.shocks and result.scenario.offering is None
    written = render(result, summary, tmp_path, formats=["pdf", "png"])
    # No empty pages: no shocks, offering, second region or random input to show.
    assert [p.name for p in written] == ["report.pdf", *PLAIN_PNGS]
    assert _pdf_pages((tmp_path / "report.pdf").read_bytes()) == len(PLAIN_PNGS)
    _assert_pngs(tmp_path, PLAIN_PNGS)


_SHOCK = {
    "name": "s",
    "regions": ["X"],
    "annual_probability": 0.2,
    "severity": 0.3,
    "recovery_years": 1.0,
}
_TWO_REGIONS = [{"name": "a", "revenue": 100.0, "growth": 0.5, "regions": {"X": 0.6, "Y": 0.4}}]


@pytest.mark.parametrize(
    ("sections", "added"),
    [
        ({}, []),
        ({"shocks": [_SHOCK]}, ["shocks.png"]),
        (
            {"offering": {"shares_outstanding": 1_000, "price_range": [1, 2]}},
            ["pricing.png"],
        ),
        # Two regions with exact shares: the same split on every path, no page.
        ({"segments": _TWO_REGIONS}, []),
        ({"segments": [{**_TWO_REGIONS[0], "region_concentration": 50}]}, ["concentration.png"]),
        (
            {"segments": [*_TWO_REGIONS, {**_TWO_REGIONS[0], "name": "b", "regions": {"X": 1.0}}]},
            ["concentration.png"],
        ),
        (
            {"valuation": {"year": 2026, "multiple": {"dist": "uniform", "min": 5, "max": 15}}},
            ["sensitivity.png"],
        ),
        ({"targets": []}, ["-convergence.png"]),
        ({"regimes": [{"name": "a", "weight": 1.0}]}, ["regimes.png"]),
    ],
)
def test_a_page_with_nothing_to_show_is_left_out(
    sections: dict[str, Any], added: list[str]
) -> None:
    # From the plain scenario (no shocks, offering, second region, random input), one
    # section at a time: each adds (or, with "-", removes) its page and no other.
    sc = scenario(**sections)
    expected = [n for n in REPORT_PNGS if (n in PLAIN_PNGS or n in added) and f"-{n}" not in added]
    assert [page.name for page in _pages(sc)] == expected


def test_every_page_applies_to_the_baseline_and_the_appendix_is_last(
    baseline: tuple[Result, Summary],
) -> None:
    assert [page.name for page in _pages(baseline[0].scenario)] == REPORT_PNGS
    assert _PAGES[-1].draw is _fig_convergence
    texts = [t.get_text() for t in _fig_convergence(_ctx(*baseline)).findobj(Text)]
    assert any(t.startswith("Appendix: convergence") for t in texts)
    # No other page is titled as an appendix.
    others = [page.draw for page in _PAGES[:-1]]
    assert _fig_convergence not in others
    assert not any(
        t.get_text().startswith("Appendix") for t in _fig_valuation(_ctx(*baseline)).findobj(Text)
    )


def test_sensitivity_page_without_a_defined_correlation_says_why(
    plain: tuple[Result, Summary],
) -> None:
    # The registry leaves the page out without a random input; drawn anyway, it says why.
    text = " ".join(t.get_text() for t in _fig_sensitivity(_ctx(*plain)).findobj(Text))
    assert "No input's effect on the value is defined" in text


def test_sensitivity_page_draws_usd_swings_with_the_printed_indices(
    baseline: tuple[Result, Summary],
) -> None:
    result, summary = baseline
    fig = _fig_sensitivity(_ctx(result, summary))
    text = " ".join(t.get_text() for t in fig.findobj(Text))
    shown = [r for r in summary.sensitivity if math.isfinite(r.first_order)][:12]
    for r in shown:
        assert fmt.probability(r.first_order, r.first_order_ci95) in text
    # The bars run from the bottom-decile to the top-decile value, around the centre: the
    # baseline's value rides on a peer multiple (infinite variance), so its shares are the
    # rank's and its swings and centre medians, not means.
    assert summary.sensitivity_method == "grouped_first_order_of_ranks"
    assert "share of the rank's variance" in text and "around the median" in text
    ax = fig.axes[0]
    centre = float(np.median(result.kept.values.equity))
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 2 * len(shown)
    assert all(round(p.get_x()) == round(centre) for p in bars)
    tips = {round(p.get_x() + p.get_width()) for p in bars}
    assert {round(v) for r in shown for v in r.swing_usd} == tips


# --------------------------------------------------------------------------- the decision


@pytest.fixture(scope="module")
def deal() -> tuple[Result, Summary]:
    """The deal form of [offering], with an ipo_discount."""
    return _run(load_scenario(DEAL))


@pytest.fixture(scope="module")
def simple_offer() -> tuple[Result, Summary]:
    """The simple form of [offering] (fixed shares and proceeds), priced in HK$: about
    USD 22 of value per share against a range of USD 19.36-21.15."""
    return _run(
        scenario(
            fx={"HKD": 0.1282},
            valuation={"year": 2026, "multiple": {"dist": "lognormal", "p50": 10, "p90": 20}},
            offering={"shares_outstanding": 100, "price_range": ["HK$151", "HK$165"]},
        )
    )


_OFFERS = ["simple_offer", "deal", "baseline"]


def _outside(fig: Figure) -> list[str]:
    """The texts drawn (partly) outside the page: cut off.

    Tick labels are left out: matplotlib keeps labels for ticks beyond the view limits
    that it does not draw, and the axes themselves sit inside the page.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    page = fig.bbox
    axes = [*fig.axes, *(child for ax in fig.axes for child in ax.child_axes)]
    ticks = {
        id(label)
        for ax in axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]
        for label in (tick.label1, tick.label2)
    }
    cells = [c.get_text() for tab in fig.findobj(Table) for c in tab.get_celld().values()]
    return [
        t.get_text()
        for t in [*fig.findobj(Text), *cells]
        if t.get_text() and t.get_visible() and id(t) not in ticks
        for box in [t.get_window_extent(renderer)]
        if box.x0 < page.x0 - 0.5 or box.x1 > page.x1 + 0.5 or box.y0 < page.y0 - 0.5
        or box.y1 > page.y1 + 0.5
    ]  # fmt: skip


def test_the_baseline_report_opens_on_the_decision(baseline: tuple[Result, Summary]) -> None:
    names = [page.name for page in _pages(baseline[0].scenario)]
    assert names[:2] == ["summary.png", "pricing.png"]


def test_no_pricing_page_or_decision_without_an_offering(plain: tuple[Result, Summary]) -> None:
    result, summary = plain
    assert result.scenario.offering is None and not summary.pricing
    assert "pricing.png" not in [page.name for page in _pages(result.scenario)]
    (head,) = [t for t in _fig_summary(_ctx(*plain)).findobj(Text) if t.get_gid() == "headline"]
    assert head.get_text().startswith("Median equity value at listing")
    assert "offer" not in head.get_text().lower()


def _ends(summary: Summary) -> tuple[Any, Any]:
    inside = [g for g in summary.pricing if g.in_range]
    return inside[0], inside[-1]


@pytest.mark.parametrize("which", _OFFERS)
def test_headline_states_the_range_and_both_probabilities(
    which: str, request: pytest.FixtureRequest
) -> None:
    result, summary = request.getfixturevalue(which)
    offering = result.scenario.offering
    assert offering is not None and offering.currency == "HKD"
    low, high = _ends(summary)
    assert (low.price, high.price) == pytest.approx((151, 165))  # the premise
    fig = _fig_summary(_ctx(result, summary))
    (head,) = [t for t in fig.findobj(Text) if t.get_gid() == "headline"]
    # Lines are wrapped at spaces: joined, the sentences read as written.
    text = " ".join(head.get_text().split("\n"))
    price = fmt.number(low.price, 4), fmt.number(high.price, 4)
    assert f"HK${price[0]}–{price[1]} a share" in text
    assert f"(USD {fmt.number(low.price_usd, 4)}–{fmt.number(high.price_usd, 4)})" in text
    for g, p in zip((low, high), price, strict=True):
        assert f"P(fair ≥ HK${p}) = {fmt.probability(g.p_fair_at_least, g.ci95)}" in text
    ev_sales = f"{fmt.number(low.implied_ev_to_sales)}–{fmt.number(high.implied_ev_to_sales)}×"
    assert ev_sales in text
    assert f"{fmt.money(low.market_value_usd).split(' ')[1]}–" in text
    vps = summary.value_per_share
    assert vps is not None
    median = vps.quantiles.median / offering.usd_per_unit
    assert f"median HK${fmt.number(median, 3)}" in text
    # Two or three sentences, each on its own lines, none cut.
    assert 3 <= len(head.get_text().split("\n")) <= 4
    assert "…" not in text
    assert _outside(fig) == []


@pytest.mark.parametrize("which", _OFFERS)
def test_pricing_page_draws_the_summary_grid(which: str, request: pytest.FixtureRequest) -> None:
    result, summary = request.getfixturevalue(which)
    offering = result.scenario.offering
    assert offering is not None
    fig = _fig_pricing(_ctx(result, summary))
    text = _texts(fig)
    # Every row of the grid: its probability, interval and implied EV/sales, as summarised.
    for g in summary.pricing:
        assert fmt.pct(g.p_fair_at_least) in text
        assert fmt.interval(*g.ci95) in text
        assert f"{fmt.number(g.implied_ev_to_sales)}×" in text
    # Value per share in the offer currency is the main axis; USD on a secondary one.
    hist = fig.axes[1]
    assert hist.xaxis.get_major_formatter()(151.0, 0) == "HK$151"
    assert any("USD per share" in ax.get_xlabel() for ax in hist.child_axes)
    # Values in HK$: the histogram's range covers the median in HK$, not in USD.
    vps = summary.value_per_share
    assert vps is not None
    lo, hi = hist.get_xlim()
    assert lo < vps.quantiles.median / offering.usd_per_unit < hi
    # The offer price's panel exactly when the scenario prices at a discount.
    has_offer_panel = any(ax.get_ylabel() == "P(offer ≤ price)" for ax in fig.axes)
    assert has_offer_panel == _discount_given(offering)
    assert _outside(fig) == []


def test_simple_form_has_no_offer_panel_and_deal_has(
    simple_offer: tuple[Result, Summary], deal: tuple[Result, Summary]
) -> None:
    # The premise of the parametrised test's last check, both ways.
    simple, with_deal = simple_offer[0].scenario.offering, deal[0].scenario.offering
    assert simple is not None and with_deal is not None
    assert not _discount_given(simple) and _discount_given(with_deal)


@pytest.mark.parametrize(
    ("units", "present", "absent"),
    [("usd", "6.23 bn", "×10⁸"), ("yi", "62.3×10⁸", " bn"), ("both", "6.23 bn (62.3×10⁸)", "")],
)
def test_pricing_table_follows_the_units(
    deal: tuple[Result, Summary], units: Units, present: str, absent: str
) -> None:
    result, summary = deal
    low, _ = _ends(summary)
    assert fmt.money(low.market_value_usd, short=True) == "6.23 bn"  # the premise
    fig = _fig_pricing(_ctx(result, summary, units=units))
    cells = [
        c.get_text().get_text() for tab in fig.findobj(Table) for c in tab.get_celld().values()
    ]
    assert present in cells
    assert not absent or not any(absent in c for c in cells)


def test_the_report_reads_the_deal_from_the_summary(deal: tuple[Result, Summary]) -> None:
    """The pricing page's table and notes and page 1's offering rows are the summary's
    figures (its pricing grid and DealFigures), not the deal worked out again: change
    them in the summary and the pages follow."""
    result, summary = deal
    figures = summary.deal
    assert figures is not None and figures.form == "deal"
    assert figures.shares_sold is not None and figures.net_proceeds_usd is not None
    text = _texts(_fig_pricing(_ctx(result, summary))).replace("\n", " ")
    assert f"Shares after the offer with both options {figures.shares_after:,.0f}" in text
    assert f"{figures.shares_sold:,.0f} sold" in text
    for g in summary.pricing:  # each row's market value cell is the grid's
        assert fmt.money(g.market_value_usd, short=True) in text
    # Altered in the summary, the pages show the altered figures.
    altered_deal = replace(
        figures, shares_after=123_456_789.0, shares_sold=7_654_321.0, net_proceeds_usd=(1e9, 3e9)
    )
    grid = tuple(
        replace(g, market_value_usd=4.56e12 + i * 1e9) for i, g in enumerate(summary.pricing)
    )
    altered = replace(summary, deal=altered_deal, pricing=grid)
    text = _texts(_fig_pricing(_ctx(result, altered))).replace("\n", " ")
    assert "with both options 123,456,789" in text and "7,654,321 sold" in text
    assert fmt.money(4.56e12, short=True) in text
    page1 = _texts(_fig_summary(_ctx(result, altered))).replace("\n", " ")
    assert "123,456,789 shares at" in page1
    assert f"{fmt.money(1e9, short=True)} – {fmt.money(3e9, short=True)}" in page1


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("units", "secondary", "tick"),
    [("usd", 0, "2.5 bn"), ("yi", 0, "25×10⁸"), ("both", 1, "2.5 bn")],
)
def test_units_choose_the_money_axes(
    baseline: tuple[Result, Summary], units: Units, secondary: int, tick: str
) -> None:
    fig = _fig_valuation(_ctx(*baseline, units=units))
    ax = fig.axes[0]
    sec = ax.child_axes  # a secondary axis is its axes' child
    assert len(sec) == secondary
    assert ax.xaxis.get_major_formatter()(2.5e9, 0) == tick
    if units == "both":
        (second,) = sec
        assert second.xaxis.get_major_formatter()(25.0, 0) == "25×10⁸"
    assert ("10⁸ USD" in ax.get_xlabel()) == (units != "usd")
    # The revenue page's two money axes follow the same choice.
    rev = _fig_revenue(_ctx(*baseline, units=units))
    assert sum(len(a.child_axes) for a in rev.axes) == 2 * secondary


def test_units_default_to_yi_only_where_the_scenario_writes_it(
    baseline: tuple[Result, Summary], plain: tuple[Result, Summary]
) -> None:
    assert writes_yi(baseline[0].scenario)  # its targets are written in 亿
    assert not writes_yi(plain[0].scenario)
    assert resolve_units("auto", [baseline[0].scenario]) == "both"
    assert resolve_units("auto", [plain[0].scenario]) == "usd"
    assert resolve_units("auto", [plain[0].scenario, baseline[0].scenario]) == "both"
    assert resolve_units("yi", [plain[0].scenario]) == "yi"


def test_unknown_units_are_refused(plain: tuple[Result, Summary], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="units: expected one of auto, usd, yi, both"):
        render(*plain, tmp_path, formats=["pdf"], units="bad")  # type: ignore[arg-type]
    assert not tmp_path.joinpath("report.pdf").exists()


def test_provenance_shows_the_dates_only_when_given(plain: tuple[Result, Summary]) -> None:
    def rows(result: Result, summary: Summary) -> dict[str, str]:
        ctx = _ctx(result, summary)
        fig = _fig_summary(ctx)
        cells = [tab.get_celld() for tab in fig.findobj(Table)]
        return {
            c[r, 0].get_text().get_text(): c[r, 1].get_text().get_text()
            for c in cells
            for r, k in c
            if k == 0 and (r, 1) in c
        }

    undated = rows(*plain)
    assert "SHA-256" in undated
    assert "known as of" not in undated and "listing date" not in undated
    dated = scenario(
        scenario={
            "name": "plain",
            "base_year": 2024,
            "horizon": 2,
            "as_of": "2025-12-31",
            "listing_date": "2026-01-09",
        }
    )
    shown = rows(*_run(dated))
    assert shown["known as of"] == "2025-12-31"
    assert shown["listing date"] == "2026-01-09"


# --------------------------------------------------------------------------- fonts


def test_fallback_font_transliterates() -> None:
    fonts = choose_fonts(cjk=False)
    assert fonts.cjk is None
    assert fonts.families == ("DejaVu Sans",)
    assert ord("亿") not in fonts.coverage
    assert fonts.text("article: 25亿 USD (2.5 bn)") == "article: 25×10⁸ USD (2.5 bn)"
    assert fonts.text("7000万") == "7000×10⁴"
    assert fonts.text("1.2万亿") == "1.2×10¹²"
    assert fonts.text("MiniMax (稀宇科技)") == "MiniMax (…)"
    assert fonts.text("plain ASCII ≥ × –") == "plain ASCII ≥ × –"


def test_unknown_cjk_family_falls_back() -> None:
    fonts = choose_fonts(candidates=("No Such Font Family",))
    assert fonts.cjk is None
    assert fonts.text("25亿") == "25×10⁸"


def test_cjk_font_when_installed_keeps_chinese() -> None:
    fonts = choose_fonts()
    if fonts.cjk is None:
        pytest.skip("no CJK font installed here; the fallback is tested above")
    assert fonts.families[0] == "DejaVu Sans"
    assert fonts.text("25亿 USD") == "25亿 USD"


def test_fallback_report_renders_without_glyph_warnings(
    baseline: tuple[Result, Summary], tmp_path: Path
) -> None:
    result, summary = baseline
    assert writes_yi(result.scenario)  # its labels do contain 亿
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*")
        written = render(result, summary, tmp_path, formats=["pdf"], fonts=choose_fonts(cjk=False))
    assert written == [tmp_path / "report.pdf"]  # "pdf" alone: no PNG
    assert _pdf_pages(written[0].read_bytes()) == len(REPORT_PNGS)


def test_text_keeps_only_drawable_characters() -> None:
    # A font that draws ASCII and the ellipsis only: nothing else may get through.
    coverage = frozenset([*range(32, 127), ord("…")])
    fonts = Fonts(("DejaVu Sans",), None, coverage)
    out = fonts.text("article: 25亿 USD ≥ 稀宇")
    assert out.startswith("article: 25")
    assert all(ord(ch) in coverage for ch in out)


# --------------------------------------------------------------------------- comparison


@pytest.fixture(scope="module")
def cold_window(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Summary]:
    """The baseline with only the cold-window multiple, same seed: paired with baseline."""
    folder = tmp_path_factory.mktemp("scenarios")
    shutil.copy(BASELINE, folder)
    shutil.copy(BASELINE.parent / "peers-2025-12.csv", folder)
    (folder / "cold.toml").write_text(
        '[scenario]\nextends = "baseline.toml"\nname = "cold-window"\n\n'
        '[valuation]\nmultiple_shift = { dist = "normal", mean = -0.35, sd = 0.14 }\n',
        encoding="utf-8",
    )
    return _run(load_scenario(folder / "cold.toml"))


def test_comparison_report_for_two_scenarios(
    baseline: tuple[Result, Summary],
    cold_window: tuple[Result, Summary],
    tmp_path: Path,
    no_glyph_warnings: object,
) -> None:
    (a, sa), (b, sb) = baseline, cold_window
    written = render_comparison([a, b], [sa, sb], tmp_path, formats=["pdf", "png"])
    assert [p.name for p in written] == ["comparison.pdf", *COMPARISON_PNGS]
    data = (tmp_path / "comparison.pdf").read_bytes()
    assert _pdf_pages(data) == len(COMPARISON_PNGS)
    assert _pdf_has_string(data, f"sha256:{a.scenario.sha256} sha256:{b.scenario.sha256}")
    assert _pdf_has_string(data, "baseline, cold-window")
    _assert_pngs(tmp_path, COMPARISON_PNGS)


def test_paired_differences_use_common_random_numbers(
    baseline: tuple[Result, Summary], cold_window: tuple[Result, Summary]
) -> None:
    (a, sa), (b, sb) = baseline, cold_window
    diffs = compare_targets([a, b], [sa, sb])
    # Every target is paired on the value it reads: fair value, or the peak market value.
    assert {t.at for t in sa.targets} == {"fair", "peak"}
    assert len(diffs) == len(sa.targets)
    for d, ta, tb in zip(diffs, sa.targets, sb.targets, strict=True):
        assert d.paired and d.index == 1 and d.label == ta.label and d.at == ta.at == tb.at
        assert d.estimate == pytest.approx(tb.p_at_least - ta.p_at_least)
        # se from the per-path differences of the indicators, computed here by hand.
        field = "equity" if d.at == "fair" else f"market_value_{d.at}"
        per_path = (getattr(b.kept.values, field) >= d.value_usd).astype(float) - (
            getattr(a.kept.values, field) >= d.value_usd
        ).astype(float)
        assert d.se == pytest.approx(per_path.std(ddof=1) / math.sqrt(PATHS))
        assert d.se_independent == pytest.approx(math.hypot(ta.se, tb.se))
        lo, hi = d.ci95
        assert lo <= d.estimate <= hi
    # The scenarios share every draw but the multiple's: pairing narrows the intervals.
    wide = [d for d, ta in zip(diffs, sa.targets, strict=True) if 0.05 < ta.p_at_least < 0.95]
    assert wide and all(d.se < d.se_independent for d in wide)


def test_identical_runs_differ_by_exactly_zero(baseline: tuple[Result, Summary]) -> None:
    a, sa = baseline
    diffs = compare_targets([a, a], [sa, sa])
    assert all(d.estimate == 0.0 and d.se == 0.0 for d in diffs)


def test_independent_runs_when_seeds_differ(
    baseline: tuple[Result, Summary], tmp_path: Path
) -> None:
    a, sa = baseline
    b, sb = _run(a.scenario, seed=SEED + 1)
    diffs = compare_targets([a, b], [sa, sb])
    assert diffs and not any(d.paired for d in diffs)
    for d in diffs:
        assert d.se == d.se_independent
        # Same scenario, other seed: the difference is noise within a few se.
        assert abs(d.estimate) <= 4 * d.se + 1e-12
    written = render_comparison([a, b], [sa, sb], tmp_path, formats=["pdf"])
    assert _pdf_pages(written[0].read_bytes()) == len(COMPARISON_PNGS)


def test_comparison_matches_targets_by_value(
    baseline: tuple[Result, Summary], plain: tuple[Result, Summary], tmp_path: Path
) -> None:
    # The plain scenario's one target (2000 USD) is not among the baseline's.
    (a, sa), (b, sb) = baseline, plain
    assert compare_targets([a, b], [sa, sb]) == []
    # sim.cli passes the formats as the fourth positional argument.
    written = render_comparison([a, b], [sa, sb], tmp_path, ["pdf"])
    assert [p.name for p in written] == ["comparison.pdf"]
    assert _pdf_pages(written[0].read_bytes()) == len(COMPARISON_PNGS)


def test_comparison_needs_a_summary_per_result(baseline: tuple[Result, Summary]) -> None:
    a, sa = baseline
    with pytest.raises(ValueError, match="one summary per result"):
        render_comparison([a, a], [sa], Path("unused"), formats=["pdf"])


# --------------------------------------------------------------------------- odd outcomes


@pytest.fixture(scope="module")
def all_lost() -> tuple[Result, Summary]:
    """Every path loses all its revenue: a certain, total, permanent shock everywhere.

    Random (Dirichlet) regional shares do not sum to exactly 1, so the values are 0 only up
    to float rounding (about ±3e-7 USD against 675 M with shocks off).
    """
    sc = scenario(
        scenario={"name": "all-lost", "base_year": 2024, "horizon": 2},
        **all_lost_sections(),
        offering={"shares_outstanding": 1_000_000, "price_range": [10, 12]},
    )
    return _run(sc)


def _texts(fig: Figure) -> str:
    """Every text on ``fig``, table cells included."""
    cells = [c.get_text() for tab in fig.findobj(Table) for c in tab.get_celld().values()]
    return "\n".join(t.get_text() for t in [*fig.findobj(Text), *cells])


def test_regimes_page_shows_each_regime_with_its_probability(
    baseline: tuple[Result, Summary],
) -> None:
    result, summary = baseline
    assert [r.name for r in summary.regimes] == ["ai-frenzy", "cold-window"]
    text = _texts(_fig_regimes(_ctx(result, summary)))
    for r in summary.regimes:
        assert f"{r.name}: P = {fmt.probability(r.p, r.ci95)}" in text
        assert r.quantiles is not None
        assert f"median {fmt.money(r.quantiles.median, short=True)}" in text


def test_all_lost_values_are_float_noise_around_zero(all_lost: tuple[Result, Summary]) -> None:
    # The premise of the tests below: without it they would test nothing. (Limited
    # liability floors the noise's negative half at 0, issue 21.)
    equity = all_lost[0].kept.values.equity
    assert equity.min() == 0.0 < equity.max()
    assert np.abs(equity).max() < 1e-3


def test_all_lost_value_pages_say_every_path_gives_zero(all_lost: tuple[Result, Summary]) -> None:
    result, summary = all_lost
    ctx = _ctx(result, summary)
    for build in (_fig_valuation, _fig_exceedance):
        fig = build(ctx)
        text = _texts(fig)
        assert f"All {PATHS:,} plotted paths give the same value" in text
        assert "USD 0" in text
        # No log axis stretched over the rounding noise.
        assert all(ax.get_xscale() == "linear" for ax in fig.axes)
    for build in (_fig_summary, _fig_shocks, _fig_revenue, _fig_pricing):
        text = _texts(build(ctx))
        assert not re.search(r"0\.0000|−0\b|-0\b|-0\.0", text), build.__name__
        if build is _fig_shocks:
            assert "median 0" in text


def test_all_lost_report_renders(
    all_lost: tuple[Result, Summary], tmp_path: Path, no_glyph_warnings: object
) -> None:
    result, summary = all_lost
    written = render(result, summary, tmp_path, formats=["pdf"])
    # Every input fixed: no sensitivity page; no regimes, no [aftermarket], no
    # [comparables]: no pages of theirs.
    assert _pdf_pages(written[0].read_bytes()) == len(REPORT_PNGS) - 4


@pytest.mark.parametrize("cash", [-150.0, 0.0])
def test_values_at_or_below_zero_get_a_linear_axis(cash: float) -> None:
    # Half the paths lose everything: a log axis would drop them from the histogram.
    # (With net debt they are worth 0, limited liability; the others stay positive.)
    wipe = {
        "name": "wipe",
        "regions": ["X"],
        "annual_probability": 0.5,
        "severity": 1,
        "recovery_years": "permanent",
    }
    sc = scenario(
        shocks=[wipe],
        valuation={
            "year": 2026,
            "multiple": {"dist": "uniform", "min": 5, "max": 15},
            "net_cash": cash,
        },
    )
    result, summary = _run(sc)
    assert (result.kept.values.equity <= 0).mean() > 0.3
    ctx = _ctx(result, summary)
    fig = _fig_valuation(ctx)
    (ax,) = fig.axes[:1]
    assert ax.get_xscale() == "linear"
    lo, hi = ax.get_xlim()
    assert lo <= result.kept.values.equity.min() and hi >= result.kept.values.equity.max()
    assert ax.get_xlabel().startswith("equity value at listing, USD")
    assert "log" not in ax.get_xlabel()


def test_shock_page_median_label_clear_of_mean_note() -> None:
    # A large loss (median near 100%) put "median loss" on top of the mean-loss note.
    wipe = {
        "name": "wipe",
        "regions": ["X"],
        "annual_probability": 0.9,
        "severity": {"dist": "uniform", "min": 0.9, "max": 1.0},
        "recovery_years": "permanent",
    }
    result, summary = _run(scenario(shocks=[wipe]))
    ctx = _ctx(result, summary)
    fig = _fig_shocks(ctx)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    (median,) = [t for t in fig.findobj(Text) if t.get_text().startswith("median loss")]
    (note,) = [t for t in fig.findobj(Text) if t.get_text().startswith("over all paths")]
    a, b = median.get_window_extent(renderer), note.get_window_extent(renderer)
    assert not a.overlaps(b)
    # Both inside their axes.
    ax_box = fig.axes[2].get_window_extent(renderer)
    for box in (a, b):
        assert ax_box.x0 <= box.x0 and box.x1 <= ax_box.x1


@pytest.fixture(scope="module")
def crowded() -> tuple[Result, Summary]:
    """100 segments, 30 shocks and 1000 targets: more rows than any page can hold."""
    regions = {f"R{i}": 0.1 for i in range(10)}
    segments = [
        {
            "name": f"segment_{i:03d}_with_a_long_name",
            "revenue": 1e6 * (1 + i % 7),
            "growth": {"dist": "uniform", "min": 0.1, "max": 0.5 + 0.2 * (i % 5)},
            "regions": regions,
        }
        for i in range(100)
    ]
    shocks = [
        {
            "name": f"shock_{k:02d}_with_a_long_name",
            "regions": [f"R{k % 10}"],
            "annual_probability": 0.05,
            "severity": 0.5,
            "recovery_years": 1.0,
        }
        for k in range(30)
    ]
    targets = [{"label": f"target number {t:04d}", "value": 1e9 + t * 5e7} for t in range(1000)]
    sc = scenario(
        scenario={"name": "crowded", "base_year": 2024, "horizon": 3},
        segments=segments,
        shocks=shocks,
        targets=targets,
        valuation={"year": 2026, "multiple": {"dist": "lognormal", "p50": 20, "p90": 40}},
    )
    result = simulate(sc, 5_000, seed=SEED)
    return result, summarise(result)


def test_crowded_scenario_renders_every_page(
    crowded: tuple[Result, Summary], tmp_path: Path, no_glyph_warnings: object
) -> None:
    # Warnings are errors here: a page whose layout collapses warns (constrained_layout).
    result, summary = crowded
    written = render(result, summary, tmp_path, formats=["pdf", "png"])
    assert [p.name for p in written] == ["report.pdf", *NO_OFFER_PNGS]
    assert _pdf_pages((tmp_path / "report.pdf").read_bytes()) == len(NO_OFFER_PNGS)
    _assert_pngs(tmp_path, NO_OFFER_PNGS)


def test_crowded_pages_show_the_first_rows_and_count_the_rest(
    crowded: tuple[Result, Summary],
) -> None:
    result, summary = crowded
    ctx = _ctx(result, summary)
    text = _texts(_fig_summary(ctx))
    assert "… and 88 more segments" in text
    assert "… and 22 more shocks" in text
    assert "… and 985 more targets (all in summary.csv)" in text
    assert "target number 0014" in text and "target number 0015" not in text
    for build in (_fig_valuation, _fig_exceedance):
        text = _texts(build(ctx))
        assert "the first 12 of 1,000" in text
        assert "target number 0011" in text and "target number 0012" not in text
    text = _texts(_fig_shocks(ctx))
    assert "(the first 6 of 30)" in text and "(the first 12 of 1,000)" in text
    assert "shock_06_with_a_long_name" not in text
    assert "the first 12 of 100" in _texts(_fig_revenue(ctx))
    text = _texts(_fig_convergence(ctx))
    assert "… and 989 more targets" in text and "target number 0011" not in text


def test_shocks_page_with_a_target_not_at_fair_value() -> None:
    """A target read at the offer has no shocks-off probability (only fair-value targets
    do): the shocks page compares the fair-value ones (it once failed on the mismatch)."""
    raw = tomllib.loads(BASELINE.read_text("utf-8"))
    raw["targets"].append({"label": "at the offer: 5 bn", "value": "5bn", "at": "offer"})
    raw["scenario"].pop("extends", None)
    sc = build_scenario(raw, source=BASELINE, own_name="baseline")
    result, summary = _run(sc)
    fig = _fig_shocks(_ctx(result, summary))
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert not any("at the offer" in label for label in labels)
    assert any("brief: 40 bn USD" in label for label in labels)


def test_aftermarket_page(baseline: tuple[Result, Summary]) -> None:
    """The fan, the first-day return and each target at each point in time, as summarised."""
    result, summary = baseline
    assert summary.aftermarket is not None and summary.first_day_return is not None
    fig = _fig_aftermarket(_ctx(result, summary))
    texts = [t.get_text() for t in fig.findobj(Text)]
    fdr = summary.first_day_return
    assert any(fmt.probability(fdr.p_at_least_offer, fdr.ci95) in t for t in texts)
    cells = [
        cell.get_text().get_text()
        for ax in fig.axes
        for table in ax.tables
        for cell in table.get_celld().values()
    ]
    peak_40 = next(r for r in summary.aftermarket.targets if r.label == "brief: 40 bn USD")
    assert fmt.pct(peak_40.p_at_least["peak"]) in cells
    assert "lock-up ends" in " ".join(texts)
    assert not _outside(fig)
    # A ladder stated at fair value and again at the peak shares its rows: one per value.
    (table,) = [t for ax in fig.axes for t in ax.tables]
    rows = {r for r, _ in table.get_celld()} - {0}
    values = {t.value_usd for t in summary.targets}
    assert len(summary.targets) > len(values)  # the baseline states its ladders twice
    assert len(rows) == min(len(values), 12)


def test_the_fan_of_a_company_that_can_trade_at_zero_stays_on_the_page() -> None:
    # In the dcf scenario a failed company trades at 0: the fan's bands ran towards
    # log(0), a polygon hundreds of thousands of points tall that took PDFium 2.5 s to
    # fill (and any PDF viewer as long). They stop at the axis's floor now.
    result, summary = _run(load_scenario(BASELINE.parent / "dcf.toml"))
    assert summary.aftermarket is not None
    assert min(min(row) for row in summary.aftermarket.fan_values) <= 0.0
    fig = _fig_aftermarket(_ctx(result, summary))
    fig.canvas.draw()
    width, height = fig.bbox.width, fig.bbox.height
    fan = fig.axes[0]
    bands = [c for c in fan.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    for band in bands:
        for path in band.get_paths():
            xy = band.get_transform().transform(path.vertices)
            assert np.isfinite(xy).all()
            assert (np.abs(xy) <= 2 * max(width, height)).all()


def test_no_aftermarket_page_without_the_table(plain: tuple[Result, Summary]) -> None:
    assert "aftermarket.png" not in [p.name for p in _pages(plain[0].scenario)]


@pytest.mark.parametrize("draw", [_fig_exceedance, _fig_convergence])
def test_log_axes_carry_two_minor_ticks_a_decade(
    baseline: tuple[Result, Summary], draw: Any
) -> None:
    # Matplotlib's default is eight a decade (56 on the tail's axis), each tick an artist
    # updated and drawn by every save: a good part of these pages' drawing time.
    fig = draw(_ctx(*baseline, units="both"))
    fig.canvas.draw()
    log_axes = [
        axis
        for ax in fig.findobj(lambda a: hasattr(a, "xaxis") and hasattr(a, "yaxis"))
        for axis in (ax.xaxis, ax.yaxis)
        if axis.get_scale() in ("log", "functionlog")
    ]
    assert len(log_axes) >= 3
    for axis in log_axes:
        lo, hi = sorted(axis.get_view_interval())
        minor = [v for v in axis.get_minorticklocs() if lo <= v <= hi]
        assert len(minor) <= 2 * math.ceil(math.log10(hi / lo)) + 2, (len(minor), lo, hi)


def _page_texts(result: Result, summary: Summary) -> list[str]:
    fig = _fig_summary(_ctx(result, summary))
    cells = [
        c.get_text().get_text() for table in fig.findobj(Table) for c in table.get_celld().values()
    ]
    return [t.get_text() for t in fig.findobj(Text)] + cells


def test_summary_page_shows_each_regimes_multiple_and_the_value_each_target_reads(
    baseline: tuple[Result, Summary],
) -> None:
    """The baseline's multiple is a mixture of its two regimes' multiples: the valuation
    table shows each regime's, not the mixture as if it were the law; the targets table
    says which value each target reads, and its heading does not call them all equity."""
    result, summary = baseline
    texts = _page_texts(result, summary)
    regimes = result.scenario.regimes
    assert len(regimes) == 2
    for r in regimes:
        law = fmt.distribution(r.overrides["valuation.multiple_shift"], "")
        assert f"regime, {r.weight:.0%}: multiple shift (judgement) {law}" in texts
    assert "multiple shift (judgement)" not in texts  # no row for the base mixture
    # The peer table's row, not the standard t drawn behind it.
    assert "14 peers (peers-2025-12.csv) on growth + gross margin, t(11)" in texts
    assert not any("predictive t" in t for t in texts)
    # exp of a t has no finite mean: the equity table says so under its mean column.
    assert any(
        t.startswith("mean: none: the peer multiple is the exponential of a Student t")
        for t in texts
    )
    assert "Targets: P(value ≥ target), the value each reads" in texts
    assert not any("P(equity value ≥ target)" in t for t in texts)
    ats = [t.at for t in summary.targets]
    assert ats.count("peak") == 6 and texts.count("peak") >= 6 and texts.count("fair") >= 7
    # Nothing in the valuation table is cut at the column's edge.
    assert not any(t.endswith("…") and t.startswith(("ev_to_sales", "regime")) for t in texts)


def test_summary_page_writes_method_both_in_rows_that_fit() -> None:
    """Method "both" named the two methods in one line cut with "…": now a row each."""
    result, summary = _run(load_scenario(BASELINE.parent / "dcf.toml"))
    assert result.scenario.valuation.name == "both"
    texts = _page_texts(result, summary)
    assert "both: dcf (primary), ev_to_sales beside it" in texts
    assert "2026 revenue x a peer multiple" in texts
    assert not any(
        t.endswith("…") and t.startswith(("both", "DCF of", "2026 revenue", "14 peers"))
        for t in texts
    )


def test_summary_expectation_rows_hold_their_two_lines() -> None:
    """A full right column (the geopolitics scenario: 14 targets, 9 expectations) shows
    fewer expectations rather than rows whose two lines overlap the next row."""
    sc = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "geopolitics.toml")
    result = simulate(sc, 4_000, seed=SEED)
    summary = summarise(result)
    fig = _fig_summary(_ctx(result, summary))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    table = next(
        t
        for ax in fig.axes
        for t in ax.tables
        if any(c.get_text().get_text() in ("passed", "failed") for c in t.get_celld().values())
    )
    rows = {r for r, _ in table.get_celld()}
    assert 0 < len(rows) < len(summary.expectations)  # some left out, said in a line
    for (_, c), cell in table.get_celld().items():
        if c != 1:
            continue
        text = cell.get_text().get_window_extent(renderer)
        box = cell.get_window_extent(renderer)
        assert text.height <= box.height + 0.5, cell.get_text().get_text()
    texts = " ".join(t.get_text() for t in fig.findobj(Text))
    assert f"and {len(summary.expectations) - len(rows)} more expectations" in texts


def test_a_peer_multiples_tail_does_not_set_the_value_axes(
    baseline: tuple[Result, Summary],
) -> None:
    """The baseline's value rides on exp of a Student t: its largest paths lie decades
    past the bulk. The value pages stop at the 99.5th percentile (or the largest target)
    and say how many paths lie beyond, and the strips' end labels stay inside the axes."""
    result, summary = baseline
    equity = result.kept.values.equity
    ctx = _ctx(result, summary)
    for build in (_fig_valuation, _fig_regimes):
        fig = build(ctx)
        ax = fig.axes[0]
        hi = ax.get_xlim()[1]
        assert hi < float(equity.max()) / 10  # the tail is cut, decades short of the max
        beyond = float(np.mean(equity > hi))
        assert 0 < beyond < 0.01
        assert f"{fmt.pct(beyond)} of paths\nabove" in _texts(fig), build.__name__
        assert _outside(fig) == [], build.__name__


def test_baseline_shocks_page_keeps_its_note_on_the_page(
    baseline: tuple[Result, Summary],
) -> None:
    """The note on the targets read at a market value ran past the page's bottom edge."""
    result, summary = baseline
    fig = _fig_shocks(_ctx(result, summary))
    assert "read at a market value" in _texts(fig)
    assert _outside(fig) == []
