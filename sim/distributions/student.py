"""The standard Student t with integer degrees of freedom: the comparables' predictive draw.

Not a family a scenario names (``scipy`` with ``name = "t"`` is that): the loader builds
one from a ``[comparables]`` table, whose regression on ``n`` peers and ``p``
coefficients has ``n - p`` degrees of freedom (:mod:`sim.valuation.comparables`).

Two ways in. :class:`StudentT` is the keyed scalar input: its quantile function is
tabulated on first use from ``scipy.special.stdtrit`` (reading a scenario imports no
scipy, so ``ipo-sim show`` stays fast). :func:`t_quantile` answers a single quantile in
pure Python from the closed form of the t distribution function for an integer number of
degrees of freedom (Abramowitz and Stegun 26.7.3 and 26.7.4), for the intervals that
``show`` prints without scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from sim.distributions.base import FloatArray, _f64, special
from sim.distributions.tables import _QuantileTable, _Tabulated

__all__ = ["StudentT", "t_cdf", "t_quantile"]


def t_cdf(x: float, df: int) -> float:
    """``P(T <= x)`` for a Student t with ``df`` (an integer >= 1) degrees of freedom.

    The finite sums of Abramowitz and Stegun 26.7.3 (odd ``df``) and 26.7.4 (even):
    with ``theta = atan(x / sqrt(df))``, ``A = P(|T| < |x|)`` is a polynomial in
    ``cos(theta)^2``; ``cdf = (1 + sign(x) A) / 2``.
    """
    if df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    if math.isinf(x):
        return 1.0 if x > 0 else 0.0
    theta = math.atan(x / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        a = math.sin(theta) * total
    elif df == 1:
        a = 2.0 * theta / math.pi
    else:
        term, total = 1.0, 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        a = 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    return min(1.0, max(0.0, 0.5 + 0.5 * a))


def t_quantile(p: float, df: int) -> float:
    """The ``p``-quantile of a Student t with ``df`` (an integer >= 1) degrees of freedom.

    Bisection on :func:`t_cdf` to a relative width of 1e-13 (no scipy needed).

    >>> round(t_quantile(0.975, 10), 4)
    2.2281
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


@dataclass(frozen=True, slots=True, eq=False)
class StudentT(_Tabulated):
    """The standard Student t (location 0, scale 1) with ``df`` degrees of freedom.

    The quantile function is tabulated on first use (scipy's ``stdtrit`` runs at about
    1M values/s, the table at about 60M), error at most :data:`TABLE_BOUND` like every
    table; reading a scenario tabulates nothing.
    """

    name: ClassVar[str] = "student_t"
    df: int
    _built: tuple[_QuantileTable | None, float] | None = field(
        init=False, repr=False, default=None
    )

    def _exact(self, u: FloatArray) -> FloatArray:
        return _f64(special.stdtrit(float(self.df), _f64(u)))

    def cdf(self, x: FloatArray) -> FloatArray:
        return _f64(special.stdtr(float(self.df), _f64(x)))

    def sf(self, x: FloatArray) -> FloatArray:
        return _f64(special.stdtr(float(self.df), -_f64(x)))

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def mean(self) -> float:
        return 0.0 if self.df > 1 else math.nan

    def to_dict(self) -> dict[str, object]:
        return {"dist": "student_t", "df": self.df}

    def describe(self) -> str:
        return f"t(df={self.df})"
