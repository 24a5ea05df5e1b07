"""The :class:`Distribution` protocol and the numeric helpers every family shares."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

__all__ = ["Distribution", "FloatArray", "IntArray", "ValueParser"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
ValueParser = Callable[[object, str], float]
"""``(raw value, key path) -> float`` in the distribution's units; raises ScenarioError."""


class _LazySpecial:
    """``scipy.special``, imported when a function of it is first called: the import takes
    about 0.15 s, and reading a scenario (``ipo-sim show``, ``check``) calls none."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        from scipy import special as module

        return getattr(module, name)


special = _LazySpecial()

# Uniforms are clamped into [_EPS, 1 - _EPS] before an inverse CDF: rng.random can return 0.
_EPS = 2.0**-53
_CHUNK = 16384


def _fmt(x: float) -> str:
    return f"{x:.6g}"


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


class Distribution(abc.ABC):
    """A frozen, vectorised probability distribution of one scalar input.

    Subclasses are immutable; build them with :func:`parse_distribution`, which validates
    the parameters (the constructors trust theirs, except for checks that need the fitted
    distribution, such as metalog feasibility).

    Notes
    -----
    The protocol. A subclass implements five methods:

    - :meth:`ppf` -- the inverse CDF, the engine's hot path (blocks of 65,536 uniforms);
    - :meth:`cdf` -- ``P(X <= x)``;
    - :meth:`support` -- the closed bounds of the support;
    - :meth:`mean`;
    - :meth:`to_dict` -- the parameters as the user wrote them.

    and overrides these where the default is not good enough (mixtures and truncation
    call them on their components and base, so their accuracy carries over):

    - :meth:`sf` -- ``P(X > x)``; the default ``1 - cdf(x)`` loses the upper tail;
    - :meth:`cdf_sf` -- both at once, where each costs a numerical inversion;
    - :meth:`atoms` -- the point masses, for a distribution that has any;
    - :attr:`is_fixed` and :meth:`describe`.

    :meth:`sample` is built on :meth:`ppf` and needs no override.

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

    def atoms(self) -> tuple[tuple[float, float], ...]:
        """Point masses ``(location, probability)``, sorted by location.

        None for a continuous distribution (the default). A mixture places an exact knot
        of its quantile table at each atom of its components.
        """
        return ()

    def sf(self, x: FloatArray) -> FloatArray:
        """Survival function ``P(X > x)``, vectorised (any shape).

        The default is ``1 - cdf(x)``; override it where that loses the upper tail's
        digits (every family in the catalogue does): mixtures and truncation rely on it.
        """
        return _f64(1.0 - self.cdf(x))

    def cdf_sf(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(cdf(x), sf(x))`` together.

        Override where both come from one costly step (a numerical inversion, as for the
        metalog), so that callers needing both pay it once.
        """
        return self.cdf(x), self.sf(x)
