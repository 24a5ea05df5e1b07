"""The engine against the model written as a plain per-path Python loop
(benchmarks/per_path.py): two independent implementations of DESIGN.md section 3 must
agree within their standard errors. With 12,000 loop paths, halving the shocks' multiple
hit in the loop moves its mean log equity by over 5 standard errors."""

from __future__ import annotations

import math

import numpy as np

from benchmarks.per_path import covers, equity_per_path
from sim.run.engine import simulate
from tests.builders import scenario
from tests.test_engine import SEGMENTS

SHOCKS = [
    {
        "name": "recovering",
        "regions": ["X"],
        "annual_probability": {"dist": "beta", "a": 2, "b": 6},
        "severity": {"dist": "uniform", "min": 0.2, "max": 0.7},
        "recovery_years": {"dist": "triangular", "min": 0.5, "mode": 1, "max": 3},
        "multiple_hit": 0.2,
    },
    {
        "name": "permanent",
        "regions": ["Y"],
        "annual_probability": 0.1,
        "severity": 0.3,
        "recovery_years": "permanent",
    },
]
VALUATION = {
    "year": 2026,
    "multiple": {"dist": "lognormal", "p50": 20, "p90": 40},
    "net_cash": {"dist": "normal", "mean": "5M", "sd": "1M"},
    "growth_elasticity": 0.8,
    "reference_growth": 0.3,
    "concentration_penalty": 1.5,
    "reference_hhi": 0.4,
}


def test_the_per_path_loop_and_the_engine_agree_within_standard_errors() -> None:
    sc = scenario(segments=SEGMENTS, shocks=SHOCKS, valuation=VALUATION)
    assert covers(sc)
    loop = np.array(equity_per_path(sc, 12_000, seed=11))
    kept = simulate(sc, 65_536, seed=12).kept.values
    engine = kept.equity
    # The means of log equity (equity > 0 here), and P(equity >= the engine's median),
    # each within 4 standard errors.
    log_loop, log_engine = np.log(loop), np.log(engine)
    se = math.sqrt(log_loop.var(ddof=1) / loop.size + log_engine.var(ddof=1) / engine.size)
    assert abs(log_loop.mean() - log_engine.mean()) < 4 * se, (log_loop.mean(), se)
    median = float(np.median(engine))
    p_loop, p_engine = float((loop >= median).mean()), float((engine >= median).mean())
    se_p = math.sqrt(p_loop * (1 - p_loop) / loop.size + p_engine * (1 - p_engine) / engine.size)
    assert abs(p_loop - p_engine) < 4 * se_p, (p_loop, p_engine, se_p)
    # The shocks matter here: without them the mean moves by many standard errors.
    assert abs(np.log(kept.equity_unshocked).mean() - log_loop.mean()) > 8 * se
