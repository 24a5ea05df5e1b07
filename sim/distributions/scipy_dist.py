"""Any continuous ``scipy.stats`` distribution, by name.

``scipy.stats`` takes about half a second to import, so it is imported where a scenario
names a scipy distribution, not when this package is imported.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from sim.distributions.base import Distribution, FloatArray, _f64, _fmt
from sim.distributions.tables import _ppf_via, _QuantileTable, _table_or_exact

__all__ = ["TABULATE_LIMIT_S", "ScipyDistribution", "TooSlowToTabulate"]

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


#: The most seconds a scipy distribution's quantile table may take to build (its ppf is
#: called at about 8,200 points): ``studentized_range`` took over 590 s, ``levy_stable``
#: about 176 s on a loaded machine. Beyond it the scenario is refused.
TABULATE_LIMIT_S = 20.0
#: Draws in one block of a run (sim.run.sampling.BLOCK_SIZE; not imported: a cycle).
_BLOCK_DRAWS = 65_536


class TooSlowToTabulate(Exception):
    """A scipy quantile function too slow for a run (the loader names the key)."""


class _Deadline:
    """``exact`` evaluated in chunks, stopping once the whole call would pass ``limit``
    seconds from the first call (projected from the rate so far, so a hopeless one stops
    after its first few points, not at the limit)."""

    def __init__(self, exact: Callable[[FloatArray], FloatArray], limit: float) -> None:
        self.exact = exact
        self.limit = limit
        self.start = time.perf_counter()
        self.points = 0

    @property
    def rate(self) -> float:
        """Seconds a point so far."""
        return (time.perf_counter() - self.start) / max(self.points, 1)

    def __call__(self, u: FloatArray) -> FloatArray:
        out = np.empty(u.shape)
        flat, dest = u.reshape(-1), out.reshape(-1)
        i, chunk = 0, 8
        while i < flat.size:
            j = min(flat.size, i + chunk)
            dest[i:j] = self.exact(flat[i:j])
            self.points += j - i
            elapsed = time.perf_counter() - self.start
            if elapsed + self.rate * (flat.size - j) > self.limit:
                raise TooSlowToTabulate(
                    f"its quantile function takes {self.rate * 1e3:.3g} ms a point: its "
                    f"table (about 8,200 points) would take over {self.limit:g} s to build"
                )
            i, chunk = j, chunk * 4
        return out


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence scipy's warnings and numpy's floating-point complaints: callers check the
    results (NaN, inf) themselves."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _continuous_scipy_names() -> tuple[str, ...]:
    from scipy import stats

    return tuple(
        sorted(n for n in dir(stats) if isinstance(getattr(stats, n), stats.rv_continuous))
    )


def _is_discrete_scipy_name(name: str) -> bool:
    from scipy import stats

    return isinstance(getattr(stats, name, None), stats.rv_discrete)


def scipy_generator(name: str) -> Any:
    """The ``scipy.stats`` distribution object (an ``rv_continuous``) called ``name``."""
    from scipy import stats

    return getattr(stats, name)


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
        object.__setattr__(self, "_frozen", scipy_generator(self.dist_name)(**dict(self.params)))
        table: _QuantileTable | None = None
        error = 0.0
        if self.dist_name not in _FAST_SCIPY:
            timed = _Deadline(self._exact_ppf, TABULATE_LIMIT_S)
            table, error = _table_or_exact(timed)
            if table is None and timed.rate * _BLOCK_DRAWS > TABULATE_LIMIT_S:
                # No table (a kink): every draw would call the exact ppf, at that rate.
                raise TooSlowToTabulate(
                    f"its quantile function has no table and takes {timed.rate * 1e3:.3g} ms "
                    f"a point: over {TABULATE_LIMIT_S:g} s for each {_BLOCK_DRAWS:,} draws"
                )
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "table_error", error)

    @property
    def tabulated(self) -> bool:
        """Whether ppf interpolates a table (else it is scipy's own ppf)."""
        return self._table is not None

    def _exact_ppf(self, u: FloatArray) -> FloatArray:
        with _quiet():
            return _f64(self._frozen.ppf(u))

    def ppf(self, u: FloatArray) -> FloatArray:
        return _ppf_via(self._table, self._exact_ppf, u)

    def cdf(self, x: FloatArray) -> FloatArray:
        with _quiet():
            return _f64(self._frozen.cdf(_f64(x)))

    def sf(self, x: FloatArray) -> FloatArray:
        with _quiet():
            return _f64(self._frozen.sf(_f64(x)))

    def support(self) -> tuple[float, float]:
        lo, hi = self._frozen.support()
        return (float(lo), float(hi))

    def mean(self) -> float:
        with _quiet():
            return float(self._frozen.mean())

    def to_dict(self) -> dict[str, object]:
        return {"dist": "scipy", "name": self.dist_name, **dict(self.params)}

    def describe(self) -> str:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params)
        return f"scipy.{self.dist_name}({params})"
