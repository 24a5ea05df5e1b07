"""After listing (DESIGN.md 3.5): the day-1 close, a log random walk on trading days, the
lock-up, and the peak daily close, per path without a loop over days.

On a path, with ``P`` the offer price, ``F`` the fair value per share (at the offer price,
with the options the path exercises, :func:`sim.model.offering.settle`), ``lambda`` the
adjustment, ``e`` the day-1 noise, ``sigma`` the annualised volatility, ``mu`` the annual
drift of the log price and ``dt = 1 / 252``:

- day-1 close ``X_0 = log P + r`` (log price), ``r = lambda log(F / P) + e``
  (:func:`first_day_log_return`): the first day starts from the price investors paid and
  closes the share ``lambda`` of the log gap to fair value, plus the market's noise;
  a path with ``F <= 0`` trades at 0;
- ``X_k = X_{k-1} + mu dt + sigma sqrt(dt) Z_k`` for trading days ``k = 1..days``, and
  on ``lockup_day = L`` the close also loses ``lockup_drop`` (``+ log(1 - d)``), which
  every later close keeps;
- ``end = X_days``, ``peak = max(X_0, ..., X_days)``.

Drawing 126 normals a path would cost more than the rest of the model. Instead the walk
is cut at the lock-up into at most two segments whose daily closes carry no drop inside:
days ``0..L-1`` and ``L..days`` (one segment ``0..days`` without a lock-up). Each
segment's end is drawn exactly (a normal: a sum of Gaussian steps is Gaussian), the day
``L`` close from the day before exactly as well. The highest close within a segment of
``m`` steps from ``a`` to ``b`` is drawn from the maximum of the Brownian bridge between
them, which has the closed form (reflection principle)

    P(max > h | a, b) = exp(-2 (h - a)(h - b) / (sigma^2 m dt)),   h >= max(a, b),

so ``M = (a + b + sqrt((b - a)^2 - 2 sigma^2 m dt log U)) / 2`` with ``U`` uniform. The
continuous maximum overshoots the highest *daily* close; Broadie, Glasserman & Kou
(1997, "A continuity correction for discrete barrier options", Math. Finance 7) show
that a discretely monitored maximum crosses ``h`` as often as the continuous one crosses
``h + beta sigma sqrt(dt)``, ``beta = -zeta(1/2) / sqrt(2 pi) = 0.5826``. The segment's
highest close is therefore ``max(a, b, M - beta sigma sqrt(dt))`` (exact for ``m <= 1``,
where the closes are the two ends). Why this and not daily closes in coarse blocks: it
costs two draws a segment whatever ``days`` is, and its error is of smaller order than
``sqrt(dt)`` in P(peak >= h); ``tests/test_aftermarket.py`` checks it against a brute
force of every daily close within 4 standard errors.

The marginal law of ``X_k`` given the day-1 close is normal, so the quantiles of market
value on any day (the fan) are exact mixtures over the kept paths (:func:`fan`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

if TYPE_CHECKING:
    from sim.scenario import Aftermarket

__all__ = [
    "BGK_BETA",
    "TRADING_DAYS",
    "Walk",
    "fan",
    "fan_days",
    "first_day_log_return",
    "greenshoe_rule",
    "segment_peak",
    "walk",
    "walk_dims",
]

FloatArray = npt.NDArray[np.float64]
#: Trading days a year (DESIGN 3.5).
TRADING_DAYS = 252
#: Broadie–Glasserman–Kou's continuity correction, ``-zeta(1/2) / sqrt(2 pi)``.
BGK_BETA = 0.5826


@dataclass(frozen=True, slots=True, eq=False)
class Walk:
    """Log prices of one block's paths after listing (each (n,), log USD per share).

    ``day1``, ``end`` and ``peak`` are the day-1 close, the close after ``days`` trading
    days, and the highest daily close including day 1.
    """

    day1: FloatArray
    end: FloatArray
    peak: FloatArray


def first_day_log_return(
    adjustment: FloatArray, fair: FloatArray, offer: FloatArray, noise: FloatArray
) -> FloatArray:
    """``r = lambda log(fair / offer) + e`` on each path; ``-inf`` where ``fair <= 0``
    (the path trades at 0).

    Parameters
    ----------
    adjustment : (n,) or scalar, ``lambda`` in [0, 1].
    fair : (n,) fair value per share, USD.
    offer : (n,) offer price, USD per share (> 0).
    noise : (n,) or scalar, the day-1 noise ``e``.
    """
    listed = fair > 0.0
    gap = np.log(np.where(listed, fair, 1.0) / offer)
    out: FloatArray = np.where(listed, adjustment * gap + noise, -np.inf)
    return out


def greenshoe_rule(
    adjustment: FloatArray, noise: FloatArray
) -> Callable[[FloatArray, FloatArray], npt.NDArray[np.bool_]]:
    """The greenshoe's rule for :func:`sim.model.offering.settle`: exercised on the paths whose
    day-1 close, with the greenshoe exercised, is at or above the offer (``r >= 0``)."""

    def rule(fair: FloatArray, offer: FloatArray) -> npt.NDArray[np.bool_]:
        r = first_day_log_return(adjustment, fair, offer, noise)
        exercised: npt.NDArray[np.bool_] = r >= 0.0
        return exercised

    return rule


def walk_dims(aftermarket: Aftermarket) -> int:
    """Uniforms per path the walk consumes: an end and a maximum a segment, and the day
    of the lock-up (its close from the day before)."""
    return 2 if aftermarket.lockup_day is None else 5


def segment_peak(
    a: FloatArray,
    b: FloatArray,
    scale: FloatArray,
    steps: int,
    u: FloatArray,
    *,
    beta: float = BGK_BETA,
) -> FloatArray:
    """The highest daily close of a segment of ``steps`` daily steps from ``a`` to ``b``.

    Parameters
    ----------
    a, b : (n,) log closes at the segment's ends.
    scale : (n,) ``sigma sqrt(dt)``, the daily standard deviation of the log price.
    steps : daily steps in the segment (``b`` is ``steps`` days after ``a``).
    u : (n,) uniforms in (0, 1).
    beta : the continuity correction; 0 gives the continuous walk's maximum.

    Returns
    -------
    (n,) ``max(a, b, M - beta scale)`` with ``M`` the Brownian bridge's maximum (module
    docstring); ``max(a, b)`` for ``steps <= 1`` (with ``beta > 0``).
    """
    ends = np.maximum(a, b)
    if steps == 0 or (steps == 1 and beta > 0):
        return ends
    d = np.abs(b - a)
    c = -2.0 * steps * scale * scale * np.log(u)  # >= 0
    # M = (a + b + sqrt(d^2 + c)) / 2 = max(a, b) + c / (2 (sqrt(d^2 + c) + d)): the second
    # form neither squares d (a drift of -1e300 a year makes d^2 overflow, and the peak
    # read inf for a price that fell to 0) nor cancels a + b against the root.
    with np.errstate(invalid="ignore"):
        rise = c / (2.0 * (np.hypot(d, np.sqrt(c)) + d))
    bridge = ends + np.where(c > 0.0, rise, 0.0)
    return np.maximum(ends, bridge - beta * scale)


def walk(
    aftermarket: Aftermarket,
    x0: FloatArray,
    volatility: FloatArray,
    drift: FloatArray,
    drop: FloatArray,
    u: FloatArray,
) -> Walk:
    """The day-1 close, the end and the peak on each path (module docstring).

    Parameters
    ----------
    aftermarket : the ``[aftermarket]`` table (``days``, ``lockup_day``).
    x0 : (n,) the log day-1 close (finite).
    volatility, drift, drop : (n,) the path's draws (``drop`` is ignored without a
        lock-up).
    u : (walk_dims, n) uniforms in (0, 1).
    """
    days, lock = aftermarket.days, aftermarket.lockup_day
    dt = 1.0 / TRADING_DAYS
    scale = volatility * math.sqrt(dt)
    step = drift * dt
    if lock is None:
        end = x0 + days * step + math.sqrt(days) * scale * ndtri(u[0])
        return Walk(x0, end, segment_peak(x0, end, scale, days, u[1]))
    before = lock - 1  # steps from day 1 to the close before the lock-up
    x_before = x0 + before * step + math.sqrt(before) * scale * ndtri(u[0])
    x_lock = x_before + step + scale * ndtri(u[1]) + np.log1p(-drop)
    after = days - lock
    end = x_lock + after * step + math.sqrt(after) * scale * ndtri(u[2])
    peak = np.maximum(
        segment_peak(x0, x_before, scale, before, u[3]),
        segment_peak(x_lock, end, scale, after, u[4]),
    )
    return Walk(x0, end, peak)


def fan_days(aftermarket: Aftermarket, points: int = 7) -> tuple[int, ...]:
    """The trading days after day 1 at which the fan is given: evenly spaced from 0 to
    ``days``, and the day before the lock-up and its day."""
    days = {round(k * aftermarket.days / (points - 1)) for k in range(points)}
    if aftermarket.lockup_day is not None:
        days |= {aftermarket.lockup_day - 1, aftermarket.lockup_day}
    return tuple(sorted(days))


def fan(
    aftermarket: Aftermarket,
    day1: FloatArray,
    volatility: FloatArray,
    drift: FloatArray,
    drop: FloatArray,
    days: tuple[int, ...],
    levels: tuple[float, ...],
) -> FloatArray:
    """Quantiles of market value ``k`` trading days after day 1, exact given the paths.

    Given a path's day-1 market value ``V``, ``log`` market value on day ``k`` is normal
    with mean ``log V + k mu dt (+ log(1 - d) from the lock-up on)`` and variance
    ``sigma^2 k dt``; the distribution over paths is the mixture of these, whose CDF is
    the mean of the paths' normal CDFs. Its quantiles are found by bisection in log value
    (48 halvings: far below the sampling error).

    Parameters
    ----------
    day1, volatility, drift, drop : (n,) per path (``drop`` ignored without a lock-up).
    days : trading days after day 1.
    levels : quantile levels in (0, 1).

    Returns
    -------
    (len(days), len(levels)) market values (USD).
    """
    # A path whose fair value is 0 or less trades at 0 on every day (sim.model): a point
    # mass at 0 of weight z; the other paths' mixture gives the levels above it.
    listed = day1 > 0.0
    z = 1.0 - float(listed.mean()) if day1.size else 0.0
    out = np.zeros((len(days), len(levels)))
    above = np.asarray(levels) > z
    if not above.any():
        return out
    q = (np.asarray(levels)[above] - z) / (1.0 - z)
    day1, volatility, drift, drop = (
        np.broadcast_to(x, day1.shape)[listed] for x in (day1, volatility, drift, drop)
    )
    out[:, above] = _fan_listed(aftermarket, day1, volatility, drift, drop, days, q)
    return out


def _fan_listed(
    aftermarket: Aftermarket,
    day1: FloatArray,
    volatility: FloatArray,
    drift: FloatArray,
    drop: FloatArray,
    days: tuple[int, ...],
    q: FloatArray,
) -> FloatArray:
    """:func:`fan` over paths whose day-1 value is positive, at levels ``q``."""
    dt = 1.0 / TRADING_DAYS
    log_v = np.log(day1)
    out = np.empty((len(days), len(q)))
    for i, k in enumerate(days):
        mean = log_v + k * drift * dt
        if aftermarket.lockup_day is not None and k >= aftermarket.lockup_day:
            mean = mean + np.log1p(-drop)
        sd = volatility * math.sqrt(k * dt)
        if k == 0 or not np.any(sd > 0):
            out[i] = np.exp(np.quantile(mean, q))
            continue
        lo = np.full(len(q), float(mean.min() - 10 * sd.max()))
        hi = np.full(len(q), float(mean.max() + 10 * sd.max()))
        safe = np.where(sd > 0, sd, 1.0)
        for _ in range(48):
            mid = 0.5 * (lo + hi)
            z = (mid[:, None] - mean[None, :]) / safe[None, :]
            cdf = np.where(sd[None, :] > 0, ndtr(z), mid[:, None] >= mean[None, :]).mean(axis=1)
            below = cdf < q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        out[i] = np.exp(0.5 * (lo + hi))
    return out
