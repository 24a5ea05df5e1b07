"""Truncation: a continuous distribution conditioned on lower <= X <= upper."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from sim.distributions.base import _EPS, Distribution, FloatArray, _f64, _fmt, special
from sim.distributions.closed_form import LogNormal, Normal
from sim.distributions.scipy_dist import ScipyDistribution, _quiet

__all__ = ["MIN_TRUNCATED_MASS", "Truncated"]

MIN_TRUNCATED_MASS = 1e-6
"""The least probability that ``lower``/``upper`` must keep of the distribution they
truncate: below it the bounds lie so far in a tail that the result is mostly rounding."""


@dataclass(frozen=True, slots=True, eq=False)
class Truncated(Distribution):
    """``base`` conditioned on ``lower <= X <= upper`` (either bound may be absent).

    The quantile function is exact: ``base.ppf(F(lo) + u (F(hi) - F(lo)))`` with ``F``
    the base's cdf, or, where the kept interval lies in the base's upper tail
    (``F(lo) > 1/2``), the same in survival terms, ``isf(S(lo) - u (S(lo) - S(hi)))``,
    which keeps the digits that ``F`` near 1 has lost. Vectorised like the base's own
    ppf. :func:`parse_distribution` builds one from the optional ``lower``/``upper`` keys
    of the distributions in :data:`TRUNCATABLE`, and refuses bounds that keep less than
    :data:`MIN_TRUNCATED_MASS` of the base's probability.

    Parameters
    ----------
    base : Distribution
        A continuous distribution (normal, lognormal or scipy).
    lower, upper : float or None
        The bounds, in the base's units; ``None`` for an open side.
    """

    name: ClassVar[str] = "truncated"
    base: Distribution
    lower: float | None
    upper: float | None
    _lo: float = field(init=False, repr=False)
    _hi: float = field(init=False, repr=False)
    _upper_tail: bool = field(init=False, repr=False)
    _start: float = field(init=False, repr=False)
    mass: float = field(init=False)

    def __post_init__(self) -> None:
        base_lo, base_hi = self.base.support()
        lo = base_lo if self.lower is None else max(self.lower, base_lo)
        hi = base_hi if self.upper is None else min(self.upper, base_hi)
        object.__setattr__(self, "_lo", float(lo))
        object.__setattr__(self, "_hi", float(hi))
        ends = _f64([lo, hi])
        below, above = self.base.cdf_sf(ends)
        upper_tail = bool(below[0] > 0.5)
        object.__setattr__(self, "_upper_tail", upper_tail)
        if upper_tail:
            start, mass = float(above[0]), float(above[0] - above[1])
        else:
            start, mass = float(below[0]), float(below[1] - below[0])
        object.__setattr__(self, "_start", start)
        object.__setattr__(self, "mass", max(mass, 0.0) if hi > lo else 0.0)

    def ppf(self, u: FloatArray) -> FloatArray:
        ua = _f64(u)
        tiny = np.finfo(np.float64).tiny
        if self._upper_tail:
            # S(hi) + (1 - u) mass, not S(lo) - u mass: near u = 1 the subtraction would
            # cancel the digits of a small survival probability.
            q = np.clip((self._start - self.mass) + (1.0 - ua) * self.mass, tiny, 1.0 - _EPS)
            x = _inverse_sf(self.base, q)
        else:
            p = np.clip(self._start + ua * self.mass, tiny, 1.0 - _EPS)
            x = self.base.ppf(p)
        # Rounding in the base's ppf must not step outside the bounds.
        return _f64(np.clip(x, self._lo, self._hi))

    def cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        xa = np.clip(_f64(x), self._lo, self._hi)
        below, above = self.base.cdf_sf(xa)
        if self._upper_tail:
            cdf = (self._start - above) / self.mass
        else:
            cdf = (below - self._start) / self.mass
        cdf = np.clip(cdf, 0.0, 1.0)
        return _f64(cdf), _f64(1.0 - cdf)

    def cdf(self, x: FloatArray) -> FloatArray:
        return self.cdf_sf(x)[0]

    def sf(self, x: FloatArray) -> FloatArray:
        xa = np.clip(_f64(x), self._lo, self._hi)
        below, above = self.base.cdf_sf(xa)
        # The survival side keeps its digits where the cdf side would round to 1.
        if self._upper_tail:
            sf = (above - (self._start - self.mass)) / self.mass
        else:
            sf = (self._start + self.mass - below) / self.mass
        return _f64(np.clip(sf, 0.0, 1.0))

    def support(self) -> tuple[float, float]:
        return (self._lo, self._hi)

    def mean(self) -> float:
        lo, hi, base = self._lo, self._hi, self.base
        if isinstance(base, Normal):
            a, b = (lo - base.mu) / base.sd, (hi - base.mu) / base.sd
            # E[X | a <= Z <= b] = mu + sd (phi(a) - phi(b)) / mass; phi(+-inf) = 0.
            phi_a, phi_b = (math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) for z in (a, b))
            return base.mu + base.sd * (phi_a - phi_b) / self.mass
        if isinstance(base, LogNormal):
            # E[X; a <= X <= b] = exp(mu + s^2 / 2) (Phi(hb) - Phi(ha)) with h = (log x - mu
            # - s^2) / s, taken from the upper side where Phi is near 1.
            shift = base.mu + base.sigma**2
            ha = (math.log(lo) - shift) / base.sigma if lo > 0.0 else -math.inf
            hb = (math.log(hi) - shift) / base.sigma if hi < math.inf else math.inf
            part = (
                float(special.ndtr(hb) - special.ndtr(ha))
                if ha < 0.0
                else float(special.ndtr(-ha) - special.ndtr(-hb))
            )
            return math.exp(base.mu + 0.5 * base.sigma**2) * part / self.mass
        if isinstance(base, ScipyDistribution):
            with _quiet():
                return float(base._frozen.expect(lb=lo, ub=hi, conditional=True))
        from scipy import integrate  # pragma: no cover - every truncatable base is handled above

        return float(  # pragma: no cover
            integrate.quad(lambda v: float(self.ppf(_f64([v]))[0]), 0.0, 1.0, limit=200)[0]
        )

    def to_dict(self) -> dict[str, object]:
        out = self.base.to_dict()
        if self.lower is not None:
            out["lower"] = self.lower
        if self.upper is not None:
            out["upper"] = self.upper
        return out

    def describe(self) -> str:
        given = (("lower", self.lower), ("upper", self.upper))
        bounds = [f"{k}={_fmt(v)}" for k, v in given if v is not None]
        return f"{self.base.describe()[:-1]}, {', '.join(bounds)})"


def _inverse_sf(base: Distribution, q: FloatArray) -> FloatArray:
    """The ``x`` with ``P(X > x) = q``, accurate for small ``q`` where the base allows."""
    if isinstance(base, Normal):
        return _f64(base.mu - base.sd * special.ndtri(q))
    if isinstance(base, LogNormal):
        return _f64(np.exp(base.mu - base.sigma * special.ndtri(q)))
    if isinstance(base, ScipyDistribution):
        with _quiet():
            return _f64(base._frozen.isf(q))
    return base.ppf(1.0 - q)  # pragma: no cover - every truncatable base is handled above
