"""The deal (DESIGN.md 3.2): shares, proceeds, the pricing grid and the offer price.

Two forms of ``[offering]`` describe the shares. The simple form fixes the shares after
the offer (``shares_outstanding``) and the proceeds (``valuation.ipo_proceeds``, part of
the equity before any price is chosen). The deal form gives the deal itself: at an offer
price P, with the options a path exercises (``U``, ``G`` each 0 or 1),

- shares sold ``S = new_shares x (1 + U upsize_option) x (1 + G over_allotment)``;
- net proceeds ``P x S x (1 - fees)``;
- shares after ``N = shares_before + S``;
- fair value per share ``fair(P) = (E0 + P x S x (1 - fees)) / N``, where ``E0`` is the
  equity before the offer (EV + net cash).

Both forms are one affine map here: ``fair(P) = (E0 + a P) / N`` with ``a`` the net
proceeds per unit of price (``S (1 - fees)``; 0 in the simple form, whose fixed proceeds
are inside ``E0``). Hence

- ``fair(P) >= P`` exactly when ``E0 >= P (N - a)`` (:func:`break_even_shares` is
  ``N - a``: ``shares_before + S x fees`` in the deal form), which the engine counts
  exactly at each price of the pricing grid (with both options exercised);
- the offer price on a path, ``clip(fair(P) x (1 - d), floor, high)`` with ``floor =
  low x (1 - downward_adjustment)``, is solved in closed form (:func:`offer_price`).

Which options a path exercises (:func:`settle`):

- the **upsize** (offer size adjustment option) at pricing, when the book covers the
  upsized deal at the top of the range: the upsized deal's own fixed point is at or above
  the range's high (its discounted fair value at the high is at least the high), and the
  offer is then the high; otherwise the base deal is priced;
- the **greenshoe** (over-allotment) after day 1: it is allotted at pricing, so the offer
  price is solved with it; it is exercised when the day-1 close with it exercised is at
  or above the offer price (:mod:`sim.model.aftermarket`); below it the stabilising manager
  covers the over-allotment by buying shares in the market, so the path's shares and
  proceeds exclude it. Without ``[aftermarket]`` (no day 1) it counts as exercised.

>>> from sim.scenario import Deal
>>> shares_sold(Deal(100, 20, 0.5, 0.1, 0.03))
33.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sim.scenario.types import GRID_DEFAULT

if TYPE_CHECKING:
    from sim.scenario import Deal, Offering

__all__ = [
    "GRID_DEFAULT",
    "GRID_PRICES",
    "GreenshoeRule",
    "Settlement",
    "break_even_shares",
    "floor_price",
    "grid_prices",
    "grid_thresholds",
    "net_proceeds",
    "offer_price",
    "proceeds_per_price",
    "settle",
    "shares_after",
    "shares_sold",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: ``rule(fair, offer)``: on which paths the greenshoe is exercised, given each path's
#: fair value per share with it exercised and its offer price (both (n,), USD).
GreenshoeRule = Callable[[FloatArray, FloatArray], BoolArray]
#: Evenly spaced prices of the pricing grid (the range's low and high are added).
GRID_PRICES = 13


def shares_sold(deal: Deal, *, upsize: bool = True, greenshoe: bool = True) -> float:
    """``new_shares x (1 + upsize_option) x (1 + over_allotment)`` (may be fractional),
    each option only if exercised."""
    up = deal.upsize_option if upsize else 0.0
    shoe = deal.over_allotment if greenshoe else 0.0
    return deal.new_shares * (1.0 + up) * (1.0 + shoe)


def shares_after(offering: Offering, *, upsize: bool = True, greenshoe: bool = True) -> float:
    """Shares outstanding after the offer: ``shares_before + shares sold`` (deal form; by
    default with both options, the prospectus' count and the most there can be), or
    ``shares_outstanding`` (simple form)."""
    if offering.deal is None:
        assert offering.shares_outstanding is not None
        return float(offering.shares_outstanding)
    sold = shares_sold(offering.deal, upsize=upsize, greenshoe=greenshoe)
    return offering.deal.shares_before + sold


def proceeds_per_price(
    offering: Offering, *, upsize: bool = True, greenshoe: bool = True
) -> float:
    """``a``: net proceeds per unit of offer price (USD per USD/share): ``S (1 - fees)``;
    0 in the simple form, whose proceeds are fixed."""
    if offering.deal is None:
        return 0.0
    sold = shares_sold(offering.deal, upsize=upsize, greenshoe=greenshoe)
    return sold * (1.0 - offering.deal.fees)


def floor_price(offering: Offering) -> float:
    """The lowest offer price, USD per share: ``low x (1 - downward_adjustment)``."""
    return offering.price_range_usd[0] * (1.0 - offering.downward_adjustment)


def net_proceeds(offering: Offering, price: float) -> float:
    """Net proceeds (USD) at an offer price ``price`` (USD per share); 0 in the simple form
    (its fixed proceeds are ``valuation.ipo_proceeds``)."""
    return price * proceeds_per_price(offering)


def break_even_shares(offering: Offering) -> float:
    """``N - a``: fair value per share at P is at least P exactly when the equity before
    the offer is at least ``P x break_even_shares`` (``shares_before + S x fees``)."""
    if offering.deal is None:
        return shares_after(offering)
    deal = offering.deal
    return deal.shares_before + shares_sold(deal) * deal.fees


def grid_prices(offering: Offering) -> tuple[float, ...]:
    """The pricing grid, USD per share, increasing.

    Evenly spaced prices over ``price_grid_usd`` (about :data:`GRID_PRICES` of them),
    spaced so that the range's low and high are on the grid (exactly), with the range
    cut into equal steps: a price range of HK$151–165 over a grid of HK$106–248 steps by
    HK$14 (151, 165, and 137, 179, ... beyond).
    """
    lo, hi = offering.price_range_usd
    g_lo, g_hi = offering.price_grid_usd
    span = g_hi - g_lo
    if span <= 0:
        return tuple(sorted({lo, hi}))
    if hi > lo:
        steps_in_range = max(1, round((hi - lo) * (GRID_PRICES - 1) / span))
        step = (hi - lo) / steps_in_range
    else:
        steps_in_range, step = 0, span / (GRID_PRICES - 1)
    first = math.ceil((g_lo - lo) / step - 1e-9)
    last = math.floor((g_hi - lo) / step + 1e-9)
    exact = {0: lo, steps_in_range: hi}
    prices = {exact.get(j, lo + j * step) for j in range(first, last + 1)}
    return tuple(sorted(prices | {lo, hi}))


def grid_thresholds(offering: Offering) -> tuple[float, ...]:
    """For each grid price P, the equity before the offer at which fair(P) = P (USD),
    in the order of :func:`grid_prices`; the engine counts paths at or above each."""
    k = break_even_shares(offering)
    return tuple(p * k for p in grid_prices(offering))


def offer_price(
    offering: Offering, pre_offer: FloatArray, discount: FloatArray, *, upsize: bool = True
) -> FloatArray:
    """The offer price on each path, USD per share: the fixed point
    ``P = clip(fair(P) x (1 - d), floor, high)`` for the deal as allotted (the greenshoe
    allotted; the upsize if ``upsize``), ``floor = low x (1 - downward_adjustment)``.

    Parameters
    ----------
    offering : Offering
    pre_offer : (n,) equity before the offer ``E0`` (USD): EV + net cash, plus the fixed
        proceeds in the simple form.
    discount : (n,) ``ipo_discount`` draws in [0, 1).
    upsize : price the upsized deal (the default) or the base deal.

    Returns
    -------
    (n,) offer price, in ``[floor, high]``.

    Notes
    -----
    With ``c = 1 - d`` in (0, 1], ``h(P) = c fair(P) = c (E0 + a P) / N`` is affine in P
    with slope ``c a / N < 1`` (``a = S (1 - fees) <= S < N``, since shares_before >= 1).
    So ``P - h(P)`` is strictly increasing and has one root,
    ``P* = c E0 / (N - c a)``. The clipped map ``g(P) = clip(h(P), floor, high)`` has
    exactly one fixed point, ``clip(P*, floor, high)``:

    - if ``floor <= P* <= high``, ``g(P*) = clip(P*) = P*``;
    - if ``P* < floor``, then ``h(P) < P`` for every ``P > P*``; at ``P = floor``,
      ``h(floor) < floor`` so ``g(floor) = floor``; any other fixed point P would lie in
      ``(floor, high]`` with ``h(P) < P``, so ``g(P) = P`` would need ``h(P) >= P`` (when
      ``P = high``) or ``h(P) = P`` (inside): neither holds;
    - ``P* > high`` is the mirror image: ``g(high) = high`` and no other.

    Vectorised; ``tests/test_offering.py`` checks it against a root find.
    """
    hi = offering.price_range_usd[1]
    p_star = _unclipped(offering, pre_offer, discount, upsize=upsize)
    return np.clip(p_star, floor_price(offering), hi)


def _unclipped(
    offering: Offering, pre_offer: FloatArray, discount: FloatArray, *, upsize: bool
) -> FloatArray:
    """``P* = c E0 / (N - c a)`` of :func:`offer_price` (the greenshoe allotted)."""
    c = 1.0 - discount
    a = proceeds_per_price(offering, upsize=upsize)
    out: FloatArray = c * pre_offer / (shares_after(offering, upsize=upsize) - c * a)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class Settlement:
    """The deal on each path once its options are settled (each (n,), money in USD).

    Attributes
    ----------
    price : the offer price per share.
    equity : equity after the offer, ``E0 + P x S x (1 - fees)``.
    shares_after : shares outstanding after the offer, ``shares_before + S``.
    upsized : whether the upsize (offer size adjustment option) is exercised.
    greenshoe : whether the over-allotment option is exercised.
    """

    price: FloatArray
    equity: FloatArray
    shares_after: FloatArray
    upsized: BoolArray
    greenshoe: BoolArray

    @property
    def value_per_share(self) -> FloatArray:
        """Fair value per share at the offer price: ``equity / shares_after``."""
        out: FloatArray = self.equity / self.shares_after
        return out


def settle(
    offering: Offering,
    pre_offer: FloatArray,
    discount: FloatArray,
    greenshoe_rule: GreenshoeRule | None = None,
) -> Settlement:
    """Price the deal and settle its options on each path (module docstring).

    Parameters
    ----------
    offering : Offering
    pre_offer : (n,) equity before the offer ``E0`` (USD).
    discount : (n,) ``ipo_discount`` draws in [0, 1).
    greenshoe_rule : which paths exercise the greenshoe, given their fair value per share
        with it exercised and the offer price; ``None`` exercises it everywhere (no day 1
        to decide on).

    Returns
    -------
    Settlement

    Notes
    -----
    The upsize is decided first: on the paths where the upsized deal's ``P*`` is at or
    above the high, the offer is the high for the upsized deal (its fixed point); on the
    others the base deal's own fixed point is the offer (the upsized deal's ``P*`` is
    never above the base deal's, more shares sold at a discount to fair value, so a path
    the upsize skips is never one whose base deal would have needed it). The offer
    price does not depend on the greenshoe's exercise (it is allotted at pricing); the
    shares and proceeds do. The rule is given the fair value with the greenshoe
    exercised, so a path exercises it only when its day-1 close in that state is at or
    above the offer: never on a path trading below issue.
    """
    n = len(pre_offer)
    deal = offering.deal
    hi = offering.price_range_usd[1]
    if deal is None:
        price = offer_price(offering, pre_offer, discount)
        no = np.zeros(n, dtype=bool)
        shares = np.full(n, shares_after(offering))
        return Settlement(price, pre_offer, shares, no, no)
    if deal.upsize_option > 0:
        upsized = _unclipped(offering, pre_offer, discount, upsize=True) >= hi
        price = np.where(upsized, hi, offer_price(offering, pre_offer, discount, upsize=False))
    else:
        upsized = np.zeros(n, dtype=bool)
        price = offer_price(offering, pre_offer, discount, upsize=False)
    base = deal.new_shares * (1.0 + deal.upsize_option * upsized)
    net = 1.0 - deal.fees
    with_shoe = base * (1.0 + deal.over_allotment)
    if deal.over_allotment == 0:
        greenshoe = np.zeros(n, dtype=bool)
    elif greenshoe_rule is None:
        greenshoe = np.ones(n, dtype=bool)
    else:
        fair = (pre_offer + price * with_shoe * net) / (deal.shares_before + with_shoe)
        greenshoe = np.asarray(greenshoe_rule(fair, price), dtype=bool)
    sold = np.where(greenshoe, with_shoe, base)
    return Settlement(
        price=price,
        equity=pre_offer + price * sold * net,
        shares_after=deal.shares_before + sold,
        upsized=upsized,
        greenshoe=greenshoe,
    )
