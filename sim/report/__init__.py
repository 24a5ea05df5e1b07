"""Reports: a run's figures as ``report.pdf`` and PNG files; several runs side by side.

Every figure is a :class:`matplotlib.figure.Figure` drawn on the Agg canvas; pyplot (and
its global state) is never imported, and rcParams are only changed inside
:func:`matplotlib.rc_context`. Each figure is built once by its own function and written
to both the PDF (one page) and its PNG, so the two never disagree.

Plots use the exact per-path arrays kept by the engine (``result.kept``); the numbers
printed (target probabilities, quantiles, shock probabilities, the deal's figures) come
from the summary, which counts every path. A page reads the summary, the kept paths and
the scenario (:class:`~sim.report.layout._Ctx`), nothing else of the run, and never calls
the model: pages draw; they do not compute statistics.

Chinese amounts (亿, 万) render with a CJK font when matplotlib finds one
(:func:`choose_fonts`); without one every label is transliterated (``25亿`` becomes
``25×10⁸``), so no figure shows missing-glyph boxes.

Layout of the package:

- ``style``: page size, colours, rcParams, fonts; ``units``: the money axes' scale (USD,
  亿 or both; ``auto`` draws 亿 where the scenario writes it).
- ``layout``: the page context (:class:`~sim.report.layout._Ctx`), blank pages, tables,
  numbered keys; ``axes``: money and value axes.
- one module per page family: ``summary`` (page 1; with an offering its headline leads
  with the decision); ``pricing`` (page 2 with an offering: value per share against the
  price range, the pricing grid); ``values`` (histogram, P(value >= x)); ``revenue``;
  ``concentration``; ``shocks``; ``sensitivity``; ``convergence`` (the appendix).
- ``write``: the registry of pages (``_PAGES``), :func:`render`, and writing PDF/PNG.
- ``comparison``: :func:`render_comparison`; its pages in ``compared`` (what they share:
  colours and markers, chunks, wrapping tables), ``batch_tables`` (overview, targets,
  probability grids) and ``football`` (football field, violins).

Adding a page
-------------
A page is a function ``(ctx: _Ctx) -> Figure`` in its family's module (or a new one)
and, next to it, a predicate ``(scenario: Scenario) -> bool`` that says when the page
has something to show (``write._always`` when it always does). Register it as one entry
``_Page("name.png", applies, draw)`` in ``write._PAGES`` at its place in the order: a
scenario's report is the entries whose ``applies`` holds, so a page never comes out
empty, and the numbering follows. The appendix (convergence) stays the last entry. The
pricing page is an example, shown second whenever there is an offering::

    _Page("pricing.png", _pricing_applies, _fig_pricing),  # right after summary.png

with ``def _pricing_applies(sc: Scenario) -> bool: return sc.offering is not None``.
A new page's PNG name goes into :func:`render`'s docstring and the page-list tests in
``tests/test_report.py``.
"""

from sim.report.comparison import render_comparison
from sim.report.style import CJK_FAMILIES, PAGE, PNG_DPI, SCENARIO_COLOURS, Fonts, choose_fonts
from sim.report.write import render

__all__ = [
    "CJK_FAMILIES",
    "PAGE",
    "PNG_DPI",
    "SCENARIO_COLOURS",
    "Fonts",
    "choose_fonts",
    "render",
    "render_comparison",
]
