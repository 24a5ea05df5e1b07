"""The deal (DESIGN.md 3.2): shares, proceeds, the pricing grid and the offer price.

Two forms of ``[offering]`` describe the shares. The simple form fixes the shares after
the offer (``shares_outstanding``) and the proceeds (``valuation.ipo_proceeds``, part of
the equity before any price is chosen). The deal form gives the deal itself: at an offer
price P,

- shares sold ``S = new_shares x (1 + upsize_option) x (1 + over_allotment)``;
- net proceeds ``P x S x (1 - fees)``;
- shares after ``N = shares_before + S``;
- fair value per share ``fair(P) = (E0 + P x S x (1 - fees)) / N``, where ``E0`` is the
  equity before the offer (EV + net cash).

Both forms are one affine map here: ``fair(P) = (E0 + a P) / N`` with ``a`` the net
proceeds per unit of price (``S (1 - fees)``; 0 in the simple form, whose fixed proceeds
are inside ``E0``). Hence

- ``fair(P) >= P`` exactly when ``E0 >= P (N - a)`` (:func:`break_even_shares` is
  ``N - a``: ``shares_before + S x fees`` in the deal form), which the engine counts
  exactly at each price of the grid;
- the offer price on a path, ``clip(fair(P) x (1 - d), low, high)``, is solved in
  closed form (:func:`offer_price`).

>>> from sim.scenario import Deal
>>> shares_sold(Deal(100, 20, 0.5, 0.1, 0.03))
33.0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sim.scenario.types import GRID_DEFAULT

if TYPE_CHECKING:
    from sim.scenario import Deal, Offering

__all__ = [
    "GRID_DEFAULT",
    "GRID_PRICES",
    "break_even_shares",
    "grid_prices",
    "grid_thresholds",
    "net_proceeds",
    "offer_price",
    "offer_thresholds",
    "proceeds_per_price",
    "shares_after",
    "shares_sold",
]

FloatArray = npt.NDArray[np.float64]
#: Evenly spaced prices of the pricing grid (the range's low and high are added).
GRID_PRICES = 13


def shares_sold(deal: Deal) -> float:
    """``new_shares x (1 + upsize_option) x (1 + over_allotment)`` (may be fractional)."""
    return deal.new_shares * (1.0 + deal.upsize_option) * (1.0 + deal.over_allotment)


def shares_after(offering: Offering) -> float:
    """Shares outstanding after the offer: ``shares_before + shares sold`` (deal form),
    or ``shares_outstanding`` (simple form)."""
    if offering.deal is None:
        assert offering.shares_outstanding is not None
        return float(offering.shares_outstanding)
    return offering.deal.shares_before + shares_sold(offering.deal)


def proceeds_per_price(offering: Offering) -> float:
    """``a``: net proceeds per unit of offer price (USD per USD/share): ``S (1 - fees)``;
    0 in the simple form, whose proceeds are fixed."""
    if offering.deal is None:
        return 0.0
    return shares_sold(offering.deal) * (1.0 - offering.deal.fees)


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


def offer_price(offering: Offering, pre_offer: FloatArray, discount: FloatArray) -> FloatArray:
    """The offer price on each path, USD per share: the fixed point
    ``P = clip(fair(P) x (1 - d), low, high)``.

    Parameters
    ----------
    offering : Offering
    pre_offer : (n,) equity before the offer ``E0`` (USD): EV + net cash, plus the fixed
        proceeds in the simple form.
    discount : (n,) ``ipo_discount`` draws in [0, 1).

    Returns
    -------
    (n,) offer price, in ``price_range_usd``.

    Notes
    -----
    With ``c = 1 - d`` in (0, 1], ``h(P) = c fair(P) = c (E0 + a P) / N`` is affine in P
    with slope ``c a / N < 1`` (``a = S (1 - fees) <= S < N``, since shares_before >= 1).
    So ``P - h(P)`` is strictly increasing and has one root,
    ``P* = c E0 / (N - c a)``. The clipped map ``g(P) = clip(h(P), low, high)`` has exactly
    one fixed point, ``clip(P*, low, high)``:

    - if ``low <= P* <= high``, ``g(P*) = clip(P*) = P*``;
    - if ``P* < low``, then ``h(P) < P`` for every ``P > P*``; at ``P = low``,
      ``h(low) < low`` so ``g(low) = low``; any other fixed point P would lie in
      ``(low, high]`` with ``h(P) < P``, so ``g(P) = P`` would need ``h(P) >= P`` (when
      ``P = high``) or ``h(P) = P`` (inside): neither holds;
    - ``P* > high`` is the mirror image: ``g(high) = high`` and no other.

    Vectorised; ``tests/test_offering.py`` checks it against a root find.
    """
    lo, hi = offering.price_range_usd
    c = 1.0 - discount
    a = proceeds_per_price(offering)
    unclipped = c * pre_offer / (shares_after(offering) - c * a)
    return np.clip(unclipped, lo, hi)


def offer_thresholds(offering: Offering) -> tuple[float, float]:
    """Market values at the offer whose exceedance counts say how often the offer price
    sits at the range's ends: ``(next float above low x N, high x N)``.

    P(offer = high) is the share at or above the second; P(offer = low) is one minus the
    share at or above the first (the offer price never goes below low).
    """
    n = shares_after(offering)
    lo, hi = offering.price_range_usd
    return float(np.nextafter(lo * n, np.inf)), hi * n
