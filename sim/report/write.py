"""Writing a report: the registry of pages, and each figure to the PDF and its PNG.

Each figure is built once by its own function and written to both the PDF (one page)
and its PNG, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim._version import __version__
from sim.engine import Result
from sim.report.concentration import _fig_concentration
from sim.report.convergence import _fig_convergence
from sim.report.layout import _colours_by_value, _Ctx
from sim.report.revenue import _fig_revenue
from sim.report.sensitivity import _fig_sensitivity
from sim.report.shocks import _fig_shocks
from sim.report.style import PNG_DPI, SCENARIO_COLOURS, Fonts, _style, choose_fonts
from sim.report.summary import _fig_summary
from sim.report.values import _fig_exceedance, _fig_valuation, _fig_value_per_share
from sim.scenario import Scenario
from sim.summary import Summary


def _pages(scenario: Scenario) -> list[tuple[str, Callable[[_Ctx], Figure]]]:
    """The report's pages in order, as (PNG name, figure builder) pairs."""
    pages: list[tuple[str, Callable[[_Ctx], Figure]]] = [
        ("summary.png", _fig_summary),
        ("valuation.png", _fig_valuation),
        ("exceedance.png", _fig_exceedance),
        ("revenue.png", _fig_revenue),
        ("concentration.png", _fig_concentration),
        ("shocks.png", _fig_shocks),
        ("sensitivity.png", _fig_sensitivity),
        ("convergence.png", _fig_convergence),
    ]
    if scenario.offering is not None:
        pages.append(("value_per_share.png", _fig_value_per_share))
    return pages


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
        ``"pdf"`` writes ``report.pdf``; ``"png"`` writes ``summary.png``,
        ``valuation.png``, ``exceedance.png``, ``revenue.png``, ``concentration.png``,
        ``shocks.png``, ``sensitivity.png``, ``convergence.png`` and, with an
        ``[offering]``, ``value_per_share.png`` (at :data:`PNG_DPI`). Others are ignored.
    fonts : Fonts, optional
        The fonts to draw with; by default :func:`choose_fonts`.
    colour : int
        The scenario's position in its run, which picks its colour from
        :data:`SCENARIO_COLOURS` (the comparison report uses the same colours).

    Returns
    -------
    list of Path
        The files written, the PDF first.
    """
    fonts = fonts if fonts is not None else choose_fonts()
    scenario = result.scenario
    ctx = _Ctx(
        result=result,
        summary=summary,
        fonts=fonts,
        colour=SCENARIO_COLOURS[colour % len(SCENARIO_COLOURS)],
        target_colours=_colours_by_value([t.value_usd for t in scenario.targets]),
    )
    metadata = {
        "Title": f"ipo-sim report: {scenario.name}",
        "Subject": scenario.name,
        "Keywords": f"sha256:{scenario.sha256}",
        "Creator": f"ipo-sim {__version__}",
    }
    with _style(fonts):
        figures = ((name, build(ctx)) for name, build in _pages(scenario))
        return _write(figures, out_dir, "report.pdf", metadata, formats)
