"""Keelin's metalog: a quantile function fitted to quantiles, optionally bounded."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from sim.distributions.base import Distribution, FloatArray, _chunked, _f64, _fmt, _logit, special
from sim.errors import InfeasibleDistribution

__all__ = ["Metalog"]

_METALOG_MAX_TERMS = 9


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

    def sf(self, x: FloatArray) -> FloatArray:
        return _f64(special.expit(-self._cdf_logit(x)))

    def cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
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

        from scipy import integrate  # about 0.2 s to import: only a metalog's mean needs it

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
