"""Beta and PERT: a beta(a, b) stretched onto [lo, hi], with a tabulated quantile function."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from sim.distributions.base import FloatArray, _f64, special
from sim.distributions.tables import _QuantileTable, _Tabulated

__all__ = ["Beta", "Pert"]


def _scaled_beta_cdf(x: FloatArray, a: float, b: float, lo: float, hi: float) -> FloatArray:
    z = np.clip((_f64(x) - lo) / (hi - lo), 0.0, 1.0)
    return _f64(special.betainc(a, b, z))


def _scaled_beta_sf(x: FloatArray, a: float, b: float, lo: float, hi: float) -> FloatArray:
    # The upper tail as the lower tail of Beta(b, a) in the reflected variable.
    z = np.clip((hi - _f64(x)) / (hi - lo), 0.0, 1.0)
    return _f64(special.betainc(b, a, z))


class _ScaledBeta(_Tabulated):
    """What Beta and PERT share: a beta(a, b) on ``[lo, hi]`` with a tabulated ppf."""

    __slots__ = ()
    a: float
    b: float
    lo: float
    hi: float

    def _exact(self, u: FloatArray) -> FloatArray:
        return _f64(self.lo + (self.hi - self.lo) * special.betaincinv(self.a, self.b, u))

    def cdf(self, x: FloatArray) -> FloatArray:
        return _scaled_beta_cdf(x, self.a, self.b, self.lo, self.hi)

    def sf(self, x: FloatArray) -> FloatArray:
        return _scaled_beta_sf(x, self.a, self.b, self.lo, self.hi)

    def support(self) -> tuple[float, float]:
        return (self.lo, self.hi)


@dataclass(frozen=True, slots=True, eq=False)
class Beta(_ScaledBeta):
    """Beta(a, b) stretched onto ``[lo, hi]``.

    The quantile function is tabulated on first use (scipy's beta ppf runs at about
    1.5M values/s; the table at about 60M): error at most :data:`TABLE_BOUND` (1e-6) of
    ``max(S, |x - median|)``, ``S = ppf(0.99) - ppf(0.01)``, measured 1e-12 to 1e-10
    for ordinary shapes. ``table_error`` holds the largest midpoint error found when
    tabulating. Shapes whose exact ppf is too steep for floats to tabulate to 1e-7
    (e.g. a = b = 0.05) keep the exact ppf (``table_error`` 0).
    """

    name: ClassVar[str] = "beta"
    a: float
    b: float
    lo: float = 0.0
    hi: float = 1.0
    _built: tuple[_QuantileTable | None, float] | None = field(
        init=False, repr=False, default=None
    )

    def mean(self) -> float:
        return self.lo + (self.hi - self.lo) * self.a / (self.a + self.b)

    def to_dict(self) -> dict[str, object]:
        return {"dist": "beta", "a": self.a, "b": self.b, "min": self.lo, "max": self.hi}


@dataclass(frozen=True, slots=True, eq=False)
class Pert(_ScaledBeta):
    """PERT on ``[lo, hi]`` with mode ``mode`` and weight ``lam`` (4 is the classic).

    A beta with ``a = 1 + lam * (mode - lo) / (hi - lo)``, ``b = 1 + lam * (hi - mode) /
    (hi - lo)``, mean ``(lo + lam * mode + hi) / (lam + 2)``. The quantile function is
    tabulated like :class:`Beta`'s: error at most :data:`TABLE_BOUND` (1e-6) of
    ``max(S, |x - median|)``, measured about 1e-11; ``table_error`` holds the largest
    midpoint error found at construction.
    """

    name: ClassVar[str] = "pert"
    lo: float
    mode: float
    hi: float
    lam: float = 4.0
    a: float = field(init=False)
    b: float = field(init=False)
    _built: tuple[_QuantileTable | None, float] | None = field(
        init=False, repr=False, default=None
    )

    def __post_init__(self) -> None:
        width = self.hi - self.lo
        object.__setattr__(self, "a", 1.0 + self.lam * (self.mode - self.lo) / width)
        object.__setattr__(self, "b", 1.0 + self.lam * (self.hi - self.mode) / width)

    def mean(self) -> float:
        return (self.lo + self.lam * self.mode + self.hi) / (self.lam + 2.0)

    def to_dict(self) -> dict[str, object]:
        return {
            "dist": "pert",
            "min": self.lo,
            "mode": self.mode,
            "max": self.hi,
            "lambda": self.lam,
        }
