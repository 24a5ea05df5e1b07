"""What the run stage works out once from a finished run, beyond its streams.

Three things need the model itself (its valuation methods, the deal's settlement, the
walk after listing) and not only the paths' outputs, so they are computed here, by
:func:`sim.run.engine.simulate`, and stored on its :class:`~sim.run.engine.Result`; the summary
(:func:`sim.analysis.summary.summarise`) then only reduces the result and never re-enters the
model, and the report draws what it is given:

- the implied target margins of the pricing grid (:func:`sim.model.implied.implied_target_margins`:
  the DCF at median inputs, a root find per grid price), :func:`implied_margins`;
- the fan of market value after listing over the first kept paths
  (:func:`sim.model.aftermarket.fan`), :func:`aftermarket_fan`;
- the DCF's parts on the kept paths and the DCF's equity after the offer before limited
  liability (what the report's value bridge adds up), :func:`kept_dcf`.

Each depends only on the scenario and the kept paths (which depend only on (scenario,
paths, seed, sampler)), so results stay reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sim.model.aftermarket import fan, fan_days
from sim.model.core import equity_claims, greenshoe_rule_of, runway_cash
from sim.model.implied import dcf_inputs, implied_target_margins
from sim.model.offering import grid_prices, settle
from sim.valuation import Paths
from sim.valuation.dcf import DcfParts

if TYPE_CHECKING:
    from sim.run.engine import Kept
    from sim.scenario import Scenario

__all__ = [
    "FAN_LEVELS",
    "FAN_PATHS",
    "Fan",
    "KeptDcf",
    "aftermarket_fan",
    "implied_margins",
    "kept_dcf",
    "kept_draws",
]

FloatArray = npt.NDArray[np.float64]

#: Paths the fan of market value after listing mixes (the first ones kept).
FAN_PATHS = 4096
#: The fan's quantile levels.
FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True, slots=True)
class Fan:
    """Quantiles of market value on trading days after day 1 (:func:`sim.model.aftermarket.fan`).

    Attributes
    ----------
    days : tuple of int
        Trading days after day 1 (:func:`sim.model.aftermarket.fan_days`).
    levels : tuple of float
        Quantile levels (:data:`FAN_LEVELS`).
    values : tuple of tuple of float
        ``(len(days), len(levels))`` market values, USD.
    paths : int
        The kept paths mixed (at most :data:`FAN_PATHS`).
    """

    days: tuple[int, ...]
    levels: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]
    paths: int


@dataclass(frozen=True, slots=True, eq=False)
class KeptDcf:
    """The DCF on the kept paths, in its parts and as it turns into equity.

    Attributes
    ----------
    parts : DcfParts
        :meth:`sim.valuation.dcf.Dcf.components` of the kept paths (arrays path-last).
    before_floor : (n,) the DCF's equity at listing before limited liability (USD):
        ``EV + net cash + IPO proceeds - options``, with an offering settled at the DCF's
        own offer price and options on each path (as the model settles it).
    options : (n,) the employee options' value (USD), or ``None`` without them.
    """

    parts: DcfParts
    before_floor: FloatArray
    options: FloatArray | None


def implied_margins(scenario: Scenario) -> tuple[float | None, ...]:
    """The implied target margin at each price of the pricing grid (in the order of
    :func:`sim.model.offering.grid_prices`); empty without an ``[offering]`` or DCF inputs."""
    if scenario.offering is None or dcf_inputs(scenario) is None:
        return ()
    return implied_target_margins(scenario, grid_prices(scenario.offering))


def aftermarket_fan(scenario: Scenario, kept: Kept) -> Fan | None:
    """The fan of market value after listing over the first :data:`FAN_PATHS` kept paths
    (exact mixtures given the paths); ``None`` without ``[aftermarket]``."""
    am = scenario.aftermarket
    if am is None:
        return None
    values = kept.values
    assert values.market_value_day1 is not None and values.walk is not None
    k = min(FAN_PATHS, kept.n)
    days = fan_days(am)
    walk = values.walk[:k]
    grid = fan(
        am, values.market_value_day1[:k], walk[:, 0], walk[:, 1], walk[:, 2], days, FAN_LEVELS
    )
    return Fan(days, FAN_LEVELS, tuple(tuple(float(v) for v in row) for row in grid), k)


def kept_draws(scenario: Scenario, kept: Kept) -> dict[str, FloatArray]:
    """Every scalar input on the kept paths; a fixed input is its one value."""
    n = kept.n
    return {
        name: kept.inputs[name]
        if name in kept.inputs
        else np.full(n, float(dist.ppf(np.array([0.5]))[0]))
        for name, dist in scenario.scalar_inputs().items()
    }


def kept_dcf(scenario: Scenario, kept: Kept) -> KeptDcf | None:
    """The DCF's parts on the kept paths and its equity before limited liability; ``None``
    without a DCF (method ``dcf`` or ``both``).

    The kept arrays hold revenue after shocks and every drawn input; a fixed input is its
    one value. Only the kept paths are valued again (the engine streams no parts, so a
    run without a DCF pays nothing for this).
    """
    dcf = dcf_inputs(scenario)
    if dcf is None:
        return None
    draws = kept_draws(scenario, kept)
    revenue = np.ascontiguousarray(kept.values.revenue.T)
    row = scenario.valuation.year - scenario.base_year
    cash = runway_cash(scenario, draws)
    parts = dcf.components(Paths(revenue, revenue, row, kept.values.hhi, None, draws, cash))
    before = parts.ev + equity_claims(draws)
    if scenario.offering is not None:  # the DCF's own offer price and options on each path
        rule = greenshoe_rule_of(scenario, draws)
        before = settle(scenario.offering, before, draws["offering.ipo_discount"], rule).equity
    return KeptDcf(parts, before, draws.get("valuation.options_value"))
