"""Named probability distributions: scenario tables in, frozen vectorised distributions out.

A scenario states an uncertain input as a plain number (a point mass) or an inline table
with a ``dist`` key, e.g. ``{ dist = "lognormal", p50 = "20M", p90 = "40M" }``.
:func:`parse_distribution` validates such a table (every key, type and constraint, with
"did you mean" hints for typos) and returns a frozen :class:`Distribution`. Every
distribution answers the same verbs: :meth:`~Distribution.ppf` (the engine's hot path,
called on blocks of 65,536 uniforms), :meth:`~Distribution.cdf`,
:meth:`~Distribution.sf`, :meth:`~Distribution.sample`, :meth:`~Distribution.support`,
:meth:`~Distribution.mean`, :meth:`~Distribution.to_dict` and
:meth:`~Distribution.describe`.

Quantile functions are closed forms where one exists (fixed, normal, lognormal,
triangular, uniform, metalog). Beta, PERT, mixtures and the slow ``scipy`` distributions
have none that is fast, so each builds, once at construction, a monotone cubic table of
its exact quantile function in ``logit(u)`` for u in [1e-10, 1 - 1e-10] (the exact
function answers beyond), refined until the error at the middle of every table interval
is at most 1e-7 of the distribution's scale. :data:`TABLE_BOUND` (1e-6) is the bound the
tests assert on a dense grid; typical tables reach 1e-11 to 1e-8. A table lookup runs at
about 60M values/s on one core, against 0.1-3M for scipy's beta, gamma or t ppf.

Modules
-------
``base``
    The :class:`Distribution` protocol and shared numeric helpers.
``tables``
    Quantile tables (``_tabulate``, ``_QuantileTable``, ``_table_or_exact``, ``_Tabulated``).
``closed_form``
    Fixed, normal, lognormal, triangular, uniform.
``beta``, ``metalog``, ``mixture``, ``scipy_dist``, ``truncated``
    One family (or two close ones) each.
``parse``
    :func:`parse_distribution`, the per-family parsers and the one :data:`CATALOGUE`
    from which :data:`DISTRIBUTIONS`, :data:`PARAMETERS` and :data:`TRUNCATABLE` derive.

Adding a distribution
---------------------
To add a family, say ``gumbel``:

1. Subclass :class:`Distribution` in a new module ``sim/distributions/gumbel.py`` as a
   ``@dataclass(frozen=True, slots=True, eq=False)`` with ``name: ClassVar[str] =
   "gumbel"``, and implement the five abstract methods: ``ppf`` (vectorised, any shape;
   the engine calls it on blocks of 65,536 uniforms, so keep it fast), ``cdf``,
   ``support``, ``mean`` and ``to_dict`` (the parameters as the user wrote them, so that
   :func:`parse_distribution` of the result rebuilds the distribution).
2. Override ``sf`` where ``1 - cdf`` loses the upper tail, ``atoms`` if the family has
   point masses, and ``cdf_sf`` if the cdf costs a numerical inversion: mixtures and
   truncation call these on their components, so their accuracy is inherited.
3. Without a fast closed-form ``ppf``, subclass ``_Tabulated`` from :mod:`.tables` in
   place of :class:`Distribution` and implement ``_exact(u)``, the exact quantile
   function: ``ppf`` then answers through a table built on first use (see
   :class:`Beta`, and ``_Tabulated`` for the cache field it needs).
4. Register it: write ``_parse_gumbel(s: Spec) -> Distribution`` in :mod:`.parse`,
   reading its parameters through ``s.amount`` (the scenario's units), ``s.number``,
   ``s.positive`` and ``s.ordered``, and add a :class:`~.parse.Family` row to
   :data:`CATALOGUE` with its required and optional keys (``truncatable=True`` if it
   takes ``lower``/``upper`` bounds). :data:`DISTRIBUTIONS` and :data:`PARAMETERS` follow.
5. Re-export the class here, document the family and its keys in
   ``docs/scenarios.md`` (a test compares that table with :data:`PARAMETERS`), and add
   a case to ``_cases()`` in ``tests/test_distributions.py``: the shared tests then check
   its ppf against an exact reference, the round trip through ``to_dict`` and the
   catalogue; add tests of its own refusals and closed forms.

Example
-------
>>> d = parse_distribution({"dist": "lognormal", "p50": 40, "p90": 90}, path="multiple")
>>> d.describe()
'lognormal(p50=40, p90=90)'
>>> import numpy as np
>>> bool(abs(d.ppf(np.array([0.5]))[0] - 40.0) < 1e-9)
True
"""

from sim.distributions.base import Distribution, FloatArray, ValueParser
from sim.distributions.beta import Beta, Pert
from sim.distributions.categorical import RegimeIndex
from sim.distributions.closed_form import Fixed, LogNormal, Normal, Triangular, Uniform
from sim.distributions.metalog import Metalog
from sim.distributions.mixture import Mixture
from sim.distributions.parse import (
    CATALOGUE,
    DISTRIBUTIONS,
    MAX_DISTRIBUTION_NESTING,
    PARAMETERS,
    TRUNCATABLE,
    parse_distribution,
    plain_number,
)
from sim.distributions.scipy_dist import ScipyDistribution
from sim.distributions.tables import TABLE_BOUND
from sim.distributions.truncated import MIN_TRUNCATED_MASS, Truncated
from sim.errors import InfeasibleDistribution

__all__ = [
    "CATALOGUE",
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
    "InfeasibleDistribution",
    "LogNormal",
    "Metalog",
    "Mixture",
    "Normal",
    "Pert",
    "RegimeIndex",
    "ScipyDistribution",
    "Triangular",
    "Truncated",
    "Uniform",
    "ValueParser",
    "parse_distribution",
    "plain_number",
]
