"""Blocks on a dask.distributed cluster: the same results as one process, the scenario sent
once, and the command line's ``--scheduler`` (a running scheduler's address, a bad one,
distributed not installed).

One LocalCluster of 2 processes serves the module (starting one takes a few seconds).
``distributed`` comes with the ``test`` extra, so CI runs these.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim.run.cluster
from sim.cli import main
from sim.errors import SimError
from sim.run.engine import simulate
from sim.run.sampling import BLOCK_SIZE
from sim.scenario import Scenario
from tests.builders import scenario
from tests.test_engine import SEGMENTS, _rich

distributed = pytest.importorskip("distributed")

SMALL = Path(__file__).parent / "data" / "small.toml"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_a_cluster_gives_the_one_process_result_bit_for_bit(client: Any) -> None:
    sc = _rich()
    paths = 3 * BLOCK_SIZE + 5
    one = simulate(sc, paths, seed=8, keep=2 * BLOCK_SIZE)
    res = simulate(sc, paths, seed=8, keep=2 * BLOCK_SIZE, client=client, workers=2)
    assert (res.backend, res.workers, one.backend) == ("dask", 2, "serial")
    assert res.paths == one.paths
    for name, s in one.streams.items():
        assert res.streams[name].mean == s.mean, name
        assert res.streams[name].sketch.quantile(0.9) == s.sketch.quantile(0.9), name
    assert res.checkpoints.tolist() == one.checkpoints.tolist()
    assert res.target_counts.tolist() == one.target_counts.tolist()
    assert np.array_equal(res.kept.values.equity, one.kept.values.equity)
    assert all(np.array_equal(res.kept.inputs[k], one.kept.inputs[k]) for k in one.kept.inputs)


def test_the_scenario_is_scattered_once_not_sent_with_each_block(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a client's executor each of the 6 block tasks pickled the whole scenario."""
    pickled: list[int] = []
    real = Scenario.__getstate__

    def counting(self: Scenario) -> object:
        pickled.append(1)
        return real(self)

    monkeypatch.setattr(Scenario, "__getstate__", counting)
    res = simulate(_rich(), 6 * BLOCK_SIZE, seed=5, client=client, workers=2)
    assert res.paths == 6 * BLOCK_SIZE
    assert len(pickled) == 1


def test_a_block_that_fails_on_the_cluster_stops_the_run_with_its_error(client: Any) -> None:
    multiple = {"dist": "triangular", "min": 0, "mode": 1e308, "max": 1.7e308}
    sc = scenario(segments=SEGMENTS, valuation={"year": 2026, "multiple": multiple})
    with pytest.raises(SimError, match="equity value overflowed"):
        simulate(sc, 2 * BLOCK_SIZE, seed=1, client=client, workers=2)


def test_run_with_a_scheduler_address_writes_the_serial_summary_and_the_backend(
    client: Any, tmp_path: Path
) -> None:
    address = client.scheduler.address
    base = ["run", str(SMALL), "--paths", "70000", "--seed", "3", "--format", "json", "-q"]
    assert main([*base, "--out", str(tmp_path / "one")]) == 0
    assert main([*base, "--out", str(tmp_path / "dask"), "--scheduler", address]) == 0
    one = json.loads((tmp_path / "one" / "small" / "summary.json").read_text())
    res = json.loads((tmp_path / "dask" / "small" / "summary.json").read_text())
    assert (one["backend"], one["workers"]) == ("serial", 1)
    assert (res["backend"], res["workers"]) == ("dask", 2)
    for d in (one, res):
        for key in ("elapsed_s", "backend", "workers"):
            d.pop(key)
    assert res == one


def test_a_scheduler_that_does_not_answer_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(sim.run.cluster, "CONNECT_TIMEOUT_S", 1)
    argv = ["run", str(SMALL), "--paths", "1000", "--format", "json", "--out", str(tmp_path)]
    assert main([*argv, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "--scheduler" in err and "tcp://127.0.0.1:1" in err
    assert not (tmp_path / "small").exists()


def test_scheduler_without_distributed_installed_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    argv = ["run", str(SMALL), "--paths", "1000", "--format", "json", "--out", str(tmp_path)]
    assert main([*argv, "--scheduler", "local"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert 'pip install "ipo-sim[distributed]"' in err


def test_a_local_clusters_workers_keep_glibcs_adaptive_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's
    # adaptive mmap threshold and slows every block about 1.3x; `--scheduler local` does
    # not, and keeps the rest of dask's worker environment (one BLAS thread).
    import os

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    cluster = sim.run.cluster.Cluster(sim.run.cluster.LOCAL, 1)
    try:
        client, threads = cluster.client()
        assert threads == 1
        assert list(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == [None]
        assert list(client.run(os.environ.get, "OMP_NUM_THREADS").values()) == ["1"]
    finally:
        cluster.close()


def _square(offset: int, task: int) -> int:
    return offset + task * task


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_tasks_batched_on_the_cluster_come_back_in_order(client: Any, batch: int) -> None:
    from sim.run.workers import run_tasks

    tasks = iter(range(20))
    outcomes = run_tasks(_square, 5, tasks, workers=2, executor=None, client=client, batch=batch)
    try:
        assert list(outcomes) == [5 + t * t for t in range(20)]
    finally:
        outcomes.close()


def test_a_cluster_task_runs_up_to_four_blocks_while_each_worker_gets_four_tasks() -> None:
    from sim.run.engine import _cluster_batch

    assert _cluster_batch(BLOCK_SIZE * 4, 2) == 1  # a small run: a block a task
    assert _cluster_batch(BLOCK_SIZE * 16, 2) == 2
    assert _cluster_batch(10_000_000, 2) == 4  # 153 blocks
    assert _cluster_batch(10_000_000, 64) == 1
