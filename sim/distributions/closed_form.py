"""The families with a closed-form quantile function: fixed, normal, lognormal,
triangular and uniform."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.distributions.base import Distribution, FloatArray, _f64, _fmt, special

__all__ = ["Fixed", "LogNormal", "Normal", "Triangular", "Uniform"]


@dataclass(frozen=True, slots=True, eq=False)
class Fixed(Distribution):
    """A point mass at ``value`` (a plain number in a scenario means this)."""

    name: ClassVar[str] = "fixed"
    value: float

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.full(np.shape(u), self.value, dtype=np.float64)

    def cdf(self, x: FloatArray) -> FloatArray:
        return _f64(_f64(x) >= self.value)

    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def mean(self) -> float:
        return self.value

    @property
    def is_fixed(self) -> bool:
        return True

    def to_dict(self) -> dict[str, object]:
        return {"dist": "fixed", "value": self.value}

    def describe(self) -> str:
        return f"fixed({_fmt(self.value)})"

    def atoms(self) -> tuple[tuple[float, float], ...]:
        return ((self.value, 1.0),)


@dataclass(frozen=True, slots=True, eq=False)
class Normal(Distribution):
    """Normal with ``mean`` and ``sd > 0``; ppf is ``mean + sd * ndtri(u)``."""

    name: ClassVar[str] = "normal"
    mu: float
    sd: float

    def ppf(self, u: FloatArray) -> FloatArray:
        return _f64(self.mu + self.sd * special.ndtri(u))

    def cdf(self, x: FloatArray) -> FloatArray:
        return _f64(special.ndtr((_f64(x) - self.mu) / self.sd))

    def sf(self, x: FloatArray) -> FloatArray:
        return _f64(special.ndtr((self.mu - _f64(x)) / self.sd))

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf)

    def mean(self) -> float:
        return self.mu

    def to_dict(self) -> dict[str, object]:
        return {"dist": "normal", "mean": self.mu, "sd": self.sd}


@dataclass(frozen=True, slots=True, eq=False)
class LogNormal(Distribution):
    """Lognormal: ``log X ~ N(mu, sigma)``; ppf is ``exp(mu + sigma * ndtri(u))``.

    ``given`` records the parameters as the user stated them, for :meth:`to_dict`:
    ``p50``/``p90`` (median and 90th percentile), ``mean``/``sd`` (of X itself), or empty
    for ``mu``/``sigma`` (of the log).
    """

    name: ClassVar[str] = "lognormal"
    mu: float
    sigma: float
    given: tuple[tuple[str, float], ...] = ()

    def ppf(self, u: FloatArray) -> FloatArray:
        return _f64(np.exp(self.mu + self.sigma * special.ndtri(u)))

    def cdf(self, x: FloatArray) -> FloatArray:
        xa = _f64(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(xa > 0.0, xa, 1.0)) - self.mu) / self.sigma
        return _f64(np.where(xa > 0.0, special.ndtr(z), 0.0))

    def sf(self, x: FloatArray) -> FloatArray:
        xa = _f64(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(xa > 0.0, xa, 1.0)) - self.mu) / self.sigma
        return _f64(np.where(xa > 0.0, special.ndtr(-z), 1.0))

    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def mean(self) -> float:
        return math.exp(self.mu + 0.5 * self.sigma**2)

    def to_dict(self) -> dict[str, object]:
        params = dict(self.given) or {"mu": self.mu, "sigma": self.sigma}
        return {"dist": "lognormal", **params}


@dataclass(frozen=True, slots=True, eq=False)
class Triangular(Distribution):
    """Triangular on ``[lo, hi]`` with mode ``mode``; closed-form ppf."""

    name: ClassVar[str] = "triangular"
    lo: float
    mode: float
    hi: float

    def _scales(self) -> tuple[float, float]:
        """``sqrt(width * (mode - lo))`` and ``sqrt(width * (hi - mode))``.

        Taken as products of square roots: the products themselves overflow a double for
        a range beyond ~1e154 (the quantiles are still representable).
        """
        root = math.sqrt(self.hi - self.lo)
        return root * math.sqrt(self.mode - self.lo), root * math.sqrt(self.hi - self.mode)

    def ppf(self, u: FloatArray) -> FloatArray:
        ua = _f64(u)
        k_left, k_right = self._scales()
        c = (self.mode - self.lo) / (self.hi - self.lo)
        left = self.lo + k_left * np.sqrt(ua)
        right = self.hi - k_right * np.sqrt(1.0 - ua)
        return _f64(np.where(ua <= c, left, right))

    def cdf(self, x: FloatArray) -> FloatArray:
        xa = np.clip(_f64(x), self.lo, self.hi)
        k_left, k_right = self._scales()
        with np.errstate(divide="ignore", invalid="ignore"):
            left = ((xa - self.lo) / k_left) ** 2
            right = 1.0 - ((self.hi - xa) / k_right) ** 2
        return _f64(np.where(xa <= self.mode, np.nan_to_num(left), np.nan_to_num(right)))

    def sf(self, x: FloatArray) -> FloatArray:
        xa = np.clip(_f64(x), self.lo, self.hi)
        k_left, k_right = self._scales()
        with np.errstate(divide="ignore", invalid="ignore"):
            left = 1.0 - ((xa - self.lo) / k_left) ** 2
            right = ((self.hi - xa) / k_right) ** 2
        return _f64(np.where(xa < self.mode, np.nan_to_num(left), np.nan_to_num(right)))

    def support(self) -> tuple[float, float]:
        return (self.lo, self.hi)

    def mean(self) -> float:
        return (self.lo + self.mode + self.hi) / 3.0

    def to_dict(self) -> dict[str, object]:
        return {"dist": "triangular", "min": self.lo, "mode": self.mode, "max": self.hi}


@dataclass(frozen=True, slots=True, eq=False)
class Uniform(Distribution):
    """Uniform on ``[lo, hi]``: ppf ``lo + u * (hi - lo)``.

    ``cdf`` and ``sf`` are each measured from their own end of the range, so both keep
    their digits near 0.
    """

    name: ClassVar[str] = "uniform"
    lo: float
    hi: float

    def ppf(self, u: FloatArray) -> FloatArray:
        return _f64(self.lo + _f64(u) * (self.hi - self.lo))

    def cdf(self, x: FloatArray) -> FloatArray:
        return _f64(np.clip((_f64(x) - self.lo) / (self.hi - self.lo), 0.0, 1.0))

    def sf(self, x: FloatArray) -> FloatArray:
        return _f64(np.clip((self.hi - _f64(x)) / (self.hi - self.lo), 0.0, 1.0))

    def support(self) -> tuple[float, float]:
        return (self.lo, self.hi)

    def mean(self) -> float:
        return 0.5 * (self.lo + self.hi)

    def to_dict(self) -> dict[str, object]:
        return {"dist": "uniform", "min": self.lo, "max": self.hi}
