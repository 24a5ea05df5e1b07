"""Engine benchmark: speed against the random-number floor and case by case; memory.

Run from the repository root::

    python benchmarks/bench_engine.py                 # 1e6 paths of scenarios/baseline.toml
    python benchmarks/bench_engine.py --paths 4000000 --memory --workers

Every figure is a ratio measured in one run (the machines are shared and noisy):

- floor ratio: the engine's time per path / the time numpy needs merely to draw the
  random numbers the model consumes (same bit generator, same counts, same kinds:
  uniforms for inverse-CDF inputs, normals for the yearly noise, gamma variates for
  Dirichlet shares);
- case-by-case ratio: the time per path of the same model run one path at a time (the
  way a case-by-case Monte Carlo library runs it) / the engine's time per path;
- memory: peak resident memory of whole runs at growing path counts (one process each);
- workers: the speed-up of 2 worker processes over 1;
- bit generators: SFC64 against PCG64 and float32 against float64 draws.

Results are printed and written to benchmarks/results/engine.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.model.core import DIRICHLET, NORMAL, SCALAR, evaluate, inputs  # noqa: E402
from sim.run.engine import simulate  # noqa: E402
from sim.run.sampling import BLOCK_SIZE, input_rng  # noqa: E402
from sim.scenario import Scenario, load_scenario  # noqa: E402


def best_of(repeats: int, fn: Any) -> float:
    """The fastest of ``repeats`` timings: the least disturbed by other load."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor_draws(scenario: Scenario, paths: int, seed: int) -> None:
    """Draw exactly the random numbers the model consumes, and nothing else."""
    specs = inputs(scenario)
    marginals = scenario.scalar_inputs()
    for block in range(math.ceil(paths / BLOCK_SIZE)):
        n = min(BLOCK_SIZE, paths - block * BLOCK_SIZE)
        for spec in specs:
            if spec.kind == SCALAR and marginals[spec.name].is_fixed:
                continue
            rng = input_rng(seed, block, spec.name)
            if spec.kind == DIRICHLET:
                # One scalar-shape call per component: numpy's fastest way to draw them.
                for shape in spec.alpha:
                    if shape > 0:
                        rng.standard_gamma(shape, size=n)
            elif spec.kind == NORMAL:
                rng.standard_normal((n, spec.dim))
            else:
                rng.random((n, spec.dim))


def case_by_case(scenario: Scenario, cases: int, seed: int) -> None:
    """The same model, one path per call: each case draws its own inputs and is evaluated."""
    specs = inputs(scenario)
    marginals = scenario.scalar_inputs()
    rng = np.random.Generator(np.random.SFC64(seed))
    for _ in range(cases):
        draws: dict[str, np.ndarray] = {}
        for spec in specs:
            if spec.kind == SCALAR:
                draws[spec.name] = marginals[spec.name].ppf(rng.random(1))
            elif spec.kind == NORMAL:
                draws[spec.name] = rng.standard_normal((spec.dim, 1))
            elif spec.kind == DIRICHLET:
                draws[spec.name] = rng.dirichlet(np.maximum(spec.alpha, 1e-300))[:, None]
            else:
                draws[spec.name] = rng.random((spec.dim, 1))
        evaluate(scenario, draws)


def bit_generators(n: int = 4_000_000) -> dict[str, float]:
    """Seconds for n uniforms per generator and dtype."""
    out = {}
    for name, bitgen in (
        ("PCG64", np.random.PCG64),
        ("SFC64", np.random.SFC64),
        ("Philox", np.random.Philox),
    ):
        rng = np.random.Generator(bitgen(1))
        out[f"{name} float64"] = best_of(3, lambda r=rng: r.random(n))
        out[f"{name} float32"] = best_of(3, lambda r=rng: r.random(n, dtype=np.float32))
    rng = np.random.Generator(np.random.SFC64(1))
    out["SFC64 standard_normal"] = best_of(3, lambda: rng.standard_normal(n))
    out["SFC64 standard_gamma(2)"] = best_of(3, lambda: rng.standard_gamma(2.0, n))
    return out


MEMORY_CHILD = """
import resource, sys
sys.path.insert(0, {root!r})
from sim.run.engine import simulate
from sim.scenario import load_scenario
s = load_scenario({scenario!r})
simulate(s, {paths}, seed=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mib(scenario_path: Path, paths: int) -> float:
    code = MEMORY_CHILD.format(root=str(ROOT), scenario=str(scenario_path), paths=paths)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20250618)
    parser.add_argument(
        "--cases", type=int, default=1_000, help="paths for the case-by-case timing"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also measure peak memory at 0.25x, 1x and 4x --paths",
    )
    parser.add_argument("--workers", action="store_true", help="also time 2 workers against 1")
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    paths = args.paths
    simulate(scenario, BLOCK_SIZE, seed=args.seed)  # warm caches and imports

    # Interleave engine and floor timings so that both see the same machine load.
    engine_s = floor_s = math.inf
    for _ in range(args.repeats):
        engine_s = min(engine_s, best_of(1, lambda: simulate(scenario, paths, seed=args.seed)))
        floor_s = min(floor_s, best_of(1, lambda: floor_draws(scenario, paths, args.seed)))
    cases_s = best_of(1, lambda: case_by_case(scenario, args.cases, args.seed))
    engine_per_path = engine_s / paths
    report: dict[str, Any] = {
        "scenario": str(args.scenario.relative_to(ROOT))
        if args.scenario.is_relative_to(ROOT)
        else str(args.scenario),
        "paths": paths,
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}",
        "engine_s": engine_s,
        "engine_paths_per_s": paths / engine_s,
        "floor_s": floor_s,
        "floor_ratio": engine_s / floor_s,
        "case_by_case_paths_per_s": args.cases / cases_s,
        "case_by_case_ratio": (cases_s / args.cases) / engine_per_path,
        "bit_generators_s_per_4M": bit_generators(),
    }
    if args.workers:
        # Enough blocks that pool start-up and shipping the kept arrays back amortise.
        big = max(paths, 4_000_000)
        one = best_of(1, lambda: simulate(scenario, big, seed=args.seed, workers=1))
        two = best_of(1, lambda: simulate(scenario, big, seed=args.seed, workers=2))
        report["workers"] = {"paths": big, "1_s": one, "2_s": two, "speedup_2": one / two}
    if args.memory:
        report["peak_rss_mib"] = {
            str(n): peak_rss_mib(args.scenario, n) for n in (paths // 4, paths, 4 * paths)
        }

    print(f"scenario {report['scenario']}, {paths:,} paths, one core ({report['machine']})")
    print(f"  engine            {report['engine_paths_per_s']:>12,.0f} paths/s ({engine_s:.2f} s)")
    print(f"  random floor      {paths / floor_s:>12,.0f} paths/s ({floor_s:.2f} s)")
    print(f"  floor ratio       {report['floor_ratio']:>12.2f}x  (engine time / draw time)")
    print(
        f"  case by case      {report['case_by_case_paths_per_s']:>12,.0f} paths/s "
        f"-> engine is {report['case_by_case_ratio']:,.0f}x faster"
    )
    for name, secs in report["bit_generators_s_per_4M"].items():
        print(f"  {name:<24s} {4e6 / secs / 1e6:8.1f} M values/s")
    if "workers" in report:
        w = report["workers"]
        print(f"  2 workers vs 1    {w['speedup_2']:>12.2f}x on {w['paths']:,} paths")
    if "peak_rss_mib" in report:
        for n, mib in report["peak_rss_mib"].items():
            print(f"  peak RSS at {int(n):>11,} paths: {mib:8.1f} MiB")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
