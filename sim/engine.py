"""The engine: blocks of paths, keyed random streams, workers, streaming statistics.

A run cuts its paths into blocks of :data:`sim.sampling.BLOCK_SIZE`. Each block is drawn
from streams keyed by (seed, block, input name), evaluated by the model, and summarised
into mergeable statistics; blocks merge in block order. Hence the results depend only on
(scenario, paths, seed, sampler): never on the number of workers.

Memory is bounded by the block: beyond the exact-array cap (``keep``) only streaming
statistics grow, and those are of fixed size.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import pickle
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from sim import metrics
from sim.errors import ScenarioError, SimError
from sim.model import DIRICHLET, SCALAR, InputSpec, PathValues, evaluate, inputs
from sim.sampling import BLOCK_SIZE, Copula, block_draws
from sim.scenario import MAX_PATHS, SAMPLERS, Scenario
from sim.stats import Stream, wilson_interval

__all__ = ["CHECKPOINT", "DEFAULT_KEEP", "Kept", "Result", "simulate"]

FloatArray = npt.NDArray[np.float64]
#: Paths kept as exact arrays (for plots, exact quantiles and sensitivity) by default.
DEFAULT_KEEP = 4 * BLOCK_SIZE
#: Target counts are recorded every CHECKPOINT paths for the convergence plot.
CHECKPOINT = 4_096
#: Paths the model evaluates at once (small enough for its arrays to stay in cache).
EVAL_CHUNK = 8_192


@dataclass(frozen=True, slots=True, eq=False)
class Kept:
    """Exact per-path arrays for the first ``n`` paths of the run (see PathValues)."""

    n: int
    equity: FloatArray
    equity_unshocked: FloatArray
    revenue: FloatArray
    segment_revenue: FloatArray
    region_shares: FloatArray
    hhi: FloatArray
    top_region_share: FloatArray
    multiple: FloatArray
    shock_any: npt.NDArray[np.bool_]
    value_per_share: FloatArray | None
    inputs: dict[str, FloatArray]


@dataclass(frozen=True, slots=True, eq=False)
class Result:
    """Everything a run produced.

    Attributes
    ----------
    streams : dict of metric name -> Stream
        ``"valuation"``, ``"valuation_unshocked"``, ``"revenue.<year>"`` (base year too),
        ``"hhi"``, ``"top_region_share"`` and ``"value_per_share"``
        (with an offering); each with exact counts at its thresholds.
    shock_counts : (shocks,) paths with at least one event up to the valuation year.
    region_share_sums : (regions,) sums over all paths of the valuation-year shares.
    kept : the first ``kept.n`` paths as exact arrays.
    checkpoints : (C,) path counts at which ``target_counts`` (C, targets) were taken.
    """

    scenario: Scenario
    paths: int
    seed: int
    sampler: str
    elapsed_s: float
    streams: dict[str, Stream]
    shock_counts: npt.NDArray[np.int64]
    region_share_sums: FloatArray
    kept: Kept
    checkpoints: npt.NDArray[np.int64]
    target_counts: npt.NDArray[np.int64]
    stopped_by_precision: bool = False
    precision: float | None = None
    max_half_width: float = math.nan  # of the target probabilities, with ``precision``
    workers: int = 1

    @property
    def exact(self) -> bool:
        """True when every path was kept, so quantiles are exact sample quantiles."""
        return self.kept.n == self.paths


@dataclass(slots=True)
class _BlockOutcome:
    block: int
    n: int
    streams: dict[str, Stream]
    shock_counts: npt.NDArray[np.int64]
    region_share_sums: FloatArray
    target_counts: npt.NDArray[np.int64]  # (checkpoints in block, targets), cumulative
    kept: PathValues | None
    kept_inputs: dict[str, FloatArray] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class _Task:
    scenario: Scenario
    seed: int
    sampler: str
    block: int
    n: int
    keep: int  # how many of this block's paths to return as exact arrays


def _run_block(task: _Task) -> _BlockOutcome:
    scenario = task.scenario
    marginals = scenario.scalar_inputs()
    specs = inputs(scenario)
    # Overflow is expected with extreme inputs and is handled: the checks below stop the
    # run with a message naming the input or the stage, so numpy need not warn as well.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        draws = block_draws(
            specs,
            marginals,
            seed=task.seed,
            block=task.block,
            n=task.n,
            sampler=task.sampler,
            copula=Copula.from_correlations(scenario.correlations),
        )
        check_draws(scenario, specs, draws, block=task.block)
        values = _evaluate_chunked(scenario, draws, task.n)
        check_values(scenario, values, draws, block=task.block)
    thresholds = metrics.thresholds(scenario)
    streams: dict[str, Stream] = {}
    for name, x in metrics.streamed(scenario, values):
        stream = Stream(thresholds.get(name, ()))
        stream.update(x)
        streams[name] = stream
    targets = np.array([t.value_usd for t in scenario.targets])
    hits = values.equity[:, None] >= targets[None, :]
    marks = np.arange(CHECKPOINT, task.n + CHECKPOINT, CHECKPOINT).clip(max=task.n)
    cum = np.cumsum(hits, axis=0, dtype=np.int64)
    target_counts = cum[marks - 1] if task.n else np.zeros((0, len(targets)), dtype=np.int64)
    kept = None
    kept_inputs: dict[str, FloatArray] = {}
    # Block 0 always reports its (possibly empty) prefix, so the kept arrays have their
    # shapes even when nothing is kept.
    if task.keep > 0 or task.block == 0:
        k = task.keep
        kept = _prefix(values, k)
        kept_inputs = {name: draws[name][:k] for name, d in marginals.items() if not d.is_fixed}
    return _BlockOutcome(
        block=task.block,
        n=task.n,
        streams=streams,
        shock_counts=values.shock_any.sum(axis=0).astype(np.int64),
        region_share_sums=values.region_shares.sum(axis=0),
        target_counts=target_counts,
        kept=kept,
        kept_inputs=kept_inputs,
    )


def check_draws(
    scenario: Scenario,
    specs: Sequence[InputSpec],
    draws: Mapping[str, FloatArray],
    *,
    block: int,
) -> None:
    """Stop the run if a drawn input of a block is not finite.

    Loading refuses distributions whose quantile function is not finite where a draw can
    land (:func:`sim.distributions.parse_distribution`), so this is the safety net. Normal
    noise and event uniforms come from numpy's generators and are always finite; scalar
    inputs (through an inverse CDF) and Dirichlet shares (a ratio of gamma variates) are
    checked. One sum per input decides the common case.

    Raises
    ------
    ScenarioError
        Naming the input (``segments.talkie.revenue``), the paths and the block.
    """
    marginals = scenario.scalar_inputs()
    with np.errstate(over="ignore", invalid="ignore"):
        for spec in specs:
            if spec.kind not in (SCALAR, DIRICHLET):
                continue
            if spec.kind == SCALAR and marginals[spec.name].is_fixed:
                continue  # a finite constant, checked when loading
            x = draws[spec.name]
            # A finite sum means finite values; an infinite one may be a sum of finite
            # values that overflowed, which the exact check below lets through.
            if math.isfinite(float(np.add.reduce(x, axis=None))):
                continue
            bad = ~np.isfinite(x).reshape(-1, x.shape[-1]).all(axis=0)  # per path
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                example = x[first] if x.ndim == 1 else x[:, first]
                raise ScenarioError(
                    f"{int(bad.sum()):,} of the {x.shape[-1]:,} draws in block {block} are "
                    f"not finite (path {block * BLOCK_SIZE + first:,} drew {example}): the "
                    "distribution cannot be sampled in double precision; use less extreme "
                    "parameters",
                    path=spec.name,
                    file=_source(scenario),
                )


def check_values(
    scenario: Scenario,
    values: PathValues,
    draws: Mapping[str, FloatArray],
    *,
    block: int,
) -> None:
    """Stop the run if a model output of a block overflowed (or cannot be summarised).

    Every output the statistics read must be finite, and so must the sum of its squares
    (the streaming variance squares deviations). One dot product per streamed output
    decides the common case: it is finite exactly when both hold. (The multiple, the
    segments' revenue and the regional shares need no pass of their own: they are finite
    when the equity value, total revenue and the HHI are.) On a failure the first stage
    in the model's order that went wrong is named: a segment's revenue, total revenue,
    the regional shares, the multiple, the equity value, the value per share.

    Raises
    ------
    ScenarioError
        Naming the stage (with its key path), the paths, the block and the largest input
        on the first path that failed.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if all(math.isfinite(float(np.dot(x, x))) for _, x in metrics.streamed(scenario, values)):
            return
        for stage in _stages(scenario, values):
            _check_stage(scenario, draws, block, *stage)


def _stages(
    scenario: Scenario, values: PathValues
) -> Iterator[tuple[str, str, FloatArray, tuple[str, ...], bool]]:
    """The model's outputs in the order it computes them.

    Each as (key path, what it is, values (n, k), a label per column, whether the
    statistics square it).
    """
    years = tuple(f" in {y}" for y in (scenario.base_year, *scenario.years))
    one = ("",)
    for s, seg in enumerate(scenario.segments):
        yield f"segments.{seg.name}", "revenue", values.segment_revenue[:, s, :], years, False
    yield "segments", "total revenue", values.revenue, years, True
    yield "segments", "regional shares of revenue", values.region_shares, one, False
    yield "segments", "regional concentration (HHI)", values.hhi[:, None], one, True
    yield "valuation.multiple", "valuation multiple", values.multiple[:, None], one, False
    yield "valuation", "equity value", values.equity[:, None], one, True
    yield "valuation", "equity value without shocks", values.equity_unshocked[:, None], one, True
    if values.value_per_share is not None:
        yield "offering", "value per share", values.value_per_share[:, None], one, True


def _check_stage(
    scenario: Scenario,
    draws: Mapping[str, FloatArray],
    block: int,
    path: str,
    label: str,
    x: FloatArray,
    columns: tuple[str, ...],
    squared: bool,
) -> None:
    n = len(x)
    bad = ~np.isfinite(x)
    if bad.any():
        kind = "overflowed" if np.isinf(x[bad]).any() else "became NaN (an overflow upstream)"
    elif squared:
        # A sum of n squares overflows only if some square exceeds 1/n of the largest
        # double: those paths are the ones to blame.
        limit = math.sqrt(float(np.finfo(np.float64).max) / max(n, 1))
        bad = np.abs(x) > limit
        if not bad.any():
            return
        kind = f"reached {float(np.abs(x).max()):.3g}, too large for its statistics to square,"
    else:
        return
    column = int(np.flatnonzero(bad.any(axis=0))[0])
    paths = bad.any(axis=1)
    first = int(np.flatnonzero(paths)[0])
    where = columns[column] if len(columns) > 1 else ""
    name, value = _largest_input(scenario, draws, first)
    raise ScenarioError(
        f"the model's {label}{where} {kind} on {int(paths.sum()):,} of {n:,} paths of block "
        f"{block} (path {block * BLOCK_SIZE + first:,}: its largest input is {name} = "
        f"{value:.3g}): inputs too large",
        path=path,
        file=_source(scenario),
    )


def _largest_input(
    scenario: Scenario, draws: Mapping[str, FloatArray], i: int
) -> tuple[str, float]:
    """The scalar input with the largest magnitude on path ``i`` (the likely culprit)."""
    values = {name: float(draws[name][i]) for name in scenario.scalar_inputs()}
    name = max(values, key=lambda k: abs(values[k]) if math.isfinite(values[k]) else math.inf)
    return name, values[name]


def _source(scenario: Scenario) -> str | None:
    return str(scenario.source) if scenario.source is not None else None


def _evaluate_chunked(scenario: Scenario, draws: dict[str, FloatArray], n: int) -> PathValues:
    """The model over a block, in chunks of EVAL_CHUNK paths.

    The model is per path, so chunking changes no result; it keeps the working arrays in
    the processor's cache (about 1.8x faster than one pass over a whole block).
    """
    if n <= EVAL_CHUNK:
        return evaluate(scenario, draws)
    parts = [
        evaluate(scenario, {k: d[..., a : a + EVAL_CHUNK] for k, d in draws.items()})
        for a in range(0, n, EVAL_CHUNK)
    ]

    # Join along the path axis, keeping the model's path-last memory layout.
    # (x.T would reverse every axis and turn (n, S, H) into a strided (H, S, n) view.)
    return _combine(
        parts,
        lambda xs: np.moveaxis(
            np.concatenate([np.moveaxis(x, 0, -1) for x in xs], axis=-1), -1, 0
        ),
    )


def _combine(
    parts: list[PathValues], join: Callable[[list[npt.NDArray[Any]]], npt.NDArray[Any]]
) -> PathValues:
    """Apply ``join`` field by field to the arrays of ``parts`` (absent fields stay None)."""
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(PathValues):
        arrays = [getattr(p, f.name) for p in parts]
        fields[f.name] = None if arrays[0] is None else join(arrays)
    return PathValues(**fields)


def _prefix(values: PathValues, k: int) -> PathValues:
    return _combine([values], lambda xs: xs[0][:k])


def _max_half_width(counts: npt.NDArray[np.int64], n: int) -> float:
    widths = [(hi - lo) / 2 for lo, hi in (wilson_interval(int(c), n) for c in counts)]
    return max(widths, default=0.0)


def simulate(
    scenario: Scenario,
    paths: int,
    *,
    seed: int,
    sampler: str = "random",
    workers: int = 1,
    keep: int = DEFAULT_KEEP,
    precision: float | None = None,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> Result:
    """Run ``paths`` paths of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
    paths : int
        Paths to run; with ``precision``, the most paths to run.
    seed : int
        Root seed. Results depend only on (scenario, paths, seed, sampler).
    sampler : {"random", "lhs", "sobol"}
    workers : int
        Local processes to run blocks on (1 runs in this process); at most one per block
        and per processor are started, and ``Result.workers`` records how many were.
    keep : int
        Paths kept as exact arrays (a prefix of the run).
    precision : float, optional
        Stop at the first block after which every target probability's 95 % half-width
        is below this (or at ``paths``).
    progress : callable, optional
        Called with the number of paths just finished.
    executor : Executor, optional
        Runs the blocks (e.g. a dask.distributed client's executor); overrides ``workers``.

    Returns
    -------
    Result

    Raises
    ------
    SimError
        Invalid run settings.
    """
    if paths < 1:
        raise SimError(f"paths must be at least 1, got {paths}")
    if sampler not in SAMPLERS:
        raise SimError(f"unknown sampler {sampler!r}; expected one of {', '.join(SAMPLERS)}")
    if workers < 1:
        raise SimError(f"workers must be at least 1, got {workers}")
    if precision is not None and not 0 < precision < 0.5:
        raise SimError(f"precision must be in (0, 0.5), got {precision}")
    if precision is not None and not scenario.targets:
        raise SimError(
            "--precision is a bound on the target probabilities' intervals, and the scenario "
            "has no [[targets]]"
        )
    if seed < 0:
        raise SimError(f"seed must be non-negative, got {seed}")
    if paths > MAX_PATHS:
        raise SimError(f"paths must be at most {MAX_PATHS:,}, got {paths:,}")
    start = time.perf_counter()
    n_blocks = math.ceil(paths / BLOCK_SIZE)
    keep = min(keep, paths)
    if executor is None:
        # More processes than blocks or processors would only wait: record what ran.
        workers = min(workers, n_blocks, os.cpu_count() or 1)
    outcomes = _execute(_plan(scenario, paths, seed, sampler, keep), workers, executor)

    streams: dict[str, Stream] = {}
    shock_counts = np.zeros(len(scenario.shocks), dtype=np.int64)
    region_share_sums = np.zeros(len(scenario.regions))
    kept_parts: list[_BlockOutcome] = []
    checkpoints: list[npt.NDArray[np.int64]] = []
    target_counts: list[npt.NDArray[np.int64]] = []
    done = 0
    stopped = False
    half_width = math.nan
    try:
        for outcome in outcomes:
            for name, s in outcome.streams.items():
                streams.setdefault(name, Stream(s.thresholds)).merge(s)
            shock_counts += outcome.shock_counts
            region_share_sums += outcome.region_share_sums
            if outcome.kept is not None:
                kept_parts.append(outcome)
            marks = np.arange(CHECKPOINT, outcome.n + CHECKPOINT, CHECKPOINT).clip(max=outcome.n)
            running = target_counts[-1][-1] if target_counts else 0
            checkpoints.append(done + marks)
            target_counts.append(running + outcome.target_counts)
            done += outcome.n
            if progress is not None:
                progress(outcome.n)
            if precision is not None:
                val = streams["valuation"]
                counts = val.at_least[
                    [val.thresholds.index(t.value_usd) for t in scenario.targets]
                ]
                half_width = _max_half_width(counts, done)
                if half_width < precision:
                    stopped = done < paths
                    break
    finally:
        # Also on an error or Ctrl-C: cancel queued blocks and stop the worker processes.
        outcomes.close()

    kept = _join_kept(kept_parts)
    return Result(
        scenario=scenario,
        paths=done,
        seed=seed,
        sampler=sampler,
        elapsed_s=time.perf_counter() - start,
        streams=streams,
        shock_counts=shock_counts,
        region_share_sums=region_share_sums,
        kept=kept,
        checkpoints=np.concatenate(checkpoints),
        target_counts=np.concatenate(target_counts, axis=0),
        stopped_by_precision=stopped,
        precision=precision,
        max_half_width=half_width,
        workers=workers,
    )


def _plan(scenario: Scenario, paths: int, seed: int, sampler: str, keep: int) -> Iterator[_Task]:
    """The run's blocks in order, made one at a time as they are needed.

    A run of 10^12 paths has 15 million blocks: planning them up front would hold them
    all in memory before the first one ran.
    """
    for b in range(math.ceil(paths / BLOCK_SIZE)):
        yield _Task(
            scenario,
            seed,
            sampler,
            b,
            min(BLOCK_SIZE, paths - b * BLOCK_SIZE),
            max(0, min(BLOCK_SIZE, keep - b * BLOCK_SIZE)),
        )


class _Outcomes(Iterator[_BlockOutcome], Protocol):
    """Block outcomes in block order; ``close`` stops whatever still runs."""

    def close(self) -> None: ...


def _execute(tasks: Iterator[_Task], workers: int, executor: Executor | None) -> _Outcomes:
    if executor is not None:
        return _PoolOutcomes(tasks, executor, ahead=2 * max(workers, 1) + 2)
    if workers == 1:
        return (_run_block(t) for t in tasks)
    return _LocalPool(tasks, workers, ahead=2 * workers)


class _PoolOutcomes:
    """Block outcomes in block order from an executor (e.g. dask's), which the caller owns."""

    def __init__(self, tasks: Iterator[_Task], pool: Executor, ahead: int) -> None:
        self._tasks = tasks
        self._pool = pool
        self._pending: list[Any] = []
        self._ahead = ahead

    def __iter__(self) -> _PoolOutcomes:
        return self

    def __next__(self) -> _BlockOutcome:
        # Submit a bounded window so that memory stays bounded by a few blocks.
        while len(self._pending) < self._ahead:
            task = next(self._tasks, None)
            if task is None:
                break
            self._pending.append(self._pool.submit(_run_block, task))
        if not self._pending:
            raise StopIteration
        outcome: _BlockOutcome = self._pending.pop(0).result()
        return outcome

    def close(self) -> None:
        for f in self._pending:
            f.cancel()
        self._pending.clear()


#: Signals the parent process handles for a whole run (where the platform has them).
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP in this thread until the block is done.

    A held signal is delivered when the block ends, so nothing is lost; meanwhile the
    block cannot be cut short half-way (a worker started but not recorded, for one).
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover (Windows)
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (its ``__cause__``)."""


def _worker(conn: Connection, parent: int) -> None:
    """A worker process: run the blocks it is sent, one at a time, until told to stop."""
    # The parent handles Ctrl-C and a closed terminal for the whole run, and stops its
    # workers itself: a signal to the process group must not kill a worker mid-block
    # (a traceback each) nor leave the parent waiting for it. SIGTERM stays the way to
    # stop a worker. The parent started this process with these signals held.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    while True:
        # Wake up now and then: a worker whose parent was killed outright exits too.
        while not conn.poll(1.0):
            if os.getppid() != parent:
                return
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            reply: tuple[Any, ...] = (_run_block(task), None, "")
        except Exception as err:
            reply = (None, _portable(err), traceback.format_exc())
        try:
            conn.send(reply)
        except OSError:  # the parent is gone
            return


def _portable(err: Exception) -> Exception:
    """``err`` if it survives the trip to the parent process, else a stand-in naming it."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        stand_in = SimError if isinstance(err, SimError) else RuntimeError
        return stand_in(f"{type(err).__name__}: {err}")
    return err


class _LocalPool:
    """Worker processes of our own, one pipe each; block outcomes in block order.

    A process pool built on shared queues can hang when it is interrupted (a worker
    stopped while holding a queue's lock, an idle worker killed by the Ctrl-C that the
    parent is handling): here every worker has its own pipe, ignores the signals the
    parent handles, and is killed outright on ``close``, so an interrupted run stops
    within moments of the signal whatever the workers are doing.
    """

    def __init__(self, tasks: Iterator[_Task], workers: int, ahead: int) -> None:
        self._tasks = tasks
        self._ahead = ahead
        self._procs: list[multiprocessing.process.BaseProcess] = []
        self._conns: list[Connection] = []
        self._busy: dict[int, int] = {}  # worker -> the block it runs
        self._done: dict[int, _BlockOutcome] = {}  # finished blocks not yet handed out
        self._next = 0  # the block to hand out next
        self._queued: _Task | None = None
        ctx = multiprocessing.get_context()
        try:
            # Started with the signals held: a Ctrl-C in between would reach a worker
            # before it could ignore it.
            with _signals_held():
                for i in range(workers):
                    mine, theirs = ctx.Pipe()
                    proc = ctx.Process(
                        target=_worker,
                        args=(theirs, os.getpid()),
                        name=f"ipo-sim worker {i}",
                        daemon=True,
                    )
                    self._conns.append(mine)
                    proc.start()
                    self._procs.append(proc)
                    theirs.close()
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> _LocalPool:
        return self

    def __next__(self) -> _BlockOutcome:
        while self._next not in self._done:
            self._dispatch()
            if not self._busy:
                raise StopIteration
            for conn in wait([self._conns[i] for i in self._busy]):
                i = self._conns.index(conn)  # type: ignore[arg-type]
                self._receive(i)
        self._next += 1
        return self._done.pop(self._next - 1)

    def _dispatch(self) -> None:
        """Give each idle worker the next block, at most ``ahead`` blocks ahead."""
        for i in range(len(self._conns)):
            if i in self._busy:
                continue
            if self._queued is None:
                self._queued = next(self._tasks, None)
            task = self._queued
            if task is None or task.block >= self._next + self._ahead:
                return
            self._conns[i].send(task)
            self._busy[i] = task.block
            self._queued = None

    def _receive(self, i: int) -> None:
        block = self._busy.pop(i)
        try:
            outcome, err, text = self._conns[i].recv()
        except EOFError:
            proc = self._procs[i]
            proc.join(timeout=1)
            raise SimError(
                f"a worker process stopped unexpectedly while running block {block} "
                f"(exit code {proc.exitcode}; out of memory?)"
            ) from None
        if err is not None:
            raise err from _RemoteTraceback(text)
        self._done[block] = outcome

    def close(self) -> None:
        """Kill the workers, whatever they are doing (a Ctrl-C here is held until done)."""
        with _signals_held():
            for proc in self._procs:
                if proc.is_alive():
                    proc.kill()
            for proc in self._procs:
                proc.join()
            for conn in self._conns:
                conn.close()
            self._procs.clear()
            self._conns.clear()
            self._busy.clear()
            self._done.clear()


def _join_kept(parts: list[_BlockOutcome]) -> Kept:
    values = [p.kept for p in parts if p.kept is not None]
    joined = _combine(values, lambda xs: np.concatenate(xs, axis=0))
    fields = {f.name: getattr(joined, f.name) for f in dataclasses.fields(PathValues)}
    names = parts[0].kept_inputs.keys()
    return Kept(
        n=len(joined.equity),
        inputs={n: np.concatenate([p.kept_inputs[n] for p in parts]) for n in names},
        **fields,
    )
