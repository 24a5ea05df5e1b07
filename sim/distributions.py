"""Named probability distributions: scenario tables in, frozen vectorised distributions out.

A scenario states an uncertain input as a plain number (a point mass) or an inline table
with a ``dist`` key, e.g. ``{ dist = "lognormal", p50 = "20M", p90 = "40M" }``.
:func:`parse_distribution` validates such a table (every key, type and constraint, with
"did you mean" hints for typos) and returns a frozen :class:`Distribution`. Every
distribution answers the same verbs: :meth:`~Distribution.ppf` (the engine's hot path,
called on blocks of 65,536 uniforms), :meth:`~Distribution.cdf`,
:meth:`~Distribution.sample`, :meth:`~Distribution.support`, :meth:`~Distribution.mean`,
:meth:`~Distribution.to_dict` and :meth:`~Distribution.describe`.

Quantile functions are closed forms where one exists (fixed, normal, lognormal,
triangular, uniform, metalog). Beta, PERT, mixtures and the slow ``scipy`` distributions
have none that is fast, so each builds, once at construction, a monotone cubic table of
its exact quantile function in ``logit(u)`` for u in [1e-10, 1 - 1e-10] (the exact
function answers beyond), refined until the error at the middle of every table interval
is at most 1e-7 of the distribution's scale. :data:`TABLE_BOUND` (1e-6) is the bound the
tests assert on a dense grid; typical tables reach 1e-11 to 1e-8. A table lookup runs at
about 60M values/s on one core, against 0.1-3M for scipy's beta, gamma or t ppf.

Example
-------
>>> d = parse_distribution({"dist": "lognormal", "p50": 40, "p90": 90}, path="multiple")
>>> d.describe()
'lognormal(p50=40, p90=90)'
>>> import numpy as np
>>> bool(abs(d.ppf(np.array([0.5]))[0] - 40.0) < 1e-9)
True
"""

from __future__ import annotations

import abc
import itertools
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import integrate, special, stats

from sim.errors import InfeasibleDistribution, ScenarioError, unknown_key_message

__all__ = [
    "DISTRIBUTIONS",
    "MAX_DISTRIBUTION_NESTING",
    "MIN_TRUNCATED_MASS",
    "PARAMETERS",
    "TABLE_BOUND",
    "TRUNCATABLE",
    "Beta",
    "Distribution",
    "Fixed",
    "FloatArray",
    "LogNormal",
    "Metalog",
    "Mixture",
    "Normal",
    "Pert",
    "ScipyDistribution",
    "Triangular",
    "Truncated",
    "Uniform",
    "ValueParser",
    "parse_distribution",
    "plain_number",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
ValueParser = Callable[[object, str], float]
"""``(raw value, key path) -> float`` in the distribution's units; raises ScenarioError."""

DISTRIBUTIONS: tuple[str, ...] = (
    "fixed",
    "normal",
    "lognormal",
    "triangular",
    "pert",
    "uniform",
    "beta",
    "metalog",
    "mixture",
    "scipy",
)
"""The catalogue: the names a scenario may give as ``dist``."""

PARAMETERS: Mapping[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "normal": ("mean", "sd", "lower", "upper"),
    "lognormal": ("p50", "p90", "mu", "sigma", "mean", "sd", "lower", "upper"),
    "triangular": ("min", "mode", "max"),
    "pert": ("min", "mode", "max", "lambda"),
    "uniform": ("min", "max"),
    "beta": ("a", "b", "min", "max"),
    "metalog": ("p10", "p50", "p90", "quantiles", "lower", "upper", "terms"),
    "mixture": ("weights", "components"),
    "scipy": ("name", "loc", "scale", "lower", "upper"),
}
"""Every key each distribution takes besides ``dist`` (scipy also takes the shape
parameters of the scipy.stats distribution it names, e.g. ``a`` for ``gamma``)."""

TRUNCATABLE: tuple[str, ...] = ("normal", "lognormal", "scipy")
"""Distributions that take optional ``lower``/``upper`` truncation bounds (metalog's
``lower``/``upper`` are bounds of its transform, not a truncation; the others are bounded
by their own parameters)."""

MIN_TRUNCATED_MASS = 1e-6
"""The least probability that ``lower``/``upper`` must keep of the distribution they
truncate: below it the bounds lie so far in a tail that the result is mostly rounding."""

MAX_DISTRIBUTION_NESTING = 8
"""The most mixtures nested one inside another (a mixture whose components are mixtures
counts two)."""

_BOUNDS = ("lower", "upper")

TABLE_BOUND = 1e-6
"""Largest error of any quantile table, as a fraction of ``max(S, |x - median|)`` where
``S = ppf(0.99) - ppf(0.01)``: an absolute error of at most 1e-6 of the spread in the body,
and a relative error of at most 1e-6 in long tails. Measured against the exact quantile
function on a dense grid of ``u`` in the tests."""

# Uniforms are clamped into [_EPS, 1 - _EPS] before an inverse CDF: rng.random can return 0.
_EPS = 2.0**-53
# Tables span u in [_TAIL, 1 - _TAIL]; beyond, the exact quantile function answers (those
# values are rare: 2e-10 of all draws).
_TAIL = 1e-10
_T_END = math.log1p(-_TAIL) - math.log(_TAIL)
_U_LO = float(special.expit(-_T_END))
_U_HI = float(special.expit(_T_END))
# 4097 knots put 0.011 between knots in logit(u); with fourth-order slopes the cubic is
# then near 1e-11 of the scale for smooth quantile functions, so refinement is for kinks.
_BASE_KNOTS = 4097
_TABLE_TARGET = 1e-7
_REFINE_ROUNDS = 10
# Stand-in for logit(0) and logit(1) at a mixture's hard ends (an atom or a bounded
# support): beyond every logit(u) of a float u in (0, 1), which lie within [-745, 37].
_SENTINEL_T = 1000.0
_CELL_T = 40.0
_METALOG_MAX_TERMS = 9
_CHUNK = 16384
# scipy distributions whose own ppf is a fast closed form (over 5M values/s measured):
# used as they are, with no table.
_FAST_SCIPY = frozenset(
    {
        "burr12",
        "cauchy",
        "expon",
        "fisk",
        "genextreme",
        "genpareto",
        "gumbel_l",
        "gumbel_r",
        "halfcauchy",
        "halflogistic",
        "halfnorm",
        "laplace",
        "logistic",
        "loguniform",
        "lognorm",
        "lomax",
        "norm",
        "pareto",
        "rayleigh",
        "reciprocal",
        "trapezoid",
        "triang",
        "uniform",
        "weibull_max",
        "weibull_min",
    }
)


# --------------------------------------------------------------------------- numbers


def plain_number(value: object, path: str) -> float:
    """Read a plain number: the default :data:`ValueParser`.

    Parameters
    ----------
    value : object
        The raw value from the scenario file.
    path : str
        Dotted key path of the value, used in the error.

    Returns
    -------
    float
        The value as a finite float.

    Raises
    ------
    ScenarioError
        If ``value`` is not an int or float (a boolean is not a number), or is NaN or
        infinite.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ScenarioError(f"expected a number, got {_show(value)}", path=path)
    try:
        x = float(value)
    except OverflowError:
        raise ScenarioError(f"number {value!r} is too large", path=path) from None
    if not math.isfinite(x):
        raise ScenarioError(f"expected a finite number, got {value!r}", path=path)
    return x


def _show(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return f"the boolean {str(bool(value)).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _names(keys: Sequence[str]) -> str:
    return ", ".join(repr(k) for k in keys)


def _f64(x: object) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _logit_of(below: FloatArray, above: FloatArray) -> FloatArray:
    """``logit(P)`` from ``P = below`` and ``1 - P = above``, each where it is accurate.

    The formula matches :func:`_logit` of the same float (``log(P / (1 - P))``), so a
    knot at a cdf value and a query at that same u agree to the last bit.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.log(below / (1.0 - below))
        upper = np.log((1.0 - above) / above)
    return _f64(np.where(below <= 0.5, lower, upper))


def _logit(u: FloatArray) -> FloatArray:
    # For a float u, 1 - u is exact when u >= 1/2 (Sterbenz) and u / (1 - u) is then
    # correctly rounded, so this is as accurate as log(u) - log1p(-u) in both tails, and
    # several times faster.
    ratio = _f64(u) / (1.0 - _f64(u))
    return _f64(np.log(ratio, out=ratio))


def _chunked(fn: Callable[[FloatArray], FloatArray], u: FloatArray) -> FloatArray:
    """``fn`` applied to 1-D ``u`` in chunks of ``_CHUNK`` values.

    A dozen temporaries of 128 KB stay in cache and are recycled by the allocator; at
    0.5 MB (a 65,536-value block) each one costs fresh page faults, which halves the
    throughput of a table lookup.
    """
    if u.size <= _CHUNK:
        return fn(u)
    out = np.empty(u.size)
    for start in range(0, u.size, _CHUNK):
        out[start : start + _CHUNK] = fn(u[start : start + _CHUNK])
    return out


# --------------------------------------------------------------------------- tables


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


# --------------------------------------------------------------------------- base class


class Distribution(abc.ABC):
    """A frozen, vectorised probability distribution of one scalar input.

    Subclasses are immutable; build them with :func:`parse_distribution`, which validates
    the parameters (the constructors trust theirs, except for checks that need the fitted
    distribution, such as metalog feasibility).

    Attributes
    ----------
    name : str
        The catalogue name (``"normal"``, ``"metalog"``, ...).
    """

    __slots__ = ()
    name: ClassVar[str]

    @abc.abstractmethod
    def ppf(self, u: FloatArray) -> FloatArray:
        """Inverse CDF, vectorised.

        Parameters
        ----------
        u : ndarray of float, any shape
            Probabilities, already inside the open interval (0, 1).

        Returns
        -------
        ndarray of float, the shape of ``u``
            The smallest ``x`` with ``cdf(x) >= u``.
        """

    @abc.abstractmethod
    def cdf(self, x: FloatArray) -> FloatArray:
        """Cumulative distribution function ``P(X <= x)``, vectorised (any shape)."""

    @abc.abstractmethod
    def support(self) -> tuple[float, float]:
        """Closed bounds ``(lo, hi)`` of the support; either may be infinite."""

    @abc.abstractmethod
    def mean(self) -> float:
        """The mean (NaN where it does not exist, +-inf where it diverges)."""

    @abc.abstractmethod
    def to_dict(self) -> dict[str, object]:
        """JSON-able parameters in the user's terms: ``{"dist": name, ...}``.

        Feeding the result back to :func:`parse_distribution` rebuilds the distribution.
        """

    def sample(self, n: int, *, rng: np.random.Generator) -> FloatArray:
        """Draw ``n`` values: the ppf of ``n`` uniforms from ``rng``, clamped into (0, 1).

        Parameters
        ----------
        n : int
            Number of draws, ``>= 0``.
        rng : numpy.random.Generator
            The stream to draw from.

        Returns
        -------
        ndarray of float, shape (n,)
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        u = rng.random(int(n))
        return self.ppf(np.clip(u, _EPS, 1.0 - _EPS))

    @property
    def is_fixed(self) -> bool:
        """True only for a point mass (the engine does not draw it)."""
        return False

    def describe(self) -> str:
        """Short human text, e.g. ``"lognormal(p50=40, p90=90)"``."""
        params = ", ".join(
            f"{k}={_fmt(v) if isinstance(v, float) else v}"
            for k, v in self.to_dict().items()
            if k != "dist"
        )
        return f"{self.name}({params})"

    def _atoms(self) -> tuple[tuple[float, float], ...]:
        """Point masses ``(location, probability)``; none for a continuous distribution."""
        return ()

    def _sf(self, x: FloatArray) -> FloatArray:
        """``P(X > x)``, overridden where ``1 - cdf`` would lose the upper tail."""
        return _f64(1.0 - self.cdf(x))

    def _cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(cdf(x), sf(x))`` together (one numerical inversion where that is costly)."""
        return self.cdf(x), self._sf(x)


# --------------------------------------------------------------------------- closed forms


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

    def _atoms(self) -> tuple[tuple[float, float], ...]:
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

    def _sf(self, x: FloatArray) -> FloatArray:
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

    def _sf(self, x: FloatArray) -> FloatArray:
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

    def _sf(self, x: FloatArray) -> FloatArray:
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
    """Uniform on ``[lo, hi]``; ppf is ``lo + u * (hi - lo)``."""

    name: ClassVar[str] = "uniform"
    lo: float
    hi: float

    def ppf(self, u: FloatArray) -> FloatArray:
        return _f64(self.lo + _f64(u) * (self.hi - self.lo))

    def cdf(self, x: FloatArray) -> FloatArray:
        return _f64(np.clip((_f64(x) - self.lo) / (self.hi - self.lo), 0.0, 1.0))

    def _sf(self, x: FloatArray) -> FloatArray:
        return _f64(np.clip((self.hi - _f64(x)) / (self.hi - self.lo), 0.0, 1.0))

    def support(self) -> tuple[float, float]:
        return (self.lo, self.hi)

    def mean(self) -> float:
        return 0.5 * (self.lo + self.hi)

    def to_dict(self) -> dict[str, object]:
        return {"dist": "uniform", "min": self.lo, "max": self.hi}


# --------------------------------------------------------------------------- beta family


def _scaled_beta_ppf(
    a: float, b: float, lo: float, hi: float
) -> Callable[[FloatArray], FloatArray]:
    def exact(u: FloatArray) -> FloatArray:
        return _f64(lo + (hi - lo) * special.betaincinv(a, b, u))

    return exact


def _scaled_beta_cdf(x: FloatArray, a: float, b: float, lo: float, hi: float) -> FloatArray:
    z = np.clip((_f64(x) - lo) / (hi - lo), 0.0, 1.0)
    return _f64(special.betainc(a, b, z))


def _scaled_beta_sf(x: FloatArray, a: float, b: float, lo: float, hi: float) -> FloatArray:
    # The upper tail as the lower tail of Beta(b, a) in the reflected variable.
    z = np.clip((hi - _f64(x)) / (hi - lo), 0.0, 1.0)
    return _f64(special.betainc(b, a, z))


class _ScaledBeta(Distribution):
    """What Beta and PERT share: a beta(a, b) on ``[lo, hi]`` with a tabulated ppf."""

    __slots__ = ()
    a: float
    b: float
    lo: float
    hi: float
    _table: _QuantileTable | None

    def _tabulate(self) -> None:
        table, error = _table_or_exact(_scaled_beta_ppf(self.a, self.b, self.lo, self.hi))
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "table_error", error)

    def ppf(self, u: FloatArray) -> FloatArray:
        return _ppf_via(self._table, _scaled_beta_ppf(self.a, self.b, self.lo, self.hi), u)

    def cdf(self, x: FloatArray) -> FloatArray:
        return _scaled_beta_cdf(x, self.a, self.b, self.lo, self.hi)

    def _sf(self, x: FloatArray) -> FloatArray:
        return _scaled_beta_sf(x, self.a, self.b, self.lo, self.hi)

    def support(self) -> tuple[float, float]:
        return (self.lo, self.hi)


@dataclass(frozen=True, slots=True, eq=False)
class Beta(_ScaledBeta):
    """Beta(a, b) stretched onto ``[lo, hi]``.

    The quantile function is tabulated at construction (scipy's beta ppf runs at about
    1.5M values/s; the table at about 60M): error at most :data:`TABLE_BOUND` (1e-6) of
    ``max(S, |x - median|)``, ``S = ppf(0.99) - ppf(0.01)``, measured 1e-12 to 1e-10
    for ordinary shapes. ``table_error`` holds the largest midpoint error found at
    construction. Shapes whose exact ppf is too steep for floats to tabulate to 1e-7
    (e.g. a = b = 0.05) keep the exact ppf (``table_error`` 0).
    """

    name: ClassVar[str] = "beta"
    a: float
    b: float
    lo: float = 0.0
    hi: float = 1.0
    _table: _QuantileTable | None = field(init=False, repr=False)
    table_error: float = field(init=False)

    def __post_init__(self) -> None:
        self._tabulate()

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
    _table: _QuantileTable | None = field(init=False, repr=False)
    table_error: float = field(init=False)

    def __post_init__(self) -> None:
        width = self.hi - self.lo
        object.__setattr__(self, "a", 1.0 + self.lam * (self.mode - self.lo) / width)
        object.__setattr__(self, "b", 1.0 + self.lam * (self.hi - self.mode) / width)
        self._tabulate()

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


# --------------------------------------------------------------------------- metalog


def _metalog_columns(v: FloatArray, logit: FloatArray, terms: int) -> FloatArray:
    """Keelin's (2016) basis: 1, L, vL, v, v^2, v^2 L, v^3, v^3 L, v^4 (v = u - 1/2)."""
    cols = []
    for k in range(1, terms + 1):
        poly, power = _metalog_term(k)
        col = v**power
        cols.append(col * logit if poly == "B" else col)
    return _f64(np.column_stack(cols))


def _metalog_term(k: int) -> tuple[str, int]:
    """Term k (1-based) is ``v**power`` (poly "A") or ``v**power * L`` (poly "B")."""
    fixed = {1: ("A", 0), 2: ("B", 0), 3: ("B", 1), 4: ("A", 1)}
    if k in fixed:
        return fixed[k]
    return ("A", (k - 1) // 2) if k % 2 else ("B", k // 2 - 1)


@dataclass(frozen=True, slots=True, eq=False)
class Metalog(Distribution):
    """Keelin's metalog, fitted by linear least squares to quantiles, optionally bounded.

    ``M(u) = A(v) + B(v) * logit(u)`` with ``v = u - 1/2`` and polynomials ``A`` and ``B``
    holding the Keelin (2016) coefficients. Unbounded: ``x = M``; with ``lower`` only
    ``x = lower + exp(M)``; with ``upper`` only ``x = upper - exp(-M)``; with both
    ``x = lower + (upper - lower) * expit(M)``. The quantile function is this closed form
    (no table). The cdf inverts it numerically (bisection in ``logit(u)`` to about 1e-15).

    Parameters
    ----------
    probabilities, values : tuple of float
        The quantiles to fit: ``P(X <= values[i]) = probabilities[i]``, both increasing.
    terms : int
        Number of terms, 2 to ``min(len(probabilities), 9)``; equal to the number of
        quantiles means an exact fit.
    lower, upper : float or None
        Bounds of the support; the values must lie strictly inside.
    keys : tuple of str, optional
        How the user named the quantiles (``("p10", "p50", "p90")`` or the probability
        strings of a ``quantiles`` table), for :meth:`to_dict`.

    Raises
    ------
    InfeasibleDistribution
        If the fitted quantile function is not strictly increasing on (0, 1) (checked on
        a grid of ``logit(u)`` from -40 to 40 and in both limits), or the probabilities
        cannot determine ``terms`` coefficients.
    """

    name: ClassVar[str] = "metalog"
    probabilities: tuple[float, ...]
    values: tuple[float, ...]
    terms: int
    lower: float | None = None
    upper: float | None = None
    keys: tuple[str, ...] = ()
    coefficients: tuple[float, ...] = field(init=False)
    _a: FloatArray = field(init=False, repr=False)
    _b: FloatArray = field(init=False, repr=False)
    _grid_t: FloatArray = field(init=False, repr=False)
    _grid_x: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        p = _f64(self.probabilities)
        z = self._forward(_f64(self.values))
        design = _metalog_columns(p - 0.5, _logit(p), self.terms)
        coef, _, rank, _ = np.linalg.lstsq(design, z, rcond=None)
        if rank < self.terms:
            raise InfeasibleDistribution(
                f"these {p.size} quantile probabilities cannot determine a {self.terms}-term "
                "metalog; use fewer terms or more distinct probabilities"
            )
        a = np.zeros((self.terms + 1) // 2 + 1)
        b = np.zeros(self.terms // 2 + 1)
        for k in range(1, self.terms + 1):
            poly, power = _metalog_term(k)
            (b if poly == "B" else a)[power] = coef[k - 1]
        object.__setattr__(self, "coefficients", tuple(float(c) for c in coef))
        object.__setattr__(self, "_a", _f64(a))
        object.__setattr__(self, "_b", _f64(b))
        self._a.flags.writeable = False
        self._b.flags.writeable = False
        self._check_feasible()
        # A coarse grid of the quantile function brackets each cdf bisection; logit(u)
        # from -745 (the smallest float u) to 40 (where u rounds to 1).
        grid_t = np.linspace(-745.0, 40.0, 15701)
        grid_x = np.maximum.accumulate(self._from_t(grid_t))
        grid_t.flags.writeable = False
        grid_x.flags.writeable = False
        object.__setattr__(self, "_grid_t", grid_t)
        object.__setattr__(self, "_grid_x", grid_x)

    # The transform of x into the unbounded M space, and back.
    def _forward(self, x: FloatArray) -> FloatArray:
        lo, hi = self.lower, self.upper
        if lo is not None and hi is not None:
            return _f64(np.log((x - lo) / (hi - x)))
        if lo is not None:
            return _f64(np.log(x - lo))
        if hi is not None:
            return _f64(-np.log(hi - x))
        return x

    def _backward(self, m: FloatArray) -> FloatArray:
        with np.errstate(over="ignore"):
            # A semi-bounded tail beyond the float range is +-inf, as it should be.
            return self._backward_raw(m)

    def _backward_raw(self, m: FloatArray) -> FloatArray:
        lo, hi = self.lower, self.upper
        if lo is not None and hi is not None:
            return _f64(lo + (hi - lo) * special.expit(m))
        if lo is not None:
            return _f64(lo + np.exp(m))
        if hi is not None:
            return _f64(hi - np.exp(-m))
        return m

    def _m(self, v: FloatArray, logit: FloatArray) -> FloatArray:
        return (
            _f64(np.polynomial.polynomial.polyval(v, self._a))
            + _f64(np.polynomial.polynomial.polyval(v, self._b)) * logit
        )

    def _from_t(self, t: FloatArray) -> FloatArray:
        # v = expit(t) - 1/2 computed without cancellation.
        return self._backward(self._m(0.5 * np.tanh(0.5 * t), t))

    def _from_t_with_slope(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The quantile ``Q`` at ``t = logit(u)`` and ``dQ/dt``."""
        pa = np.polynomial.polynomial
        v = 0.5 * np.tanh(0.5 * t)
        w = special.expit(t) * special.expit(-t)  # u (1 - u), without overflow
        m = pa.polyval(v, self._a) + pa.polyval(v, self._b) * t
        dm = (
            pa.polyval(v, self._b)
            + (pa.polyval(v, pa.polyder(self._a)) + pa.polyval(v, pa.polyder(self._b)) * t) * w
        )
        lo, hi = self.lower, self.upper
        if lo is not None and hi is not None:
            e = special.expit(m)
            return _f64(lo + (hi - lo) * e), _f64((hi - lo) * e * (1.0 - e) * dm)
        if lo is not None:
            grow = np.exp(m)
            return _f64(lo + grow), _f64(grow * dm)
        if hi is not None:
            shrink = np.exp(-m)
            return _f64(hi - shrink), _f64(shrink * dm)
        return _f64(m), _f64(dm)

    def _check_feasible(self) -> None:
        # A grid of logit(u) with u from 4e-18 to 1 - 4e-18, plus both tail limits.
        t = np.linspace(-40.0, 40.0, 16001)
        v = 0.5 * np.tanh(0.5 * t)
        w = 0.25 / np.cosh(0.5 * t) ** 2  # u (1 - u)
        pa = np.polynomial.polynomial
        da, db = pa.polyder(self._a), pa.polyder(self._b)
        # dM/dt: the transforms are increasing, so x rises with u exactly where M does.
        slope = pa.polyval(v, self._b) + (pa.polyval(v, da) + pa.polyval(v, db) * t) * w
        tails = pa.polyval(np.array([-0.5, 0.5]), self._b)
        if np.all(slope > 0.0) and np.all(tails > 0.0):
            return
        if tails[0] <= 0.0 or np.argmin(slope) == 0:
            where = "in the lower tail"
        elif tails[1] <= 0.0 or np.argmin(slope) == slope.size - 1:
            where = "in the upper tail"
        else:
            u_bad = float(special.expit(t[np.argmin(slope)]))
            where = f"near u = {u_bad:.3g}"
        raise InfeasibleDistribution(
            f"the quantiles give no valid metalog: its quantile function would decrease "
            f"{where}; add bounds (lower/upper), spread the quantiles more, or use fewer "
            "terms"
        )

    def ppf(self, u: FloatArray) -> FloatArray:
        ua = _f64(u)
        return _chunked(self._closed_ppf, ua.ravel()).reshape(ua.shape)

    def _closed_ppf(self, u: FloatArray) -> FloatArray:
        return self._backward(self._m(u - 0.5, _logit(u)))

    def _cdf_logit(self, x: FloatArray) -> FloatArray:
        """``logit(cdf(x))`` by inverting the closed-form quantile function numerically.

        Returns -inf below and +inf above the range the grid covers, NaN for NaN.
        """
        flat = _f64(x).ravel()
        gx, gt = self._grid_x, self._grid_t
        idx = np.searchsorted(gx, flat, side="left")
        j = np.clip(idx, 1, gx.size - 1)
        lo, hi = gt[j - 1].copy(), gt[j].copy()
        # Newton on Q(t) = x with the closed-form slope, kept inside a bracket that every
        # step narrows: quadratic convergence from the grid's 0.05-wide brackets.
        t = 0.5 * (lo + hi)
        active = np.arange(t.size)
        for _ in range(100):
            ta, la, ha, xa = t[active], lo[active], hi[active], flat[active]
            q, dq = self._from_t_with_slope(ta)
            above = q >= xa
            ha = np.where(above, ta, ha)
            la = np.where(above, la, ta)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                step = ta - (q - xa) / dq
            # Non-finite (a vanishing slope): bisect; else stay inside the closed bracket
            # (a root at a bracket end, e.g. on a grid knot, is then reached at once).
            step = np.where(np.isfinite(step), np.clip(step, la, ha), 0.5 * (la + ha))
            t[active], lo[active], hi[active] = step, la, ha
            # 1e-14 in logit(u) is 1e-14 * u (1 - u) in the cdf: below rounding.
            tol = 1e-14 * np.maximum(1.0, np.abs(ta))
            active = active[(np.abs(step - ta) > tol) & (ha - la > tol)]
            if not active.size:
                break
        hi = t
        hi[idx == 0] = -math.inf
        hi[idx >= gx.size] = math.inf
        hi[np.isnan(flat)] = math.nan
        return hi.reshape(np.shape(x))

    def cdf(self, x: FloatArray) -> FloatArray:
        return _f64(special.expit(self._cdf_logit(x)))

    def _sf(self, x: FloatArray) -> FloatArray:
        return _f64(special.expit(-self._cdf_logit(x)))

    def _cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        t = self._cdf_logit(x)
        return _f64(special.expit(t)), _f64(special.expit(-t))

    def support(self) -> tuple[float, float]:
        lo = -math.inf if self.lower is None else self.lower
        hi = math.inf if self.upper is None else self.upper
        return (lo, hi)

    def tail_slopes(self) -> tuple[float, float]:
        """``dM/dlogit(u)`` as u -> 0 and u -> 1: the tails' exponential rates."""
        lo, hi = np.polynomial.polynomial.polyval(np.array([-0.5, 0.5]), self._b)
        return float(lo), float(hi)

    def mean(self) -> float:
        """The mean, by quadrature in ``logit(u)``; +-inf where a log tail is too heavy.

        With a lower bound only, the upper tail decays like ``(1 - u)**(-s)`` with ``s``
        the upper tail slope: the mean is infinite for ``s >= 1`` (and mirrored for an
        upper bound only).
        """
        s_lo, s_hi = self.tail_slopes()
        if self.lower is not None and self.upper is None and s_hi >= 1.0:
            return math.inf
        if self.upper is not None and self.lower is None and s_lo >= 1.0:
            return -math.inf

        pa = np.polynomial.polynomial
        lo, hi = self.lower, self.upper

        def integrand(t: float) -> float:
            # x(t) * u(1 - u), with the weight in logs so that exp(M) * weight neither
            # overflows nor underflows where the product is still finite.
            log_w = -abs(t) - 2.0 * math.log1p(math.exp(-abs(t)))
            v = 0.5 * math.tanh(0.5 * t)
            m = float(pa.polyval(v, self._a) + pa.polyval(v, self._b) * t)
            if lo is not None and hi is not None:
                return (lo + (hi - lo) * float(special.expit(m))) * math.exp(log_w)
            if lo is not None:
                return lo * math.exp(log_w) + math.exp(min(m + log_w, 700.0))
            if hi is not None:
                return hi * math.exp(log_w) - math.exp(min(-m + log_w, 700.0))
            return m * math.exp(log_w)

        scale = max(abs(v) for v in self.values) + self.values[-1] - self.values[0]
        opts = {"limit": 400, "epsabs": 1e-13 * scale, "epsrel": 1e-11}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            left = integrate.quad(integrand, -math.inf, 0.0, **opts)[0]
            right = integrate.quad(integrand, 0.0, math.inf, **opts)[0]
        return float(left + right)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"dist": "metalog"}
        if self.keys == ("p10", "p50", "p90"):
            out.update(zip(self.keys, self.values, strict=True))
        else:
            keys = self.keys or tuple(repr(p) for p in self.probabilities)
            out["quantiles"] = dict(zip(keys, self.values, strict=True))
        if self.lower is not None:
            out["lower"] = self.lower
        if self.upper is not None:
            out["upper"] = self.upper
        out["terms"] = self.terms
        return out

    def describe(self) -> str:
        parts = [
            f"{k}={_fmt(v)}" if k.startswith("p") else f"q{k}={_fmt(v)}"
            for k, v in zip(
                self.keys or tuple(repr(p) for p in self.probabilities), self.values, strict=True
            )
        ]
        parts += [f"lower={_fmt(self.lower)}"] if self.lower is not None else []
        parts += [f"upper={_fmt(self.upper)}"] if self.upper is not None else []
        if self.terms != len(self.values):
            parts.append(f"terms={self.terms}")
        return f"metalog({', '.join(parts)})"


# --------------------------------------------------------------------------- mixture


@dataclass(frozen=True, slots=True, eq=False)
class Mixture(Distribution):
    """A finite mixture: component ``i`` with probability ``weights[i]``.

    ``cdf`` is the weighted sum of the components' cdfs (exact). There is no closed-form
    quantile function; the exact one is a bisection on the mixture cdf (in logit space,
    with the survival function in the upper tail), bracketed by the components'
    quantiles. At construction that exact function is tabulated like :class:`Beta`'s, on a
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
    _table: _QuantileTable = field(init=False, repr=False)
    table_error: float = field(init=False)

    def __post_init__(self) -> None:
        w = _f64(self.weights)
        w = w / w.sum()
        w.flags.writeable = False
        object.__setattr__(self, "_w", w)
        table, error = self._build_table()
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "table_error", error)

    def _live(self) -> list[tuple[float, Distribution]]:
        return [(float(w), c) for w, c in zip(self._w, self.components, strict=True) if w > 0.0]

    def _atoms(self) -> tuple[tuple[float, float], ...]:
        merged: dict[float, float] = {}
        for w, c in self._live():
            for loc, mass in c._atoms():
                merged[loc] = merged.get(loc, 0.0) + w * mass
        return tuple(sorted(merged.items()))

    def _build_table(self) -> tuple[_QuantileTable, float]:
        live = self._live()
        probes = np.array([0.01, 0.99])
        q = np.array([c.ppf(probes) for _, c in live])
        spread = float(q[:, 1].max() - q[:, 0].min()) or max(1.0, float(np.abs(q).max()))
        atoms = self._atoms()
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
        below, above = self._cdf_sf(xs)
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

    def _cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        xa = _f64(x)
        below, above = np.zeros(xa.shape), np.zeros(xa.shape)
        for w, c in self._live():
            cb, ca = c._cdf_sf(xa)
            below += w * cb
            above += w * ca
        return _f64(np.minimum(below, 1.0)), _f64(np.minimum(above, 1.0))

    def _cdf_logit(self, x: FloatArray) -> FloatArray:
        """``logit(cdf(x))`` from the cdf and the survival function, each where it is
        accurate (the cdf near 1 has lost the digits of ``1 - cdf``); +-inf at 0 and 1."""
        below, above = self._cdf_sf(x)
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
        return self._ppf_with(self._table, u)

    def cdf(self, x: FloatArray) -> FloatArray:
        xa = _f64(x)
        total = np.zeros(xa.shape)
        for w, c in self._live():
            total += w * c.cdf(xa)
        return _f64(np.minimum(total, 1.0))

    def _sf(self, x: FloatArray) -> FloatArray:
        xa = _f64(x)
        total = np.zeros(xa.shape)
        for w, c in self._live():
            total += w * c._sf(xa)
        return _f64(np.minimum(total, 1.0))

    def support(self) -> tuple[float, float]:
        bounds = [c.support() for _, c in self._live()]
        return (min(b[0] for b in bounds), max(b[1] for b in bounds))

    def mean(self) -> float:
        return float(sum(w * c.mean() for w, c in self._live()))

    @property
    def is_fixed(self) -> bool:
        atoms = self._atoms()
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


# --------------------------------------------------------------------------- scipy


def _continuous_scipy_names() -> tuple[str, ...]:
    return tuple(
        sorted(n for n in dir(stats) if isinstance(getattr(stats, n), stats.rv_continuous))
    )


@dataclass(frozen=True, slots=True, eq=False)
class ScipyDistribution(Distribution):
    """Any continuous ``scipy.stats`` distribution, by name, with keyword parameters.

    Distributions whose scipy ppf is a fast closed form (norm, lognorm, expon, uniform,
    weibull_min, ...; see ``_FAST_SCIPY``) use it directly. The rest (gamma, t, beta,
    chi2, ... at 0.1-3M values/s) get a quantile table built at construction, with error
    at most :data:`TABLE_BOUND` (1e-6) of ``max(S, |x - median|)``, measured 1e-12 to
    1e-8; a distribution whose quantile function a table cannot follow to 1e-7 (a kink,
    or an exact ppf noisy at that level) keeps scipy's exact ppf. ``table_error`` is the
    largest midpoint error found at construction (0 without a table). Construction
    evaluates scipy's ppf at about 8,200 points: seconds for the rare distributions
    whose ppf is numerical integration (``levy_stable``: about 30 s).
    """

    name: ClassVar[str] = "scipy"
    dist_name: str
    params: tuple[tuple[str, float], ...]
    _frozen: Any = field(init=False, repr=False)
    _table: _QuantileTable | None = field(init=False, repr=False)
    table_error: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_frozen", getattr(stats, self.dist_name)(**dict(self.params)))
        table: _QuantileTable | None = None
        error = 0.0
        if self.dist_name not in _FAST_SCIPY:
            table, error = _table_or_exact(self._exact_ppf)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "table_error", error)

    @property
    def tabulated(self) -> bool:
        """Whether ppf interpolates a table (else it is scipy's own ppf)."""
        return self._table is not None

    def _exact_ppf(self, u: FloatArray) -> FloatArray:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _f64(self._frozen.ppf(u))

    def ppf(self, u: FloatArray) -> FloatArray:
        return _ppf_via(self._table, self._exact_ppf, u)

    def cdf(self, x: FloatArray) -> FloatArray:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _f64(self._frozen.cdf(_f64(x)))

    def _sf(self, x: FloatArray) -> FloatArray:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _f64(self._frozen.sf(_f64(x)))

    def support(self) -> tuple[float, float]:
        lo, hi = self._frozen.support()
        return (float(lo), float(hi))

    def mean(self) -> float:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return float(self._frozen.mean())

    def to_dict(self) -> dict[str, object]:
        return {"dist": "scipy", "name": self.dist_name, **dict(self.params)}

    def describe(self) -> str:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params)
        return f"scipy.{self.dist_name}({params})"


# --------------------------------------------------------------------------- truncation


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
        below, above = self.base._cdf_sf(ends)
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

    def _cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        xa = np.clip(_f64(x), self._lo, self._hi)
        below, above = self.base._cdf_sf(xa)
        if self._upper_tail:
            cdf = (self._start - above) / self.mass
        else:
            cdf = (below - self._start) / self.mass
        cdf = np.clip(cdf, 0.0, 1.0)
        return _f64(cdf), _f64(1.0 - cdf)

    def cdf(self, x: FloatArray) -> FloatArray:
        return self._cdf_sf(x)[0]

    def _sf(self, x: FloatArray) -> FloatArray:
        xa = np.clip(_f64(x), self._lo, self._hi)
        below, above = self.base._cdf_sf(xa)
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
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return float(base._frozen.expect(lb=lo, ub=hi, conditional=True))
        return float(  # pragma: no cover - every truncatable base is handled above
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
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _f64(base._frozen.isf(q))
    return base.ppf(1.0 - q)  # pragma: no cover - every truncatable base is handled above


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Spec:
    """A distribution table being read: its keys, path and value parser."""

    table: Mapping[str, object]
    path: str
    dist: str
    value: ValueParser
    depth: int = 0

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def check_keys(self, required: Sequence[str], optional: Sequence[str] = ()) -> None:
        allowed = ("dist", *required, *optional)
        # PARAMETERS is the catalogue the documentation is tested against: a key a
        # parser takes must be listed there (scipy's shape parameters are its own).
        listed = set(PARAMETERS[self.dist]) | {"dist"}
        if self.dist != "scipy" and not listed.issuperset(allowed):
            raise AssertionError(f"{self.dist}: keys {allowed} not all in PARAMETERS")
        for key in self.table:
            if not isinstance(key, str) or key not in allowed:
                raise ScenarioError(unknown_key_message(str(key), allowed), path=self.at(str(key)))
        missing = [k for k in required if k not in self.table]
        if missing:
            raise ScenarioError(
                f"a {self.dist} distribution needs {_names(required)}; missing {_names(missing)}",
                path=self.path,
            )

    def amount(self, key: str) -> float:
        """A parameter in the distribution's own units, read with the value parser."""
        path = self.at(key)
        x = self.value(self.table[key], path)
        if isinstance(x, bool) or not isinstance(x, float | int) or not math.isfinite(x):
            raise ScenarioError(f"expected a finite number, got {_show(x)}", path=path)
        return float(x)

    def number(self, key: str) -> float:
        """A shape-like parameter: a plain number."""
        return plain_number(self.table[key], self.at(key))

    def positive(self, key: str, *, plain: bool) -> float:
        x = self.number(key) if plain else self.amount(key)
        if not x > 0.0:
            raise ScenarioError(f"{key} must be > 0, got {_fmt(x)}", path=self.at(key))
        return x

    def ordered(self, lo_key: str, hi_key: str, lo: float, hi: float) -> None:
        if not lo < hi:
            raise ScenarioError(
                f"{lo_key} must be < {hi_key}; got {lo_key}={_fmt(lo)}, {hi_key}={_fmt(hi)}",
                path=self.path,
            )


def parse_distribution(
    spec: object, *, path: str, value: ValueParser = plain_number
) -> Distribution:
    """Build a distribution from a scenario value.

    Parameters
    ----------
    spec : object
        What :mod:`tomllib` gives: a number or string (a point mass, read with ``value``)
        or a mapping (inline table) with a ``dist`` key naming one of
        :data:`DISTRIBUTIONS` plus its parameters.
    path : str
        Dotted key path of ``spec`` in the scenario, e.g. ``"segments.talkie.growth"``.
    value : ValueParser, optional
        Reads every parameter in the distribution's own units (``value``, ``mean``,
        ``sd``, ``min``, ``mode``, ``max``, ``p10``/``p50``/``p90``, quantile values,
        ``lower``/``upper``, lognormal ``p50``/``p90``/``mean``/``sd``, beta
        ``min``/``max``, scipy ``loc``/``scale``), e.g. a money or percent parser.
        Shape-like parameters (lognormal ``mu``/``sigma``, pert ``lambda``, beta ``a``/``b``,
        weights, scipy shapes) are always plain numbers.

    Returns
    -------
    Distribution

    Raises
    ------
    ScenarioError
        For an unknown distribution or key (with a close-match hint and the key's path), a
        missing key, a value of the wrong type, NaN or infinite, or parameters that break
        a constraint (``sd > 0``, ``min < max``, weights summing to 1, ...).
    InfeasibleDistribution
        For a metalog whose quantiles describe no increasing quantile function.

    Examples
    --------
    >>> parse_distribution({"dist": "normal", "mean": 0.5, "sd": 0.2}, path="x").describe()
    'normal(mean=0.5, sd=0.2)'
    >>> parse_distribution(3, path="x").is_fixed
    True
    """
    return _parse(spec, path, value, 0)


def _parse(spec: object, path: str, value: ValueParser, depth: int) -> Distribution:
    """:func:`parse_distribution` for a distribution nested ``depth`` mixtures deep."""
    if isinstance(spec, Mapping):
        try:
            return _finite_quantiles(_parse_table(spec, path, value, depth), path)
        except (ArithmeticError, ValueError, IndexError) as err:
            # Parameters that pass every check but overflow double precision while the
            # distribution is built (sigma = 1e200, a beta with b = 1e154, a range of
            # 1e308): the scenario is asking for something that cannot be computed.
            raise InfeasibleDistribution(
                f"parameters beyond what double precision can compute ({type(err).__name__}: "
                f"{err}); use smaller or less extreme values",
                path=path,
            ) from None
    if isinstance(spec, str) and spec in DISTRIBUTIONS:
        raise ScenarioError(
            f'a distribution is an inline table such as {{ dist = "{spec}", ... }}; '
            f"got the bare name {spec!r}",
            path=path,
        )
    if isinstance(spec, list | tuple):
        raise ScenarioError(
            "expected a number or a distribution table { dist = ... }, got a list", path=path
        )
    x = value(spec, path)
    if isinstance(x, bool) or not isinstance(x, float | int) or not math.isfinite(x):
        raise ScenarioError(f"expected a finite number, got {_show(x)}", path=path)
    return Fixed(float(x))


def _finite_quantiles(dist: Distribution, path: str) -> Distribution:
    """``dist``, once its quantile function is finite wherever a draw can land.

    Draws come from uniforms clamped into ``[_EPS, 1 - _EPS]`` and a quantile function is
    monotone, so finite values at both ends (and the median, for a NaN in the middle)
    mean finite draws everywhere. A distribution whose far tail overflows double
    precision (a scipy pareto with b = 0.01 reaches 1e308 at u = 0.999) is refused here
    rather than drawing infinities in the middle of a run.

    Raises
    ------
    InfeasibleDistribution
        Where a quantile there is infinite or NaN.
    """
    probes = (("smallest draw", "2^-53"), ("median", "0.5"), ("largest draw", "1 - 2^-53"))
    with np.errstate(all="ignore"):
        x = dist.ppf(_f64([_EPS, 0.5, 1.0 - _EPS]))
    for (what, u), xi in zip(probes, x, strict=True):
        if not math.isfinite(xi):
            raise InfeasibleDistribution(
                f"{dist.describe()} cannot be drawn in double precision: its {what} (the "
                f"quantile at {u}) is {xi}; use less extreme parameters",
                path=path,
            )
    return dist


def _parse_table(
    table: Mapping[str, object], path: str, value: ValueParser, depth: int
) -> Distribution:
    if "dist" not in table:
        raise ScenarioError(
            f"a distribution table needs a 'dist' key, one of: {', '.join(DISTRIBUTIONS)}",
            path=path,
        )
    name = table["dist"]
    dist_path = f"{path}.dist" if path else "dist"
    if not isinstance(name, str):
        raise ScenarioError(f"'dist' must be a name, got {_show(name)}", path=dist_path)
    parser = _PARSERS.get(name)
    if parser is None:
        raise ScenarioError(
            unknown_key_message(name, DISTRIBUTIONS, what="distribution"), path=dist_path
        )
    return parser(_Spec(table, path, name, value, depth))


def _parse_fixed(s: _Spec) -> Distribution:
    s.check_keys(["value"])
    return Fixed(s.amount("value"))


def _parse_normal(s: _Spec) -> Distribution:
    s.check_keys(["mean", "sd"], _BOUNDS)
    return _truncate(s, Normal(s.amount("mean"), s.positive("sd", plain=False)))


def _truncate(s: _Spec, base: Distribution) -> Distribution:
    """``base`` truncated to the spec's optional ``lower``/``upper``, validated."""
    lower = s.amount("lower") if "lower" in s.table else None
    upper = s.amount("upper") if "upper" in s.table else None
    if lower is None and upper is None:
        return base
    if lower is not None and upper is not None:
        s.ordered("lower", "upper", lower, upper)
    truncated = Truncated(base, lower, upper)
    if not truncated.mass >= MIN_TRUNCATED_MASS:
        raise ScenarioError(
            f"lower/upper keep only {truncated.mass:.3g} of the {s.dist} distribution's "
            f"probability (at least {MIN_TRUNCATED_MASS:g} is needed); the bounds lie far "
            "in its tail: widen them or move the distribution",
            path=s.path,
        )
    return truncated


_LOGNORMAL_FORMS = (("p50", "p90"), ("mu", "sigma"), ("mean", "sd"))


def _parse_lognormal(s: _Spec) -> Distribution:
    keys = [k for form in _LOGNORMAL_FORMS for k in form]
    s.check_keys([], [*keys, *_BOUNDS])
    present = [k for k in keys if k in s.table]
    forms = [f for f in _LOGNORMAL_FORMS if any(k in s.table for k in f)]
    if len(forms) != 1 or not all(k in s.table for k in forms[0]):
        raise ScenarioError(
            "a lognormal takes exactly one of {p50, p90}, {mu, sigma} (of the log) or "
            f"{{mean, sd}}; got {', '.join(present) or 'no parameters'}",
            path=s.path,
        )
    given: tuple[tuple[str, float], ...] = ()
    if forms[0] == ("p50", "p90"):
        p50, p90 = s.positive("p50", plain=False), s.amount("p90")
        if not p90 > p50:
            raise ScenarioError(
                f"p90 must be > p50; got p50={_fmt(p50)}, p90={_fmt(p90)}", path=s.path
            )
        mu = math.log(p50)
        sigma = (math.log(p90) - mu) / float(special.ndtri(0.9))
        given = (("p50", p50), ("p90", p90))
    elif forms[0] == ("mu", "sigma"):
        mu, sigma = s.number("mu"), s.positive("sigma", plain=True)
    else:
        mean, sd = s.positive("mean", plain=False), s.positive("sd", plain=False)
        # Moment matching: E X = exp(mu + sigma^2 / 2), Var X = (E X)^2 (exp(sigma^2) - 1).
        var_log = math.log1p((sd / mean) ** 2)
        mu, sigma = math.log(mean) - 0.5 * var_log, math.sqrt(var_log)
        given = (("mean", mean), ("sd", sd))
    if mu + 0.5 * sigma**2 > 700.0:
        raise ScenarioError("lognormal parameters overflow a float", path=s.path)
    return _truncate(s, LogNormal(mu, sigma, given))


def _min_mode_max(s: _Spec) -> tuple[float, float, float]:
    lo, mode, hi = s.amount("min"), s.amount("mode"), s.amount("max")
    s.ordered("min", "max", lo, hi)
    if not lo <= mode <= hi:
        raise ScenarioError(
            f"mode must lie in [min, max]; got min={_fmt(lo)}, mode={_fmt(mode)}, max={_fmt(hi)}",
            path=s.at("mode"),
        )
    return lo, mode, hi


def _parse_triangular(s: _Spec) -> Distribution:
    s.check_keys(["min", "mode", "max"])
    return Triangular(*_min_mode_max(s))


def _parse_pert(s: _Spec) -> Distribution:
    s.check_keys(["min", "mode", "max"], ["lambda"])
    lo, mode, hi = _min_mode_max(s)
    lam = s.positive("lambda", plain=True) if "lambda" in s.table else 4.0
    return Pert(lo, mode, hi, lam)


def _parse_uniform(s: _Spec) -> Distribution:
    s.check_keys(["min", "max"])
    lo, hi = s.amount("min"), s.amount("max")
    s.ordered("min", "max", lo, hi)
    return Uniform(lo, hi)


def _parse_beta(s: _Spec) -> Distribution:
    s.check_keys(["a", "b"], ["min", "max"])
    a, b = s.positive("a", plain=True), s.positive("b", plain=True)
    lo = s.amount("min") if "min" in s.table else 0.0
    hi = s.amount("max") if "max" in s.table else 1.0
    s.ordered("min", "max", lo, hi)
    return Beta(a, b, lo, hi)


def _parse_probability_key(key: object, path: str) -> float:
    try:
        p = float(key) if isinstance(key, str) else math.nan
    except ValueError:
        p = math.nan
    if not 0.0 < p < 1.0:
        raise ScenarioError(
            f'a quantiles key is a probability in (0, 1) written as a string, e.g. "0.1"; '
            f"got {key!r}",
            path=path,
        )
    return p


def _parse_metalog(s: _Spec) -> Distribution:
    s.check_keys([], ["p10", "p50", "p90", "quantiles", "lower", "upper", "terms"])
    named = [k for k in ("p10", "p50", "p90") if k in s.table]
    if "quantiles" in s.table:
        if named:
            raise ScenarioError(
                f"give either p10/p50/p90 or quantiles, not both (got {_names(named)})",
                path=s.path,
            )
        raw = s.table["quantiles"]
        qpath = s.at("quantiles")
        if not isinstance(raw, Mapping):
            raise ScenarioError(
                f'expected a table of probability = value, e.g. {{ "0.1" = 1, ... }}, '
                f"got {_show(raw)}",
                path=qpath,
            )
        pairs = []
        for key, raw_x in raw.items():
            kpath = f'{qpath}."{key}"'
            pairs.append((_parse_probability_key(key, kpath), str(key), s.value(raw_x, kpath)))
        pairs.sort()
        for (p0, k0, _), (p1, k1, _) in itertools.pairwise(pairs):
            if p0 == p1:
                raise ScenarioError(
                    f"keys {k0!r} and {k1!r} name the same probability", path=qpath
                )
        if len(pairs) < 3:
            raise ScenarioError(
                f"a metalog needs at least 3 quantiles, got {len(pairs)}", path=qpath
            )
        probs = tuple(p for p, _, _ in pairs)
        keys = tuple(k for _, k, _ in pairs)
        values = tuple(float(x) for _, _, x in pairs)
        for k, x in zip(keys, values, strict=True):
            if not math.isfinite(x):
                raise ScenarioError(f"expected a finite number, got {x!r}", path=f'{qpath}."{k}"')
    else:
        s.check_keys(["p10", "p50", "p90"], ["lower", "upper", "terms"])
        probs, keys = (0.1, 0.5, 0.9), ("p10", "p50", "p90")
        values = tuple(s.amount(k) for k in keys)
        qpath = s.path
    for (k0, x0), (k1, x1) in itertools.pairwise(zip(keys, values, strict=True)):
        if not x0 < x1:
            raise ScenarioError(
                f"quantile values must increase with probability; got {k0}={_fmt(x0)}, "
                f"{k1}={_fmt(x1)}",
                path=qpath,
            )
    lower = s.amount("lower") if "lower" in s.table else None
    upper = s.amount("upper") if "upper" in s.table else None
    if lower is not None and upper is not None:
        s.ordered("lower", "upper", lower, upper)
    if (lower is not None and values[0] <= lower) or (upper is not None and values[-1] >= upper):
        raise ScenarioError(
            f"quantile values must lie strictly inside the bounds; got "
            f"{_fmt(values[0])}..{_fmt(values[-1])} with lower={lower}, upper={upper}",
            path=s.path,
        )
    most = min(len(values), _METALOG_MAX_TERMS)
    terms = most
    if "terms" in s.table:
        raw_terms = s.table["terms"]
        if (
            isinstance(raw_terms, bool)
            or not isinstance(raw_terms, int)
            or not (2 <= raw_terms <= most)
        ):
            raise ScenarioError(
                f"terms must be an integer from 2 to {most} (at most the number of "
                f"quantiles and {_METALOG_MAX_TERMS}), got {_show(raw_terms)}",
                path=s.at("terms"),
            )
        terms = raw_terms
    try:
        return Metalog(probs, values, terms, lower, upper, keys)
    except InfeasibleDistribution as exc:
        raise InfeasibleDistribution(exc.message, path=s.path) from None


def _parse_mixture(s: _Spec) -> Distribution:
    s.check_keys(["weights", "components"])
    if s.depth >= MAX_DISTRIBUTION_NESTING:
        raise ScenarioError(
            f"mixtures nested more than {MAX_DISTRIBUTION_NESTING} deep; flatten them (a "
            "mixture of mixtures is one mixture whose weights are the products)",
            path=s.path,
        )
    wpath, cpath = s.at("weights"), s.at("components")
    raw_w, raw_c = s.table["weights"], s.table["components"]
    if not isinstance(raw_w, list | tuple) or not raw_w:
        raise ScenarioError(
            f"expected a non-empty list of numbers, got {_show(raw_w)}", path=wpath
        )
    if not isinstance(raw_c, list | tuple):
        raise ScenarioError(f"expected a list of distributions, got {_show(raw_c)}", path=cpath)
    weights = []
    for i, raw in enumerate(raw_w):
        w = plain_number(raw, f"{wpath}[{i}]")
        if w < 0.0:
            raise ScenarioError(f"a weight must be >= 0, got {_fmt(w)}", path=f"{wpath}[{i}]")
        weights.append(w)
    total = math.fsum(weights)
    if abs(total - 1.0) > 1e-9:
        raise ScenarioError(f"weights must sum to 1, got {total!r}", path=wpath)
    if len(raw_c) != len(weights):
        raise ScenarioError(
            f"{len(raw_c)} components for {len(weights)} weights; give one of each", path=cpath
        )
    components = tuple(
        _parse(c, f"{cpath}[{i}]", s.value, s.depth + 1) for i, c in enumerate(raw_c)
    )
    return Mixture(tuple(weights), components)


def _parse_scipy(s: _Spec) -> Distribution:
    if "name" not in s.table:
        raise ScenarioError(
            "a scipy distribution needs 'name', a scipy.stats distribution such as 'gamma'",
            path=s.path,
        )
    name = s.table["name"]
    npath = s.at("name")
    if not isinstance(name, str):
        raise ScenarioError(f"expected a scipy.stats name, got {_show(name)}", path=npath)
    names = _continuous_scipy_names()
    if name not in names:
        if isinstance(getattr(stats, name, None), stats.rv_discrete):
            raise ScenarioError(
                f"scipy.stats.{name} is discrete; only continuous distributions are allowed",
                path=npath,
            )
        raise ScenarioError(
            unknown_key_message(name, names, what="scipy.stats continuous distribution"),
            path=npath,
        )
    gen = getattr(stats, name)
    shapes = [x.strip() for x in gen.shapes.split(",")] if gen.shapes else []
    s.check_keys(["name", *shapes], ["loc", "scale", *_BOUNDS])
    params: list[tuple[str, float]] = [(k, s.number(k)) for k in shapes]
    if "loc" in s.table:
        params.append(("loc", s.amount("loc")))
    if "scale" in s.table:
        params.append(("scale", s.positive("scale", plain=False)))
    shown = ", ".join(f"{k}={_fmt(v)}" for k, v in params)
    bad_path = s.at(shapes[0]) if len(shapes) == 1 else s.path
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            frozen = gen(**dict(params))
            probe = np.asarray(frozen.ppf([0.01, 0.5, 0.99]), dtype=np.float64)
    except Exception as exc:  # scipy raises many types for bad parameters
        raise ScenarioError(f"scipy.stats.{name}({shown}) failed: {exc}", path=bad_path) from None
    if not np.all(np.isfinite(probe)):
        raise ScenarioError(
            f"scipy.stats.{name} rejects these parameters: {shown} "
            f"(shape parameters: {', '.join(shapes) or 'none'})",
            path=bad_path,
        )
    try:
        base = ScipyDistribution(name, tuple(params))
    except Exception as exc:  # a ppf that fails somewhere on the table's grid
        raise ScenarioError(f"scipy.stats.{name}({shown}) failed: {exc}", path=s.path) from None
    return _truncate(s, base)


_PARSERS: Mapping[str, Callable[[_Spec], Distribution]] = {
    "fixed": _parse_fixed,
    "normal": _parse_normal,
    "lognormal": _parse_lognormal,
    "triangular": _parse_triangular,
    "pert": _parse_pert,
    "uniform": _parse_uniform,
    "beta": _parse_beta,
    "metalog": _parse_metalog,
    "mixture": _parse_mixture,
    "scipy": _parse_scipy,
}
