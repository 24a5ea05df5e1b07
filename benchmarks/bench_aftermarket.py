"""Aftermarket benchmark: the engine's time with ``[aftermarket]`` against without it.

Run from the repository root::

    python benchmarks/bench_aftermarket.py               # 400,000 paths, best of 3
    python benchmarks/bench_aftermarket.py --paths 1000000

Both runs are the same scenario (scenarios/baseline.toml, which has an ``[aftermarket]``)
at the same seed, once as shipped and once with the table and its targets removed; the
ratio (on / off) is measured in one process, the runs interleaved, the best of each kept
(the machines are shared and noisy). The quality bar is a ratio of at most 1.5.
Results are printed and written to benchmarks/results/aftermarket.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.run.engine import simulate  # noqa: E402
from sim.scenario import Scenario, build_scenario, load_scenario, resolve_raw  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"


def without_aftermarket(scenario: Scenario) -> Scenario:
    """The same scenario without ``[aftermarket]`` and the targets that need it."""
    raw = copy.deepcopy(dict(resolve_raw(BASELINE)))
    raw.pop("aftermarket", None)
    for regime in raw.get("regimes", []):
        regime.pop("aftermarket", None)
    later = ("day1", "end", "peak")
    raw["targets"] = [t for t in raw.get("targets", []) if t.get("at", "fair") not in later]
    needs = (*(f"market_value.{at}" for at in later), "first_day_return")
    raw["expect"] = [e for e in raw.get("expect", []) if str(e["metric"]) not in needs]
    return build_scenario(raw, source=BASELINE, own_name=scenario.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--paths", type=int, default=400_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    on = load_scenario(BASELINE)
    if on.aftermarket is None:
        raise SystemExit("scenarios/baseline.toml has no [aftermarket]")
    off = without_aftermarket(on)
    times: dict[str, list[float]] = {"on": [], "off": []}
    simulate(off, 10_000, seed=1)  # warm imports and caches
    for _ in range(args.repeats):
        for label, sc in (("off", off), ("on", on)):
            start = time.perf_counter()
            simulate(sc, args.paths, seed=1)
            times[label].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in times.items()}
    ratio = best["on"] / best["off"]
    out = {
        "paths": args.paths,
        "seconds_off": best["off"],
        "seconds_on": best["on"],
        "ratio_on_off": ratio,
        "bar": 1.5,
    }
    print(
        f"{args.paths:,} paths: aftermarket off {best['off']:.2f} s, on {best['on']:.2f} s, "
        f"ratio {ratio:.3f} (bar 1.5)"
    )
    folder = ROOT / "benchmarks" / "results"
    folder.mkdir(exist_ok=True)
    (folder / "aftermarket.json").write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
