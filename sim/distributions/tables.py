"""Quantile tables: a slow exact quantile function made fast by monotone cubic interpolation.

Beta, PERT, mixtures and the slow ``scipy`` distributions have no fast closed-form quantile
function, so each builds, once at construction, a monotone cubic table of its exact one in
``logit(u)`` for u in [1e-10, 1 - 1e-10] (the exact function answers beyond), refined until
the error at the middle of every table interval is at most 1e-7 of the distribution's
scale. :data:`TABLE_BOUND` (1e-6) is the bound the tests assert on a dense grid. A lookup
runs at about 60M values/s on one core, against 0.1-3M for scipy's beta, gamma or t ppf.

A family uses :func:`_table_or_exact` and :func:`_ppf_via` in its ``ppf``; one whose
table waits for the first ``ppf`` subclasses :class:`_Tabulated`.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.distributions.base import (
    Distribution,
    FloatArray,
    IntArray,
    _chunked,
    _f64,
    _logit,
    special,
)

__all__ = ["TABLE_BOUND"]

TABLE_BOUND = 1e-6
"""Largest error of any quantile table, as a fraction of ``max(S, |x - median|)`` where
``S = ppf(0.99) - ppf(0.01)``: an absolute error of at most 1e-6 of the spread in the body,
and a relative error of at most 1e-6 in long tails. Measured against the exact quantile
function on a dense grid of ``u`` in the tests."""

# Tables span u in [_TAIL, 1 - _TAIL]; beyond, the exact quantile function answers (those
# values are rare: 2e-10 of all draws).
_TAIL = 1e-10
_T_END = math.log1p(-_TAIL) - math.log(_TAIL)
# expit(-_T_END) and expit(_T_END) as scipy.special computes them (a test checks the
# digits): written out so that importing this module imports no scipy.
_U_LO = 9.999999999999978e-11
_U_HI = 0.9999999999
# 4097 knots put 0.011 between knots in logit(u); with fourth-order slopes the cubic is
# then near 1e-11 of the scale for smooth quantile functions, so refinement is for kinks.
_BASE_KNOTS = 4097
_TABLE_TARGET = 1e-7
_REFINE_ROUNDS = 10
# Stand-in for logit(0) and logit(1) at a mixture's hard ends (an atom or a bounded
# support): beyond every logit(u) of a float u in (0, 1), which lie within [-745, 37].
_SENTINEL_T = 1000.0
_CELL_T = 40.0


def _lagrange_slope(
    t: FloatArray, x: FloatArray, at: IntArray, offsets: Sequence[int]
) -> FloatArray:
    """Derivative at ``t[at]`` of the polynomial through the knots ``at + offsets`` and ``at``.

    Uses the differences ``x[j] - x[at]`` (the weights sum to zero), which keeps the
    digits when neighbouring values are close.
    """
    delta = [t[at + o] - t[at] for o in offsets]
    slope = np.zeros(at.size)
    for j, o in enumerate(offsets):
        weight = 1.0 / delta[j]
        for k in range(len(offsets)):
            if k != j:
                weight = weight * (-delta[k]) / (delta[j] - delta[k])
        slope += weight * (x[at + o] - x[at])
    return _f64(slope)


def _monotone_slopes(t: FloatArray, x: FloatArray) -> FloatArray:
    """Slopes dx/dt at strictly increasing knots for a monotone cubic Hermite interpolant.

    Fourth-order slopes (the quartic through five knots) where the knots allow, parabolic
    ones next to the ends, then Hyman's (1983) filter: each slope is clipped to
    ``[0, 3 min(left secant, right secant)]``, which keeps every cubic monotone
    (Fritsch-Carlson) and leaves smooth, strictly rising stretches untouched, so the
    interpolation error there is O(h**4) on any spacing (Fritsch-Butland's pchip slopes
    are only first order where neighbouring intervals differ in width).
    """
    n = t.size
    d = np.diff(x) / np.diff(t)
    if n == 2:
        return _f64(np.array([d[0], d[0]]))
    m = np.empty(n)
    idx = np.arange(n)
    m[0] = _lagrange_slope(t, x, idx[:1], (1, 2))[0]
    m[-1] = _lagrange_slope(t, x, idx[-1:], (-1, -2))[0]
    if n >= 5:
        m[2:-2] = _lagrange_slope(t, x, idx[2:-2], (-2, -1, 1, 2))
        m[[1, -2]] = _lagrange_slope(t, x, idx[[1, -2]], (-1, 1))
    else:
        m[1:-1] = _lagrange_slope(t, x, idx[1:-1], (-1, 1))
    cap = np.empty(n)
    cap[1:-1] = 3.0 * np.minimum(d[:-1], d[1:])
    cap[0], cap[-1] = 3.0 * d[0], 3.0 * d[-1]
    return _f64(np.clip(m, 0.0, np.maximum(cap, 0.0)))


@dataclass(frozen=True, slots=True, eq=False)
class _QuantileTable:
    """A monotone cubic Hermite interpolant of a quantile function in ``t = logit(u)``.

    Knots may repeat a ``t`` value: the quantile function jumps there (a gap in the
    support); a run of equal ``x`` values is a flat stretch (an atom). A lookup finds the
    interval through a uniform grid of cells over ``t``, each cell holding at most one
    knot (one comparison settles the interval); values in the rare crowded cells take a
    binary search. So a block costs O(1) per value, about 70M values/s.
    """

    knots: FloatArray
    x0: FloatArray
    rise: FloatArray
    inv_h: FloatArray
    shape_a: FloatArray
    shape_b: FloatArray
    u_lo: float
    u_hi: float
    cell_t0: float
    cell_inv_w: float
    cell_base: IntArray
    cell_next: FloatArray
    crowded: npt.NDArray[np.bool_]
    any_crowded: bool

    @classmethod
    def from_knots(
        cls, t: FloatArray, x: FloatArray, *, u_lo: float, u_hi: float
    ) -> _QuantileTable:
        """Build the interpolant through ``(t, x)``: ``t`` and ``x`` non-decreasing."""
        n = t.size
        h = np.diff(t)
        slopes = np.zeros(n)
        cuts = np.flatnonzero(h <= 0.0) + 1
        # Quantiles near the largest double (1e308) overflow the slopes: checked below.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [n]]), strict=True):
                if b - a >= 2:
                    slopes[a:b] = _monotone_slopes(t[a:b], x[a:b])
            rise = np.diff(x)
            inv_h = np.where(h > 0.0, 1.0 / h, 0.0)
            alpha = np.where(rise > 0.0, h * slopes[:-1] / rise, 1.0)
            beta = np.where(rise > 0.0, h * slopes[1:] / rise, 1.0)
        if not (np.isfinite(rise).all() and np.isfinite(slopes).all()):
            # An ArithmeticError: parse_distribution reports it as beyond double precision.
            raise FloatingPointError(
                f"a quantile table of values up to {float(np.abs(x).max()):.3g} overflows"
            )
        # Cells cover the knots within |logit(u)| <= 40 (u from 4e-18): sentinel knots at
        # +-1000 and knots packed into the far tails would waste them. Four times as many
        # cells as intervals leaves at most one knot in most cells.
        inner = np.flatnonzero(np.abs(t) <= _CELL_T)
        g0, g1 = (float(t[inner[0]]), float(t[inner[-1]])) if inner.size else (-1.0, 1.0)
        cells = max(1, min(4 * (n - 1), 1 << 18))
        width = (g1 - g0) / cells
        edges = g0 + width * np.arange(cells + 1)
        last = n - 2
        # base: the interval holding the cell's left edge; a value in the cell lies in it
        # or, past the next knot, in the one after. Cells spanning two knots are crowded.
        # The end cells also take every value beyond the cells' range.
        base = np.clip(np.searchsorted(t, edges[:-1], side="left") - 1, 0, last)
        reach = np.clip(np.searchsorted(t, edges[1:], side="left") - 1, 0, last)
        base[0] = 0
        reach[-1] = last
        crowded = (reach - base) > 1
        table = cls(
            knots=t,
            x0=x[:-1].copy(),
            rise=rise,
            inv_h=_f64(inv_h),
            shape_a=_f64(np.clip(alpha, 0.0, 3.0) - 1.0),
            shape_b=_f64(np.clip(beta, 0.0, 3.0) - 1.0),
            u_lo=u_lo,
            u_hi=u_hi,
            cell_t0=g0,
            cell_inv_w=1.0 / width if width > 0.0 else 0.0,
            cell_base=base.astype(np.intp),
            cell_next=_f64(t[base + 1]),
            crowded=crowded,
            any_crowded=bool(crowded.any()),
        )
        for arr in (t, table.x0, table.rise, table.inv_h, table.shape_a, table.shape_b):
            arr.flags.writeable = False
        for cell_arr in (table.cell_base, table.cell_next, table.crowded):
            cell_arr.flags.writeable = False
        return table

    def _locate(self, t: FloatArray) -> IntArray:
        """Interval index k with ``knots[k] < t <= knots[k + 1]`` (clipped to the table)."""
        # In-place arithmetic throughout: fresh 0.5 MB temporaries cost page faults.
        cell = t - self.cell_t0
        cell *= self.cell_inv_w
        np.clip(cell, 0.0, self.cell_base.size - 1.0, out=cell)
        j = cell.astype(np.intp)
        k = self.cell_base[j]
        k += t > self.cell_next[j]
        np.minimum(k, self.knots.size - 2, out=k)
        if self.any_crowded:
            idx = np.flatnonzero(self.crowded[j])
            if idx.size:
                found = np.searchsorted(self.knots, t[idx], side="left") - 1
                k[idx] = np.clip(found, 0, self.knots.size - 2)
        return k

    def __call__(self, u: FloatArray) -> FloatArray:
        """Interpolated quantiles at ``u`` (1-D, every value within ``[u_lo, u_hi]``)."""
        return _chunked(self._evaluate, u)

    def _evaluate(self, u: FloatArray) -> FloatArray:
        t = _logit(u)
        k = self._locate(t)
        s = t - self.knots[k]
        s *= self.inv_h[k]
        np.clip(s, 0.0, 1.0, out=s)
        r = 1.0 - s
        # Hermite cubic written as x0 + rise * q(s) with q(0) = 0 and q(1) = 1 exactly, so
        # neighbouring intervals meet at their shared knot:
        # q = s + s r (r (alpha - 1) - s (beta - 1)).
        q = r * self.shape_a[k]
        q -= s * self.shape_b[k]
        q *= r
        q *= s
        q += s
        q *= self.rise[k]
        q += self.x0[k]
        return q


def _apply_table(
    table: _QuantileTable, exact: Callable[[FloatArray], FloatArray], u: FloatArray
) -> FloatArray:
    """The table inside its range, the exact quantile function beyond it."""
    flat = _f64(u).ravel()
    if flat.size == 0:
        return np.empty(np.shape(u))
    # Two reductions decide the common case (every value inside) without a mask.
    if flat.min() >= table.u_lo and flat.max() <= table.u_hi:
        return table(flat).reshape(np.shape(u))
    inside = (flat >= table.u_lo) & (flat <= table.u_hi)
    out = np.empty_like(flat)
    idx = np.flatnonzero(inside)
    out[idx] = table(flat[idx])
    rest = np.flatnonzero(~inside)
    out[rest] = exact(flat[rest])
    return out.reshape(np.shape(u))


def _table_or_exact(
    exact: Callable[[FloatArray], FloatArray],
) -> tuple[_QuantileTable | None, float]:
    """A table for ``exact``, or None where refinement could not reach the target.

    That happens where the exact function is itself noisy at that level (a quantile
    function so steep that the rounding of ``u`` shows, as for Beta(0.05, 0.05)) or has a
    kink; the exact function then answers every value, slower but within its own error.
    """
    table, error = _tabulate(exact)
    if error > _TABLE_TARGET:
        return None, 0.0
    return table, error


def _ppf_via(
    table: _QuantileTable | None, exact: Callable[[FloatArray], FloatArray], u: FloatArray
) -> FloatArray:
    if table is None:
        return _f64(exact(_f64(u)))
    return _apply_table(table, exact, u)


class _Tabulated(Distribution):
    """A distribution whose ``ppf`` is its exact quantile function :meth:`_exact` through a
    table built on first use (reading a scenario tabulates nothing: ``ipo-sim show`` and
    ``check`` need no table); beta, PERT and the comparables' Student t.

    A subclass is a frozen dataclass with the field ``_built: tuple[_QuantileTable | None,
    float] | None = field(init=False, repr=False, default=None)``, the cache.
    """

    __slots__ = ()
    _built: tuple[_QuantileTable | None, float] | None

    @abc.abstractmethod
    def _exact(self, u: FloatArray) -> FloatArray:
        """The exact (slow) quantile function the table interpolates."""

    def _tables(self) -> tuple[_QuantileTable | None, float]:
        """The quantile table (None where the exact function answers) and its error."""
        built = self._built
        if built is None:
            built = _table_or_exact(self._exact)
            object.__setattr__(self, "_built", built)
        return built

    @property
    def table_error(self) -> float:
        """The largest midpoint error of the table (0 where the exact ppf answers)."""
        return self._tables()[1]

    def ppf(self, u: FloatArray) -> FloatArray:
        return _ppf_via(self._tables()[0], self._exact, u)


def _scaled_error(
    approx: FloatArray, exact: FloatArray, median: float, spread: float
) -> FloatArray:
    """``|approx - exact| / max(spread, |exact - median|)``: see :data:`TABLE_BOUND`."""
    with np.errstate(invalid="ignore"):
        err = np.abs(approx - exact) / np.maximum(spread, np.abs(exact - median))
    return _f64(np.nan_to_num(err, nan=0.0))


def _tabulate(
    exact: Callable[[FloatArray], FloatArray],
    extra_t: FloatArray | None = None,
    extra_x: FloatArray | None = None,
) -> tuple[_QuantileTable, float]:
    """Tabulate an exact (slow) quantile function on ``u`` in ``[_TAIL, 1 - _TAIL]``.

    Knots start uniform in ``logit(u)``, plus any given extra knots ``(extra_t, extra_x)``
    (exact points at kinks and jumps; equal ``t`` values with rising ``x`` make a jump;
    extra knots may reach beyond ``_TAIL``, e.g. to a hard end of the support). Intervals
    within ``u`` in ``[_TAIL, 1 - _TAIL]`` whose midpoint error exceeds ``_TABLE_TARGET``
    are split, for up to ``_REFINE_ROUNDS`` rounds.

    Returns
    -------
    table : _QuantileTable
    error : float
        The largest midpoint error of the final table, relative as in
        :func:`_scaled_error`.
    """
    u = _f64(special.expit(np.linspace(-_T_END, _T_END, _BASE_KNOTS)))
    # Knots at logit of the float u actually evaluated: near u = 1 a float u is coarse
    # (1 - u has ~6 digits at 1e-10), and knots at the intended t would carry that noise.
    t = _logit(u)
    x = exact(u)
    finite = np.isfinite(x)
    if not finite.all():
        # scipy gives up (NaN/inf) in some far tails: keep the finite run around the centre
        # and let the exact function answer beyond it.
        centre = t.size // 2
        bad_lo = np.flatnonzero(~finite[:centre])
        bad_hi = np.flatnonzero(~finite[centre:])
        lo = int(bad_lo[-1]) + 1 if bad_lo.size else 0
        hi = centre + int(bad_hi[0]) if bad_hi.size else t.size
        t, x = t[lo:hi], x[lo:hi]
    if extra_t is not None and extra_x is not None:
        t = np.concatenate([t, np.clip(extra_t, -_SENTINEL_T, _SENTINEL_T)])
        x = np.concatenate([x, extra_x])
    q01, median, q99 = exact(np.array([0.01, 0.5, 0.99]))
    spread = float(q99 - q01) if q99 > q01 else max(abs(float(median)), 1.0)
    fresh = np.ones(t.size, dtype=bool)
    settled = 0.0
    for round_ in range(_REFINE_ROUNDS + 1):
        order = np.lexsort((x, t))
        # Exact ppfs can wobble by an ulp; a table must not.
        t, x, fresh = t[order], np.maximum.accumulate(x[order]), fresh[order]
        # Beyond [_TAIL, 1 - _TAIL] the exact function answers, even where extra knots
        # reach further: the refinement below does not cover those far tails.
        u_lo = max(float(special.expit(t[0])), _U_LO)
        u_hi = min(float(special.expit(t[-1])), _U_HI)
        table = _QuantileTable.from_knots(t, x, u_lo=u_lo, u_hi=u_hi)
        # Check intervals inside the stated range, and after the first round only those
        # whose cubic a new knot changed (slopes reach two knots either side). Jumps and
        # intervals under 1e-9 wide in logit(u) are left alone: there the rounding of a
        # float u (1e-17 near u = 0.1) dominates any interpolation error.
        near = np.convolve(fresh.astype(np.intp), np.ones(5, dtype=np.intp), mode="same") > 0
        tm = 0.5 * (t[:-1] + t[1:])
        k = np.flatnonzero((np.diff(t) > 1e-9) & (np.abs(tm) <= _T_END) & (near[:-1] | near[1:]))
        um = _f64(special.expit(tm[k]))
        xm = exact(um)
        err = _scaled_error(table(um), xm, float(median), spread)
        bad = err > _TABLE_TARGET
        if not bad.any() or round_ == _REFINE_ROUNDS:
            return table, max(settled, float(err.max()) if err.size else 0.0)
        # Conservative: an interval that passed keeps its error in the record even if a
        # later knot nearby improves it.
        settled = max(settled, float(err[~bad].max()) if (~bad).any() else 0.0)
        t = np.concatenate([t, _logit(um[bad])])
        x = np.concatenate([x, xm[bad]])
        fresh = np.concatenate([np.zeros(fresh.size, dtype=bool), np.ones(int(bad.sum()), bool)])
    raise AssertionError("unreachable")  # pragma: no cover
