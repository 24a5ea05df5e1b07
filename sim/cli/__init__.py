"""The ``ipo-sim`` command: the only place that prints and exits.

Exit codes: 0 success; 1 an ``[[expect]]`` failed; 2 bad input (one line on stderr);
3 an internal error, a bug in ipo-sim (one line; the traceback with ``--debug``);
over several scenario files (``run`` and ``check`` of a folder, or of several files) each
file is run whatever happened to the others, and the exit code is the worst one's:
3 > 2 > 1 > 0;
130 interrupted by Ctrl-C, 143 stopped by SIGTERM, 129 by SIGHUP (128 + the signal's
number, as shells report it). An interrupted or stopped run leaves nothing half-written:
each output folder is written in a hidden temporary folder beside it and then replaced
whole, so it holds exactly one run's files.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout, suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from sim import format as fmt
from sim._version import __version__
from sim.cli.printing import (
    VisibleText,
    _count,
    _one_line,
    _print_comparison,
    _print_scenario,
    _print_sweep,
    _summary_line,
)
from sim.cli.progress import _bar, _lazy_bar, _status
from sim.errors import ScenarioError, SimError
from sim.output.outputs import Stopped, check_out, write_outputs
from sim.output.run_folder import DEFAULT_FORMATS as RUN_DEFAULT_FORMATS
from sim.output.run_folder import FORMATS, check_formats, write_sweep_files

# The engine, the summary and the scenario loader (scipy) are imported by the commands
# that use them, so that `ipo-sim --help` costs little more than importing numpy.
if TYPE_CHECKING:
    from sim.analysis.summary import Summary
    from sim.report.units import UnitsChoice
    from sim.run.engine import Result
    from sim.scenario import Scenario

#: The output folder of a comparison of several scenarios.
COMPARISON = "comparison"
DEFAULT_FORMATS = ",".join(RUN_DEFAULT_FORMATS)
#: The formats of ``compare`` and ``sweep``, whose folders have no workbook (csv is
#: accepted by ``compare`` and writes nothing there).
NO_XLSX = tuple(f for f in FORMATS if f != "xlsx")
# The report's money scales (sim.report.units.UNITS_CHOICES, named here so that parsing
# the command line does not import matplotlib).
UNITS = ("auto", "usd", "yi", "both")
UNITS_HELP = (
    "money axes of the report: usd (USD only), yi (亿 = 10⁸ USD as the scale), both (USD "
    "with a 亿 scale opposite); default auto: both where the scenario writes 亿 or 万, "
    "else usd"
)
REFERENCE_HELP = (
    "the [scenario] name every other scenario is compared against (runs first); "
    "default: the scenario named baseline if there is one, else the first"
)
#: The exit code of an internal error (a bug in ipo-sim).
INTERNAL_ERROR = 3
_T = TypeVar("_T")
SCENARIO_HELP = "a scenario file (.toml), or a folder: its *.toml files in name order"
BATCH_EPILOG = (
    "Several files (or a folder) are a batch: each file is run whatever happens to the "
    "others, with a progress line each on stderr (not with --quiet). Exit codes: 0 ok; "
    "1 an [[expect]] failed; 2 bad input; 3 an internal error (a bug in ipo-sim); a "
    "batch exits with its worst file's: 3 > 2 > 1 > 0."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = None
    try:
        # Text from scenario files (descriptions, labels, names) reaches the terminal:
        # control characters and escapes are shown, never obeyed.
        with (
            _stop_signals_interrupt(),
            redirect_stdout(VisibleText(sys.stdout)),
            redirect_stderr(VisibleText(sys.stderr, returns=True)),
        ):
            # Parsing may import the scenario module (to check --paths): inside the
            # handling of Ctrl-C, like everything the commands import.
            args = _parser().parse_args(argv)
            with _cluster(args):
                code: int = args.func(args)
        return code
    except SimError as err:
        return _report_error(err, args)
    except KeyboardInterrupt as err:
        signum = err.signum if isinstance(err, Stopped) else signal.SIGINT
        how = "interrupted" if signum == signal.SIGINT else f"stopped by {_signal_name(signum)}"
        # After SIGHUP the terminal may be gone: the exit code still says what happened.
        with suppress(OSError):
            print(f"ipo-sim: {how}; no partial files were left", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as err:
        return _report_error(err, args)


def _report_error(err: Exception, args: argparse.Namespace | None, where: str = "") -> int:
    """Print the one line for an error and return its exit code (2 bad input, 3 a bug).

    ``where``: the scenario file a batch was running, named first unless the message
    already starts with it.
    """
    head = "ipo-sim: error: "
    if where and not str(err).startswith(where):
        head += f"{where}: "
    if isinstance(err, SimError):
        print(f"{head}{_one_line(str(err))}", file=sys.stderr)
        return 2
    if isinstance(err, OSError):
        # A disk that is full, a file that vanished: one line, not a traceback. The
        # previous outputs are untouched (everything is written aside, then swapped in).
        at = f" ({err.filename})" if err.filename else ""
        print(
            f"{head}{_one_line(err.strerror or str(err))}{at}; nothing was written",
            file=sys.stderr,
        )
        return 2
    debug = bool(getattr(args, "debug", False))
    if debug:
        traceback.print_exception(err, file=sys.stderr)
    hint = "the traceback is above" if debug else "run again with --debug for the traceback"
    print(
        "ipo-sim: internal error (a bug in ipo-sim, please report it): "
        + (f"{where}: " if where else "")
        + f"{type(err).__name__}: {_one_line(str(err))} ({hint})",
        file=sys.stderr,
    )
    return INTERNAL_ERROR


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:  # pragma: no cover
        return f"signal {signum}"


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


@contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP stop a command the way Ctrl-C does, with the same clean-up.

    (A CI job cancelled, a terminal closed.) Main thread only; a signal already ignored,
    as under ``nohup``, stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None or signal.getsignal(signum) == signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, _raise_stopped)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), like every user error.

    Subcommand parsers are made with the same class.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


@contextmanager
def _cluster(args: argparse.Namespace) -> Iterator[None]:
    """``args.cluster``: the command's dask cluster (with ``--scheduler``), closed at the end.

    It connects on the first run that needs it; closing it also follows an error or Ctrl-C.
    """
    address = getattr(args, "scheduler", None)
    if address is None:
        args.cluster = None
        yield
        return
    from sim.run.cluster import Cluster

    args.cluster = Cluster(address, args.workers)
    try:
        yield
    finally:
        args.cluster.close()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ipo-sim",
        description="Monte Carlo IPO valuation: scenario files in, valuation distributions, "
        "target probabilities and reports out.",
    )
    parser.add_argument("--version", action="version", version=f"ipo-sim {__version__}")
    debug_help = "on an internal error (exit code 3), print its traceback"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    # Also accepted after the command; SUPPRESS keeps the subcommand from resetting it.
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = partial(sub.add_parser, parents=[common])

    run = add(
        "run",
        help="simulate scenarios and write reports",
        description="Simulate each scenario, write its folder under --out, and with "
        f"several a comparison in {COMPARISON}/.",
        epilog=BATCH_EPILOG,
    )
    run.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO", help=SCENARIO_HELP)
    _run_options(run)
    run.add_argument(
        "--out", type=_out, default=Path("reports"), help="output folder (default: reports/)"
    )
    run.add_argument(
        "--format",
        default=DEFAULT_FORMATS,
        help=f"comma list of {', '.join(FORMATS)} (default: {DEFAULT_FORMATS}); "
        'json is always written; xlsx needs openpyxl (pip install "ipo-sim[xlsx]")',
    )
    run.add_argument("--units", choices=UNITS, default="auto", help=UNITS_HELP)
    run.add_argument("--reference", metavar="NAME", help=REFERENCE_HELP)
    run.set_defaults(func=_cmd_run)

    compare = add(
        "compare",
        help="run scenarios with one seed and compare them (paired, common random numbers)",
    )
    compare.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO", help=SCENARIO_HELP)
    _run_options(compare)
    compare.add_argument(
        "--out",
        type=_out,
        default=Path("reports"),
        help=f"output folder (default: reports/); writes {COMPARISON}/",
    )
    compare.add_argument(
        "--format",
        default="json,pdf,png",
        help="comma list of json, pdf, png (default: all three)",
    )
    compare.add_argument("--units", choices=UNITS, default="auto", help=UNITS_HELP)
    compare.add_argument("--reference", metavar="NAME", help=REFERENCE_HELP)
    compare.add_argument(
        "--attribution-paths",
        type=_non_negative_int,
        default=10_000,
        help="paths of each run that attributes a difference to the keys that differ "
        "(2^k runs for k <= 8 keys; default 10,000; 0: no attribution)",
    )
    compare.set_defaults(func=_cmd_compare)

    sweep = add(
        "sweep",
        help="run a scenario over a grid of values of some of its keys (one seed: paired)",
    )
    sweep.add_argument("scenario", type=Path, metavar="SCENARIO")
    sweep.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a key path and its values, e.g. valuation.multiple=8,10,12 or "
        "segments.talkie.revenue=40M,50M; TOML values (inline tables keep their commas); "
        "repeat for a grid",
    )
    _run_options(sweep)
    sweep.add_argument(
        "--out",
        type=_out,
        default=Path("reports"),
        help="output folder (default: reports/); writes <scenario>-sweep/",
    )
    sweep.add_argument(
        "--format",
        default=DEFAULT_FORMATS,
        help=f"comma list of {', '.join(NO_XLSX)} (default: all); json is always written",
    )
    sweep.set_defaults(func=_cmd_sweep)

    check = add(
        "check",
        help="validate scenarios and test their [[expect]] entries",
        description="Validate each scenario and test its [[expect]] entries.",
        epilog=BATCH_EPILOG,
    )
    check.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO", help=SCENARIO_HELP)
    _run_options(check)
    check.set_defaults(func=_cmd_check)

    show = add("show", help="print the resolved scenario (after extends, in USD)")
    show.add_argument("scenario", type=Path, metavar="SCENARIO")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_cmd_show)
    return parser


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--paths",
        type=_paths,
        help="paths to simulate (default: the scenario's [simulation] paths, else 200,000)",
    )
    p.add_argument("--seed", type=_seed, help="root seed (default: the scenario's)")
    p.add_argument("--sampler", type=_sampler, help="random, lhs or sobol")
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="local worker processes (with --scheduler local, the LocalCluster's)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the blocks on a dask.distributed cluster: a scheduler's address "
        "(tcp://host:8786), or 'local' to start a LocalCluster of --workers processes; "
        'needs pip install "ipo-sim[distributed]"',
    )
    p.add_argument(
        "--precision",
        type=float,
        help="stop once every target probability's 95%% half-width is below this "
        "(--paths is then the cap)",
    )
    p.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress bar (nor, in a batch, progress lines)",
    )


def _paths(text: str) -> int:
    from sim.scenario import MAX_PATHS

    value = _positive_int(text)
    if value > MAX_PATHS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_PATHS:,} paths, got {text!r}")
    return value


#: The largest root seed: the scenario's [simulation] seed has the same bound (a signed
#: 64-bit integer, what other tools reading summary.json can hold).
MAX_SEED = 2**63 - 1


def _seed(text: str) -> int:
    value = _non_negative_int(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to 2^63 - 1 = {MAX_SEED:,}, got {text!r}"
        )
    return value


def _out(text: str) -> Path:
    # Path("") is Path("."): the run would write its folders into the working directory.
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"expected a folder path (reports/, or . for this folder), got {text!r}"
        )
    return Path(text)


def _sampler(text: str) -> str:
    # Checked here rather than by argparse's choices: those would import the scenario
    # module (scipy) for every command, `--help` too.
    from sim.scenario import SAMPLERS

    if text not in SAMPLERS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(SAMPLERS)}, got {text!r}")
    return text


def _positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (1 or more), got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer, 0 or more, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


# --------------------------------------------------------------------------- commands


def _simulate(scenario: Scenario, args: argparse.Namespace) -> Result:
    from sim.run.engine import simulate
    from sim.run.sampling import BLOCK_SIZE

    paths = args.paths if args.paths is not None else scenario.simulation.paths
    seed = args.seed if args.seed is not None else scenario.simulation.seed
    sampler = args.sampler or scenario.simulation.sampler
    client, workers = None, args.workers
    if getattr(args, "cluster", None) is not None:
        client, workers = args.cluster.client()
    try:
        with _bar(scenario.name, "path", quiet=args.quiet, total=paths) as bar:
            result = simulate(
                scenario,
                paths,
                seed=seed,
                sampler=sampler,
                workers=workers,
                precision=args.precision,
                progress=None if bar is None else bar.update,
                client=client,
            )
    except ScenarioError as err:
        # A refusal the run makes (a table beyond double precision): name the file, as
        # the loader's refusals do.
        if scenario.source is None:
            raise
        raise err.with_file(str(scenario.source)) from None
    if client is None and result.workers < args.workers and not args.quiet:
        print(
            f"ipo-sim: note: {scenario.name} ran on {_count(result.workers, 'worker process')}"
            f", not {args.workers}: at most one per block of {BLOCK_SIZE:,} paths and one "
            "per processor",
            file=sys.stderr,
        )
    return result


def _formats(text: str, allowed: Sequence[str] = FORMATS) -> list[str]:
    """``--format``'s list, ``json`` first; one line naming the option for a bad one."""
    try:
        return check_formats(text.split(","), allowed)
    except SimError as err:
        raise SimError(f"--format: {err} (got {text!r})") from None


#: A batch's exit codes, worst last, as its closing line names them.
_OUTCOMES = {0: "ok", 1: "expectation failed", 2: "bad input", INTERNAL_ERROR: "internal error"}


def _scenario_files(arguments: Sequence[Path]) -> tuple[list[Path], bool]:
    """The scenario files the command line names, and whether they are a batch.

    A folder stands for its ``*.toml`` files in name order (not those of its sub-folders;
    a file that only serves as another's ``extends`` base is a scenario too). A batch is
    a folder or more than one file: each of its files is run whatever happens to the
    others. A folder without one is bad input.
    """
    files: list[Path] = []
    for arg in arguments:
        if arg.is_dir():
            found = sorted((p for p in arg.glob("*.toml") if p.is_file()), key=lambda p: p.name)
            if not found:
                raise SimError(f"{arg}: no scenario files (*.toml) in this folder")
            files.extend(found)
        else:
            files.append(arg)
    return files, len(files) > 1 or any(a.is_dir() for a in arguments)


class _Batch:
    """The files of one ``run`` or ``check``: each is tried whatever befell the others.

    A file's failure (bad input 2, an internal error 3) is reported as one line naming
    the file, and the batch goes on; the exit code is the worst file's (3 > 2 > 1 > 0).
    With one file (not a batch) an error propagates as it always did.
    """

    def __init__(self, args: argparse.Namespace, files: list[Path], several: bool) -> None:
        self.args = args
        self.files = files
        self.several = several
        self.codes: dict[Path, int] = {}

    def attempt(self, path: Path, step: Callable[[], _T]) -> _T | None:
        """``step()``, or None after reporting its error (in a batch)."""
        if not self.several:
            return step()
        try:
            return step()
        except BrokenPipeError:
            raise
        except Exception as err:
            self.fail(path, _report_error(err, self.args, str(path)))
            return None

    def fail(self, path: Path, code: int) -> None:
        self.codes[path] = max(self.codes.get(path, 0), code)

    def progress(self, path: Path, verb: str) -> None:
        """One line on stderr as a file of a batch starts (not with --quiet)."""
        if self.several and not self.args.quiet:
            i = self.files.index(path) + 1
            print(f"ipo-sim: {verb} {i}/{len(self.files)}: {path}", file=sys.stderr, flush=True)

    def finish(self) -> int:
        """The worst exit code; a batch closes with a line that counts its outcomes."""
        worst = max(self.codes.values(), default=0)
        if self.several and (worst or not self.args.quiet):
            parts = []
            # Files, then a step of the whole batch that failed (the comparison).
            steps = [*self.files, *(p for p in self.codes if p not in self.files)]
            for code, what in _OUTCOMES.items():
                hit = [p for p in steps if self.codes.get(p, 0) == code]
                if hit and code:
                    parts.append(f"{len(hit)} {what} ({', '.join(p.name for p in hit)})")
                elif hit:
                    parts.append(f"{len(hit)} {what}")
            print(
                f"ipo-sim: {_count(len(self.files), 'scenario file')}: {', '.join(parts)}"
                f"; exit code {worst}",
                file=sys.stderr,
            )
        return worst


def _load_all(batch: _Batch) -> list[tuple[Path, Scenario]]:
    """The batch's scenarios that load (a file that does not is reported and left out)."""
    from sim.scenario import load_scenario

    loaded = []
    for path in batch.files:
        scenario = batch.attempt(path, partial(load_scenario, path))
        if scenario is not None:
            loaded.append((path, scenario))
    return loaded


def _cmd_run(args: argparse.Namespace) -> int:
    formats = _formats(args.format)
    batch = _Batch(args, *_scenario_files(args.scenarios))
    loaded = _load_all(batch)
    names = _distinct_names([s for _, s in loaded])
    if loaded:
        from sim.studies.compare import order_by_reference, reference_index

        # The reference runs first: it is the comparison's first column and colour.
        loaded = order_by_reference(loaded, reference_index(names, args.reference))
        names = [s.name for _, s in loaded]
    if len(loaded) > 1 and COMPARISON in names:
        raise SimError(
            f"a scenario named {COMPARISON!r} would share its folder with the comparison "
            "report; give it a different [scenario] name"
        )
    check_out(args.out, [*names, *([COMPARISON] if len(loaded) > 1 else [])])
    results: list[Result] = []
    summaries: list[Summary] = []
    for i, (path, scenario) in enumerate(loaded):
        batch.progress(path, "run")
        done = batch.attempt(
            path, partial(_run_one, scenario, args, formats, i, several=len(loaded) > 1)
        )
        if done is None:
            continue
        if done[1].failed:
            batch.fail(path, 1)
        results.append(done[0])
        summaries.append(done[1])
    if len(results) > 1:
        batch.attempt(
            args.out / COMPARISON,
            partial(_comparison, results, summaries, args.out, formats, args.units),
        )
    return batch.finish()


def _run_one(
    scenario: Scenario,
    args: argparse.Namespace,
    formats: list[str],
    colour: int,
    several: bool = False,
) -> tuple[Result, Summary]:
    """Simulate one scenario, write its folder (:func:`sim.output.run_folder.write_run`, with
    ``summary.txt``, the text printed after a run) and print its summary: whole, or in one
    line in a batch (``several``)."""
    from sim.money import reporting_currency
    from sim.output.run_folder import write_run

    with _lazy_bar(f"{scenario.name}: report", "file", quiet=args.quiet) as tick:
        done = write_run(
            scenario,
            args.out,
            formats=formats,
            units=args.units,
            colour=colour,
            run=partial(_simulate, args=args),
            progress=tick,
        )
    wrote = f"wrote {_count(len(done.files), 'file')} to {done.folder}/"
    for w in done.summary.warnings:
        # On stderr as well as in the summary: a batch's one-line summaries omit them.
        print(f"ipo-sim: warning: {scenario.name}: {w.message}", file=sys.stderr)
    if several:
        # A batch: one line each (the full text is the folder's summary.txt), in the
        # scenario's reporting currency.
        with fmt.shown_in(reporting_currency(scenario)):
            print(_summary_line(done.summary, wrote))
    else:
        sys.stdout.write(done.text)
        print(f"  {wrote}")
    return done.result, done.summary


def _distinct_names(scenarios: list[Scenario]) -> list[str]:
    """The scenarios' names, which must differ: outputs and comparisons are keyed by them."""
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SimError(
            f"two scenarios share the name {dupes[0]!r}: their results would overwrite "
            "each other; give one a different [scenario] name"
        )
    return names


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim.analysis.summary import summarise
    from sim.scenario import load_scenario

    formats = _formats(args.format, NO_XLSX)
    args.scenarios = _scenario_files(args.scenarios)[0]
    scenarios = [load_scenario(p) for p in args.scenarios]
    if len(scenarios) < 2:
        raise SimError("compare needs at least two scenarios")
    from sim.studies.compare import order_by_reference, reference_index

    ref = reference_index(_distinct_names(scenarios), args.reference)
    # The reference first: its seed is the runs' and every difference is against it.
    scenarios = order_by_reference(scenarios, ref)
    args.scenarios = order_by_reference(args.scenarios, ref)
    check_out(args.out, [COMPARISON])
    # One seed, path count and sampler for all: the runs then share common random
    # numbers and their differences are measured path by path.
    first = scenarios[0].simulation
    args.seed = first.seed if args.seed is None else args.seed
    args.paths = first.paths if args.paths is None else args.paths
    args.sampler = args.sampler or first.sampler
    results = [_simulate(s, args) for s in scenarios]
    summaries = [summarise(r) for r in results]
    attribution = _attribution(args, summaries) if args.attribution_paths else ()
    _comparison(results, summaries, args.out, formats, args.units, attribution)
    return 0


def _attribution(args: argparse.Namespace, summaries: list[Summary]) -> tuple[Any, ...]:
    """Each later scenario's difference from the first, attributed to each differing key."""
    from sim.scenario import MAX_PATHS, resolve_raw
    from sim.studies.attribution import attribute
    from sim.studies.compare import shared_targets

    if args.attribution_paths > MAX_PATHS:
        raise SimError(
            f"--attribution-paths: expected at most {MAX_PATHS:,}, got {args.attribution_paths}"
        )
    first = resolve_raw(args.scenarios[0])
    out = []
    for i in range(1, len(args.scenarios)):
        pair = [s for j, s in enumerate(summaries) if j in (0, i)]
        targets = [t for t in shared_targets(pair) if _has_target(pair, t[1], t[2])]
        _status(
            f"attributing {summaries[i].run.scenario} - {summaries[0].run.scenario} "
            "to each key that differs",
            quiet=args.quiet,
        )
        out.append(
            attribute(
                first,
                resolve_raw(args.scenarios[i]),
                names=(summaries[0].run.scenario, summaries[i].run.scenario),
                source=args.scenarios[0],
                targets=targets,
                paths=args.attribution_paths,
                seed=args.seed,
                sampler=args.sampler,
            )
        )
    return tuple(out)


def _has_target(summaries: list[Summary], value: float, at: str) -> bool:
    from sim.studies.compare import target_p

    return all(target_p(s, value, at) is not None for s in summaries)


def _comparison(
    results: list[Result],
    summaries: list[Summary],
    out: Path,
    formats: list[str],
    units: UnitsChoice,
    attribution: tuple[Any, ...] = (),
) -> None:
    from dataclasses import replace

    from sim.money import batch_currency
    from sim.studies.compare import compare, write_comparison

    comparison = replace(compare(results, summaries), attribution=attribution)
    # Every amount in the reference's currency (the comparison's report says so too).
    with fmt.shown_in(batch_currency(r.scenario for r in results)):
        _print_comparison(comparison, sys.stdout)
    folder = out / COMPARISON
    written = write_outputs(
        folder,
        partial(write_comparison, results, summaries, comparison, formats=formats, units=units),
    )
    print(f"comparison: wrote {_count(len(written), 'file')} to {folder}/")


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario, resolve_raw
    from sim.studies.sweep import build_points, parse_set, run_sweep

    formats = _formats(args.format, NO_XLSX)
    if args.precision is not None:
        raise SimError(
            "--precision: a sweep runs every point with the same --paths, so that they pair "
            "up; give --paths instead"
        )
    keys = [parse_set(text) for text in args.sets]
    base = load_scenario(args.scenario)
    scenarios = build_points(
        resolve_raw(args.scenario), keys, source=args.scenario, own_name=base.name
    )
    folder_name = f"{base.name}-sweep"
    check_out(args.out, [folder_name])
    paths = args.paths if args.paths is not None else base.simulation.paths
    seed = args.seed if args.seed is not None else base.simulation.seed
    sampler = args.sampler or base.simulation.sampler
    args.paths, args.seed, args.sampler = paths, seed, sampler
    sweep = run_sweep(
        scenarios,
        keys,
        paths=paths,
        seed=seed,
        sampler=sampler,
        base=base,
        run=lambda s: _simulate(s, args),
    )
    _print_sweep(sweep, sys.stdout)
    folder = args.out / folder_name
    written = write_outputs(folder, partial(write_sweep_files, sweep, formats=formats))
    print(f"sweep: wrote {_count(len(written), 'file')} to {folder}/")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    batch = _Batch(args, *_scenario_files(args.scenarios))
    for path in batch.files:
        batch.progress(path, "check")
        code = batch.attempt(path, partial(_check_one, path, args))
        if code:
            batch.fail(path, code)
    return batch.finish()


def _check_one(path: Path, args: argparse.Namespace) -> int:
    """Check one file: 1 when an expectation failed, else 0."""
    from sim.analysis.summary import summarise
    from sim.money import reporting_currency
    from sim.scenario import load_scenario

    scenario = load_scenario(path)
    if not scenario.expectations:
        print(
            f"{path}: ok ({scenario.name}: {len(scenario.segments)} segments, "
            f"{len(scenario.shocks)} shocks, {len(scenario.targets)} targets)"
        )
        return 0
    result = _simulate(scenario, args)
    summary = summarise(result)
    print(
        f"{path}: {scenario.name}: {len(summary.expectations)} expectations, "
        f"{result.paths:,} paths"
    )
    # Thresholds, bounds and estimates in money are shown in the reporting currency, as
    # in the run's summary.txt.
    with fmt.shown_in(reporting_currency(scenario)):
        for o in summary.expectations:
            e, (lo, hi) = o.expectation, o.ci95
            print(
                f"  {o.status.upper():12s} {o.expectation.text}  "
                f"[estimate {e.statistic_text(o.estimate, 4)}, 95% "
                f"{e.statistic_text(lo, 4)} .. {e.statistic_text(hi, 4)}]"
            )
    if any(o.status == "inconclusive" for o in summary.expectations):
        print(
            "  inconclusive: the 95% interval straddles the bound; run with more --paths to decide"
        )
    return 1 if summary.failed else 0


def _cmd_show(args: argparse.Namespace) -> int:
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.json:
        print(json.dumps(scenario.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_scenario(scenario, sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
