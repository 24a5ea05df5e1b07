"""Start-up benchmark: how long the fast commands take against importing numpy.

Run from the repository root::

    python benchmarks/bench_startup.py            # best of 5 of each, interleaved
    python benchmarks/bench_startup.py --repeat 9

Each command runs in a fresh interpreter (``python -m sim ...``, what the ``ipo-sim``
script runs), interleaved with ``python -c "import numpy"`` so that the machine's load
affects them alike; the figure is the ratio of the best times (the design asks for at
most 2x for ``ipo-sim --help``). Results are printed and written to
benchmarks/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS = {
    "import numpy": [sys.executable, "-c", "import numpy"],
    "ipo-sim --help": [sys.executable, "-m", "sim", "--help"],
    "ipo-sim show": [sys.executable, "-m", "sim", "show", "scenarios/baseline.toml"],
}


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each (best is kept)")
    args = parser.parse_args()
    best = dict.fromkeys(COMMANDS, float("inf"))
    for _ in range(args.repeat):
        for name, argv in COMMANDS.items():
            best[name] = min(best[name], _seconds(argv))
    base = best["import numpy"]
    report = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "repeat": args.repeat,
        "best_s": {k: round(v, 4) for k, v in best.items()},
        "ratio_to_numpy": {k: round(v / base, 2) for k, v in best.items() if k != "import numpy"},
    }
    for name, seconds in best.items():
        ratio = "" if name == "import numpy" else f"  {seconds / base:.2f}x numpy"
        print(f"{name:16s} {seconds * 1000:7.0f} ms{ratio}")
    out = ROOT / "benchmarks" / "results" / "startup.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
