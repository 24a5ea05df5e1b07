"""Writing a report: the registry of pages, and each figure to the PDF and its PNG.

Each figure is built by its own function, its layout solved once, and drawn once, as
a one-page PDF; its PNG is that page rasterised by PDFium (pypdfium2), so the two never
disagree, and the report's PDF is the pages joined in order. Where there are processors
to spare the pages are drawn by worker processes at once (:func:`_write`): a page
registered in :data:`_PAGES` gets that without more ado.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import matplotlib
import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim import format as fmt
from sim._version import __version__
from sim.analysis.summary import Summary
from sim.money import reporting_currency
from sim.report.aftermarket import _aftermarket_applies, _fig_aftermarket
from sim.report.comparables import _comparables_applies, _fig_comparables
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
from sim.run.engine import Result
from sim.run.workers import run_tasks
from sim.scenario import Scenario


@dataclass(frozen=True, slots=True)
class _Page:
    """One page of the report: its PNG name, when it applies, how it is drawn, and about
    how long that takes (seconds to build, lay out and draw as a PNG, for the baseline
    on the benchmark's machine: ``benchmarks/profile_pages.py``). Workers draw the
    costliest page first, so that it is not left to draw alone at the end."""

    name: str
    applies: Callable[[Scenario], bool]
    draw: Callable[[_Ctx], Figure]
    cost: float = 0.3


def _always(_sc: Scenario) -> bool:
    """Every report has the page."""
    return True


#: The report's pages in order. A page whose ``applies`` is false for a scenario (it
#: would have nothing to show) is left out of that scenario's report; the appendix
#: (convergence) comes last.
_PAGES: tuple[_Page, ...] = (
    _Page("summary.png", _always, _fig_summary, 0.47),
    _Page("pricing.png", _pricing_applies, _fig_pricing, 0.3),
    _Page("aftermarket.png", _aftermarket_applies, _fig_aftermarket, 0.37),
    _Page("valuation.png", _always, _fig_valuation, 0.2),
    _Page("exceedance.png", _always, _fig_exceedance, 0.36),
    _Page("comparables.png", _comparables_applies, _fig_comparables, 0.25),
    _Page("dcf.png", _dcf_applies, _fig_dcf, 0.38),
    _Page("methods.png", _methods_apply, _fig_methods, 0.21),
    _Page("regimes.png", _regimes_apply, _fig_regimes, 0.35),
    _Page("revenue.png", _always, _fig_revenue, 0.36),
    _Page("concentration.png", _concentration_applies, _fig_concentration, 0.26),
    _Page("shocks.png", _shocks_apply, _fig_shocks, 0.29),
    _Page("sensitivity.png", _sensitivity_applies, _fig_sensitivity, 0.19),
    _Page("convergence.png", _convergence_applies, _fig_convergence, 0.61),
)


def _pages(scenario: Scenario) -> list[_Page]:
    """The pages of ``scenario``'s report, in order: those of :data:`_PAGES` that apply."""
    return [page for page in _PAGES if page.applies(scenario)]


C = TypeVar("C")  # what a report's page functions take (a _Ctx, a comparison's _Cmp)

#: A page's PNG name and the function that draws it.
PageDraw = tuple[str, Callable[[C], Figure]]


@dataclass(frozen=True, slots=True)
class _Job(Generic[C]):
    """Everything a process needs to write some of one report's files."""

    pages: tuple[PageDraw[C], ...]
    ctx: C
    fonts: Fonts
    out_dir: Path
    metadata: dict[str, str]
    formats: tuple[str, ...]
    currency: fmt.Currency = fmt.USD


def _frozen(fig: Figure) -> Figure:
    """Solve ``fig``'s layout once, with the Agg renderer, and keep it.

    The PDF page and the PNG then share one layout, whichever process draws each, and
    neither save solves it again (the costliest step of a save).
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        # None, not "none": "none" keeps a placeholder engine, and a figure with any
        # engine is drawn twice by each save (once, unrendered, "for the layout").
        with matplotlib.rc_context(
            {"figure.autolayout": False, "figure.constrained_layout.use": False}
        ):
            fig.set_layout_engine(None)
    return fig


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bytes(rgba: npt.NDArray[np.uint8], dpi: float, text: dict[str, str]) -> bytes:
    """``rgba`` (height, width, 4; opaque) as an 8-bit RGB PNG with ``dpi`` and ``text``.

    Written here rather than by Pillow: Pillow chooses a filter for each row (the
    adaptive filter), which on a report page took about 0.1 s of the 0.15 s it spent
    encoding; rows unfiltered and deflated at level 1 take 0.03 s and make files no
    larger (a page is mostly flat colour).
    """
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type None
    rows[:, 1:].reshape(height, width, 3)[...] = rgba[:, :, :3]
    per_metre = round(dpi / 0.0254)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            *(
                _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1", "replace"))
                for key, value in text.items()
            ),
            _chunk(b"IDAT", zlib.compress(rows.data, 1)),
            _chunk(b"IEND", b""),
        ]
    )


def _page_pdf(fig: Figure, metadata: dict[str, str | None]) -> bytes:
    """``fig`` as a one-page PDF (its layout as :func:`_frozen` left it)."""
    out = io.BytesIO()
    with PdfPages(out, metadata=metadata) as pdf:
        pdf.savefig(fig)
    return out.getvalue()


def _raster(page_pdf: bytes) -> npt.NDArray[np.uint8]:
    """The first page of ``page_pdf`` rasterised at :data:`PNG_DPI`: (height, width, 3) RGB.

    PDFium rather than matplotlib's Agg: the page is then drawn once, into the PDF, and
    rasterised in about 15 ms, where Agg took 0.1-0.3 s to draw it a second time (a page
    is mostly text, which each renderer lays out and draws glyph by glyph).
    """
    doc = pdfium.PdfDocument(page_pdf)
    try:
        bitmap = doc[0].render(scale=PNG_DPI / 72, rev_byteorder=True)
        rgb: npt.NDArray[np.uint8] = bitmap.to_numpy()
    finally:
        doc.close()
    return rgb


def _joined(pages: Sequence[bytes]) -> bytes:
    """One-page PDFs joined into one, in order; the document information (title,
    keywords) is the first page's."""
    doc = pdfium.PdfDocument(pages[0])
    try:
        for page in pages[1:]:
            src = pdfium.PdfDocument(page)
            try:
                doc.import_pages(src)
            finally:
                src.close()
        out = io.BytesIO()
        doc.save(out)
    finally:
        doc.close()
    return _stable_id(out.getvalue())


#: The file identifier PDFium writes in the trailer: two strings of 32 hex digits.
_ID = re.compile(rb"/ID\s*\[\s*<[0-9A-Fa-f]{32}>\s*<[0-9A-Fa-f]{32}>\s*\]")


#: The document's creation date in its information dictionary.
_DATE = re.compile(rb"/CreationDate\s*\([^)]*\)")


def _stable_id(pdf: bytes) -> bytes:
    """``pdf`` with its file identifier made the MD5 digest of the rest of the file.

    PDFium draws a new identifier each time it saves; a digest of the content keeps the
    identifier unique to the document (the PDF format asks no more of it) and the same
    report the same bytes, whatever process drew it and whenever.
    """
    tail = max(0, len(pdf) - 4096)  # the trailer is at the end
    found = list(_ID.finditer(pdf, tail))
    if not found:
        return pdf
    last = found[-1]
    # Of the content only: the document's date would make each run's identifier new.
    blank = _DATE.sub(b"", pdf[: last.start()] + pdf[last.end() :])
    digest = hashlib.md5(blank, usedforsecurity=False).hexdigest().upper().encode()
    return pdf[: last.start()] + b"/ID[<" + digest + b"><" + digest + b">]" + pdf[last.end() :]


def _draw_page(job: _Job[C], page: int) -> tuple[list[Path], bytes]:
    """Draw page ``page`` once: write its PNG (if wanted) and return it as a one-page PDF
    (empty if no PDF is wanted). The document information goes with the first page.

    Module-level: worker processes run it (:func:`sim.run.workers.run_tasks`).
    """
    with _style(job.fonts), fmt.shown_in(job.currency):
        name, draw = job.pages[page]
        fig = _frozen(draw(job.ctx))
        # Only the first page's document information is kept (with the date it was
        # made); the others carry none, not even a date.
        info: dict[str, str | None] = dict(job.metadata) if page == 0 else {"CreationDate": None}
        pdf = _page_pdf(fig, info)
    written = []
    if "png" in job.formats:
        text = {"Title": job.metadata["Title"], "Software": job.metadata["Creator"]}
        written.append(job.out_dir / name)
        written[0].write_bytes(_png_bytes(_raster(pdf), PNG_DPI, text))
    return written, pdf if "pdf" in job.formats else b""


def _processors() -> int:
    """The processors this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover (macOS, Windows)


def _idle_processors() -> int:
    """Processes worth starting for the figures: this one plus the processors left idle.

    Drawing in parallel pays only where processors are idle: on a machine already busy
    (the 1-minute load average, this process's own run included, at or above its
    processors) the files are written here, one process, as ``make -l`` would.
    """
    n = _processors()
    if not hasattr(os, "getloadavg"):  # pragma: no cover (Windows)
        return n
    return max(1, min(n, 1 + round(n - os.getloadavg()[0])))


def _write(
    pages: Sequence[PageDraw[C]],
    ctx: C,
    fonts: Fonts,
    out_dir: Path,
    pdf_name: str,
    metadata: dict[str, str],
    formats: Sequence[str],
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    costs: Sequence[float] | None = None,
    currency: fmt.Currency = fmt.USD,
) -> list[Path]:
    """Write each page as a PDF page and/or a PNG; the files, the PDF first.

    Each page is drawn once (:func:`_draw_page`): with more than one worker (by default
    where processors are idle) by worker processes at once (matplotlib is not
    thread-safe), else here, one after another. The PDF is written last, the pages
    joined in order, so a run stopped part way leaves no PDF. The files are the same
    whatever the number of workers.

    ``progress(done, total)`` is called as files are written. ``costs`` (one per page,
    any unit) puts the costliest page first in the workers' queue; the files are the
    same whatever the order. Every amount is shown in ``currency``.
    """
    want_pdf, want_png = "pdf" in formats, "png" in formats
    if not (want_pdf or want_png) or not pages:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    job = _Job(tuple(pages), ctx, fonts, out_dir, metadata, tuple(formats), currency)
    total = int(want_pdf) + (len(pages) if want_png else 0)
    workers = max(1, min(_idle_processors() if workers is None else workers, len(pages)))
    if progress is not None:
        progress(0, total)
    order = list(range(len(pages)))
    if costs and workers > 1:
        # The costliest page first: no long page is left to draw alone at the end.
        order.insert(0, order.pop(max(order, key=lambda i: costs[i])))
    pngs: dict[int, list[Path]] = {}
    pdfs: dict[int, bytes] = {}
    outcomes = run_tasks(_draw_page, job, iter(order), workers=workers, executor=None)
    try:
        for page, (files, pdf) in zip(order, outcomes, strict=True):
            pngs[page], pdfs[page] = files, pdf
            if progress is not None and files:
                progress(sum(map(len, pngs.values())), total)
    finally:
        outcomes.close()
    written = [p for i in sorted(pngs) for p in pngs[i]]
    if want_pdf:
        path = out_dir / pdf_name
        path.write_bytes(_joined([pdfs[i] for i in range(len(pages))]))
        written.insert(0, path)
        if progress is not None:
            progress(total, total)
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
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write one run's report: ``report.pdf`` and one PNG per figure.

    Parameters
    ----------
    result : Result
        The run; only its scenario and its kept arrays (which are plotted) are read.
    summary : Summary
        ``summarise(result)``; its numbers are printed.
    out_dir : Path
        Folder to write into (created if missing).
    formats : sequence of str
        ``"pdf"`` writes ``report.pdf``; ``"png"`` writes one PNG per page (at
        :data:`PNG_DPI`), named as in :data:`_PAGES`: ``summary.png``,
        ``pricing.png`` (with an ``[offering]``), ``valuation.png``, ``exceedance.png``,
        ``comparables.png`` (with ``[comparables]``),
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
    workers : int, optional
        Processes to write the files with (at most one per file); by default this one
        plus one per idle processor (:func:`_idle_processors`). The files are the same
        whatever the number.
    progress : callable, optional
        ``progress(done, total)``, called as files are written (a progress bar's hook).

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
        scenario=scenario,
        kept=result.kept,
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
    chosen = _pages(scenario)
    pages = [(page.name, page.draw) for page in chosen]
    return _write(
        pages,
        ctx,
        fonts,
        out_dir,
        "report.pdf",
        metadata,
        formats,
        workers=workers,
        progress=progress,
        costs=[page.cost for page in chosen],
        currency=reporting_currency(scenario),
    )
