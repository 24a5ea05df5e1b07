"""Finite mixtures of distributions, with a tabulated quantile function."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from sim.distributions.base import Distribution, FloatArray, _f64, _fmt, _logit, _logit_of, special
from sim.distributions.tables import (
    _BASE_KNOTS,
    _T_END,
    _apply_table,
    _QuantileTable,
    _tabulate,
)

__all__ = ["Mixture"]


@dataclass(frozen=True, slots=True, eq=False)
class Mixture(Distribution):
    """A finite mixture: component ``i`` with probability ``weights[i]``.

    ``cdf`` is the weighted sum of the components' cdfs (exact). There is no closed-form
    quantile function; the exact one is a bisection on the mixture cdf (in logit space,
    with the survival function in the upper tail), bracketed by the components'
    quantiles. On first use that exact function is tabulated like :class:`Beta`'s, on a
    uniform grid in ``logit(u)`` plus exact knots packed geometrically (in x and in u)
    around every kink and jump: each component's finite support ends and point masses
    (a gap between components is a jump, an atom a flat stretch). Error at most
    :data:`TABLE_BOUND` (1e-6) of ``max(S, |x - median|)``, measured 1e-11 to 1e-7;
    ``table_error`` holds the largest midpoint error found at construction. Beyond u in
    [1e-10, 1 - 1e-10] the bisection answers.

    Parameters
    ----------
    weights : tuple of float
        Non-negative, summing to 1 (normalised exactly on construction).
    components : tuple of Distribution
    """

    name: ClassVar[str] = "mixture"
    weights: tuple[float, ...]
    components: tuple[Distribution, ...]
    _w: FloatArray = field(init=False, repr=False)
    _built: tuple[_QuantileTable, float] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        w = _f64(self.weights)
        w = w / w.sum()
        w.flags.writeable = False
        object.__setattr__(self, "_w", w)

    def _tables(self) -> tuple[_QuantileTable, float]:
        """The quantile table and its error, tabulated on first use (reading a scenario
        tabulates nothing: ``ipo-sim show`` and ``check`` need no table)."""
        built = self._built
        if built is None:
            built = self._build_table()
            object.__setattr__(self, "_built", built)
        return built

    @property
    def table_error(self) -> float:
        """The largest midpoint error of the table."""
        return self._tables()[1]

    def _live(self) -> list[tuple[float, Distribution]]:
        return [(float(w), c) for w, c in zip(self._w, self.components, strict=True) if w > 0.0]

    def atoms(self) -> tuple[tuple[float, float], ...]:
        merged: dict[float, float] = {}
        for w, c in self._live():
            for loc, mass in c.atoms():
                merged[loc] = merged.get(loc, 0.0) + w * mass
        return tuple(sorted(merged.items()))

    def _build_table(self) -> tuple[_QuantileTable, float]:
        live = self._live()
        probes = np.array([0.01, 0.99])
        q = np.array([c.ppf(probes) for _, c in live])
        spread = float(q[:, 1].max() - q[:, 0].min()) or max(1.0, float(np.abs(q).max()))
        atoms = self.atoms()
        atom_x = _f64([a for a, _ in atoms])
        atom_p = _f64([m for _, m in atoms])
        ends = _f64([e for _, c in live for e in c.support() if math.isfinite(e)])
        special_x = np.unique(np.concatenate([ends, atom_x]))
        if not special_x.size:
            return _tabulate(self._bisect_ppf)
        # A component's support end is a kink in the mixture's quantile function and an
        # atom a flat stretch (a gap between components is a jump): a cubic cannot follow
        # these, so exact knots are packed geometrically on both sides of each, leaving
        # the damage within intervals ~1e-16 of the scale wide.
        steps = 0.01 * spread * 2.0 ** -np.arange(53.0)
        offsets = np.concatenate([[0.0], steps, -steps])
        xs = np.unique((special_x[:, None] + offsets[None, :]).ravel())
        below, above = self.cdf_sf(xs)
        extra_t, extra_x = [_logit_of(below, above)], [xs]
        if atom_x.size:
            # An atom's second knot: the cdf just below it.
            at = np.searchsorted(xs, atom_x)
            left = _logit_of(np.maximum(below[at] - atom_p, 0.0), above[at] + atom_p)
            extra_t.append(left)
            extra_x.append(atom_x)
        # The same packing in logit(u): next to an atom or a thin-tailed support end the
        # quantile function leaves the kink like exp(-sqrt(log(1/(u - u0)))), which only
        # knots spaced geometrically in u - u0 can follow.
        kinks = np.unique(np.concatenate(extra_t)[np.isin(np.concatenate(extra_x), special_x)])
        kinks = kinks[np.abs(kinks) <= _T_END]
        if kinks.size:
            t_steps = 2.0 * _T_END / (_BASE_KNOTS - 1) * 2.0 ** -np.arange(40.0)
            near = (kinks[:, None] + np.concatenate([t_steps, -t_steps])[None, :]).ravel()
            near = near[np.abs(near) <= _T_END]
            extra_t.append(_logit(_f64(special.expit(near))))
            extra_x.append(self._bisect_ppf(_f64(special.expit(near))))
        return _tabulate(self._bisect_ppf, np.concatenate(extra_t), np.concatenate(extra_x))

    def cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        xa = _f64(x)
        below, above = np.zeros(xa.shape), np.zeros(xa.shape)
        for w, c in self._live():
            cb, ca = c.cdf_sf(xa)
            below += w * cb
            above += w * ca
        return _f64(np.minimum(below, 1.0)), _f64(np.minimum(above, 1.0))

    def _cdf_logit(self, x: FloatArray) -> FloatArray:
        """``logit(cdf(x))`` from the cdf and the survival function, each where it is
        accurate (the cdf near 1 has lost the digits of ``1 - cdf``); +-inf at 0 and 1."""
        below, above = self.cdf_sf(x)
        return _logit_of(below, above)

    def _ppf_with(self, table: _QuantileTable, u: FloatArray) -> FloatArray:
        return _apply_table(table, self._bisect_ppf, u)

    def _bisect_ppf(self, u: FloatArray) -> FloatArray:
        """Exact generalised inverse by bisection: the components' quantiles bracket it."""
        qs = np.array([c.ppf(u) for _, c in self._live()])
        lo, hi = qs.min(axis=0), qs.max(axis=0)
        target = _logit(u)

        def reached(x: FloatArray) -> npt.NDArray[np.bool_]:
            # cdf(x) >= u, compared in logit space to keep the upper tail's digits.
            return self._cdf_logit(x) >= target

        hi = np.where(reached(lo), lo, hi)
        for _ in range(1100):
            mid = 0.5 * lo + 0.5 * hi
            active = (mid > lo) & (mid < hi)
            if not active.any():
                break
            up = reached(mid)
            hi = np.where(active & up, mid, hi)
            lo = np.where(active & ~up, mid, lo)
        return _f64(hi)

    def ppf(self, u: FloatArray) -> FloatArray:
        return self._ppf_with(self._tables()[0], u)

    def cdf(self, x: FloatArray) -> FloatArray:
        return self._weighted(lambda c, xa: c.cdf(xa), x)

    def sf(self, x: FloatArray) -> FloatArray:
        return self._weighted(lambda c, xa: c.sf(xa), x)

    def _weighted(
        self, fn: Callable[[Distribution, FloatArray], FloatArray], x: FloatArray
    ) -> FloatArray:
        """``sum_i w_i fn(component_i, x)``, capped at 1: a probability."""
        xa = _f64(x)
        total = np.zeros(xa.shape)
        for w, c in self._live():
            total += w * fn(c, xa)
        return _f64(np.minimum(total, 1.0))

    def support(self) -> tuple[float, float]:
        bounds = [c.support() for _, c in self._live()]
        return (min(b[0] for b in bounds), max(b[1] for b in bounds))

    def mean(self) -> float:
        return float(sum(w * c.mean() for w, c in self._live()))

    @property
    def is_fixed(self) -> bool:
        atoms = self.atoms()
        return len(atoms) == 1 and all(c.is_fixed for _, c in self._live())

    def to_dict(self) -> dict[str, object]:
        return {
            "dist": "mixture",
            "weights": list(self.weights),
            "components": [c.to_dict() for c in self.components],
        }

    def describe(self) -> str:
        parts = [
            f"{_fmt(w)}*{c.describe()}" for w, c in zip(self.weights, self.components, strict=True)
        ]
        return f"mixture({', '.join(parts)})"
