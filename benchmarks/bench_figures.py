"""Whole-job benchmark: the README's main command with and without the figures.

Run from the repository root::

    python benchmarks/bench_figures.py             # best of 3 of each, interleaved
    python benchmarks/bench_figures.py --repeat 5 --scenario scenarios/baseline.toml

Each run is a fresh ``python -m sim run SCENARIO`` (what ``ipo-sim run`` runs): once
with the default formats (JSON, CSV, the PDF and the PNGs) and once with
``--format json,csv``, interleaved so that the machine's load affects them alike. The
figure is the ratio of the best times (the design asks for at most 1.5x). Results are
printed and written to benchmarks/results/figures.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (best is kept)")
    parser.add_argument("--scenario", default="scenarios/baseline.toml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ipo-sim-bench-") as out:
        run = [sys.executable, "-m", "sim", "run", args.scenario, "--quiet", "--out", out]
        commands = {
            "with figures": run,
            "json,csv only": [*run, "--format", "json,csv"],
        }
        best = dict.fromkeys(commands, float("inf"))
        for _ in range(args.repeat):
            for name, argv in commands.items():
                best[name] = min(best[name], _seconds(argv))
    ratio = best["with figures"] / best["json,csv only"]
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processors": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "scenario": args.scenario,
        "repeat": args.repeat,
        "best_s": {k: round(v, 3) for k, v in best.items()},
        "ratio": round(ratio, 2),
    }
    for name, seconds in best.items():
        print(f"{name:14s} {seconds:6.2f} s")
    print(f"ratio          {ratio:6.2f}x  (bar: 1.5x)")
    out_file = ROOT / "benchmarks" / "results" / "figures.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
