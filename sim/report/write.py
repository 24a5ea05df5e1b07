"""Writing a report: the registry of pages, and each figure to the PDF and its PNG.

Each figure is built once by its own function and written to both the PDF (one page)
and its PNG, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim._version import __version__
from sim.engine import Result
from sim.report.aftermarket import _aftermarket_applies, _fig_aftermarket
from sim.report.concentration import _concentration_applies, _fig_concentration
from sim.report.convergence import _convergence_applies, _fig_convergence
from sim.report.dcf import _dcf_applies, _fig_dcf, _fig_methods, _methods_apply
from sim.report.layout import _colours_by_value, _Ctx
from sim.report.pricing import _fig_pricing, _pricing_applies
from sim.report.regimes import _fig_regimes, _regimes_apply
from sim.report.revenue import _fig_revenue
from sim.report.sensitivity import _fig_sensitivity, _sensitivity_applies
from sim.report.shocks import _fig_shocks, _shocks_apply
from sim.report.style import PNG_DPI, SCENARIO_COLOURS, Fonts, _style, choose_fonts
from sim.report.summary import _fig_summary
from sim.report.units import UnitsChoice, resolve_units
from sim.report.values import _fig_exceedance, _fig_valuation
from sim.scenario import Scenario
from sim.summary import Summary


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of the report: its PNG name, when it applies, and how it is drawn."""

    name: str
    applies: Callable[[Scenario], bool]
    draw: Callable[[_Ctx], Figure]


def _always(_sc: Scenario) -> bool:
    """Every report has the page."""
    return True


#: The report's pages in order. A page whose ``applies`` is false for a scenario (it
#: would have nothing to show) is left out of that scenario's report; the appendix
#: (convergence) comes last.
_PAGES: tuple[_Page, ...] = (
    _Page("summary.png", _always, _fig_summary),
    _Page("pricing.png", _pricing_applies, _fig_pricing),
    _Page("aftermarket.png", _aftermarket_applies, _fig_aftermarket),
    _Page("valuation.png", _always, _fig_valuation),
    _Page("exceedance.png", _always, _fig_exceedance),
    _Page("dcf.png", _dcf_applies, _fig_dcf),
    _Page("methods.png", _methods_apply, _fig_methods),
    _Page("regimes.png", _regimes_apply, _fig_regimes),
    _Page("revenue.png", _always, _fig_revenue),
    _Page("concentration.png", _concentration_applies, _fig_concentration),
    _Page("shocks.png", _shocks_apply, _fig_shocks),
    _Page("sensitivity.png", _sensitivity_applies, _fig_sensitivity),
    _Page("convergence.png", _convergence_applies, _fig_convergence),
)


def _pages(scenario: Scenario) -> list[_Page]:
    """The pages of ``scenario``'s report, in order: those of :data:`_PAGES` that apply."""
    return [page for page in _PAGES if page.applies(scenario)]


def _write(
    figures: Iterator[tuple[str, Figure]],
    out_dir: Path,
    pdf_name: str,
    metadata: dict[str, str],
    formats: Sequence[str],
) -> list[Path]:
    """Write each figure as a PDF page and/or a PNG, one figure at a time."""
    want_pdf, want_png = "pdf" in formats, "png" in formats
    if not (want_pdf or want_png):
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pdf_path = out_dir / pdf_name
    png_meta = {"Title": metadata["Title"], "Software": metadata["Creator"]}
    pdf = PdfPages(pdf_path, metadata=metadata) if want_pdf else None
    try:
        for name, fig in figures:
            if pdf is not None:
                pdf.savefig(fig)  # type: ignore[no-untyped-call]
                # The layout is solved in figure fractions: keep it for the PNG rather
                # than solving it again (the costliest step of a save).
                fig.set_layout_engine("none")
            if want_png:
                path = out_dir / name
                fig.savefig(path, dpi=PNG_DPI, metadata=png_meta)
                written.append(path)
    finally:
        if pdf is not None:
            pdf.close()  # type: ignore[no-untyped-call]
    if pdf is not None:
        written.insert(0, pdf_path)
    return written


def render(
    result: Result,
    summary: Summary,
    out_dir: Path,
    *,
    formats: Sequence[str],
    fonts: Fonts | None = None,
    colour: int = 0,
    units: UnitsChoice = "auto",
) -> list[Path]:
    """Write one run's report: ``report.pdf`` and one PNG per figure.

    Parameters
    ----------
    result : Result
        The run; its kept arrays are plotted.
    summary : Summary
        ``summarise(result)``; its numbers are printed.
    out_dir : Path
        Folder to write into (created if missing).
    formats : sequence of str
        ``"pdf"`` writes ``report.pdf``; ``"png"`` writes one PNG per page (at
        :data:`PNG_DPI`), named as in :data:`_PAGES`: ``summary.png``,
        ``pricing.png`` (with an ``[offering]``), ``valuation.png``, ``exceedance.png``,
        ``dcf.png`` (with a DCF), ``methods.png`` (method ``both``), ``revenue.png``,
        ``concentration.png`` (a regional split that varies),
        ``shocks.png`` (with shocks), ``sensitivity.png`` (with a random input) and
        ``convergence.png`` (with targets; the appendix). Others are ignored.
    fonts : Fonts, optional
        The fonts to draw with; by default :func:`choose_fonts`.
    colour : int
        The scenario's position in its run, which picks its colour from
        :data:`SCENARIO_COLOURS` (the comparison report uses the same colours).
    units : {"auto", "usd", "yi", "both"}
        The money axes' scale (:mod:`sim.report.units`): USD alone, 亿 alone, or USD
        with a 亿 reading opposite; ``auto`` is ``both`` where the scenario writes 亿 or
        万, else ``usd``.

    Returns
    -------
    list of Path
        The files written, the PDF first.

    Raises
    ------
    ValueError
        ``units`` is not one of the above.
    """
    fonts = fonts if fonts is not None else choose_fonts()
    scenario = result.scenario
    ctx = _Ctx(
        result=result,
        summary=summary,
        fonts=fonts,
        colour=SCENARIO_COLOURS[colour % len(SCENARIO_COLOURS)],
        target_colours=_colours_by_value([t.value_usd for t in scenario.targets]),
        units=resolve_units(units, [scenario]),
    )
    metadata = {
        "Title": f"ipo-sim report: {scenario.name}",
        "Subject": scenario.name,
        "Keywords": f"sha256:{scenario.sha256}",
        "Creator": f"ipo-sim {__version__}",
    }
    with _style(fonts):
        figures = ((page.name, page.draw(ctx)) for page in _pages(scenario))
        return _write(figures, out_dir, "report.pdf", metadata, formats)
