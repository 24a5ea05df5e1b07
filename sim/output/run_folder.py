"""A run's output folder, the one place that writes it: :func:`write_run`.

``<out>/<scenario name>/`` holds ``summary.json`` (always), ``summary.csv``,
``summary.xlsx`` (with openpyxl, the ``xlsx`` extra), ``report.pdf`` and one PNG per
report page, as the formats ask. The folder is written whole in a hidden temporary
folder beside it and then swapped in (:func:`sim.output.outputs.write_outputs`), so it holds
exactly one run's files and an interrupted run leaves the previous one. The command line
(``ipo-sim run``) writes each scenario's folder through :func:`write_run`, and a sweep's
through :func:`write_sweep_files`, so a folder written from Python is the command's.

This module imports the engine, the summary and the report only when it writes: the
command line imports it to check ``--format`` before anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import SimError
from sim.output.outputs import check_out, write_outputs

if TYPE_CHECKING:
    from sim.analysis.summary import Summary
    from sim.report.units import UnitsChoice
    from sim.run.engine import Result
    from sim.scenario import Scenario
    from sim.studies.sweep import Sweep

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "XLSX_MISSING",
    "RunFolder",
    "check_formats",
    "summary_text",
    "write_run",
    "write_run_files",
    "write_sweep_files",
]

#: Every format of a run's folder (``json`` is always written).
FORMATS = ("json", "csv", "xlsx", "pdf", "png")
#: What ``ipo-sim run`` and :func:`write_run` write unless told otherwise.
DEFAULT_FORMATS = ("json", "csv", "pdf", "png")
#: Why ``xlsx`` is refused where openpyxl is not installed.
XLSX_MISSING = 'xlsx needs openpyxl, which is not installed: pip install "ipo-sim[xlsx]"'


@dataclass(frozen=True, slots=True, eq=False)
class RunFolder:
    """What :func:`write_run` wrote and the run it wrote it from.

    Attributes
    ----------
    folder : Path
        ``<out>/<scenario name>``.
    files : tuple of Path
        The files written into it (``summary.json`` first).
    result : Result
        The run (its kept paths are what the report plots).
    summary : Summary
        ``summarise(result)``: what summary.json holds.
    text : str
        What ``ipo-sim run`` prints for the scenario (its tables in full), in its
        reporting currency: the folder's ``summary.txt``.
    """

    folder: Path
    files: tuple[Path, ...]
    result: Result
    summary: Summary
    text: str


def check_formats(formats: Iterable[str], allowed: Iterable[str] = FORMATS) -> list[str]:
    """The formats to write, ``json`` first and always; refuses unknown ones up front.

    Parameters
    ----------
    formats : iterable of str
        Format names (case and surrounding spaces ignored).
    allowed : iterable of str
        The formats the caller writes (a sweep writes no ``xlsx``).

    Raises
    ------
    SimError
        An unknown format, no format at all, or ``xlsx`` without openpyxl
        (:data:`XLSX_MISSING`).
    """
    allowed = tuple(allowed)
    wanted = [f.strip().lower() for f in formats if f.strip()]
    if not wanted:
        raise SimError(f"no format given; expected some of {', '.join(allowed)}")
    for f in wanted:
        if f not in allowed:
            raise SimError(f"unknown format {f!r}; expected some of {', '.join(allowed)}")
    if "xlsx" in wanted:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise SimError(XLSX_MISSING) from None
    return ["json", *dict.fromkeys(f for f in wanted if f != "json")]


def write_run(
    scenario: Scenario,
    out: str | Path,
    *,
    paths: int | None = None,
    seed: int | None = None,
    sampler: str | None = None,
    formats: Iterable[str] = DEFAULT_FORMATS,
    units: UnitsChoice = "auto",
    colour: int = 0,
    run: Callable[[Scenario], Result] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunFolder:
    """Simulate ``scenario``, summarise it and write its folder ``<out>/<name>/``.

    The folder is exactly what ``ipo-sim run SCENARIO --out OUT`` writes: the same files,
    the same provenance in summary.json, written aside and swapped in whole.

    Parameters
    ----------
    scenario : Scenario
    out : str or Path
        The output root (the command's ``--out``); the folder is named after the scenario.
    paths, seed, sampler : optional
        As :func:`sim.simulate`: by default the scenario's ``[simulation]``.
    formats : iterable of str
        Of :data:`FORMATS`; ``json`` is always written.
    units : {"auto", "usd", "yi", "both"}
        The report's money axes (:func:`sim.report.render`).
    colour : int
        The scenario's position in a batch, which picks its colour in the report.
    run : callable, optional
        ``run(scenario) -> Result`` in place of :func:`sim.simulate` (the command line's
        progress bar, workers and cluster); ``paths``, ``seed`` and ``sampler`` must then
        be None.
    progress : callable, optional
        ``progress(done, total)`` as the report's files are written.

    Returns
    -------
    RunFolder

    Raises
    ------
    SimError
        Bad formats (before any simulation), an output location that cannot be written
        or that holds files ipo-sim does not write, bad run settings.
    """
    wanted = check_formats(formats)
    out = Path(out)
    check_out(out, [scenario.name])
    if run is None:
        from sim.run.engine import simulate

        result = simulate(scenario, paths, seed=seed, sampler=sampler)
    elif paths is not None or seed is not None or sampler is not None:
        raise ValueError("write_run: give paths, seed and sampler to run, not with it")
    else:
        result = run(scenario)
    from sim.analysis.summary import summarise

    summary = summarise(result)
    text = summary_text(scenario, summary)
    folder = out / scenario.name
    written = write_outputs(
        folder,
        partial(
            write_run_files,
            result,
            summary,
            text=text,
            formats=wanted,
            colour=colour,
            units=units,
            progress=progress,
        ),
    )
    return RunFolder(folder, tuple(written), result, summary, text)


def summary_text(scenario: Scenario, summary: Summary) -> str:
    """The text ``ipo-sim run`` prints for one scenario (``summary.txt``): its tables in
    full, money in the scenario's reporting currency (亿 only where it writes 亿 or 万)."""
    import io

    from sim import format as fmt
    from sim.cli.printing import _print_summary
    from sim.money import reporting_currency

    text = io.StringIO()
    with fmt.shown_in(reporting_currency(scenario)):
        _print_summary(summary, text, valuation=scenario.valuation)
    return text.getvalue()


def write_run_files(
    result: Result,
    summary: Summary,
    folder: Path,
    *,
    formats: Iterable[str],
    text: str = "",
    colour: int = 0,
    units: UnitsChoice = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write one run's files into ``folder`` (an empty folder; :func:`write_run` gives it
    the temporary one) and return them, ``summary.json`` first (``summary.txt`` next,
    with ``text``)."""
    formats = list(formats)
    files = [folder / "summary.json"]
    files[0].write_text(summary.to_json(), encoding="utf-8")
    if text:
        files.append(folder / "summary.txt")
        files[-1].write_text(text, encoding="utf-8")
    if "csv" in formats:
        files.append(folder / "summary.csv")
        # utf-8-sig: a byte-order mark, so that Excel reads 亿 and other non-ASCII labels
        files[-1].write_text(summary.to_csv(), encoding="utf-8-sig")
    if "xlsx" in formats:
        from sim.output.xlsx import write_workbook

        files.append(write_workbook(result, summary, folder / "summary.xlsx"))
    if "pdf" in formats or "png" in formats:
        from sim.report import render

        files.extend(
            render(
                result,
                summary,
                folder,
                formats=formats,
                colour=colour,
                units=units,
                progress=progress,
            )
        )
    return files


def write_sweep_files(sweep: Sweep, folder: Path, *, formats: Iterable[str]) -> list[Path]:
    """Write a sweep's files into ``folder``: ``sweep.json``, ``sweep.csv``, its pages."""
    formats = list(formats)
    files = [folder / "sweep.json"]
    files[0].write_text(sweep.to_json(), encoding="utf-8")
    if "csv" in formats:
        files.append(folder / "sweep.csv")
        files[-1].write_text(sweep.to_csv(), encoding="utf-8-sig")
    if "pdf" in formats or "png" in formats:
        from sim.report.sweep import render_sweep

        files.extend(render_sweep(sweep, folder, formats=formats))
    return files
