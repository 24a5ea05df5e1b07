"""Finiteness checks on a block's draws and model outputs.

The statistics cannot summarise an infinite or NaN value, and a mean or variance that
overflowed would be silently wrong: the engine runs these checks on every block before
any statistic sees it, and stops the run with a message naming the input or the model's
stage that went wrong. One reduction per array decides the common (finite) case.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sim import metrics
from sim.errors import ScenarioError
from sim.model.core import DIRICHLET, SCALAR, InputSpec, PathValues
from sim.run.sampling import BLOCK_SIZE
from sim.scenario import Scenario
from sim.scenario.types import REGIME_INPUT
from sim.valuation.both import Both
from sim.valuation.dcf import Dcf

__all__ = ["check_draws", "check_values"]

FloatArray = npt.NDArray[np.float64]

#: A stage's blame meaning "the input furthest from 1 in orders of magnitude".
_EXTREME = "*extreme*"
#: Orders of magnitude from 1 beyond which an input is taken for the culprit (1e-20 or
#: 1e20: no rate, ratio or money amount of a real company is that far out).
_ABSURD_ORDERS = 20.0


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
        # einsum, not np.dot: a BLAS dot may hand 65,536 values to a pool of threads, which
        # on a loaded machine took 10-30 ms a call against 0.15 ms (the engine's largest
        # cost per block).
        if all(_sum_of_squares_finite(x) for _, x in metrics.streamed(scenario, values)):
            return
        for stage in _stages(scenario, values):
            _check_stage(scenario, draws, block, *stage)
        # Every stage above passed, yet a streamed output is not summarisable: a metric
        # no stage names (a new one). Still one line naming it, never a null downstream.
        for name, x in metrics.streamed(scenario, values):
            _check_stage(scenario, draws, block, name, name, x[:, None], ("",), True)


def _sum_of_squares_finite(x: FloatArray) -> bool:
    """Whether ``x`` and the sum of its squares are finite (NaN and inf carry through)."""
    return math.isfinite(float(np.einsum("i,i->", x, x)))


def _stages(
    scenario: Scenario, values: PathValues
) -> Iterator[tuple[str, str, FloatArray, tuple[str, ...], bool, tuple[str, ...]]]:
    """The model's outputs in the order it computes them.

    Each as (key path, what it is, values (n, k), a label per column, whether the
    statistics square it, the inputs to blame: empty for the largest input on the path).
    Only the inputs a stage adds to the stages before it are blamed: when the fair value
    per share passed and the day-1 value overflowed, the day-1 sentiment did it.
    """
    years = tuple(f" in {y}" for y in (scenario.base_year, *scenario.years))
    one = ("",)
    for s, seg in enumerate(scenario.segments):
        yield f"segments.{seg.name}", "revenue", values.segment_revenue[:, s, :], years, False, ()
    yield "segments", "total revenue", values.revenue, years, True, ()
    yield "segments", "regional shares of revenue", values.region_shares, one, False, ()
    yield "segments", "regional concentration (HHI)", values.hhi[:, None], one, True, ()
    dcf = _dcf_primary(scenario)
    if values.pre_offer is not None:
        # Before the offer's proceeds and the floor of limited liability: an EV of -inf
        # shows here, while the equity value after the floor reads 0.
        label = "DCF equity value before the offer" if dcf else "equity value before the offer"
        yield "valuation", label, values.pre_offer[:, None], one, True, (_EXTREME,) if dcf else ()
    if dcf:
        # The DCF's multiple is its EV over revenue, derived rather than drawn: where it is
        # not finite the EV is (the equity value, next) or revenue underflowed to 0, and
        # valuation.multiple is no key of the DCF's to name.
        yield "valuation", "DCF equity value", values.equity[:, None], one, True, (_EXTREME,)
    else:
        yield "valuation.multiple", "valuation multiple", values.multiple[:, None], one, False, ()
        yield "valuation", "equity value", values.equity[:, None], one, True, ()
    # One column each, squared by the statistics; a stage the scenario lacks is None.
    stages: tuple[tuple[str, str, FloatArray | None, tuple[str, ...]], ...] = (
        ("valuation", "equity value without shocks", values.equity_unshocked, ()),
        ("valuation", "DCF equity value", values.equity_dcf, (_EXTREME,)),
        ("valuation", "multiple's equity value", values.equity_multiple, ()),
        ("offering", "value per share", values.value_per_share, ()),
        ("offering", "market value at the offer", values.market_value_offer, ()),
    )
    for key, label, value, culprits in stages:
        if value is not None:
            yield key, label, value[:, None], one, True, culprits
    day1 = ("aftermarket.day1_noise",)
    walk = ("aftermarket.volatility", "aftermarket.drift")
    for label, x, blame in (
        ("day-1 market value", values.market_value_day1, day1),
        ("first-day return", values.first_day_return, day1),
        ("market value at the end of the walk", values.market_value_end, walk),
        ("peak market value", values.market_value_peak, walk),
    ):
        if x is not None:
            yield "aftermarket", label, x[:, None], one, True, blame


def _check_stage(
    scenario: Scenario,
    draws: Mapping[str, FloatArray],
    block: int,
    path: str,
    label: str,
    x: FloatArray,
    columns: tuple[str, ...],
    squared: bool,
    blame: tuple[str, ...] = (),
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
    at = f"on {int(paths.sum()):,} of {n:,} paths of block {block}"
    if blame == (_EXTREME,):
        # The DCF divides by sales_to_capital, terminal_roic and wacc - g: a tiny divisor
        # (1e-300) overflows it as surely as a huge margin, so the input furthest from 1
        # in orders of magnitude is the likely culprit, not the largest one.
        name, value = _most_extreme_input(scenario, draws, first)
        if _orders(value) >= _ABSURD_ORDERS:
            key = _blamed_key(scenario, name, draws, first)
            raise ScenarioError(
                f"the model's {label} {kind} {at} (path {block * BLOCK_SIZE + first:,}: its "
                f"most extreme input is {name} = {value:.3g}): use a value nearer the "
                f"usual range for {key}",
                path=key,
                file=_source(scenario),
            )
        blame = ()  # no input stands out: the stage is named, with its largest input
    if blame:
        drawn = ", ".join(f"{k} = {float(draws[k][first]):.3g}" for k in blame if k in draws)
        # The key named is the blamed input furthest from 1 on the path: a drift of -1e300
        # (the price falls to 0), not the ordinary volatility beside it.
        named = max(
            (k for k in blame if k in draws),
            key=lambda k: _orders(float(draws[k][first])),
            default=blame[0],
        )
        raise ScenarioError(
            f"the model's {label} {kind} {at} (path {block * BLOCK_SIZE + first:,} drew "
            f"{drawn}): use less extreme values or a distribution with lighter tails for "
            f"{_blamed_key(scenario, named, draws, first)}",
            path=_blamed_key(scenario, named, draws, first),
            file=_source(scenario),
        )
    name, value = _largest_input(scenario, draws, first)
    raise ScenarioError(
        f"the model's {label}{where} {kind} {at} (path {block * BLOCK_SIZE + first:,}: its "
        f"largest input is {name} = {value:.3g}): inputs too large",
        path=path,
        file=_source(scenario),
    )


def _blamed_key(scenario: Scenario, name: str, draws: Mapping[str, FloatArray], i: int) -> str:
    """The key path that set input ``name`` on path ``i``: its regime's override if the
    path's regime has one (``regimes.hot.aftermarket.day1_noise``), else ``name``."""
    regime = draws.get(REGIME_INPUT)
    if regime is None or not scenario.regimes:
        return name
    r = scenario.regimes[int(regime[i])]
    return f"regimes.{r.name}.{name}" if name in r.overrides else name


def _largest_input(
    scenario: Scenario, draws: Mapping[str, FloatArray], i: int
) -> tuple[str, float]:
    """The scalar input with the largest magnitude on path ``i`` (the likely culprit)."""
    values = {name: float(draws[name][i]) for name in scenario.scalar_inputs()}
    name = max(values, key=lambda k: abs(values[k]) if math.isfinite(values[k]) else math.inf)
    return name, values[name]


def _most_extreme_input(
    scenario: Scenario, draws: Mapping[str, FloatArray], i: int
) -> tuple[str, float]:
    """The scalar input on path ``i`` furthest from 1 in orders of magnitude (0 excluded:
    a zero net cash or failure probability is ordinary)."""
    values = {name: float(draws[name][i]) for name in scenario.scalar_inputs()}
    name = max(values, key=lambda k: _orders(values[k]))
    return name, values[name]


def _orders(x: float) -> float:
    """How many orders of magnitude ``x`` is from 1 (inf when not finite; 0 scores -1)."""
    if not math.isfinite(x):
        return math.inf
    return abs(math.log10(abs(x))) if x != 0.0 else -1.0


def _dcf_primary(scenario: Scenario) -> bool:
    """Whether the scenario's valuation (the one its equity value is) is a DCF."""
    method = scenario.valuation
    return isinstance(method, Dcf) or (isinstance(method, Both) and method.primary == "dcf")


def _source(scenario: Scenario) -> str | None:
    return str(scenario.source) if scenario.source is not None else None
