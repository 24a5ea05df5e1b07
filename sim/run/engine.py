"""The engine: blocks of paths, keyed random streams, streaming statistics, precision.

A run cuts its paths into blocks of :data:`sim.run.sampling.BLOCK_SIZE`. Each block is drawn
from streams keyed by (seed, block, input name), evaluated by the model, checked
(:mod:`sim.run.checks`) and summarised into mergeable statistics; blocks merge in block
order. Hence the results depend only on (scenario, paths, seed, sampler): never on the
number of workers nor on where the blocks ran (:mod:`sim.run.workers`).

:func:`simulate` reads as its stages: check the arguments, plan the blocks (lazily),
run them, merge their outcomes (:class:`_Merge`) and stop early by the precision rule.
Memory is bounded by the block: beyond the exact-array cap (``keep``) only streaming
statistics grow, and those are of fixed size.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sim import metrics
from sim.distributions import Distribution
from sim.errors import InfeasibleDistribution, SimError
from sim.model.core import PathValues, evaluate, input_summaries, inputs
from sim.run.checks import check_draws, check_values
from sim.run.derived import Fan, KeptDcf, aftermarket_fan, implied_margins, kept_dcf
from sim.run.sampling import BLOCK_SIZE, Copula, block_draws
from sim.run.workers import run_tasks
from sim.scenario import MAX_PATHS, SAMPLERS, Scenario
from sim.stats import Stream, wilson_interval
from sim.valuation.both import Both
from sim.valuation.dcf import THIN_SPREAD, Dcf

__all__ = ["CHECKPOINT", "DEFAULT_KEEP", "Kept", "Result", "run_settings", "simulate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: Paths kept as exact arrays (for plots, exact quantiles and sensitivity) by default.
DEFAULT_KEEP = 4 * BLOCK_SIZE
#: Target counts are recorded every CHECKPOINT paths for the convergence plot.
CHECKPOINT = 4_096
#: Paths the model evaluates at once (small enough for its arrays to stay in cache).
EVAL_CHUNK = 8_192


@dataclass(frozen=True, slots=True, eq=False)
class Kept:
    """Exact per-path arrays for the first ``n`` paths of the run.

    Attributes
    ----------
    n : int
        Paths kept.
    values : PathValues
        The model's outputs for those paths (each array's first axis has length ``n``).
    inputs : dict of input name -> (n,) array
        The scalar inputs drawn on those paths (fixed inputs left out).
    summaries : dict of input name -> (n,) array
        Each multi-dimensional input (growth noise, Dirichlet shares) as one number per
        path (:func:`sim.model.core.input_summaries`), for the sensitivity analysis.
    dcf : KeptDcf or None
        With a DCF (method ``dcf`` or ``both``): its parts on these paths and its equity
        before limited liability (:func:`sim.run.derived.kept_dcf`), which the report's DCF
        page draws; set once the run is merged, ``None`` on a block's kept prefix.
    """

    n: int
    values: PathValues
    inputs: dict[str, FloatArray]
    summaries: dict[str, FloatArray] = dataclasses.field(default_factory=dict)
    dcf: KeptDcf | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Result:
    """Everything a run produced.

    Attributes
    ----------
    streams : dict of metric name -> Stream
        ``"valuation"``, ``"valuation_unshocked"``, ``"revenue.<year>"`` (base year too),
        ``"hhi"``, ``"top_region_share"``, and with an offering ``"value_per_share"``,
        ``"market_value.offer"`` and ``"pre_offer"`` (whose counts at the pricing grid's
        thresholds give P(fair value per share >= price)); each with exact counts at its
        thresholds.
    shock_counts : (shocks,) paths with at least one event up to the valuation year.
    regime_counts : (regimes,) paths in each regime (empty without regimes).
    regime_value_sums : (regimes,) the sum of the equity value over each regime's paths.
    region_share_sums : (regions,) sums over all paths of the valuation-year shares.
    kept : the first ``kept.n`` paths as exact arrays.
    thin_spread_paths : paths (of all of them, counted while streaming) whose DCF terminal
        ``wacc - g`` is below :data:`sim.valuation.dcf.THIN_SPREAD`; 0 without a DCF.
    checkpoints : (C,) path counts at which ``target_counts`` (C, targets) were taken.
    implied_target_margins : one per price of the pricing grid (``None`` where no margin
        reaches the price); empty without an ``[offering]`` or DCF inputs
        (:func:`sim.run.derived.implied_margins`).
    fan : the market value's fan after listing over the first kept paths, with
        ``[aftermarket]`` only (:func:`sim.run.derived.aftermarket_fan`).

    What needs the model beyond the paths' outputs (the last two, and ``kept.dcf``) is
    computed here, once, so that :func:`sim.analysis.summary.summarise` is a pure reduction.
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
    regime_counts: npt.NDArray[np.int64]
    regime_value_sums: FloatArray
    thin_spread_paths: int = 0
    stopped_by_precision: bool = False
    precision: float | None = None
    max_half_width: float = math.nan  # of the target probabilities, with ``precision``
    workers: int = 1
    backend: str = "serial"  # "serial" (this process), "process", "dask" or "executor"
    implied_target_margins: tuple[float | None, ...] = ()
    fan: Fan | None = None

    @property
    def exact(self) -> bool:
        """True when every path was kept, so quantiles are exact sample quantiles."""
        return self.kept.n == self.paths


@dataclass(slots=True)
class _BlockOutcome:
    block: int
    n: int
    streams: dict[str, Stream]
    shock_counts: IntArray
    region_share_sums: FloatArray
    marks: IntArray  # (checkpoints in block,) paths into the block at each checkpoint
    target_counts: IntArray  # (checkpoints in block, targets), cumulative within the block
    kept: Kept | None
    regime_counts: IntArray  # (regimes,)
    regime_value_sums: FloatArray  # (regimes,) of the equity value
    thin_spread: int = 0  # paths whose DCF terminal wacc - g is below THIN_SPREAD


@dataclass(frozen=True, slots=True)
class _Task:
    """One block to run; the scenario reaches the workers once, not with each task."""

    seed: int
    sampler: str
    block: int
    n: int
    keep: int  # how many of this block's paths to return as exact arrays


def _run_block(scenario: Scenario, task: _Task) -> _BlockOutcome:
    marginals = scenario.scalar_inputs()
    overrides = scenario.regime_overrides()
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
            overrides=overrides,
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
    # One row per target: each checkpoint's count is its chunk's sum, added up over the
    # chunks (a cumulative sum over every path, along the strided axis, cost ~25 ms).
    hits = np.zeros((len(scenario.targets), task.n), dtype=bool)
    for j, t in enumerate(scenario.targets):
        read = metrics.per_path(scenario, values, metrics.target_metric(t))
        assert read is not None  # the loader refuses a target whose metric the run lacks
        np.greater_equal(read, t.value_usd, out=hits[j])
    marks = np.arange(CHECKPOINT, task.n + CHECKPOINT, CHECKPOINT).clip(max=task.n)
    if task.n and len(scenario.targets):
        starts = range(0, task.n, CHECKPOINT)
        chunks = np.array(
            [[np.count_nonzero(row[a : a + CHECKPOINT]) for a in starts] for row in hits],
            dtype=np.int64,
        )
        target_counts = np.ascontiguousarray(np.cumsum(chunks, axis=1).T)
    else:
        target_counts = np.zeros(
            (marks.size if task.n else 0, len(scenario.targets)), dtype=np.int64
        )
    k_regimes = len(scenario.regimes)
    regime_counts: IntArray = np.zeros(k_regimes, dtype=np.int64)
    regime_sums: FloatArray = np.zeros(k_regimes)
    if values.regime is not None:
        regime_counts = np.bincount(values.regime, minlength=k_regimes).astype(np.int64)
        regime_sums = np.bincount(
            values.regime, weights=values.equity, minlength=k_regimes
        ).astype(np.float64)
    kept = None
    # Block 0 always reports its (possibly empty) prefix, so the kept arrays have their
    # shapes even when nothing is kept.
    if task.keep > 0 or task.block == 0:
        k = task.keep
        kept = Kept(
            n=k,
            values=_combine([values], lambda xs: xs[0][:k]),
            inputs={
                name: draws[name][:k]
                for name, d in marginals.items()
                if not d.is_fixed or name in overrides
            },
            summaries={name: x[:k].copy() for name, x in input_summaries(scenario, draws).items()},
        )
    return _BlockOutcome(
        block=task.block,
        n=task.n,
        streams=streams,
        shock_counts=values.shock_any.sum(axis=0).astype(np.int64),
        region_share_sums=values.region_shares.sum(axis=0),
        marks=marks.astype(np.int64),
        target_counts=target_counts,
        kept=kept,
        regime_counts=regime_counts,
        regime_value_sums=regime_sums,
        thin_spread=_thin_spread(scenario, draws),
    )


def _thin_spread(scenario: Scenario, draws: dict[str, FloatArray]) -> int:
    """Paths of the block whose DCF terminal ``wacc - g`` is below :data:`THIN_SPREAD`
    (0 without a DCF): an integer count, so the run's total is the same however its
    blocks were spread over workers."""
    method = scenario.valuation
    dcf = method.dcf if isinstance(method, Both) else method
    if not isinstance(dcf, Dcf):
        return 0
    return int(np.count_nonzero(dcf.terminal_spread(draws) < THIN_SPREAD))


def simulate(
    scenario: Scenario,
    paths: int | None = None,
    *,
    seed: int | None = None,
    sampler: str | None = None,
    workers: int = 1,
    keep: int = DEFAULT_KEEP,
    precision: float | None = None,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
    client: Any = None,
) -> Result:
    """Run ``paths`` paths of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
    paths : int, optional
        Paths to run; with ``precision``, the most paths to run. By default the
        scenario's ``[simulation] paths`` (200,000 where the file does not say).
    seed : int, optional
        Root seed; by default the scenario's ``[simulation] seed``. Results depend only on
        (scenario, paths, seed, sampler).
    sampler : {"random", "lhs", "sobol"}, optional
        By default the scenario's ``[simulation] sampler`` (``"random"`` where the file
        does not say).
    workers : int
        Local processes to run blocks on (1 runs in this process); at most one per block
        and per processor are started, and ``Result.workers`` records how many were.
        With ``executor``, how many blocks it runs at once (this sizes the in-flight
        window, :data:`sim.run.workers.IN_FLIGHT_PER_WORKER` blocks per worker).
    keep : int
        Paths kept as exact arrays (a prefix of the run).
    precision : float, optional
        Stop at the first block after which every target probability's 95 % half-width
        is below this (or at ``paths``).
    progress : callable, optional
        Called with the number of paths just finished.
    executor : Executor, optional
        Runs the blocks (e.g. a dask.distributed client's executor); overrides ``workers``.
        Every block task then carries the scenario: prefer ``client``.
    client : distributed.Client, optional
        Runs the blocks on a dask.distributed cluster: the scenario is scattered to its
        workers once. ``workers`` is then the number of blocks the cluster runs at once
        (its threads), recorded in ``Result.workers``.

    Returns
    -------
    Result

    Raises
    ------
    SimError
        Invalid run settings, or a setting neither given nor in the scenario's
        ``[simulation]``.
    """
    paths, seed, sampler = run_settings(scenario, paths, seed, sampler)
    _check_arguments(
        scenario, paths, seed=seed, sampler=sampler, workers=workers, precision=precision
    )
    start = time.perf_counter()
    _tabulate_inputs(scenario)
    if client is not None:
        backend = "dask"
    elif executor is not None:
        backend = "executor"
    else:
        # More processes than blocks or processors would only wait: record what ran.
        workers = min(workers, math.ceil(paths / BLOCK_SIZE), os.cpu_count() or 1)
        backend = "serial" if workers == 1 else "process"
    tasks = _plan(paths, seed, sampler, min(keep, paths))
    outcomes = run_tasks(
        _run_block,
        scenario,
        tasks,
        workers=workers,
        executor=executor,
        client=client,
        batch=_cluster_batch(paths, workers),
    )
    try:
        merged, stopped, half_width = _merge(scenario, outcomes, paths, precision, progress)
    finally:
        # Also on an error or Ctrl-C: cancel queued blocks and stop the worker processes.
        outcomes.close()
    kept = merged.kept()
    # Once, on the merged run: what the summary and the report would otherwise have to
    # ask the model for again (sim.run.derived).
    kept = dataclasses.replace(kept, dcf=kept_dcf(scenario, kept))
    implied = implied_margins(scenario)
    fan = aftermarket_fan(scenario, kept)
    return Result(
        scenario=scenario,
        paths=merged.done,
        seed=seed,
        sampler=sampler,
        elapsed_s=time.perf_counter() - start,
        streams=merged.streams,
        shock_counts=merged.shock_counts,
        region_share_sums=merged.region_share_sums,
        kept=kept,
        checkpoints=np.concatenate(merged.checkpoints),
        target_counts=np.concatenate(merged.target_counts, axis=0),
        regime_counts=merged.regime_counts,
        regime_value_sums=merged.regime_value_sums,
        thin_spread_paths=merged.thin_spread,
        stopped_by_precision=stopped,
        precision=precision,
        max_half_width=half_width,
        workers=workers,
        backend=backend,
        implied_target_margins=implied,
        fan=fan,
    )


def _merge(
    scenario: Scenario,
    outcomes: Iterable[_BlockOutcome],
    paths: int,
    precision: float | None,
    progress: Callable[[int], None] | None,
) -> tuple[_Merge, bool, float]:
    """Merge block outcomes in order until the last block, or until the precision rule
    stops the run: (the merge, whether it stopped early, the last half-width measured)."""
    merged = _Merge(scenario)
    half_width = math.nan
    for outcome in outcomes:
        merged.add(outcome)
        if progress is not None:
            progress(outcome.n)
        if precision is not None:
            half_width = _max_half_width(scenario, merged)
            if half_width < precision:
                return merged, merged.done < paths, half_width
    return merged, False, half_width


def _tabulate_inputs(scenario: Scenario) -> None:
    """Build every input's quantile table now, in this process, before any block runs.

    Reading a scenario builds no table (``ipo-sim show`` needs none); a run needs them
    all, and workers then receive them built. A table whose values overflow double
    precision (a mixture with a component reaching 1.7e308) stops the run here, naming
    the input's key path, as the loader names other parameters beyond double precision.

    Raises
    ------
    InfeasibleDistribution
    """
    named: list[tuple[str, Distribution]] = list(scenario.scalar_inputs().items())
    for regime in scenario.regimes:
        named += [(f"regimes.{regime.name}.{k}", d) for k, d in regime.overrides.items()]
    probe = np.array([0.5])
    for path, dist in named:
        try:
            with np.errstate(all="ignore"):
                dist.ppf(probe)
        except (ArithmeticError, ValueError, IndexError):
            raise InfeasibleDistribution.beyond_double_precision(path) from None


def run_settings(
    scenario: Scenario, paths: int | None, seed: int | None, sampler: str | None
) -> tuple[int, int, str]:
    """``(paths, seed, sampler)``: each argument given, else the scenario's ``[simulation]``.

    Raises
    ------
    SimError
        A setting that neither the argument nor the scenario gives (a scenario built
        without ``simulation`` defaults).
    """
    defaults = getattr(scenario, "simulation", None)
    if paths is None:
        paths = getattr(defaults, "paths", None)
    if seed is None:
        seed = getattr(defaults, "seed", None)
    if sampler is None:
        sampler = getattr(defaults, "sampler", None)
    if paths is None or seed is None or sampler is None:
        missing = [
            n for n, v in (("paths", paths), ("seed", seed), ("sampler", sampler)) if v is None
        ]
        raise SimError(
            f"simulate: no {' or '.join(missing)} given and the scenario's [simulation] has "
            f"none; pass {', '.join(f'{m}=...' for m in missing)}"
        )
    return paths, seed, sampler


def _check_arguments(
    scenario: Scenario,
    paths: int,
    *,
    seed: int,
    sampler: str,
    workers: int,
    precision: float | None,
) -> None:
    """Refuse run settings :func:`simulate` cannot honour, before any work."""
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


def _plan(paths: int, seed: int, sampler: str, keep: int) -> Iterator[_Task]:
    """The run's blocks in order, made one at a time as they are needed.

    A run of 10^12 paths has 15 million blocks: planning them up front would hold them
    all in memory before the first one ran.
    """
    for b in range(math.ceil(paths / BLOCK_SIZE)):
        yield _Task(
            seed,
            sampler,
            b,
            min(BLOCK_SIZE, paths - b * BLOCK_SIZE),
            max(0, min(BLOCK_SIZE, keep - b * BLOCK_SIZE)),
        )


class _Merge:
    """The run so far: block outcomes merged in block order."""

    def __init__(self, scenario: Scenario) -> None:
        self.done = 0  # paths merged
        self.streams: dict[str, Stream] = {}
        self.shock_counts = np.zeros(len(scenario.shocks), dtype=np.int64)
        self.region_share_sums = np.zeros(len(scenario.regions))
        self.regime_counts = np.zeros(len(scenario.regimes), dtype=np.int64)
        self.regime_value_sums = np.zeros(len(scenario.regimes))
        self.thin_spread = 0
        self.checkpoints: list[IntArray] = []  # path counts into the run, per block
        self.target_counts: list[IntArray] = []  # cumulative over the run, per block
        self._kept: list[Kept] = []

    def add(self, outcome: _BlockOutcome) -> None:
        """Merge the next block's outcome (blocks arrive in order)."""
        for name, s in outcome.streams.items():
            self.streams.setdefault(name, Stream(s.thresholds)).merge(s)
        self.shock_counts += outcome.shock_counts
        self.region_share_sums += outcome.region_share_sums
        self.regime_counts += outcome.regime_counts
        self.regime_value_sums += outcome.regime_value_sums
        self.thin_spread += outcome.thin_spread
        if outcome.kept is not None:
            self._kept.append(outcome.kept)
        running = self.target_counts[-1][-1] if self.target_counts else 0
        self.checkpoints.append(self.done + outcome.marks)
        self.target_counts.append(running + outcome.target_counts)
        self.done += outcome.n

    def kept(self) -> Kept:
        """The kept prefixes of the blocks, joined."""
        values = _combine([k.values for k in self._kept], lambda xs: np.concatenate(xs, axis=0))
        names = self._kept[0].inputs.keys()
        return Kept(
            n=sum(k.n for k in self._kept),
            values=values,
            inputs={n: np.concatenate([k.inputs[n] for k in self._kept]) for n in names},
            summaries={
                n: np.concatenate([k.summaries[n] for k in self._kept])
                for n in self._kept[0].summaries
            },
        )


#: The most blocks one task on a dask cluster runs (a few tenths of a second's work).
CLUSTER_BATCH_MAX = 4


def _cluster_batch(paths: int, workers: int) -> int:
    """Blocks per task on a dask cluster: up to :data:`CLUSTER_BATCH_MAX`, while every
    worker still gets at least four tasks (the end of a run stays balanced)."""
    blocks = math.ceil(paths / BLOCK_SIZE)
    return max(1, min(CLUSTER_BATCH_MAX, blocks // (4 * max(workers, 1))))


def _max_half_width(scenario: Scenario, merged: _Merge) -> float:
    """The precision rule's measure: the widest 95 % half-width of a target probability."""
    counts = [
        merged.streams[metrics.stream_name(metrics.target_metric(t))].count_at_least(t.value_usd)
        for t in scenario.targets
    ]
    widths = [(hi - lo) / 2 for lo, hi in (wilson_interval(int(c), merged.done) for c in counts)]
    return max(widths, default=0.0)


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
