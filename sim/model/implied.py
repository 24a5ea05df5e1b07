"""Implied expectations (issue 10): the target margin each offer price asks one to believe.

For a scenario with DCF inputs and an ``[offering]``, at each price P of the pricing grid:
the ``valuation.target_margin`` at which the DCF fair value per share equals P, every other
input held at its median. "To justify HK$165 you must believe a 31% target margin."

The evaluation at the medians is deterministic (:func:`median_draws`):

- each scalar input at the median of its marginal (the correlations do not matter: one
  point);
- revenue on the path of those medians: each segment's first-year growth at its median,
  growth noise at 0 (its median), each shock's yearly event draw at 0.5 (its median; an
  event happens when the draw is below ``annual_probability``, so shocks less likely than
  even do not happen), regional shares at the Dirichlet's mean. This is the revenue path
  of the median inputs, not the per-year median of the simulated revenue;
- failure as its expectation, not its median draw: ``(1 - p) EV + p min(d max(EV, 0), EV)``
  at the median failure probability p and distress proceeds d (a failed company's assets
  fetch ``d`` of a positive going-concern EV, and a negative one stays as it is, as in
  :mod:`sim.valuation.dcf`); the runway rule, deterministic at the medians, is in the EV;
  the equity before the offer is floored at 0 (limited liability).

The value per share follows the engine's offer arithmetic (:mod:`sim.model.offering`): the equity
before the offer ``E0 = EV + net cash (+ the simple form's fixed proceeds)`` and
``fair(P) = (E0 + a P) / N``, so ``fair(P) = P`` exactly when ``E0 = P (N - a)``
(:func:`~sim.model.offering.break_even_shares`). The margin solving it is found by bisection,
vectorised over the prices, over ``[-100%, 100%]`` (:data:`BRACKET`); a price no margin
in the bracket reaches has ``None``. The DCF's EV rises with the target margin (after-tax
EBIT rises with EBIT; the terminal reinvestment ``g / roic`` of it does not undo that
while the terminal ROIC exceeds terminal growth), so the implied margin rises with price.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from sim.distributions import Distribution
from sim.model.core import DIRICHLET, NORMAL, SCALAR, UNIFORM, evaluate, inputs, runway_cash
from sim.model.offering import break_even_shares
from sim.scenario import Scenario
from sim.valuation import Paths
from sim.valuation.dcf import FAILURE_DRAW, Dcf

__all__ = [
    "BRACKET",
    "dcf_inputs",
    "expected_ev",
    "implied_target_margins",
    "median_draws",
    "pre_offer_at_medians",
]

FloatArray = npt.NDArray[np.float64]

#: The target margins searched: a price needing a margin outside it is "not reachable".
BRACKET = (-1.0, 1.0)
_STEPS = 64  # bisection halvings: the bracket's width 2 shrinks to about 1e-19


def dcf_inputs(scenario: Scenario) -> Dcf | None:
    """The scenario's DCF inputs: its valuation when the method is ``"dcf"``, the DCF
    part of a method that holds one (as its ``dcf`` attribute), else ``None``."""
    valuation = scenario.valuation
    if isinstance(valuation, Dcf):
        return valuation
    inner = getattr(valuation, "dcf", None)
    return inner if isinstance(inner, Dcf) else None


def _median(dist: Distribution) -> float:
    return float(dist.ppf(np.array([0.5]))[0])


def median_draws(scenario: Scenario, n: int = 1) -> dict[str, FloatArray]:
    """Every input of the model at its median, ``n`` identical paths, shaped as
    :func:`sim.model.core.evaluate` takes them (see the module's notes for each kind).

    The failure draw, when there is one, is 1: no path fails (failure enters
    :func:`expected_ev` as an expectation instead).
    """
    scalars = scenario.scalar_inputs()
    out: dict[str, FloatArray] = {}
    for spec in inputs(scenario):
        if spec.kind == SCALAR:
            out[spec.name] = np.full(n, _median(scalars[spec.name]))
        elif spec.kind == NORMAL:
            out[spec.name] = np.zeros((spec.dim, n))
        elif spec.kind == UNIFORM:
            out[spec.name] = np.full((spec.dim, n), 0.5)
        else:
            assert spec.kind == DIRICHLET
            alpha = np.asarray(spec.alpha, dtype=np.float64)
            out[spec.name] = np.repeat((alpha / alpha.sum())[:, None], n, axis=1)
    if FAILURE_DRAW in out:
        out[FAILURE_DRAW] = np.ones(n)
    return out


def expected_ev(dcf: Dcf, ev: FloatArray) -> FloatArray:
    """``(1 - p) EV + p min(d max(EV, 0), EV)``: the EV ``ev`` weighed by the fixed
    failure, at the median failure probability p and distress proceeds d (a failed path
    never above its going concern, :mod:`sim.valuation.dcf`)."""
    p = 0.0 if dcf.failure == "runway" else _median(dcf.failure_probability)
    d = _median(dcf.distress_proceeds)
    out: FloatArray = (1.0 - p) * ev + p * np.where(ev > 0.0, d * ev, ev)
    return out


def _cash(scenario: Scenario) -> float:
    v = scenario.valuation
    dcf = dcf_inputs(scenario)
    options = 0.0 if dcf is None or dcf.options_value is None else _median(dcf.options_value)
    return _median(v.net_cash) + _median(v.ipo_proceeds) - options


def pre_offer_at_medians(scenario: Scenario, target_margins: FloatArray) -> FloatArray:
    """The expected equity before the offer (USD), at the medians, for each target margin:
    ``(1 - p) EV + p d max(EV, 0) + median net cash (+ the simple form's median proceeds)``.

    Raises ValueError for a scenario without DCF inputs.
    """
    return _pre_offer_at_medians(scenario)(target_margins)


def _pre_offer_at_medians(scenario: Scenario) -> Callable[[FloatArray], FloatArray]:
    """:func:`pre_offer_at_medians` as a function of the target margins alone: the median
    draws, their revenue path and the cash are worked out once, not at every bisection
    step (the quantile tables behind the medians cost far more than the DCF)."""
    dcf = dcf_inputs(scenario)
    if dcf is None:
        raise ValueError(f"scenario {scenario.name!r} has no DCF inputs")
    draws = median_draws(scenario, 1)
    revenue = evaluate(scenario, draws).revenue.T  # (horizon + 1, 1), base year first
    row = dcf.year - scenario.base_year
    cash = _cash(scenario)

    def at(target_margins: FloatArray) -> FloatArray:
        margins = np.asarray(target_margins, dtype=np.float64)
        n = margins.size
        wide = np.repeat(revenue, n, axis=1)
        many = {k: np.repeat(v, n, axis=-1) for k, v in draws.items()}
        many["valuation.target_margin"] = margins
        paths = Paths(wide, wide, row, np.zeros(n), None, many, runway_cash(scenario, many))
        ev = dcf.enterprise_value(paths).ev
        # Not floored: fair(P) = max(E0 + a P, 0) / N equals a price P > 0 only where
        # E0 + a P > 0, so limited liability (sim.model.core.limited) does not move the solution.
        out: FloatArray = expected_ev(dcf, ev) + cash
        return out

    return at


def implied_target_margins(
    scenario: Scenario, prices_usd: Sequence[float]
) -> tuple[float | None, ...]:
    """For each price (USD per share), the target margin at which the DCF fair value per
    share at the medians equals the price; ``None`` where no margin in :data:`BRACKET`
    reaches it (every price, when ``margins`` gives the years: there is no target margin).
    Empty for a scenario without DCF inputs or without an ``[offering]``."""
    offering = scenario.offering
    dcf = dcf_inputs(scenario)
    if dcf is None or offering is None or not prices_usd:
        return ()
    if dcf.target_margin is None:  # margins given year by year: no target margin to solve
        return (None,) * len(prices_usd)
    needed = np.asarray(prices_usd, dtype=np.float64) * break_even_shares(offering)
    lo = np.full(needed.size, BRACKET[0])
    hi = np.full(needed.size, BRACKET[1])
    pre_offer = _pre_offer_at_medians(scenario)
    f_lo = pre_offer(lo) - needed
    f_hi = pre_offer(hi) - needed
    reachable = (np.sign(f_lo) * np.sign(f_hi) <= 0) & np.isfinite(f_lo) & np.isfinite(f_hi)
    rising = f_hi >= f_lo
    for _ in range(_STEPS):
        mid = 0.5 * (lo + hi)
        below = (pre_offer(mid) - needed < 0) == rising
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    root = 0.5 * (lo + hi)
    return tuple(float(r) if ok else None for r, ok in zip(root, reachable, strict=True))
