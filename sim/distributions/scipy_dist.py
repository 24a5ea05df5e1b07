"""Any continuous ``scipy.stats`` distribution, by name.

``scipy.stats`` takes about half a second to import, so it is imported where a scenario
names a scipy distribution, not when this package is imported.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from sim.distributions.base import Distribution, FloatArray, _f64, _fmt
from sim.distributions.tables import _ppf_via, _QuantileTable, _table_or_exact

__all__ = ["ScipyDistribution"]

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
            table, error = _table_or_exact(self._exact_ppf)
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
