"""Report files written by worker processes: the same files, in order, errors and progress."""

from __future__ import annotations

import io
import multiprocessing
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from sim import Result, Summary, simulate, summarise
from sim.report import choose_fonts, render
from sim.report.layout import _colours_by_value, _Ctx
from sim.report.style import PNG_DPI, _style
from sim.report.summary import _fig_summary
from sim.report.values import _fig_exceedance
from sim.report.write import _frozen, _idle_processors, _processors, _write
from tests.builders import scenario

PATHS = 5_000
PLAIN_PNGS = ["summary.png", "valuation.png", "exceedance.png", "revenue.png", "convergence.png"]


@pytest.fixture(scope="module")
def plain() -> tuple[Result, Summary]:
    result = simulate(
        scenario(scenario={"name": "plain", "base_year": 2024, "horizon": 2}), PATHS, seed=3
    )
    return result, summarise(result)


def _pdf_without_date(path: Path) -> bytes:
    """The PDF's bytes less its creation date (the one thing that differs run to run)."""
    return re.sub(rb"/CreationDate\s*\([^)]*\)", b"", path.read_bytes())


def test_the_files_are_the_same_whatever_the_number_of_workers(
    plain: tuple[Result, Summary], tmp_path: Path
) -> None:
    result, summary = plain
    fonts = choose_fonts(cjk=False)
    one = render(result, summary, tmp_path / "one", formats=["pdf", "png"], fonts=fonts, workers=1)
    three = render(
        result, summary, tmp_path / "three", formats=["pdf", "png"], fonts=fonts, workers=3
    )
    assert [p.name for p in one] == [p.name for p in three] == ["report.pdf", *PLAIN_PNGS]
    assert [p.parent.name for p in three] == ["three"] * len(three)
    assert _pdf_without_date(one[0]) == _pdf_without_date(three[0])
    for a, b in zip(one[1:], three[1:], strict=True):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs when drawn in a worker"


def test_pngs_alone_come_from_workers_in_page_order(
    plain: tuple[Result, Summary], tmp_path: Path
) -> None:
    result, summary = plain
    calls: list[tuple[int, int]] = []
    written = render(
        result,
        summary,
        tmp_path,
        formats=["png"],
        fonts=choose_fonts(cjk=False),
        workers=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert [p.name for p in written] == PLAIN_PNGS
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(PLAIN_PNGS)
    # One call before the first file and one after each.
    assert calls == [(i, len(PLAIN_PNGS)) for i in range(len(PLAIN_PNGS) + 1)]


def test_one_process_reports_progress_too(plain: tuple[Result, Summary], tmp_path: Path) -> None:
    result, summary = plain
    calls: list[tuple[int, int]] = []
    render(
        result,
        summary,
        tmp_path,
        formats=["pdf", "png"],
        fonts=choose_fonts(cjk=False),
        workers=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    total = 1 + len(PLAIN_PNGS)
    assert calls[0] == (0, total) and calls[-1] == (total, total)


class _PageError(Exception):
    pass


def _failing_page(_ctx: object) -> Figure:
    raise _PageError("this page cannot be drawn")


def _empty_page(_ctx: object) -> Figure:
    return Figure(figsize=(2, 2))


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_drawing_a_page_in_a_worker_reaches_the_caller(
    tmp_path: Path, workers: int
) -> None:
    pages = [("a.png", _empty_page), ("b.png", _failing_page)]
    meta = {"Title": "t", "Creator": "c"}
    with pytest.raises(_PageError, match="cannot be drawn"):
        _write(
            pages,
            None,
            choose_fonts(cjk=False),
            tmp_path,
            "r.pdf",
            meta,
            ["pdf", "png"],
            workers=workers,
        )


def test_processors_counts_what_this_process_may_use() -> None:
    assert _processors() >= 1


def test_a_busy_machine_draws_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sim.report.write._processors", lambda: 4)
    monkeypatch.setattr("os.getloadavg", lambda: (1.0, 1.0, 1.0))
    assert _idle_processors() == 4  # this run's own load: three idle processors
    monkeypatch.setattr("os.getloadavg", lambda: (2.6, 1.0, 1.0))
    assert _idle_processors() == 2
    monkeypatch.setattr("os.getloadavg", lambda: (9.0, 1.0, 1.0))
    assert _idle_processors() == 1


@pytest.mark.parametrize("fmt", ["pdf", "png"])
def test_a_frozen_page_is_drawn_once_by_a_save(
    plain: tuple[Result, Summary], fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A figure that keeps any layout engine (even matplotlib's "none" placeholder) is
    # drawn twice by each save: once unrendered "for the layout", once for the file.
    result, summary = plain
    fonts = choose_fonts(cjk=False)
    scenario_ = result.scenario
    ctx = _Ctx(
        result.scenario,
        result.kept,
        summary,
        fonts,
        "#0072B2",
        _colours_by_value([t.value_usd for t in scenario_.targets]),
        "usd",
    )
    draws = 0
    real_draw = Figure.draw

    def counting_draw(self: Figure, renderer: object) -> None:
        nonlocal draws
        draws += 1
        real_draw(self, renderer)  # type: ignore[arg-type]

    with _style(fonts):
        fig = _frozen(_fig_exceedance(ctx))
        assert fig.get_layout_engine() is None
        monkeypatch.setattr(Figure, "draw", counting_draw)
        fig.savefig(io.BytesIO(), format=fmt)
    assert draws == 1


def test_the_png_is_the_pdfs_page_rasterised_and_reads_as_matplotlib_draws_it(
    plain: tuple[Result, Summary], tmp_path: Path
) -> None:
    # The PNG is the PDF's page rasterised by PDFium, encoded by ipo-sim (unfiltered
    # rows), not Pillow: any reader must see that page, at PNG_DPI, with the title; and
    # the page as matplotlib's own Agg renderer draws it, up to anti-aliasing.
    import pypdfium2 as pdfium

    result, summary = plain
    fonts = choose_fonts(cjk=False)
    files = render(result, summary, tmp_path, formats=["pdf", "png"], fonts=fonts, workers=1)
    pdf, png = files[0], files[1]
    assert png.name == "summary.png"
    ours = Image.open(png)
    assert ours.mode == "RGB"
    assert ours.info["Title"] == f"ipo-sim report: {result.scenario.name}"
    assert ours.info["dpi"] == pytest.approx((PNG_DPI, PNG_DPI), abs=0.05)
    doc = pdfium.PdfDocument(pdf)
    page = doc[0].render(scale=PNG_DPI / 72, rev_byteorder=True).to_numpy()
    doc.close()
    assert np.array_equal(np.asarray(ours), page)
    ctx = _Ctx(
        result.scenario,
        result.kept,
        summary,
        fonts,
        "#0072B2",
        ("#440154",) * len(summary.targets),
        "usd",
    )
    with _style(fonts):
        fig = _frozen(_fig_summary(ctx))
        reference = io.BytesIO()
        fig.savefig(reference, format="png", dpi=PNG_DPI)
    theirs = np.asarray(Image.open(reference).convert("RGB"), dtype=np.int16)
    height, width = theirs.shape[:2]
    assert ours.size[0] - width in (0, 1) and ours.size[1] - height in (0, 1)  # rounding
    a = np.asarray(ours, dtype=np.int16)[:height, :width]
    # Glyph edges are anti-aliased a little differently (2.5 levels of 255 on average);
    # another page, or a blank one, is far off.
    assert np.abs(a - theirs).max(axis=2).mean() < 5.0


# Every page of every kind of report, drawn by workers or here: the same PDF. Pages drawn
# by workers come back as one-page PDFs and are joined here, so the joined file must not
# depend on which process drew which page, nor on when (PDFium's file identifier).
SHIPPED = Path(__file__).resolve().parent.parent / "scenarios"


def _pdfs_by_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], pdf: str
) -> list[bytes]:
    from sim.cli import main

    # Every run takes "0 s": the run time printed on the pages is the one thing that
    # would differ between the two runs.
    monkeypatch.setattr("sim.run.engine.time.perf_counter", lambda: 0.0)
    pdfs = []
    for workers in (1, 2):
        monkeypatch.setattr("sim.report.write._idle_processors", lambda n=workers: n)
        out = tmp_path / f"w{workers}"
        assert main([*argv, "--out", str(out), "--quiet", "--format", "pdf"]) == 0
        pdfs.append(_pdf_without_date(next(out.rglob(pdf))))
    return pdfs


@pytest.mark.parametrize("name", ["baseline", "dcf"])
def test_every_page_of_a_shipped_scenario_is_the_same_drawn_by_a_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    argv = ["run", str(SHIPPED / f"{name}.toml"), "--paths", "4000"]
    one, two = _pdfs_by_workers(monkeypatch, tmp_path, argv, "report.pdf")
    assert one == two


def test_comparison_and_attribution_pages_are_the_same_drawn_by_a_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = [str(SHIPPED / "baseline.toml"), str(SHIPPED / "bull.toml")]
    argv = ["compare", *files, "--paths", "2000", "--attribution-paths", "500"]
    one, two = _pdfs_by_workers(monkeypatch, tmp_path, argv, "comparison.pdf")
    assert one == two


def test_sweep_pages_are_the_same_drawn_by_a_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    argv = ["sweep", str(SHIPPED / "baseline.toml"), "--paths", "2000"]
    argv += ["--set", "valuation.net_cash=1bn,2bn", "--set", "offering.ipo_discount=0.1,0.2"]
    one, two = _pdfs_by_workers(monkeypatch, tmp_path, argv, "sweep.pdf")
    assert one == two


def test_a_full_disk_while_a_worker_draws_a_page_reaches_the_caller(
    plain: tuple[Result, Summary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from matplotlib.backends.backend_pdf import PdfPages

    class FullDisk(PdfPages):
        def savefig(self, *args: object, **kwargs: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sim.report.write.PdfPages", FullDisk)
    result, summary = plain
    with pytest.raises(OSError, match="No space left"):
        render(
            result,
            summary,
            tmp_path,
            formats=["pdf", "png"],
            fonts=choose_fonts(cjk=False),
            workers=2,
        )
    assert not (tmp_path / "report.pdf").exists()
    assert multiprocessing.active_children() == []
