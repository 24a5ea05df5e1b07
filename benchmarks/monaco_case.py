"""The same model in monaco, case by case: the library a Python user would otherwise pick.

Run by ``python -m benchmarks.run`` with an interpreter that has monaco (``pip install
monaco`` into the benchmark's own environment: monaco is no dependency of ipo-sim)::

    PYTHONPATH=. python benchmarks/monaco_case.py scenarios/baseline.toml 200

Each monaco case draws the scenario's scalar inputs as monaco input variables (uniforms,
mapped through the scenario's own quantile functions), its yearly noise, events and
regional shares from the case's seed, and evaluates :func:`sim.model.core.evaluate` on that
one path. Prints ``{"cases": N, "seconds": S}`` as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sim.model.core import DIRICHLET, NORMAL, SCALAR, evaluate, inputs
from sim.scenario import load_scenario


def main(argv: list[str]) -> int:
    import monaco as mc  # type: ignore[import-not-found]
    from scipy.stats import uniform

    scenario = load_scenario(Path(argv[0]))
    cases = int(argv[1])
    specs = inputs(scenario)
    marginals = scenario.scalar_inputs()
    scalar = [s.name for s in specs if s.kind == SCALAR]

    def preprocess(case: Any) -> tuple[dict[str, np.ndarray]]:
        rng = np.random.default_rng(case.seed)
        draws: dict[str, np.ndarray] = {}
        for spec in specs:
            if spec.kind == SCALAR:
                u = np.array([case.invals[spec.name].val])
                draws[spec.name] = marginals[spec.name].ppf(u)
            elif spec.kind == NORMAL:
                draws[spec.name] = rng.standard_normal((spec.dim, 1))
            elif spec.kind == DIRICHLET:
                draws[spec.name] = rng.dirichlet(np.maximum(spec.alpha, 1e-300))[:, None]
            else:
                draws[spec.name] = rng.random((spec.dim, 1))
        return (draws,)

    def run(draws: dict[str, np.ndarray]) -> tuple[float]:
        return (float(evaluate(scenario, draws).equity[0]),)

    def postprocess(case: Any, equity: float) -> None:
        case.addOutVal("equity", equity)

    sim = mc.Sim(
        name="ipo-sim",
        ndraws=cases,
        fcns={"preprocess": preprocess, "run": run, "postprocess": postprocess},
        seed=1,
        singlethreaded=True,
        verbose=False,
    )
    for name in scalar:
        sim.addInVar(name=name, dist=uniform, distkwargs={"loc": 0.0, "scale": 1.0})
    start = time.perf_counter()
    sim.runSim()
    seconds = time.perf_counter() - start
    print(json.dumps({"cases": cases, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
