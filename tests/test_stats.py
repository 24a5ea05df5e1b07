"""Streaming statistics: sketch accuracy and mergeability, moments, intervals."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim.stats import (
    QUANTILE_LEVELS,
    QuantileSketch,
    Stream,
    quantile_interval,
    quantiles,
    spearman,
    wilson_interval,
)


def test_sketch_quantiles_within_relative_error() -> None:
    rng = np.random.default_rng(101)
    x = rng.lognormal(20.0, 1.5, 100_000)
    sketch = QuantileSketch(alpha=1e-3)
    sketch.update(x)
    ordered = np.sort(x)
    for q in (0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999):
        rank = q * (len(x) - 1)
        lo, hi = ordered[math.floor(rank)], ordered[math.ceil(rank)]
        got = sketch.quantile(q)
        assert lo * (1 - 1e-3) <= got <= hi * (1 + 1e-3), q


def test_sketch_handles_negatives_and_zeros() -> None:
    x = np.array([-5.0, -1.0, 0.0, 0.0, 2.0, 10.0])
    sketch = QuantileSketch(alpha=1e-3)
    sketch.update(x)
    assert math.isclose(sketch.quantile(0.0), -5.0, rel_tol=1e-3)
    assert sketch.quantile(0.5) == 0.0
    assert math.isclose(sketch.quantile(1.0), 10.0, rel_tol=1e-3)


@given(
    st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=1, max_size=200),
    st.integers(0, 200),
)
def test_sketch_merge_equals_one_pass(values: list[float], cut: int) -> None:
    x = np.array(values)
    whole = QuantileSketch()
    whole.update(x)
    a, b = QuantileSketch(), QuantileSketch()
    a.update(x[:cut])
    b.update(x[cut:])
    a.merge(b)
    for q in (0.0, 0.3, 0.5, 0.9, 1.0):
        assert a.quantile(q) == whole.quantile(q)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=300), st.integers(1, 299)
)
def test_stream_moments_merge_exactly(values: list[float], cut: int) -> None:
    x = np.array(values)
    s = Stream((0.0,))
    s.update(x[:cut])
    s.update(x[cut:])
    assert s.n == len(x)
    assert math.isclose(s.mean, x.mean(), rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(s.sd, x.std(ddof=1), rel_tol=1e-6, abs_tol=1e-6)
    assert s.count_at_least(0.0) == int((x >= 0).sum())


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=20), st.integers(1, 10**6))
def test_wilson_interval_on_arrays_matches_the_scalar_form(ks: list[int], n: int) -> None:
    k = np.minimum(np.array(ks), n)
    lo, hi = wilson_interval(k, n)
    assert lo.shape == hi.shape == k.shape
    for i, kk in enumerate(k):
        assert (lo[i], hi[i]) == wilson_interval(int(kk), n)


def test_wilson_interval_broadcasts_and_covers_empty_samples() -> None:
    lo, hi = wilson_interval(np.array([0, 3, 10]), np.array([0, 10, 10]))
    assert (lo[0], hi[0]) == (0.0, 1.0) == wilson_interval(0, 0)
    assert (lo[1], hi[1]) == wilson_interval(3, 10)
    assert hi[2] == 1.0


@given(st.integers(0, 1000), st.integers(1, 1000))
def test_wilson_interval_contains_its_estimate(k: int, n: int) -> None:
    k = min(k, n)
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=5, max_size=300))
def test_quantiles_ordered_and_intervals_contain_estimates(values: list[float]) -> None:
    x = np.sort(np.array(values))
    qs = quantiles(x)
    levels = [qs[f"{q:g}"] for q in QUANTILE_LEVELS]
    assert levels == sorted(levels)
    for q in QUANTILE_LEVELS:
        lo, hi = quantile_interval(x, None, len(x), q)
        assert lo <= qs[f"{q:g}"] <= hi


def test_quantile_interval_is_unbounded_with_too_few_paths() -> None:
    assert quantile_interval(np.array([5.0]), None, 1, 0.5) == (-math.inf, math.inf)
    x = np.sort(np.random.default_rng(3).normal(size=50))
    lo, hi = quantile_interval(x, None, 50, 0.99)
    assert math.isfinite(lo) and hi == math.inf


def test_quantile_interval_covers_at_least_95_percent() -> None:
    """Coverage over replications, for small n where the normal approximation fails."""
    rng = np.random.default_rng(404)
    reps = 2000
    for n, q in ((20, 0.5), (100, 0.9), (400, 0.99)):
        samples = np.sort(rng.standard_normal((reps, n)), axis=1)
        truth = stats.norm.ppf(q)
        hits = [
            lo <= truth <= hi for lo, hi in (quantile_interval(s, None, n, q) for s in samples)
        ]
        cover = float(np.mean(hits))
        # The bound is >= 95 % by construction; allow 4 standard errors of the estimate.
        assert cover >= 0.95 - 4 * math.sqrt(0.95 * 0.05 / reps), (n, q, cover)


def test_sketch_quantile_interval_contains_the_exact_sample_quantile() -> None:
    x = np.random.default_rng(5).lognormal(0.0, 0.05, 400_000)
    sketch = QuantileSketch(alpha=1e-3)
    sketch.update(x)
    lo, hi = quantile_interval(None, sketch, x.size, 0.5)
    assert lo <= float(np.median(x)) <= hi


def _spearman_by_column(inputs: np.ndarray, output: np.ndarray) -> np.ndarray:
    """The column-by-column form the vectorised spearman replaced (the reference)."""
    ry = stats.rankdata(output)
    ry = (ry - ry.mean()) / (ry.std() or 1.0)
    out = np.empty(inputs.shape[1])
    for j in range(inputs.shape[1]):
        rx = stats.rankdata(inputs[:, j])
        sd = rx.std()
        out[j] = float(np.mean((rx - rx.mean()) / sd * ry)) if sd > 0 else math.nan
    return out


@given(
    n=st.integers(3, 400),
    k=st.integers(0, 6),
    seed=st.integers(0, 2**32 - 1),
    ties=st.booleans(),
)
def test_spearman_equals_the_column_by_column_ranks_bit_for_bit(
    n: int, k: int, seed: int, ties: bool
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k))
    y = x @ rng.standard_normal(k) + rng.standard_normal(n) if k else rng.standard_normal(n)
    if ties:
        x = np.round(x)
        y = np.round(y)
        if k:
            x[:, 0] = 1.0  # a constant input: NaN
    got = spearman(x, y)
    np.testing.assert_array_equal(got, _spearman_by_column(x, y))
    assert got.shape == (k,)


def test_binomial_ppf_is_scipys_at_the_intervals_levels() -> None:
    # The order statistics of quantile_interval, found without importing scipy.stats.
    from scipy.stats import binom

    from sim.stats import binomial_ppf

    rng = np.random.default_rng(11)
    ns = [*range(1, 120), *(int(n) for n in rng.integers(120, 20_000_000, 60))]
    ps = [0.0, 1e-7, 0.001, 0.025, 0.5, 0.975, 0.999, 1.0]
    for n in ns:
        for p in [*ps, *rng.random(3)]:
            for level in (0.025, 0.975):
                assert binomial_ppf(level, n, p) == int(binom.ppf(level, n, p)), (n, p, level)
