"""The regime index: which of K weighted regimes a path is in (DESIGN.md 3.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.distributions.base import Distribution, FloatArray, _f64

__all__ = ["RegimeIndex"]


@dataclass(frozen=True, slots=True, eq=False)
class RegimeIndex(Distribution):
    """The index 0..K-1 of the weight bin a uniform falls in, as a float.

    ``weights`` sum to 1 (the loader normalises them). Quantile-first like every scalar
    input: a uniform in ``[w_0 + ... + w_{k-1}, w_0 + ... + w_k)`` is regime ``k``, so
    the regime's draw is stratified and correlatable like any other. Not a family a
    scenario names: the loader builds it from ``[[regimes]]``.
    """

    name: ClassVar[str] = "regime"
    weights: tuple[float, ...]

    def _edges(self) -> FloatArray:
        return np.cumsum(self.weights)[:-1]

    def ppf(self, u: FloatArray) -> FloatArray:
        return _f64(np.searchsorted(self._edges(), u, side="right"))

    def cdf(self, x: FloatArray) -> FloatArray:
        cum = np.concatenate([[0.0], np.cumsum(self.weights)])
        k = np.floor(_f64(x)).astype(np.int64) + 1
        return _f64(cum[np.clip(k, 0, len(self.weights))])

    def support(self) -> tuple[float, float]:
        return (0.0, float(len(self.weights) - 1))

    def mean(self) -> float:
        return float(np.dot(np.arange(len(self.weights)), self.weights))

    @property
    def is_fixed(self) -> bool:
        return len(self.weights) == 1

    def to_dict(self) -> dict[str, object]:
        return {"dist": "regime", "weights": list(self.weights)}

    def atoms(self) -> tuple[tuple[float, float], ...]:
        return tuple((float(k), w) for k, w in enumerate(self.weights))
