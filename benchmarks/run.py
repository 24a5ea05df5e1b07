"""The benchmark suite: every design bar (DESIGN.md section 8) measured in one command.

Run from the repository root::

    python -m benchmarks.run --markdown docs/benchmarks.md            # all (~10 min)
    python -m benchmarks.run --markdown docs/benchmarks.md --quick    # memory up to 10^7
    python -m benchmarks.run --no-cluster                             # without dask

It measures, each once (the machines are shared: ratios are taken within one run):

- the engine against the random-number floor (bench_engine.floor_draws), 10^6 paths;
- the engine against the same model case by case: one path per call (as a case-by-case
  Monte Carlo library runs it), the same model in monaco when an interpreter with monaco
  is given (``--monaco-python``, or this one has it; skipped with a message otherwise),
  and the model as a plain per-path Python loop (benchmarks/per_path.py, on the scenario
  of tests/test_per_path.py, which the loop covers);
- 2 worker processes against 1 (2 x 10^6 paths) and a dask LocalCluster of 2 processes
  against the process pool of 2 at 10^7 paths (needs ``ipo-sim[distributed]``);
- peak resident memory (ru_maxrss of the run's process and of its largest worker) at
  10^6, 10^7 and 10^8 paths, each in a fresh process with 2 workers;
- ``ipo-sim --help`` and ``ipo-sim show`` against ``python -c "import numpy"``.

The result is a markdown table with the date and the machine, each bar met or missed by
how much, printed and, with ``--markdown FILE``, written there.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.bench_aftermarket import without_aftermarket
from benchmarks.bench_engine import best_of, case_by_case, floor_draws
from benchmarks.per_path import equity_per_path
from sim.report.write import _idle_processors
from sim.run.engine import simulate
from sim.run.sampling import BLOCK_SIZE
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SEED = 20250618


@dataclass(frozen=True)
class Row:
    measure: str
    figure: str
    bar: str
    verdict: str


def _higher(value: float, bar: float) -> str:
    """Verdict for a figure that should be at least ``bar``."""
    return (
        "met"
        if value >= bar
        else f"missed: {value / bar:.2f} of the bar ({bar / value:.1f}x short)"
    )


def _lower(value: float, bar: float) -> str:
    """Verdict for a figure that should be at most ``bar``."""
    return "met" if value <= bar else f"missed by {value / bar:.2f}x"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


MEMORY_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from sim.run.engine import simulate
from sim.scenario import load_scenario
s = load_scenario({scenario!r})
start = time.perf_counter()
client = cluster = None
if {cluster!r}:
    from sim.run.cluster import LOCAL, Cluster  # the cluster `--scheduler local` starts
    cluster = Cluster(LOCAL, {workers})
    client = cluster.client()[0]
    start = time.perf_counter()
r = simulate(s, {paths}, seed=1, workers={workers}, client=client)
seconds = time.perf_counter() - start
if cluster is not None:
    cluster.close()
print(json.dumps({{"seconds": seconds, "backend": r.backend,
    "self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}))
"""


def _child(paths: int, *, workers: int, cluster: bool = False) -> dict[str, float]:
    """Run ``paths`` paths of the baseline in a fresh process: seconds and peak memory."""
    code = MEMORY_CHILD.format(
        root=str(ROOT), scenario=str(BASELINE), paths=paths, workers=workers, cluster=cluster
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{model}, {os.cpu_count()} cores (load average {load:.1f} at the start), "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def engine_rows(cases: int, monaco_python: str | None) -> list[Row]:
    scenario = load_scenario(BASELINE)
    paths = 1_000_000
    simulate(scenario, BLOCK_SIZE, seed=SEED)  # warm imports and caches
    engine_s = floor_s = float("inf")
    for _ in range(2):  # interleaved, so that both see the same load
        engine_s = min(engine_s, _timed(lambda: simulate(scenario, paths, seed=SEED)))
        floor_s = min(floor_s, _timed(lambda: floor_draws(scenario, paths, SEED)))
    per_path = engine_s / paths
    rows = [
        Row(
            "engine, baseline, 10^6 paths, one process",
            f"{paths / engine_s / 1e6:.2f} M paths/s",
            "",
            "",
        ),
        Row(
            "floor ratio (engine time / numpy drawing the same random numbers)",
            f"{engine_s / floor_s:.2f}x",
            "at most 1.5x",
            _lower(engine_s / floor_s, 1.5),
        ),
    ]
    _say(f"engine {engine_s:.2f} s, floor {floor_s:.2f} s")
    cases_s = best_of(1, lambda: case_by_case(scenario, cases, SEED))
    ratio = cases_s / cases / per_path
    rows.append(
        Row(
            f"case by case, one path per call ({cases:,} cases) / engine",
            f"{ratio:,.0f}x",
            "at least 1000x",
            _higher(ratio, 1000),
        )
    )
    rows.append(_monaco_row(monaco_python, per_path))

    from tests.builders import scenario as build
    from tests.test_engine import SEGMENTS
    from tests.test_per_path import SHOCKS, VALUATION

    small = build(segments=SEGMENTS, shocks=SHOCKS, valuation=VALUATION)
    loop_paths = 5_000
    loop_s = _timed(lambda: equity_per_path(small, loop_paths, seed=1))
    small_s = min(_timed(lambda: simulate(small, paths, seed=1)) for _ in range(2))
    ratio = loop_s / loop_paths / (small_s / paths)
    rows.append(
        Row(
            "plain per-path Python loop of the model (benchmarks/per_path.py; "
            "tests/test_per_path.py's scenario) / engine",
            f"{ratio:,.0f}x",
            "at least 1000x",
            _higher(ratio, 1000),
        )
    )
    _say(f"case by case {cases_s:.2f} s, loop {loop_s:.2f} s")
    return rows


def _monaco_row(monaco_python: str | None, per_path: float) -> Row:
    measure = "the same model in monaco, case by case (200 cases) / engine"
    python = monaco_python
    if python is None and importlib.util.find_spec("monaco") is not None:
        python = sys.executable
    if python is None:
        _say(
            "monaco: skipped (not installed here; pip install monaco into a separate "
            "environment and pass --monaco-python ENV/bin/python)"
        )
        return Row(measure, "skipped: monaco not installed", "at least 1000x", "not measured")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [python, str(ROOT / "benchmarks" / "monaco_case.py"), str(BASELINE), "200"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = got["seconds"] / got["cases"] / per_path
    _say(f"monaco {got['seconds']:.2f} s for {got['cases']} cases")
    return Row(measure, f"{ratio:,.0f}x", "at least 1000x", _higher(ratio, 1000))


def parallel_rows(cluster: bool) -> tuple[list[Row], dict[str, float]]:
    scenario = load_scenario(BASELINE)
    paths = 2_000_000
    one = two = float("inf")
    for _ in range(2):  # best of 2, interleaved: both see the same machine
        one = min(one, _timed(lambda: simulate(scenario, paths, seed=SEED, workers=1)))
        two = min(two, _timed(lambda: simulate(scenario, paths, seed=SEED, workers=2)))
    _say(f"2 x 10^6 paths: 1 worker {one:.2f} s, 2 workers {two:.2f} s")
    rows = [
        Row(
            "2 worker processes / 1, 2 x 10^6 paths (best of 2)",
            f"{one / two:.2f}x",
            "at least 1.8x",
            _higher(one / two, 1.8),
        )
    ]
    pool = _child(10_000_000, workers=2)
    _say(f"10^7 paths, process pool of 2: {pool['seconds']:.1f} s")
    if not cluster:
        rows.append(
            Row("LocalCluster / process pool, 10^7 paths", "skipped (--no-cluster)", "", "")
        )
        return rows, pool
    if importlib.util.find_spec("distributed") is None:
        _say('LocalCluster: skipped (pip install "ipo-sim[distributed]")')
        rows.append(
            Row("LocalCluster / process pool, 10^7 paths", "skipped: no distributed", "", "")
        )
        return rows, pool
    dask = _child(10_000_000, workers=2, cluster=True)
    # Best of 2 of each, interleaved (the first pool run also serves the memory rows).
    again = _child(10_000_000, workers=2)
    if again["seconds"] < pool["seconds"]:
        pool = {**pool, "seconds": again["seconds"]}
    dask_again = _child(10_000_000, workers=2, cluster=True)
    dask = min(dask, dask_again, key=lambda r: r["seconds"])
    _say(f"10^7 paths, LocalCluster of 2: {dask['seconds']:.1f} s")
    ratio = dask["seconds"] / pool["seconds"]
    rows.append(
        Row(
            "LocalCluster of 2 processes / process pool of 2, 10^7 paths (time, best of 2; "
            "cluster start-up excluded)",
            f"{ratio:.2f}x ({dask['seconds']:.1f} s / {pool['seconds']:.1f} s)",
            "within 10% (at most 1.10x)",
            _lower(ratio, 1.10),
        )
    )
    return rows, pool


def memory_rows(quick: bool, at_1e7: dict[str, float]) -> list[Row]:
    sizes = [1_000_000, 10_000_000] + ([] if quick else [100_000_000])
    peaks: dict[int, float] = {}
    rows = []
    for n in sizes:
        got = at_1e7 if n == 10_000_000 else _child(n, workers=2)
        parent, worker = got["self_kib"] / 1024, got["children_kib"] / 1024
        peaks[n] = parent + worker
        _say(
            f"10^{len(str(n)) - 1} paths: {got['seconds']:.1f} s, {parent:.0f} + {worker:.0f} MiB"
        )
        rows.append(
            Row(
                f"peak memory at 10^{len(str(n)) - 1} paths, 2 workers (run + largest worker)",
                f"{parent:.0f} + {worker:.0f} MiB ({got['seconds']:.0f} s)",
                "",
                "",
            )
        )
    top = max(sizes)
    ratio = peaks[top] / peaks[1_000_000]
    rows.append(
        Row(
            f"peak memory 10^{len(str(top)) - 1} / 10^6 paths",
            f"{ratio:.2f}x",
            "at most 1.5x (10^8 / 10^6)",
            _lower(ratio, 1.5) + ("" if top == 100_000_000 else " (up to 10^7 only: --quick)"),
        )
    )
    return rows


def startup_rows() -> list[Row]:
    commands = {
        "numpy": [sys.executable, "-c", "import numpy"],
        "--help": [sys.executable, "-m", "sim", "--help"],
        "show": [sys.executable, "-m", "sim", "show", str(BASELINE)],
    }
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(3):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            best[name] = min(best[name], time.perf_counter() - start)
    rows = []
    for name in ("--help", "show"):
        ratio = best[name] / best["numpy"]
        rows.append(
            Row(
                f'`ipo-sim {name}` / `python -c "import numpy"` (best of 3)',
                f"{ratio:.2f}x",
                "at most 2x",
                _lower(ratio, 2.0),
            )
        )
    return rows


def job_rows() -> list[Row]:
    """The whole job: the README's main command with and without the figures (best of 2
    of each, interleaved), and the engine with the aftermarket on against it off."""
    with tempfile.TemporaryDirectory(prefix="ipo-sim-bench-") as out:
        run = [sys.executable, "-m", "sim", "run", str(BASELINE), "--quiet", "--out", out]
        commands = {"figures": run, "data": [*run, "--format", "json,csv"]}
        best = dict.fromkeys(commands, float("inf"))
        drawing = _idle_processors()  # what the first run with figures will draw with
        for _ in range(2):
            for name, argv in commands.items():
                best[name] = min(best[name], _timed(partial(_quiet_run, argv)))
    figures = best["figures"] / best["data"]
    on = load_scenario(BASELINE)
    off = without_aftermarket(on)
    simulate(off, 10_000, seed=1)  # warm imports and caches
    times = {"on": float("inf"), "off": float("inf")}
    for _ in range(2):
        for label, sc in (("off", off), ("on", on)):
            times[label] = min(times[label], _timed(partial(simulate, sc, 400_000, seed=1)))
    aftermarket = times["on"] / times["off"]
    return [
        Row(
            "main job with the PDF and PNGs / `--format json,csv` (baseline, best of 2)",
            f"{figures:.2f}x ({best['figures']:.1f} s / {best['data']:.1f} s; pages drawn by "
            f"{drawing} process{'es' if drawing > 1 else ''})",
            "at most 1.5x",
            _lower(figures, 1.5),
        ),
        Row(
            "engine with `[aftermarket]` / without (baseline, 4x10^5 paths, best of 2)",
            f"{aftermarket:.2f}x",
            "at most 1.5x (issue 11)",
            _lower(aftermarket, 1.5),
        ),
    ]


def _quiet_run(argv: list[str]) -> None:
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def markdown(rows: list[Row], command: str, machine: str, started: datetime.datetime) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine}, by `{command}`, each figure "
        "from one run, or the best of the runs its row names (the machine is shared: a "
        "figure can move by 20% or more between runs). "
        "The bars are DESIGN.md section 8's.",
        "",
        "| measure | figure | design bar | verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r.measure} | {r.figure} | {r.bar} | {r.verdict} |" for r in rows]
    return "\n".join(lines) + "\n"


README = ROOT / "README.md"
README_START = (
    "<!-- benchmarks: python -m benchmarks.run --markdown docs/benchmarks.md --readme -->"
)
README_END = "<!-- end benchmarks -->"


def into_readme(table: str, readme: Path = README) -> None:
    """Put ``table`` (the markdown without its title) between the README's markers."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END)
    body = table.split("\n", 2)[2].strip()  # drop "# Benchmarks" and its blank line
    text = text[: start + len(README_START)] + "\n" + body + "\n" + text[end:]
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", type=Path, help="write the table to this file")
    parser.add_argument(
        "--readme", action="store_true", help="also put the table in README.md (its markers)"
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="measure nothing: put the table of this earlier --markdown file in README.md",
    )
    parser.add_argument("--quick", action="store_true", help="memory up to 10^7 paths only")
    parser.add_argument("--no-cluster", action="store_true", help="skip the LocalCluster run")
    parser.add_argument("--cases", type=int, default=1_000, help="case-by-case paths")
    parser.add_argument("--monaco-python", help="an interpreter with monaco installed")
    args = parser.parse_args(argv)
    if args.source is not None:
        into_readme(args.source.read_text(encoding="utf-8"))
        return 0
    started = datetime.datetime.now(datetime.UTC)
    machine = _machine()
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    # The whole job first, while the machine is as quiet as it will be: the report draws
    # its pages in parallel only where the load average leaves processors idle, and the
    # engine and memory runs below raise it for minutes.
    job = job_rows()
    rows = engine_rows(args.cases, args.monaco_python)
    more, at_1e7 = parallel_rows(not args.no_cluster)
    rows += more
    rows += memory_rows(args.quick, at_1e7)
    rows += startup_rows()
    rows += job
    text = markdown(rows, command.strip(), machine, started)
    print(text)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text, encoding="utf-8")
    if args.readme:
        into_readme(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
