"""Scenario tables in, distributions out: the catalogue of families and their parsers.

:data:`CATALOGUE` is the one list of families: :data:`DISTRIBUTIONS`, :data:`PARAMETERS`
and :data:`TRUNCATABLE` are derived from it.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.distributions.base import _EPS, Distribution, ValueParser, _f64, _fmt
from sim.distributions.beta import Beta, Pert
from sim.distributions.closed_form import Fixed, LogNormal, Normal, Triangular, Uniform
from sim.distributions.metalog import _METALOG_MAX_TERMS, Metalog
from sim.distributions.mixture import Mixture
from sim.distributions.scipy_dist import (
    ScipyDistribution,
    TooSlowToTabulate,
    _continuous_scipy_names,
    _is_discrete_scipy_name,
    _quiet,
    scipy_generator,
)
from sim.distributions.truncated import MIN_TRUNCATED_MASS, Truncated
from sim.errors import InfeasibleDistribution, ScenarioError, unknown_key_message

#: ``scipy.special.ndtri(0.9)``, the standard normal's 90% quantile (a test checks the
#: digits): reading a scenario imports no scipy.
_Z90 = 1.2815515655446004
#: ``scipy.special.ndtri(1 - 2^-53)``: how far from the mean, in standard deviations, the
#: most extreme draw of a normal lands.
_Z_END = 8.209536151601387

__all__ = [
    "BOUNDS",
    "CATALOGUE",
    "DISTRIBUTIONS",
    "MAX_DISTRIBUTION_NESTING",
    "PARAMETERS",
    "TRUNCATABLE",
    "Family",
    "Spec",
    "parse_distribution",
    "plain_number",
]

MAX_DISTRIBUTION_NESTING = 8
"""The most mixtures nested one inside another (a mixture whose components are mixtures
counts two)."""

BOUNDS = ("lower", "upper")
"""The optional truncation keys of every family in :data:`TRUNCATABLE`."""


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
    if isinstance(value, str) and value.strip().endswith("%"):
        # A rate written as a percentage where the key takes a plain number: say how to
        # write it, not only that a string is no number.
        raise ScenarioError(
            f"expected a plain number, got the string {value!r}: write a fraction as a "
            "decimal (0.25 = 25%)",
            path=path,
        )
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


def _names(keys: Sequence[str]) -> str:
    return ", ".join(repr(k) for k in keys)


@dataclass(frozen=True, slots=True)
class Spec:
    """A distribution table being read: its keys, path and value parser.

    A family's parser receives one, with the keys already checked against the family's
    :class:`Family` row, and reads its parameters through it: :meth:`amount` (in the
    distribution's units, through the scenario's value parser), :meth:`number` (a plain
    number), :meth:`positive`, :meth:`bounds` (optional ``lower``/``upper``) and
    :meth:`ordered` for two that must increase.
    """

    table: Mapping[str, object]
    path: str
    dist: str
    value: ValueParser
    depth: int = 0

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def check_keys(self, required: Sequence[str], optional: Sequence[str] = ()) -> None:
        """Refuse a key outside ``dist``, ``required`` and ``optional``, then a missing one."""
        allowed = ("dist", *required, *optional)
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

    def bounds(self) -> tuple[float | None, float | None]:
        """The optional ``lower`` and ``upper`` keys (``None`` where absent), ordered."""
        lower = self.amount("lower") if "lower" in self.table else None
        upper = self.amount("upper") if "upper" in self.table else None
        if lower is not None and upper is not None:
            self.ordered("lower", "upper", lower, upper)
        return lower, upper

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
        except (ArithmeticError, ValueError, IndexError):
            # Parameters that pass every check but overflow double precision while the
            # distribution is built (sigma = 1e200, a beta with b = 1e154, a range of
            # 1e308): the scenario is asking for something that cannot be computed.
            raise InfeasibleDistribution.beyond_double_precision(path) from None
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
    if isinstance(dist, Mixture) or all(math.isfinite(end) for end in dist.support()):
        # Bounded, or a mixture: its quantile at u lies between its components' quantiles
        # at u, each checked when parsed. Neither needs its (tabulated) quantile function
        # here, so reading a scenario tabulates nothing.
        return dist
    probes = (("smallest draw", "2^-53"), ("median", "0.5"), ("largest draw", "1 - 2^-53"))
    with np.errstate(all="ignore"):
        if isinstance(dist, Normal):  # closed forms: no scipy to read a scenario
            x = _f64([dist.mu - _Z_END * dist.sd, dist.mu, dist.mu + _Z_END * dist.sd])
        elif isinstance(dist, LogNormal):
            x = np.exp(
                _f64([dist.mu - _Z_END * dist.sigma, dist.mu, dist.mu + _Z_END * dist.sigma])
            )
        else:
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
    family = _FAMILIES.get(name)
    if family is None:
        raise ScenarioError(
            unknown_key_message(name, DISTRIBUTIONS, what="distribution"), path=dist_path
        )
    s = Spec(table, path, name, value, depth)
    if not family.open_keys:
        s.check_keys(family.required, family.parameters[len(family.required) :])
    dist = family.parse(s)
    return _truncate(s, dist) if family.truncatable else dist


def _parse_fixed(s: Spec) -> Distribution:
    return Fixed(s.amount("value"))


def _parse_normal(s: Spec) -> Distribution:
    return Normal(s.amount("mean"), s.positive("sd", plain=False))


def _truncate(s: Spec, base: Distribution) -> Distribution:
    """``base`` truncated to the spec's optional ``lower``/``upper``, validated."""
    lower, upper = s.bounds()
    if lower is None and upper is None:
        return base
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
_LOGNORMAL_KEYS = tuple(k for form in _LOGNORMAL_FORMS for k in form)


def _parse_lognormal(s: Spec) -> Distribution:
    present = [k for k in _LOGNORMAL_KEYS if k in s.table]
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
        sigma = (math.log(p90) - mu) / _Z90
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
    return LogNormal(mu, sigma, given)


def _min_mode_max(s: Spec) -> tuple[float, float, float]:
    lo, mode, hi = s.amount("min"), s.amount("mode"), s.amount("max")
    s.ordered("min", "max", lo, hi)
    if not lo <= mode <= hi:
        raise ScenarioError(
            f"mode must lie in [min, max]; got min={_fmt(lo)}, mode={_fmt(mode)}, max={_fmt(hi)}",
            path=s.at("mode"),
        )
    return lo, mode, hi


def _parse_triangular(s: Spec) -> Distribution:
    return Triangular(*_min_mode_max(s))


def _parse_pert(s: Spec) -> Distribution:
    lo, mode, hi = _min_mode_max(s)
    lam = s.positive("lambda", plain=True) if "lambda" in s.table else 4.0
    return Pert(lo, mode, hi, lam)


def _parse_uniform(s: Spec) -> Distribution:
    lo, hi = s.amount("min"), s.amount("max")
    s.ordered("min", "max", lo, hi)
    return Uniform(lo, hi)


def _parse_beta(s: Spec) -> Distribution:
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


_Quantiles = tuple[tuple[float, ...], tuple[str, ...], tuple[float, ...]]
"""A metalog's quantiles as read: probabilities, the keys that named them, values."""


def _parse_metalog(s: Spec) -> Distribution:
    if "quantiles" in s.table:
        (probs, keys, values), qpath = _metalog_quantile_table(s), s.at("quantiles")
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
    lower, upper = s.bounds()
    if (lower is not None and values[0] <= lower) or (upper is not None and values[-1] >= upper):
        raise ScenarioError(
            f"quantile values must lie strictly inside the bounds; got "
            f"{_fmt(values[0])}..{_fmt(values[-1])} with lower={lower}, upper={upper}",
            path=s.path,
        )
    terms = _metalog_terms(s, min(len(values), _METALOG_MAX_TERMS))
    try:
        return Metalog(probs, values, terms, lower, upper, keys)
    except InfeasibleDistribution as exc:
        raise InfeasibleDistribution(exc.message, path=s.path) from None


def _metalog_quantile_table(s: Spec) -> _Quantiles:
    """A metalog's ``quantiles = { "0.1" = x, ... }`` table, sorted by probability."""
    named = [k for k in ("p10", "p50", "p90") if k in s.table]
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
            raise ScenarioError(f"keys {k0!r} and {k1!r} name the same probability", path=qpath)
    if len(pairs) < 3:
        raise ScenarioError(f"a metalog needs at least 3 quantiles, got {len(pairs)}", path=qpath)
    probs = tuple(p for p, _, _ in pairs)
    keys = tuple(k for _, k, _ in pairs)
    values = tuple(float(x) for _, _, x in pairs)
    for k, x in zip(keys, values, strict=True):
        if not math.isfinite(x):
            raise ScenarioError(f"expected a finite number, got {x!r}", path=f'{qpath}."{k}"')
    return probs, keys, values


def _metalog_terms(s: Spec, most: int) -> int:
    """The optional ``terms`` key: an integer from 2 to ``most``, by default ``most``."""
    if "terms" not in s.table:
        return most
    raw_terms = s.table["terms"]
    if isinstance(raw_terms, bool) or not isinstance(raw_terms, int) or not 2 <= raw_terms <= most:
        raise ScenarioError(
            f"terms must be an integer from 2 to {most} (at most the number of "
            f"quantiles and {_METALOG_MAX_TERMS}), got {_show(raw_terms)}",
            path=s.at("terms"),
        )
    return raw_terms


def _parse_mixture(s: Spec) -> Distribution:
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


def _parse_scipy(s: Spec) -> Distribution:
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
        if _is_discrete_scipy_name(name):
            raise ScenarioError(
                f"scipy.stats.{name} is discrete; only continuous distributions are allowed",
                path=npath,
            )
        raise ScenarioError(
            unknown_key_message(name, names, what="scipy.stats continuous distribution"),
            path=npath,
        )
    gen = scipy_generator(name)
    shapes = [x.strip() for x in gen.shapes.split(",")] if gen.shapes else []
    s.check_keys(["name", *shapes], ["loc", "scale", *BOUNDS])
    params: list[tuple[str, float]] = [(k, s.number(k)) for k in shapes]
    if "loc" in s.table:
        params.append(("loc", s.amount("loc")))
    if "scale" in s.table:
        params.append(("scale", s.positive("scale", plain=False)))
    shown = ", ".join(f"{k}={_fmt(v)}" for k, v in params)
    bad_path = s.at(shapes[0]) if len(shapes) == 1 else s.path
    try:
        with _quiet():
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
    except TooSlowToTabulate as exc:
        raise ScenarioError(
            f"scipy.stats.{name}({shown}) is too slow to sample: {exc}; use a built-in "
            "distribution instead (normal, lognormal, pert, triangular, beta, or metalog "
            "from its p10, p50 and p90)",
            path=s.path,
        ) from None
    except Exception as exc:  # a ppf that fails somewhere on the table's grid
        raise ScenarioError(f"scipy.stats.{name}({shown}) failed: {exc}", path=s.path) from None
    return base


@dataclass(frozen=True, slots=True)
class Family:
    """One row of :data:`CATALOGUE`: a ``dist`` name, the keys it takes and its parser.

    Attributes
    ----------
    name : str
        The ``dist`` value that selects the family.
    parse : callable
        ``(Spec) -> Distribution``: reads and validates the parameters. The keys are
        checked before it is called (unknown ones, then missing ``required`` ones), and
        for a truncatable family the ``lower``/``upper`` keys are applied after.
    required, optional : tuple of str
        The keys besides ``dist``, in the order the documentation lists them.
    truncatable : bool
        Takes the optional truncation bounds :data:`BOUNDS` too (a continuous family
        whose support they can cut).
    open_keys : bool
        Takes keys beyond those listed (scipy's shape parameters): the parser checks the
        keys itself.
    """

    name: str
    parse: Callable[[Spec], Distribution]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    truncatable: bool = False
    open_keys: bool = False

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every key the family takes besides ``dist``: required, optional, bounds."""
        return (*self.required, *self.optional, *(BOUNDS if self.truncatable else ()))


CATALOGUE: tuple[Family, ...] = (
    Family("fixed", _parse_fixed, required=("value",)),
    Family("normal", _parse_normal, required=("mean", "sd"), truncatable=True),
    Family("lognormal", _parse_lognormal, optional=_LOGNORMAL_KEYS, truncatable=True),
    Family("triangular", _parse_triangular, required=("min", "mode", "max")),
    Family("pert", _parse_pert, required=("min", "mode", "max"), optional=("lambda",)),
    Family("uniform", _parse_uniform, required=("min", "max")),
    Family("beta", _parse_beta, required=("a", "b"), optional=("min", "max")),
    Family(
        "metalog",
        _parse_metalog,
        optional=("p10", "p50", "p90", "quantiles", "lower", "upper", "terms"),
    ),
    Family("mixture", _parse_mixture, required=("weights", "components")),
    Family(
        "scipy",
        _parse_scipy,
        required=("name",),
        optional=("loc", "scale"),
        truncatable=True,
        open_keys=True,
    ),
)
"""The catalogue: every family a scenario may name as ``dist``, in documentation order."""

_FAMILIES: Mapping[str, Family] = {f.name: f for f in CATALOGUE}

DISTRIBUTIONS: tuple[str, ...] = tuple(_FAMILIES)
"""The names a scenario may give as ``dist``."""

PARAMETERS: Mapping[str, tuple[str, ...]] = {f.name: f.parameters for f in CATALOGUE}
"""Every key each distribution takes besides ``dist`` (scipy also takes the shape
parameters of the scipy.stats distribution it names, e.g. ``a`` for ``gamma``)."""

TRUNCATABLE: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.truncatable)
"""Distributions that take optional ``lower``/``upper`` truncation bounds (metalog's
``lower``/``upper`` are bounds of its transform, not a truncation; the others are bounded
by their own parameters)."""
