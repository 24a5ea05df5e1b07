"""The comparison report of a batch: legible from 2 to 30 scenarios.

A 12-scenario batch with long names and long target labels is rendered, and the PDF's
own text (extracted by PDFium) must hold every name and every label whole, with no
ellipsis anywhere: nothing is cut to fit.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from sim import format as fmt
from sim.analysis.summary import Summary, summarise
from sim.report import choose_fonts, render_comparison
from sim.report.compared import MARKERS, _Cmp
from sim.report.style import SCENARIO_COLOURS
from sim.run.engine import Result, simulate
from sim.scenario import load_scenario
from sim.studies.compare import compare

DATA = Path(__file__).resolve().parent / "data"
PATHS = 4000
LONG_LABEL = (
    "private mark from the prospectus (Aug 2025 round, post-money, as reported by the sponsors)"
)


def _pdf_text(path: Path) -> str:
    doc = pdfium.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Result], list[Summary]]:
    """12 scenarios extending tests/data/small.toml, each with a long name and its own
    multiple; the fourth adds a target with a long label."""
    folder = tmp_path_factory.mktemp("batch")
    (folder / "small.toml").write_text((DATA / "small.toml").read_text("utf-8"), "utf-8")
    results, summaries = [], []
    for i in range(12):
        extra = f'\n[[targets]]\nlabel = "{LONG_LABEL}"\nvalue = "4.24bn"\n' if i == 3 else ""
        (folder / f"s{i:02d}.toml").write_text(
            '[scenario]\nextends = "small.toml"\n'
            f'name = "scenario-{i:02d}-with-a-long-descriptive-name-and-a-harder-view"\n\n'
            f'[valuation]\nmultiple = {{ dist = "lognormal", p50 = {10 + 2 * i}, p90 = '
            f"{20 + 3 * i} }}\n" + extra,
            "utf-8",
        )
        result = simulate(load_scenario(folder / f"s{i:02d}.toml"), PATHS, seed=5)
        results.append(result)
        summaries.append(summarise(result))
    return results, summaries


def test_a_12_scenario_batch_keeps_every_name_and_label_whole(
    batch: tuple[list[Result], list[Summary]], tmp_path: Path
) -> None:
    results, summaries = batch
    fonts = choose_fonts()
    written = render_comparison(results, summaries, tmp_path, ["pdf", "png"], fonts=fonts)
    text = _pdf_text(tmp_path / "comparison.pdf")
    for r in results:
        assert fonts.text(r.scenario.name) in text, r.scenario.name
    labels = {t.label for s in summaries for t in s.targets}
    assert LONG_LABEL in labels and len(labels) == 3
    for label in labels:
        assert fonts.text(label) in text, label
    assert "…" not in text and "..." not in text
    assert "Football field" in text
    names = [p.name for p in written]
    assert "comparison_football_2.png" in names and "comparison_values_2.png" in names
    # Ten bars or violins a page: 12 scenarios take two pages, each headed as such.
    assert "Equity value at listing by scenario (page 2 of 2)" in text


def test_scenarios_past_eight_differ_by_marker(
    batch: tuple[list[Result], list[Summary]],
) -> None:
    results, summaries = batch
    c = _Cmp(results, summaries, choose_fonts(), compare(results, summaries), "usd")
    styles = {(c.colour(i), c.marker(i)) for i in range(64)}
    assert len(styles) == 64
    assert {c.colour(i) for i in range(8)} == set(SCENARIO_COLOURS)
    assert c.marker(8) == MARKERS[1] != c.marker(0)


def test_the_football_field_draws_the_summaries_quantiles(
    batch: tuple[list[Result], list[Summary]],
) -> None:
    """Each bar spans the summary's p10 to p90 and the marker sits at its median: the
    page draws the summary's figures, it computes none."""
    from matplotlib.patches import Rectangle

    from sim.report.football import _fig_football

    results, summaries = batch
    c = _Cmp(results, summaries, choose_fonts(), compare(results, summaries), "usd")
    bars = []
    texts = []
    for page in range(2):  # ten scenarios a page
        ax = _fig_football(c, page).axes[0]
        bars += [
            p
            for p in ax.patches
            if isinstance(p, Rectangle) and p.get_height() == pytest.approx(0.46)
        ]
        texts += [t.get_text() for t in ax.texts]
    assert len(bars) == len(results)
    for bar, s in zip(bars, summaries, strict=True):
        q = s.equity.quantiles
        assert bar.get_x() == pytest.approx(q.at(0.1))
        assert bar.get_x() + bar.get_width() == pytest.approx(q.at(0.9))
    for s in summaries:
        assert "median " + fmt.money(s.equity.quantiles.median, short=True) in texts
