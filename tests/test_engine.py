"""The engine's reproducibility contract: keyed streams, prefixes, common random numbers."""

from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim.run.engine
from sim.analysis.summary import summarise
from sim.errors import SimError
from sim.run.engine import simulate
from sim.run.sampling import BLOCK_SIZE, _connected, input_rng, name_key
from sim.scenario import MAX_PATHS, Correlation, Scenario, load_scenario
from sim.stats import spearman
from tests.builders import scenario

SHOCKS = [
    {
        "name": "k1",
        "regions": ["X"],
        "annual_probability": {"dist": "beta", "a": 2, "b": 8},
        "severity": {"dist": "uniform", "min": 0.1, "max": 0.6},
        "recovery_years": {"dist": "triangular", "min": 0.5, "mode": 1, "max": 3},
    },
]
SEGMENTS = [
    {
        "name": "a",
        "revenue": {"dist": "lognormal", "p50": "10M", "p90": "14M"},
        "growth": {"dist": "lognormal", "p50": 0.8, "p90": 1.3},
        "volatility": 0.2,
        "fade": 0.7,
        "regions": {"X": 0.6, "Y": 0.4},
        "region_concentration": 30,
    },
    {
        "name": "b",
        "revenue": "5M",
        "growth": {"dist": "metalog", "p10": 0.1, "p50": 0.5, "p90": 1.2, "lower": -1},
        "regions": {"Y": 1.0},
    },
]
VALUATION = {
    "year": 2026,
    "multiple": {"dist": "lognormal", "p50": 20, "p90": 40},
    "net_cash": {"dist": "normal", "mean": "5M", "sd": "1M"},
}
TARGETS = [{"label": "t1", "value": "300M"}, {"label": "t2", "value": "600M"}]


def _rich(**extra: object) -> Scenario:
    return scenario(
        segments=SEGMENTS, shocks=SHOCKS, valuation=VALUATION, targets=TARGETS, **extra
    )


def test_same_inputs_same_results() -> None:
    sc = _rich()
    a = simulate(sc, 70_000, seed=5)
    b = simulate(sc, 70_000, seed=5)
    assert np.array_equal(a.kept.values.equity, b.kept.values.equity)
    assert summarise(a).equity == summarise(b).equity
    c = simulate(sc, 70_000, seed=6)
    assert not np.array_equal(a.kept.values.equity, c.kept.values.equity)


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol"])
def test_first_n_paths_of_a_bigger_run_equal_an_n_path_run(sampler: str) -> None:
    sc = _rich()
    small = simulate(sc, 70_001, seed=9, sampler=sampler)
    big = simulate(sc, 2 * BLOCK_SIZE + 5, seed=9, sampler=sampler)
    n = small.paths
    assert np.array_equal(big.kept.values.equity[:n], small.kept.values.equity)
    assert np.array_equal(big.kept.values.revenue[:n], small.kept.values.revenue)
    for name, values in small.kept.inputs.items():
        assert np.array_equal(big.kept.inputs[name][:n], values)


def test_adding_a_shock_leaves_every_other_input_unchanged() -> None:
    base = _rich()
    extra_shock = {
        "name": "new",
        "regions": ["Y"],
        "annual_probability": 0.1,
        "severity": {"dist": "beta", "a": 2, "b": 5},
        "recovery_years": "permanent",
    }
    more = scenario(
        segments=SEGMENTS, shocks=[*SHOCKS, extra_shock], valuation=VALUATION, targets=TARGETS
    )
    a = simulate(base, 20_000, seed=3)
    b = simulate(more, 20_000, seed=3)
    for name, values in a.kept.inputs.items():
        assert np.array_equal(b.kept.inputs[name], values), name
    assert "shocks.new.severity" in b.kept.inputs
    # Common random numbers: the new shock can only lower value, path by path.
    assert np.all(b.kept.values.equity <= a.kept.values.equity + 1e-6)
    assert np.any(b.kept.values.equity < a.kept.values.equity)


def test_results_do_not_depend_on_worker_count() -> None:
    sc = _rich()
    one = simulate(sc, 3 * BLOCK_SIZE, seed=4, workers=1)
    three = simulate(sc, 3 * BLOCK_SIZE, seed=4, workers=3)
    assert np.array_equal(one.kept.values.equity, three.kept.values.equity)
    s1, s3 = summarise(one), summarise(three)
    for field in ("equity", "targets", "revenue", "concentration", "shocks"):
        assert getattr(s1, field) == getattr(s3, field), field


def test_streams_are_keyed_by_name_not_order() -> None:
    assert name_key("segments.a.growth") == name_key("segments.a.growth")
    assert name_key("segments.a.growth") != name_key("segments.b.growth")
    x = input_rng(1, 0, "a").random(4)
    assert np.array_equal(x, input_rng(1, 0, "a").random(4))
    assert not np.array_equal(x, input_rng(1, 1, "a").random(4))


def test_streaming_counts_match_kept_arrays_when_everything_is_kept() -> None:
    sc = _rich()
    res = simulate(sc, 100_000, seed=8)
    assert res.exact
    val = res.streams["valuation"]
    for t in sc.targets:
        assert val.count_at_least(t.value_usd) == int(
            (res.kept.values.equity >= t.value_usd).sum()
        )
    assert val.mean == pytest.approx(res.kept.values.equity.mean(), rel=1e-12)
    assert res.target_counts[-1].tolist() == [
        int((res.kept.values.equity >= t.value_usd).sum()) for t in sc.targets
    ]


def test_keep_cap_bounds_the_exact_arrays_and_switches_to_the_sketch() -> None:
    sc = _rich()
    res = simulate(sc, 2 * BLOCK_SIZE, seed=8, keep=1000)
    assert res.kept.n == 1000 and not res.exact
    summary = summarise(res)
    assert summary.run.quantile_method == "sketch"
    q = summary.equity.quantiles
    full = simulate(sc, 2 * BLOCK_SIZE, seed=8)
    ordered = np.sort(full.kept.values.equity)
    rank = 0.5 * (len(ordered) - 1)
    alpha = res.streams["valuation"].sketch.alpha
    # The sketch's guarantee: within alpha of a value at the requested rank.
    lo, hi = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    assert lo * (1 - alpha) <= q.median <= hi * (1 + alpha)


def test_precision_stops_early_and_deterministically() -> None:
    sc = _rich()
    a = simulate(sc, 40 * BLOCK_SIZE, seed=2, precision=0.01)
    b = simulate(sc, 40 * BLOCK_SIZE, seed=2, precision=0.01, workers=2)
    assert a.stopped_by_precision and a.paths < 40 * BLOCK_SIZE
    assert a.paths == b.paths
    for t in summarise(a).targets:
        assert (t.ci95[1] - t.ci95[0]) / 2 < 0.01


def test_correlated_inputs_reach_the_requested_rank_correlation() -> None:
    rho = 0.6
    sc = _rich(
        correlations=[{"between": ["segments.a.growth", "valuation.multiple"], "spearman": rho}]
    )
    res = simulate(sc, 100_000, seed=21)
    x = np.stack([res.kept.inputs["segments.a.growth"]], axis=1)
    r = float(spearman(x, res.kept.inputs["valuation.multiple"])[0])
    n = res.paths
    # Standard error of Spearman's rho ~ (1 - rho^2) / sqrt(n); 4 of them.
    assert abs(r - rho) <= 4 * (1 - rho**2) / np.sqrt(n)


def test_baseline_runs_and_all_samplers_agree_within_error(baseline_path: object) -> None:
    sc = load_scenario(baseline_path)  # type: ignore[arg-type]
    means = {}
    for sampler in ("random", "lhs", "sobol"):
        res = simulate(sc, BLOCK_SIZE, seed=31, sampler=sampler)
        s = res.streams["valuation"]
        means[sampler] = (s.mean, s.se)
    m_r, se_r = means["random"]
    for sampler in ("lhs", "sobol"):
        m, se = means[sampler]
        assert abs(m - m_r) <= 4 * np.hypot(se, se_r), sampler


def test_a_correlation_between_other_inputs_leaves_correlated_draws_unchanged() -> None:
    pair = {"between": ["segments.a.growth", "valuation.multiple"], "spearman": 0.5}
    other = {"between": ["shocks.k1.severity", "shocks.k1.recovery_years"], "spearman": -0.6}
    a = simulate(_rich(correlations=[pair]), 20_000, seed=41)
    b = simulate(_rich(correlations=[pair, other]), 20_000, seed=41)
    for name in ("segments.a.growth", "valuation.multiple", "segments.b.growth"):
        assert np.array_equal(a.kept.inputs[name], b.kept.inputs[name]), name


def test_a_correlated_input_stays_close_to_its_own_draws() -> None:
    """The symmetric root keeps each correlated normal near the input's own normal."""
    rho = 0.4
    plain = simulate(_rich(), 50_000, seed=42)
    pair = {"between": ["segments.a.growth", "valuation.multiple"], "spearman": rho}
    linked = simulate(_rich(correlations=[pair]), 50_000, seed=42)
    for name in ("segments.a.growth", "valuation.multiple"):
        x = np.stack([plain.kept.inputs[name]], axis=1)
        r = float(spearman(x, linked.kept.inputs[name])[0])
        assert r > 0.9, (name, r)


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol"])
def test_three_correlations_reach_their_rank_correlations(sampler: str) -> None:
    names = ["segments.a.growth", "segments.b.growth", "valuation.multiple"]
    rhos = {(0, 1): 0.5, (0, 2): 0.3, (1, 2): -0.2}
    sc = _rich(
        correlations=[
            {"between": [names[i], names[j]], "spearman": r} for (i, j), r in rhos.items()
        ]
    )
    res = simulate(sc, 100_000, seed=43, sampler=sampler)
    for (i, j), rho in rhos.items():
        x = np.stack([res.kept.inputs[names[i]]], axis=1)
        r = float(spearman(x, res.kept.inputs[names[j]])[0])
        assert abs(r - rho) <= 4 * (1 - rho**2) / np.sqrt(res.paths), (i, j, r)


def test_blocks_are_planned_as_they_are_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of 10^12 paths must not build all of its 15 million blocks up front."""
    made: list[int] = []
    real = sim.run.engine._Task

    def counting(*args: object) -> object:
        made.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sim.run.engine, "_Task", counting)
    res = simulate(_rich(), 1000 * BLOCK_SIZE, seed=3, precision=0.49)
    assert res.stopped_by_precision and res.paths == BLOCK_SIZE
    assert len(made) <= 2


@pytest.mark.parametrize("workers", [1, 2])
def test_paths_beyond_the_cap_are_refused(workers: int) -> None:
    with pytest.raises(SimError, match="at most 1,000,000,000,000"):
        simulate(_rich(), MAX_PATHS + 1, seed=3, workers=workers)


def test_result_records_the_worker_processes_that_ran() -> None:
    sc = _rich()
    assert simulate(sc, 1000, seed=1, workers=1000).workers == 1  # one block
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert simulate(sc, 3 * BLOCK_SIZE, seed=1, workers=1000).workers == min(3, cpus or 1)


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="workers see the patch when forked"
)
def test_an_error_in_a_worker_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(scenario: object, task: object) -> object:
        raise SimError("block failed in a worker")

    monkeypatch.setattr(sim.run.engine, "_run_block", broken)
    with pytest.raises(SimError, match="block failed in a worker") as info:
        simulate(_rich(), 3 * BLOCK_SIZE, seed=1, workers=2)
    assert "Traceback" in str(info.value.__cause__)


def test_the_scenario_is_sent_to_each_worker_once_not_with_each_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each block task used to carry the whole scenario (2.4 MB for the baseline)."""
    pickled: list[int] = []
    real = Scenario.__getstate__

    def counting(self: Scenario) -> object:
        pickled.append(1)
        return real(self)

    monkeypatch.setattr(Scenario, "__getstate__", counting)
    sc = _rich()
    res = simulate(sc, 6 * BLOCK_SIZE, seed=5, workers=2)
    assert res.workers == 2
    # Forked workers inherit it (no pickling); spawned ones receive it once each.
    assert len(pickled) <= res.workers
    monkeypatch.setattr(Scenario, "__getstate__", real)
    one = simulate(sc, 6 * BLOCK_SIZE, seed=5, workers=1)
    assert res.target_counts.tolist() == one.target_counts.tolist()
    assert np.array_equal(res.kept.values.equity, one.kept.values.equity)


def test_an_executor_of_the_callers_own_gives_the_same_result() -> None:
    sc = _rich()
    one = simulate(sc, 3 * BLOCK_SIZE + 5, seed=8, keep=2 * BLOCK_SIZE)
    with ThreadPoolExecutor(max_workers=2) as pool:
        res = simulate(sc, 3 * BLOCK_SIZE + 5, seed=8, keep=2 * BLOCK_SIZE, executor=pool)
    assert res.paths == one.paths
    assert res.streams["valuation"].mean == one.streams["valuation"].mean
    assert res.checkpoints.tolist() == one.checkpoints.tolist()
    assert res.target_counts.tolist() == one.target_counts.tolist()
    assert np.array_equal(res.kept.values.equity, one.kept.values.equity)
    assert all(np.array_equal(res.kept.inputs[k], one.kept.inputs[k]) for k in one.kept.inputs)


def _groups_by_union_find(pairs: list[tuple[str, str]]) -> list[tuple[str, ...]]:
    """The hand-written union-find the copula's grouping replaced (the reference)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a0, b0 in pairs:
        a, b = root(a0), root(b0)
        parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for name in sorted(parent):
        groups.setdefault(root(name), []).append(name)
    return [tuple(g) for g in groups.values()]


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefghij"), st.sampled_from("abcdefghij")).filter(
            lambda p: p[0] != p[1]
        ),
        max_size=12,
    )
)
def test_copula_groups_are_the_connected_inputs_in_name_order(
    pairs: list[tuple[str, str]],
) -> None:
    correlations = [Correlation(p, 0.1) for p in pairs]
    assert _connected(correlations) == _groups_by_union_find(pairs)
