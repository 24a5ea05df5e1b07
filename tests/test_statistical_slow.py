"""Heavy statistical checks (run with ``pytest -m slow``): many paths, tight tolerances.

Each tolerance is a multiple of the estimate's standard error; each test has its own seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.run.engine import simulate
from sim.run.sampling import BLOCK_SIZE
from tests.builders import scenario

pytestmark = pytest.mark.slow


def test_lognormal_value_tail_probabilities_at_two_million_paths() -> None:
    n = 2_000_000
    mu, sigma = math.log(12.0), 0.5
    values = (100e6, 270e6, 600e6)
    targets = [{"label": f"t{i}", "value": v} for i, v in enumerate(values)]
    sc = scenario(
        segments=[{"name": "a", "revenue": "10M", "growth": 0.5, "regions": {"X": 1.0}}],
        valuation={"year": 2026, "multiple": {"dist": "lognormal", "mu": mu, "sigma": sigma}},
        targets=targets,
    )
    res = simulate(sc, n, seed=1001)
    assert not res.exact  # past the exact-array cap: counts come from the streams
    value = stats.lognorm(s=sigma, scale=10e6 * 1.5**2 * math.exp(mu))
    for v in values:
        p = float(value.sf(v))
        p_hat = res.streams["valuation"].count_at_least(v) / n
        assert abs(p_hat - p) <= 4 * math.sqrt(p * (1 - p) / n)
    # The sketch's median is within its relative error of the true median (plus the
    # sampling error of a median, sd ~ 1.2533 sigma_x / sqrt(n) in relative terms).
    median = res.streams["valuation"].sketch.quantile(0.5)
    rel_se = 1.2533 * sigma / math.sqrt(n)
    assert abs(median / value.median() - 1) <= res.streams["valuation"].sketch.alpha + 4 * rel_se


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_stratified_samplers_reduce_variance_of_the_mean(sampler: str) -> None:
    """Over independent replications, stratified means vary less than random ones."""
    sc = scenario(
        segments=[
            {
                "name": "a",
                "revenue": "10M",
                "growth": {"dist": "lognormal", "p50": 0.5, "p90": 1.0},
                "regions": {"X": 1.0},
            }
        ],
        valuation={"year": 2026, "multiple": {"dist": "lognormal", "p50": 20, "p90": 40}},
    )
    reps = 40

    def means(kind: str) -> np.ndarray:
        return np.array(
            [
                simulate(sc, BLOCK_SIZE, seed=2000 + r, sampler=kind, keep=0)
                .streams["valuation"]
                .mean
                for r in range(reps)
            ]
        )

    var_random = means("random").var(ddof=1)
    var_strat = means(sampler).var(ddof=1)
    # F test at the 0.1% level that the stratified variance is the smaller.
    assert var_strat / var_random < stats.f.ppf(0.001, reps - 1, reps - 1)
