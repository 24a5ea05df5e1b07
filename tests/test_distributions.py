"""Tests for sim.distributions: the catalogue, its quantile functions and its validation.

Accuracy is measured against independent references (scipy.stats, closed forms written
out here, a bisection on scipy's cdf and sf for mixtures) on a dense grid of u, relative
to ``max(S, |x - median|)`` with ``S = ppf(0.99) - ppf(0.01)`` as in ``TABLE_BOUND``.
Statistical checks take their tolerance from standard errors, each with its own seed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import special, stats

from sim.distributions import (
    DISTRIBUTIONS,
    PARAMETERS,
    TABLE_BOUND,
    TRUNCATABLE,
    Distribution,
    FloatArray,
    Metalog,
    parse_distribution,
    plain_number,
)
from sim.errors import InfeasibleDistribution, ScenarioError

Z90 = float(special.ndtri(0.9))


# --------------------------------------------------------------------------- helpers


def dense_u(lo_t: float = -23.0, hi_t: float = 23.0, n: int = 20001) -> FloatArray:
    """A sorted grid of u: uniform in logit(u) (dense in both tails) plus uniform in u."""
    u = np.concatenate([special.expit(np.linspace(lo_t, hi_t, n)), np.linspace(0.001, 0.999, n)])
    return np.unique(u)


def scaled_error(
    approx: FloatArray, exact: FloatArray, ref: Callable[[FloatArray], FloatArray]
) -> float:
    """max |approx - exact| / max(S, |exact - median|), the metric of TABLE_BOUND."""
    q01, median, q99 = ref(np.array([0.01, 0.5, 0.99]))
    spread = q99 - q01 if q99 > q01 else max(abs(median), 1.0)
    return float(np.max(np.abs(approx - exact) / np.maximum(spread, np.abs(exact - median))))


def parse(spec: object, path: str = "x") -> Distribution:
    return parse_distribution(spec, path=path)


@dataclass(frozen=True)
class Component:
    """A reference mixture component: weight, cdf and sf from scipy (or a point mass)."""

    weight: float
    cdf: Callable[[FloatArray], FloatArray]
    sf: Callable[[FloatArray], FloatArray]
    ppf: Callable[[FloatArray], FloatArray]


def scipy_component(weight: float, frozen: object) -> Component:
    return Component(weight, frozen.cdf, frozen.sf, frozen.ppf)  # type: ignore[attr-defined]


def atom_component(weight: float, v: float) -> Component:
    return Component(
        weight,
        lambda x: (np.asarray(x) >= v).astype(float),
        lambda x: (np.asarray(x) < v).astype(float),
        lambda u: np.full(np.shape(u), v),
    )


def mixture_reference(components: list[Component]) -> Callable[[FloatArray], FloatArray]:
    """Exact mixture quantiles by bisection on logit(cdf), with cdf and sf from scipy (the
    sf keeps the upper tail's digits that 1 - cdf loses)."""

    def ppf(u: FloatArray) -> FloatArray:
        u = np.asarray(u, dtype=float)
        target = np.log(u) - np.log1p(-u)
        qs = np.array([c.ppf(u) for c in components if c.weight > 0])
        lo, hi = qs.min(axis=0), qs.max(axis=0)

        def reached(x: FloatArray) -> npt.NDArray[np.bool_]:
            below = sum(c.weight * c.cdf(x) for c in components)
            above = sum(c.weight * c.sf(x) for c in components)
            with np.errstate(divide="ignore"):
                return np.asarray(np.log(below) - np.log(above) >= target)

        hi = np.where(reached(lo), lo, hi)
        for _ in range(1100):
            mid = 0.5 * lo + 0.5 * hi
            if not np.any((mid > lo) & (mid < hi)):
                break  # every bracket is down to adjacent floats
            up = reached(mid)
            hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
        return np.asarray(hi, dtype=np.float64)

    return ppf


def lognormal_ref(p50: float, p90: float) -> Any:
    return stats.lognorm(s=math.log(p90 / p50) / Z90, scale=p50)


def metalog3(p10: float, p50: float, p90: float) -> Callable[[FloatArray], FloatArray]:
    """Keelin's 3-term unbounded metalog, solved here independently of the module."""
    p = np.array([0.1, 0.5, 0.9])
    logit = np.log(p / (1 - p))
    design = np.column_stack([np.ones(3), logit, (p - 0.5) * logit])
    a = np.linalg.solve(design, np.array([p10, p50, p90]))

    def ppf(u: FloatArray) -> FloatArray:
        lu = np.log(u) - np.log1p(-u)
        return np.asarray(a[0] + a[1] * lu + a[2] * (u - 0.5) * lu, dtype=np.float64)

    return ppf


def metalog3_bounded(
    p10: float, p50: float, p90: float, lower: float, upper: float
) -> Callable[[FloatArray], FloatArray]:
    """Keelin's logit-metalog: the 3-term metalog of log((x - lower) / (upper - x))."""

    def z(x: float) -> float:
        return math.log((x - lower) / (upper - x))

    inner = metalog3(z(p10), z(p50), z(p90))
    return lambda u: lower + (upper - lower) * special.expit(inner(u))


def numeric_sd(ppf: Callable[[FloatArray], FloatArray], mean: float) -> float:
    """sd from the quantile function: var = int_0^1 (Q(u) - mean)^2 du, in logit(u)
    (|logit(u)| <= 23 leaves out 2e-10 of the probability)."""
    t = np.linspace(-23.0, 23.0, 20001)
    u = special.expit(t)
    integrand = (ppf(u) - mean) ** 2 * u * (1.0 - u)
    return math.sqrt(float(np.trapezoid(integrand, t)))


# --------------------------------------------------------------------------- the cases

LN40 = {"dist": "lognormal", "p50": 40, "p90": 90}
LN15 = {"dist": "lognormal", "p50": 15, "p90": 25}


@dataclass(frozen=True)
class Case:
    spec: object
    ppf: Callable[[FloatArray], FloatArray]  # the reference quantile function
    tabulated: bool = False
    sd: float | None = None  # the reference sd where a closed form is at hand
    mean: float | None = None  # the reference mean, likewise


def scipy_case(spec: object, frozen: object, *, tabulated: bool = False) -> Case:
    """A case whose reference is a frozen scipy.stats distribution."""
    return Case(
        spec,
        frozen.ppf,  # type: ignore[attr-defined]
        tabulated=tabulated,
        sd=float(frozen.std()),  # type: ignore[attr-defined]
        mean=float(frozen.mean()),  # type: ignore[attr-defined]
    )


def _cases() -> dict[str, Case]:
    ln40, ln15 = lognormal_ref(40, 90), lognormal_ref(15, 25)
    pert_a, pert_b = 1 + 4 * (1 - 0) / 3, 1 + 4 * (3 - 1) / 3
    msd_sigma = math.sqrt(math.log1p(0.4**2))
    return {
        "fixed": Case(3.5, lambda u: np.full(np.shape(u), 3.5), sd=0.0, mean=3.5),
        "normal": scipy_case({"dist": "normal", "mean": 0.5, "sd": 0.2}, stats.norm(0.5, 0.2)),
        "lognormal_p50_p90": scipy_case(LN40, ln40),
        "lognormal_mu_sigma": scipy_case(
            {"dist": "lognormal", "mu": 1.0, "sigma": 0.5}, stats.lognorm(s=0.5, scale=math.e)
        ),
        "lognormal_mean_sd": scipy_case(
            {"dist": "lognormal", "mean": 10.0, "sd": 4.0},
            stats.lognorm(s=msd_sigma, scale=10.0 * math.exp(-0.5 * msd_sigma**2)),
        ),
        "triangular": scipy_case(
            {"dist": "triangular", "min": 0, "mode": 1, "max": 3},
            stats.triang(1 / 3, loc=0, scale=3),
        ),
        "pert": scipy_case(
            {"dist": "pert", "min": 0, "mode": 1, "max": 3},
            stats.beta(pert_a, pert_b, loc=0, scale=3),
            tabulated=True,
        ),
        "uniform": scipy_case({"dist": "uniform", "min": -1, "max": 2}, stats.uniform(-1, 3)),
        "beta": scipy_case({"dist": "beta", "a": 2, "b": 3}, stats.beta(2, 3), tabulated=True),
        "beta_scaled": scipy_case(
            {"dist": "beta", "a": 0.7, "b": 1.8, "min": 10, "max": 20},
            stats.beta(0.7, 1.8, loc=10, scale=10),
            tabulated=True,
        ),
        "metalog": Case(
            {"dist": "metalog", "p10": 0.2, "p50": 0.6, "p90": 1.2}, metalog3(0.2, 0.6, 1.2)
        ),
        "metalog_bounded": Case(
            {"dist": "metalog", "p10": 0.2, "p50": 0.6, "p90": 1.2, "lower": -1, "upper": 5},
            metalog3_bounded(0.2, 0.6, 1.2, -1.0, 5.0),
        ),
        "mixture": Case(
            {"dist": "mixture", "weights": [0.7, 0.3], "components": [LN40, LN15]},
            mixture_reference([scipy_component(0.7, ln40), scipy_component(0.3, ln15)]),
            tabulated=True,
            mean=0.7 * float(ln40.mean()) + 0.3 * float(ln15.mean()),
        ),
        "mixture_atom": Case(
            {"dist": "mixture", "weights": [0.1, 0.9], "components": [0, LN40]},
            mixture_reference([atom_component(0.1, 0.0), scipy_component(0.9, ln40)]),
            tabulated=True,
            mean=0.9 * float(ln40.mean()),
        ),
        "mixture_gap": Case(
            {
                "dist": "mixture",
                "weights": [0.4, 0.6],
                "components": [
                    {"dist": "uniform", "min": 0, "max": 1},
                    {"dist": "triangular", "min": 2, "mode": 2.5, "max": 3},
                ],
            },
            mixture_reference(
                [
                    scipy_component(0.4, stats.uniform(0, 1)),
                    scipy_component(0.6, stats.triang(0.5, loc=2, scale=1)),
                ]
            ),
            tabulated=True,
            mean=0.4 * 0.5 + 0.6 * 2.5,
        ),
        "mixture_kink_nested": Case(
            {
                "dist": "mixture",
                "weights": [0.5, 0.5],
                "components": [
                    {
                        "dist": "mixture",
                        "weights": [0.2, 0.8],
                        "components": [3.0, {"dist": "normal", "mean": 0, "sd": 1}],
                    },
                    {"dist": "beta", "a": 2, "b": 3, "min": -1, "max": 4},
                ],
            },
            mixture_reference(
                [
                    atom_component(0.1, 3.0),
                    scipy_component(0.4, stats.norm(0, 1)),
                    scipy_component(0.5, stats.beta(2, 3, loc=-1, scale=5)),
                ]
            ),
            tabulated=True,
            mean=0.1 * 3.0 + 0.5 * (-1 + 5 * 2 / 5),
        ),
        "scipy_gamma": scipy_case(
            {"dist": "scipy", "name": "gamma", "a": 2.0, "scale": 3.0},
            stats.gamma(2.0, scale=3.0),
            tabulated=True,
        ),
        "scipy_t": scipy_case(
            {"dist": "scipy", "name": "t", "df": 5.0, "loc": 1.0},
            stats.t(5.0, loc=1.0),
            tabulated=True,
        ),
        "scipy_norm": scipy_case(
            {"dist": "scipy", "name": "norm", "loc": 1.0, "scale": 2.0}, stats.norm(1.0, 2.0)
        ),
    }


CASES = _cases()
TABULATED = [name for name, case in CASES.items() if case.tabulated]
# Closed forms agree with their references to rounding: 1e-12 of the scale is 4500 ulps.
CLOSED_FORM_BOUND = 1e-12


@pytest.fixture(scope="module")
def dists() -> dict[str, Distribution]:
    return {name: parse(case.spec, path=name) for name, case in CASES.items()}


def test_catalogue_is_the_contract() -> None:
    assert DISTRIBUTIONS == (
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
    named = {parse(c.spec).name for c in CASES.values()}
    assert named == set(DISTRIBUTIONS)


# --------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("name", list(CASES))
def test_ppf_matches_reference(name: str, dists: dict[str, Distribution]) -> None:
    case, dist = CASES[name], dists[name]
    # Mixture references bisect on scipy's cdf: a coarser grid keeps them quick.
    u = dense_u(n=4001) if name.startswith("mixture") else dense_u()
    bound = TABLE_BOUND if case.tabulated else CLOSED_FORM_BOUND
    assert scaled_error(dist.ppf(u), case.ppf(u), case.ppf) <= bound


@pytest.mark.parametrize("name", TABULATED)
def test_table_error_is_stated_and_within_bound(name: str, dists: dict[str, Distribution]) -> None:
    error = dists[name].table_error  # type: ignore[attr-defined]
    assert 0.0 <= error <= TABLE_BOUND


@pytest.mark.parametrize("name", TABULATED)
def test_tables_hand_the_far_tails_to_the_exact_ppf(
    name: str, dists: dict[str, Distribution]
) -> None:
    # (scipy's own beta ppf, the reference, gives up below about 1e-100.)
    u = np.array([1e-60, 1e-14, 1e-11, 1 - 1e-11, 1 - 2**-53])
    ref = CASES[name].ppf
    assert scaled_error(dists[name].ppf(u), ref(u), ref) <= TABLE_BOUND


@pytest.mark.parametrize("name", list(CASES))
def test_ppf_monotone_and_within_support(name: str, dists: dict[str, Distribution]) -> None:
    dist = dists[name]
    x = dist.ppf(dense_u(-36.0, 36.0))
    assert np.all(np.diff(x) >= 0.0)
    lo, hi = dist.support()
    assert np.all((x >= lo) & (x <= hi))


@pytest.mark.parametrize("name", list(CASES))
def test_cdf_inverts_ppf(name: str, dists: dict[str, Distribution]) -> None:
    # x = ppf(u) is within delta of the exact quantile exactly when the cdf brackets u:
    # cdf(x - delta) <= u <= cdf(x + delta), with delta the stated bound.
    dist, ref = dists[name], CASES[name].ppf
    u = dense_u(-20.0, 20.0, 4001)
    x = dist.ppf(u)
    q01, median, q99 = ref(np.array([0.01, 0.5, 0.99]))
    spread = q99 - q01 if q99 > q01 else max(abs(median), 1.0)
    delta = TABLE_BOUND * np.maximum(spread, np.abs(x - median))
    assert np.all(dist.cdf(x - delta) <= u + 1e-15)
    assert np.all(dist.cdf(x + delta) >= u - 1e-15)


@pytest.mark.parametrize(
    "name",
    [n for n in CASES if not n.startswith("mixture") and n not in ("fixed",)],
)
def test_cdf_of_ppf_is_identity_for_continuous(name: str, dists: dict[str, Distribution]) -> None:
    u = dense_u(-20.0, 20.0, 4001)
    dist = dists[name]
    got = dist.cdf(dist.ppf(u))
    # |cdf(ppf(u)) - u| <= f(x) * |error in x|: the bound in x turned into u by the local
    # density, estimated by a central difference of the reference quantile function.
    ref = CASES[name].ppf
    q01, median, q99 = ref(np.array([0.01, 0.5, 0.99]))
    x = ref(u)
    du = 1e-7 * u * (1 - u)
    with np.errstate(divide="ignore"):
        # Infinite where x is too close to a bound for floats to move: no constraint.
        density = 2 * du / (ref(u + du) - ref(u - du))
    bound = TABLE_BOUND if CASES[name].tabulated else CLOSED_FORM_BOUND
    tol = density * bound * np.maximum(q99 - q01, np.abs(x - median)) + 1e-13
    assert np.all(np.abs(got - u) <= tol)


def test_mixture_cdf_is_weighted_sum_of_component_cdfs(dists: dict[str, Distribution]) -> None:
    for name in ("mixture", "mixture_atom", "mixture_kink_nested"):
        spec = CASES[name].spec
        assert isinstance(spec, dict)
        comps = [parse(c) for c in spec["components"]]
        x = np.linspace(-5.0, 400.0, 5001)
        expected = sum(w * c.cdf(x) for w, c in zip(spec["weights"], comps, strict=True))
        np.testing.assert_allclose(dists[name].cdf(x), expected, rtol=1e-15, atol=1e-16)


def test_ppf_keeps_the_shape_of_u(dists: dict[str, Distribution]) -> None:
    u = np.linspace(0.05, 0.95, 12).reshape(3, 4)
    for name, dist in dists.items():
        out = dist.ppf(u)
        assert out.shape == (3, 4), name
        assert out.dtype == np.float64, name
        np.testing.assert_array_equal(out.ravel(), dist.ppf(u.ravel()))


# --------------------------------------------------------------------------- moments


@pytest.mark.parametrize("name", list(CASES))
def test_sample_mean_within_standard_error(name: str, dists: dict[str, Distribution]) -> None:
    dist, case = dists[name], CASES[name]
    seed = 20250618 + list(CASES).index(name)
    n = 200_000
    draws = dist.sample(n, rng=np.random.default_rng(seed))
    assert draws.shape == (n,)
    mean = dist.mean()
    sd = case.sd if case.sd is not None else numeric_sd(dist.ppf, mean)
    assert abs(draws.mean() - mean) <= 4 * sd / math.sqrt(n)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.mean is not None])
def test_mean_matches_reference(name: str, dists: dict[str, Distribution]) -> None:
    assert dists[name].mean() == pytest.approx(CASES[name].mean, rel=1e-12)


def test_mixture_mean_is_weighted(dists: dict[str, Distribution]) -> None:
    expected = 0.7 * math.exp(
        math.log(40) + 0.5 * (math.log(90 / 40) / Z90) ** 2
    ) + 0.3 * math.exp(math.log(15) + 0.5 * (math.log(25 / 15) / Z90) ** 2)
    assert dists["mixture"].mean() == pytest.approx(expected, rel=1e-14)


def test_mixture_quantiles_match_brute_force_sample(dists: dict[str, Distribution]) -> None:
    # Draw a component by weight, then from it: the fraction of draws at or below ppf(p)
    # must be p within four standard errors of a proportion.
    rng = np.random.default_rng(4242)
    n = 200_000
    for name, comps in (
        ("mixture", [(0.7, LN40), (0.3, LN15)]),
        (
            "mixture_gap",
            [
                (0.4, {"dist": "uniform", "min": 0, "max": 1}),
                (0.6, {"dist": "triangular", "min": 2, "mode": 2.5, "max": 3}),
            ],
        ),
    ):
        which = rng.choice(len(comps), size=n, p=[w for w, _ in comps])
        draws = np.empty(n)
        for i, (_, spec) in enumerate(comps):
            mask = which == i
            draws[mask] = parse(spec).sample(int(mask.sum()), rng=rng)
        for p in (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99):
            q = dists[name].ppf(np.array([p]))[0]
            assert abs(np.mean(draws <= q) - p) <= 4 * math.sqrt(p * (1 - p) / n), (name, p)


# --------------------------------------------------------------------------- properties


def assert_monotone_in_support(dist: Distribution, extra_u: list[float]) -> None:
    u = np.unique(np.concatenate([dense_u(-30.0, 30.0, 2001), np.asarray(extra_u, float)]))
    x = dist.ppf(u)
    assert np.all(np.diff(x) >= 0.0)
    lo, hi = dist.support()
    assert np.all((x >= lo) & (x <= hi))


unit = st.floats(min_value=1e-12, max_value=1 - 1e-12, allow_nan=False)
loc = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
scale = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False)


@given(mean=loc, sd=scale, extra=st.lists(unit, max_size=20))
def test_normal_property(mean: float, sd: float, extra: list[float]) -> None:
    dist = parse({"dist": "normal", "mean": mean, "sd": sd})
    assert_monotone_in_support(dist, extra)


@given(
    p50=st.floats(min_value=1e-3, max_value=1e6),
    ratio=st.floats(min_value=1.001, max_value=50.0),
    extra=st.lists(unit, max_size=20),
)
def test_lognormal_property(p50: float, ratio: float, extra: list[float]) -> None:
    dist = parse({"dist": "lognormal", "p50": p50, "p90": p50 * ratio})
    assert_monotone_in_support(dist, extra)
    np.testing.assert_allclose(dist.ppf(np.array([0.5, 0.9])), [p50, p50 * ratio], rtol=1e-12)


@given(
    lo=st.floats(min_value=-100.0, max_value=100.0),
    width=st.floats(min_value=0.01, max_value=1e3),
    c=st.floats(min_value=0.0, max_value=1.0),
    extra=st.lists(unit, max_size=20),
)
def test_triangular_property(lo: float, width: float, c: float, extra: list[float]) -> None:
    mode = min(lo + c * width, lo + width)
    dist = parse({"dist": "triangular", "min": lo, "mode": mode, "max": lo + width})
    assert_monotone_in_support(dist, extra)
    u = dense_u(-20, 20, 501)
    ref = stats.triang(c, loc=lo, scale=width).ppf
    assert scaled_error(dist.ppf(u), ref(u), ref) <= 1e-9


@given(lo=loc, width=scale, extra=st.lists(unit, max_size=20))
def test_uniform_property(lo: float, width: float, extra: list[float]) -> None:
    dist = parse({"dist": "uniform", "min": lo, "max": lo + width})
    assert_monotone_in_support(dist, extra)


@given(
    a=st.floats(min_value=0.2, max_value=50.0),
    b=st.floats(min_value=0.2, max_value=50.0),
    extra=st.lists(unit, max_size=20),
)
def test_beta_property(a: float, b: float, extra: list[float]) -> None:
    dist = parse({"dist": "beta", "a": a, "b": b})
    assert_monotone_in_support(dist, extra)
    u = dense_u(-23, 23, 2001)
    ref = stats.beta(a, b).ppf
    assert scaled_error(dist.ppf(u), ref(u), ref) <= TABLE_BOUND


@given(
    lo=st.floats(min_value=-100.0, max_value=100.0),
    width=st.floats(min_value=0.01, max_value=100.0),
    c=st.floats(min_value=0.0, max_value=1.0),
    lam=st.floats(min_value=0.5, max_value=20.0),
    extra=st.lists(unit, max_size=20),
)
def test_pert_property(lo: float, width: float, c: float, lam: float, extra: list[float]) -> None:
    hi = lo + width
    mode = min(lo + c * width, hi)
    dist = parse({"dist": "pert", "min": lo, "mode": mode, "max": hi, "lambda": lam})
    assert_monotone_in_support(dist, extra)
    a = 1 + lam * (mode - lo) / (hi - lo)
    b = 1 + lam * (hi - mode) / (hi - lo)
    ref = stats.beta(a, b, loc=lo, scale=hi - lo).ppf
    u = dense_u(-23, 23, 2001)
    assert scaled_error(dist.ppf(u), ref(u), ref) <= TABLE_BOUND
    assert dist.mean() == pytest.approx((lo + lam * mode + hi) / (lam + 2), rel=1e-12, abs=1e-12)


@given(
    p10=st.floats(min_value=-10.0, max_value=10.0),
    gap1=st.floats(min_value=1e-3, max_value=10.0),
    gap2=st.floats(min_value=1e-3, max_value=10.0),
    bounds=st.sampled_from(["none", "lower", "upper", "both"]),
    extra=st.lists(unit, max_size=20),
)
def test_metalog_property(
    p10: float, gap1: float, gap2: float, bounds: str, extra: list[float]
) -> None:
    p50, p90 = p10 + gap1, p10 + gap1 + gap2
    spec: dict[str, object] = {"dist": "metalog", "p10": p10, "p50": p50, "p90": p90}
    if bounds in ("lower", "both"):
        spec["lower"] = p10 - gap1
    if bounds in ("upper", "both"):
        spec["upper"] = p90 + gap2
    try:
        dist = parse(spec)
    except InfeasibleDistribution as err:
        assert "no valid metalog" in err.message
        return
    # Built means feasible: strictly increasing, within its bounds, and a 3-term fit to
    # 3 quantiles is exact.
    assert_monotone_in_support(dist, extra)
    np.testing.assert_allclose(
        dist.ppf(np.array([0.1, 0.5, 0.9])), [p10, p50, p90], rtol=1e-10, atol=1e-10 * gap1
    )


@given(
    p50=st.floats(min_value=0.01, max_value=0.99),
)
def test_metalog_feasibility_matches_keelin_condition(p50: float) -> None:
    # Keelin (2016): a 3-term unbounded metalog is feasible iff a2 > 0 and
    # |a3| / a2 < 1.66711 (to five digits); stay clear of the rounded edge.
    lz = math.log(9.0)
    a2, a3 = 1.0 / (2 * lz), (1.0 - 2 * p50) / (0.8 * lz)
    ratio = abs(a3) / a2
    assume(abs(ratio - 1.66711) > 1e-4)
    spec = {"dist": "metalog", "p10": 0.0, "p50": p50, "p90": 1.0}
    if ratio < 1.66711:
        parse(spec)
    else:
        with pytest.raises(InfeasibleDistribution):
            parse(spec)


# --------------------------------------------------------------------------- metalog


@pytest.mark.parametrize(
    "extra",
    [{}, {"lower": 0.0}, {"upper": 3.0}, {"lower": -0.5, "upper": 2.0}],
    ids=["unbounded", "lower", "upper", "bounded"],
)
def test_metalog_three_terms_reproduce_quantiles(extra: dict[str, float]) -> None:
    dist = parse({"dist": "metalog", "p10": 0.2, "p50": 0.6, "p90": 1.2, **extra})
    np.testing.assert_allclose(dist.ppf(np.array([0.1, 0.5, 0.9])), [0.2, 0.6, 1.2], rtol=1e-12)
    lo, hi = dist.support()
    assert lo == extra.get("lower", -math.inf)
    assert hi == extra.get("upper", math.inf)
    x = dist.ppf(dense_u(-36, 36))
    assert np.all((x >= lo) & (x <= hi))


def test_metalog_quantiles_table_exact_fit() -> None:
    q = {"0.05": -1.0, "0.25": 0.1, "0.5": 0.5, "0.75": 1.0, "0.95": 2.5}
    dist = parse({"dist": "metalog", "quantiles": q, "lower": -3})
    p = np.array([float(k) for k in q])
    np.testing.assert_allclose(dist.ppf(p), list(q.values()), rtol=1e-10, atol=1e-12)
    assert dist.to_dict()["quantiles"] == q


def test_metalog_least_squares_recovers_a_metalog() -> None:
    # Quantiles of a known 4-term metalog at 7 probabilities: a 4-term least-squares fit
    # is exact, so the fitted quantile function reproduces all seven.
    a = np.array([1.0, 0.4, 0.1, 0.3])
    p = np.array([0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98])
    lu = np.log(p / (1 - p))
    x = a[0] + a[1] * lu + a[2] * (p - 0.5) * lu + a[3] * (p - 0.5)
    quantiles = {str(float(pi)): float(xi) for pi, xi in zip(p, x, strict=True)}
    spec = {"dist": "metalog", "quantiles": quantiles, "terms": 4}
    dist = parse(spec)
    assert isinstance(dist, Metalog)
    np.testing.assert_allclose(dist.coefficients, a, rtol=1e-10)
    np.testing.assert_allclose(dist.ppf(p), x, rtol=1e-10)


def test_metalog_least_squares_matches_numpy_on_noisy_quantiles() -> None:
    p = np.array([0.05, 0.2, 0.4, 0.5, 0.6, 0.8, 0.95])
    x = np.array([0.1, 0.5, 0.8, 1.0, 1.15, 1.6, 2.4])
    lu = np.log(p / (1 - p))
    design = np.column_stack([np.ones_like(p), lu, (p - 0.5) * lu])
    fitted = design @ np.linalg.lstsq(design, x, rcond=None)[0]
    dist = parse(
        {
            "dist": "metalog",
            "quantiles": {str(float(k)): float(v) for k, v in zip(p, x, strict=True)},
            "terms": 3,
        }
    )
    np.testing.assert_allclose(dist.ppf(p), fitted, rtol=1e-12)


def test_metalog_matches_keelin_closed_form_and_mean() -> None:
    dist = parse(CASES["metalog"].spec)
    u = dense_u()
    assert scaled_error(dist.ppf(u), CASES["metalog"].ppf(u), CASES["metalog"].ppf) <= 1e-12
    # Keelin: the 3-term unbounded mean is a1 + a3 / 2.
    assert isinstance(dist, Metalog)
    a1, _, a3 = dist.coefficients
    assert dist.mean() == pytest.approx(a1 + a3 / 2, rel=1e-9)


def test_metalog_heavy_log_tail_has_infinite_mean() -> None:
    dist = parse({"dist": "metalog", "p10": 1.0, "p50": 3.0, "p90": 60.0, "lower": 0.0})
    assert isinstance(dist, Metalog)
    assert dist.tail_slopes()[1] >= 1.0
    assert dist.mean() == math.inf


def test_metalog_infeasible_raises() -> None:
    with pytest.raises(InfeasibleDistribution) as info:
        parse_distribution(
            {"dist": "metalog", "p10": 1.0, "p50": 1.1, "p90": 10.0},
            path="segments.talkie.growth",
        )
    assert info.value.path == "segments.talkie.growth"
    assert "no valid metalog" in info.value.message
    assert "bounds" in info.value.message
    assert isinstance(info.value, ScenarioError)


def test_metalog_five_terms_infeasible_raises() -> None:
    # A middle too tight for its tails: five exact terms must bend backwards near 0.5.
    q = {"0.1": 0.0, "0.3": 0.98, "0.5": 1.0, "0.7": 1.02, "0.9": 2.0}
    with pytest.raises(InfeasibleDistribution, match=r"decrease near u = 0\.5"):
        parse({"dist": "metalog", "quantiles": q})
    parse({"dist": "metalog", "quantiles": q, "terms": 3})


# --------------------------------------------------------------------------- lognormal


def test_lognormal_p50_p90_reproduces_them() -> None:
    dist = parse(LN40)
    np.testing.assert_allclose(dist.ppf(np.array([0.5, 0.9])), [40.0, 90.0], rtol=1e-13)
    assert dist.describe() == "lognormal(p50=40, p90=90)"


def test_lognormal_mean_sd_reproduces_them() -> None:
    dist = parse({"dist": "lognormal", "mean": 10.0, "sd": 4.0})
    assert dist.mean() == pytest.approx(10.0, rel=1e-13)
    assert numeric_sd(dist.ppf, 10.0) == pytest.approx(4.0, rel=1e-6)
    assert dist.to_dict() == {"dist": "lognormal", "mean": 10.0, "sd": 4.0}


def test_lognormal_mu_sigma() -> None:
    dist = parse({"dist": "lognormal", "mu": 1.0, "sigma": 0.5})
    assert dist.ppf(np.array([0.5]))[0] == pytest.approx(math.e, rel=1e-14)
    assert dist.mean() == pytest.approx(math.exp(1.125), rel=1e-14)


# --------------------------------------------------------------------------- mixtures


def test_discrete_mixture_is_the_generalised_inverse() -> None:
    dist = parse({"dist": "mixture", "weights": [0.3, 0.7], "components": [1.0, 2.0]})
    u = np.array([1e-12, 0.1, 0.3, 0.3 + 1e-12, 0.6, 1 - 1e-12])
    np.testing.assert_array_equal(dist.ppf(u), [1, 1, 1, 2, 2, 2])
    assert dist.mean() == pytest.approx(1.7)
    assert dist.support() == (1.0, 2.0)
    assert not dist.is_fixed


def test_mixture_of_one_point_mass_is_fixed() -> None:
    dist = parse({"dist": "mixture", "weights": [1.0, 0.0], "components": [5.0, LN15]})
    assert dist.is_fixed
    np.testing.assert_array_equal(dist.ppf(np.array([1e-9, 0.5, 0.999])), 5.0)


def test_mixture_with_metalog_components() -> None:
    spec = {
        "dist": "mixture",
        "weights": [0.6, 0.4],
        "components": [
            {"dist": "metalog", "p10": 0.2, "p50": 0.6, "p90": 1.2},
            {"dist": "normal", "mean": -1, "sd": 0.3},
        ],
    }
    dist = parse(spec)
    m = parse(spec["components"][0])
    comps = [
        Component(0.6, m.cdf, lambda x: 1 - m.cdf(x), m.ppf),
        scipy_component(0.4, stats.norm(-1, 0.3)),
    ]
    ref = mixture_reference(comps)
    u = dense_u(-16, 16, 1001)  # 1 - cdf is the sf here: stay where it keeps its digits
    assert scaled_error(dist.ppf(u), ref(u), ref) <= TABLE_BOUND


# --------------------------------------------------------------------------- scipy


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("gamma", {"a": 0.5}),
        ("chi2", {"df": 3.0}),
        ("invgamma", {"a": 3.0}),
        ("f", {"dfn": 3.0, "dfd": 7.0}),
        ("loggamma", {"c": 2.0}),
        ("truncnorm", {"a": -1.0, "b": 2.0}),
        ("weibull_min", {"c": 1.5}),
        ("beta", {"a": 0.05, "b": 0.05}),
    ],
)
def test_scipy_distributions_match_scipy(name: str, params: dict[str, float]) -> None:
    dist = parse({"dist": "scipy", "name": name, **params})
    frozen = getattr(stats, name)(**params)
    u = dense_u(-23, 23, 5001)
    assert scaled_error(dist.ppf(u), frozen.ppf(u), frozen.ppf) <= TABLE_BOUND
    assert np.all(np.diff(dist.ppf(u)) >= 0)
    assert dist.mean() == pytest.approx(frozen.mean())
    assert dist.support() == tuple(frozen.support())


# --------------------------------------------------------------------------- parsers


_SCALE = {"K": 1e3, "M": 1e6, "B": 1e9}


def money(value: object, path: str) -> float:
    """A tiny money parser: numbers, or strings like "20M"."""
    if isinstance(value, str) and value[-1:] in _SCALE:
        try:
            return float(value[:-1]) * _SCALE[value[-1]]
        except ValueError:
            pass
        raise ScenarioError(f"expected money such as '20M', got {value!r}", path=path)
    return plain_number(value, path)


def test_money_parser_reads_location_and_scale() -> None:
    seen: list[str] = []

    def spy(value: object, path: str) -> float:
        seen.append(path)
        return money(value, path)

    d = parse_distribution(
        {"dist": "lognormal", "p50": "20M", "p90": "40M"}, path="rev", value=spy
    )
    np.testing.assert_allclose(d.ppf(np.array([0.5, 0.9])), [2e7, 4e7], rtol=1e-13)
    assert seen == ["rev.p50", "rev.p90"]
    d = parse_distribution({"dist": "normal", "mean": "1B", "sd": "100M"}, path="x", value=money)
    assert d.mean() == 1e9
    assert parse_distribution("5M", path="x", value=money).mean() == 5e6
    d = parse_distribution(
        {"dist": "beta", "a": 2, "b": 2, "min": "1M", "max": "3M"}, path="x", value=money
    )
    assert d.support() == (1e6, 3e6)
    d = parse_distribution(
        {"dist": "scipy", "name": "gamma", "a": 2.0, "loc": "1M", "scale": "2M"},
        path="x",
        value=money,
    )
    assert d.support() == (1e6, math.inf)
    d = parse_distribution(
        {"dist": "metalog", "p10": "10M", "p50": "20M", "p90": "45M", "lower": "0K"},
        path="x",
        value=money,
    )
    np.testing.assert_allclose(d.ppf(np.array([0.5])), [2e7], rtol=1e-12)
    d = parse_distribution(
        {
            "dist": "mixture",
            "weights": [0.5, 0.5],
            "components": ["1M", {"dist": "uniform", "min": "2M", "max": "3M"}],
        },
        path="x",
        value=money,
    )
    assert d.support() == (1e6, 3e6)


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "beta", "a": "2M", "b": 2},
        {"dist": "lognormal", "mu": "1M", "sigma": 0.2},
        {"dist": "pert", "min": 0, "mode": 1, "max": 2, "lambda": "4K"},
        {"dist": "mixture", "weights": ["1K"], "components": [1]},
        {"dist": "scipy", "name": "gamma", "a": "2K"},
    ],
)
def test_shape_parameters_are_plain_numbers(spec: dict[str, object]) -> None:
    with pytest.raises(ScenarioError, match="expected a number"):
        parse_distribution(spec, path="x", value=money)


def test_plain_number() -> None:
    assert plain_number(3, "p") == 3.0
    assert plain_number(2.5, "p") == 2.5
    assert plain_number(np.float32(1.5), "p") == 1.5
    for bad in (
        True,
        False,
        "3",
        None,
        math.nan,
        math.inf,
        -math.inf,
        10**400,
        [1],
        np.bool_(True),
    ):
        with pytest.raises(ScenarioError) as info:
            plain_number(bad, "a.b")
        assert info.value.path == "a.b"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("spec", "path", "fragment"),
    [
        ({"dist": "lognorml", "p50": 1, "p90": 2}, "g.dist", "did you mean 'lognormal'?"),
        ({"dist": "normal", "mean": 1, "sdd": 1}, "g.sdd", "did you mean 'sd'?"),
        ({"dist": "normal", "mean": 1}, "g", "missing 'sd'"),
        ({"dist": "normal", "mean": 1, "sd": -1}, "g.sd", "sd must be > 0"),
        ({"dist": "normal", "mean": 1, "sd": 0}, "g.sd", "sd must be > 0"),
        ({"dist": "normal", "mean": math.nan, "sd": 1}, "g.mean", "finite"),
        ({"dist": "normal", "mean": 1, "sd": math.inf}, "g.sd", "finite"),
        ({"dist": "normal", "mean": True, "sd": 1}, "g.mean", "boolean"),
        ({"dist": "normal", "mean": "1", "sd": 1}, "g.mean", "expected a number"),
        ({"dist": "uniform", "min": 3, "max": 1}, "g", "min must be < max"),
        ({"dist": "uniform", "min": 1, "max": 1}, "g", "min must be < max"),
        ({"dist": "triangular", "min": 3, "mode": 2, "max": 1}, "g", "min must be < max"),
        ({"dist": "triangular", "min": 0, "mode": 2, "max": 1}, "g.mode", "mode must lie"),
        ({"dist": "pert", "min": 0, "mode": 1, "max": 2, "lambda": 0}, "g.lambda", "> 0"),
        ({"dist": "pert", "min": 0, "mode": 1, "max": 2, "lamda": 4}, "g.lamda", "'lambda'"),
        ({"dist": "beta", "a": 0, "b": 1}, "g.a", "a must be > 0"),
        ({"dist": "beta", "a": 1, "b": 1, "min": 2, "max": 1}, "g", "min must be < max"),
        ({"dist": "fixed"}, "g", "missing 'value'"),
        ({"dist": "fixed", "value": [1]}, "g.value", "expected a number"),
        ({"dist": "lognormal", "p50": 1}, "g", "exactly one of"),
        ({"dist": "lognormal", "p50": 1, "sd": 2}, "g", "got p50, sd"),
        ({"dist": "lognormal", "p50": 1, "p90": 2, "mu": 0}, "g", "exactly one of"),
        ({"dist": "lognormal", "p50": 2, "p90": 1}, "g", "p90 must be > p50"),
        ({"dist": "lognormal", "p50": -1, "p90": 1}, "g.p50", "> 0"),
        ({"dist": "lognormal", "mean": 1, "sd": -1}, "g.sd", "> 0"),
        ({"dist": "lognormal", "mu": 0, "sigma": 0}, "g.sigma", "> 0"),
        ({"dist": "lognormal", "p5": 1, "p90": 2}, "g.p5", "unknown key 'p5'"),
        ({"mean": 1, "sd": 1}, "g", "needs a 'dist' key"),
        ({"dist": 3}, "g.dist", "must be a name"),
        ([1, 2], "g", "got a list"),
        ("normal", "g", "inline table"),
        (True, "g", "boolean"),
        (
            {"dist": "mixture", "weights": [0.5, 0.6], "components": [1, 2]},
            "g.weights",
            "sum to 1",
        ),
        (
            {"dist": "mixture", "weights": [1.5, -0.5], "components": [1, 2]},
            "g.weights[1]",
            ">= 0",
        ),
        (
            {"dist": "mixture", "weights": [0.5, 0.5], "components": [1]},
            "g.components",
            "1 components",
        ),
        ({"dist": "mixture", "weights": [True], "components": [1]}, "g.weights[0]", "boolean"),
        ({"dist": "mixture", "weights": [], "components": []}, "g.weights", "non-empty"),
        (
            {
                "dist": "mixture",
                "weights": [0.5, 0.5],
                "components": [1, {"dist": "normal", "mean": 0, "sd": -2}],
            },
            "g.components[1].sd",
            "sd must be > 0",
        ),
        ({"dist": "scipy", "name": "gama", "a": 2}, "g.name", "did you mean 'gamma'?"),
        ({"dist": "scipy", "name": "poisson", "mu": 2}, "g.name", "discrete"),
        ({"dist": "scipy", "a": 2}, "g", "needs 'name'"),
        ({"dist": "scipy", "name": "gamma", "a": -1}, "g.a", "rejects"),
        ({"dist": "scipy", "name": "beta", "a": -1, "b": 2}, "g", "rejects"),
        ({"dist": "scipy", "name": "gamma", "a": 2, "scale": -1}, "g.scale", "scale must be > 0"),
        ({"dist": "scipy", "name": "gamma"}, "g", "missing 'a'"),
        ({"dist": "scipy", "name": "gamma", "a": 2, "df": 3}, "g.df", "unknown key 'df'"),
        ({"dist": "scipy", "name": "gamma", "a": math.nan}, "g.a", "finite"),
        ({"dist": "scipy", "name": "__import__", "a": 1}, "g.name", "unknown"),
        ({"dist": "metalog", "p10": 1, "p50": 2}, "g", "missing 'p90'"),
        ({"dist": "metalog", "p10": 2, "p50": 1, "p90": 3}, "g", "must increase"),
        ({"dist": "metalog", "p10": 1, "p50": 2, "p90": 3, "lower": 1}, "g", "strictly inside"),
        ({"dist": "metalog", "p10": 1, "p50": 2, "p90": 3, "upper": 2.5}, "g", "strictly inside"),
        (
            {"dist": "metalog", "p10": 1, "p50": 2, "p90": 3, "lower": 5, "upper": 0},
            "g",
            "lower must be < upper",
        ),
        ({"dist": "metalog", "p10": 1, "p50": 2, "p90": 3, "terms": 4}, "g.terms", "from 2 to 3"),
        ({"dist": "metalog", "p10": 1, "p50": 2, "p90": 3, "terms": True}, "g.terms", "boolean"),
        ({"dist": "metalog", "p10": 1, "p50": 2, "p90": 3, "quantiles": {}}, "g", "not both"),
        ({"dist": "metalog", "quantiles": {"0.1": 1, "0.9": 2}}, "g.quantiles", "at least 3"),
        (
            {"dist": "metalog", "quantiles": {"0.1": 1, "0.5": 2, "1.5": 3}},
            'g.quantiles."1.5"',
            "probability",
        ),
        (
            {"dist": "metalog", "quantiles": {"0.1": 1, "0.5": 2, "nan": 3}},
            'g.quantiles."nan"',
            "probability",
        ),
        (
            {"dist": "metalog", "quantiles": {"0.5": 1, "0.50": 2, "0.9": 3}},
            "g.quantiles",
            "same probability",
        ),
        ({"dist": "metalog", "quantiles": [1, 2, 3]}, "g.quantiles", "expected a table"),
        (
            {"dist": "metalog", "quantiles": {"0.1": 1, "0.5": True, "0.9": 3}},
            'g.quantiles."0.5"',
            "boolean",
        ),
    ],
)
def test_invalid_specs_are_rejected(spec: object, path: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_distribution(spec, path="g")
    assert info.value.path == path
    assert fragment in info.value.message


def test_unknown_key_names_the_full_path() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_distribution(
            {"dist": "normal", "mean": 0.5, "sdd": 0.2}, path="segments.talkie.growth"
        )
    assert info.value.path == "segments.talkie.growth.sdd"
    assert "did you mean 'sd'" in info.value.message
    assert str(info.value).startswith("segments.talkie.growth.sdd: unknown key 'sdd'")


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", list(CASES))
def test_to_dict_round_trips(name: str, dists: dict[str, Distribution]) -> None:
    dist = dists[name]
    data = dist.to_dict()
    assert data["dist"] == dist.name
    again = parse(json.loads(json.dumps(data)))
    u = dense_u(-20, 20, 201)
    np.testing.assert_allclose(again.ppf(u), dist.ppf(u), rtol=1e-12, atol=1e-300)
    assert isinstance(dist.describe(), str) and dist.describe().startswith(
        "scipy." if dist.name == "scipy" else dist.name
    )


def test_describe_examples(dists: dict[str, Distribution]) -> None:
    assert dists["fixed"].describe() == "fixed(3.5)"
    assert dists["normal"].describe() == "normal(mean=0.5, sd=0.2)"
    assert dists["pert"].describe() == "pert(min=0, mode=1, max=3, lambda=4)"
    assert dists["metalog"].describe() == "metalog(p10=0.2, p50=0.6, p90=1.2)"
    assert dists["scipy_gamma"].describe() == "scipy.gamma(a=2, scale=3)"
    assert dists["mixture"].describe() == (
        "mixture(0.7*lognormal(p50=40, p90=90), 0.3*lognormal(p50=15, p90=25))"
    )


# --------------------------------------------------------------------------- sampling


def test_fixed_is_a_point_mass(dists: dict[str, Distribution]) -> None:
    dist = dists["fixed"]
    assert dist.is_fixed
    assert not any(d.is_fixed for n, d in dists.items() if n != "fixed")
    assert dist.support() == (3.5, 3.5)
    np.testing.assert_array_equal(dist.cdf(np.array([3.4, 3.5, 3.6])), [0, 1, 1])


def test_sample_uses_only_its_generator(dists: dict[str, Distribution]) -> None:
    # The legacy global state must be untouched: sampling uses only the given generator.
    before = np.random.get_state()[1].copy()  # type: ignore[index]  # noqa: NPY002
    a = dists["beta"].sample(1000, rng=np.random.default_rng(7))
    b = dists["beta"].sample(1000, rng=np.random.default_rng(7))
    c = dists["beta"].sample(1000, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    after = np.random.get_state()[1]  # type: ignore[index]  # noqa: NPY002
    np.testing.assert_array_equal(after, before)
    assert dists["normal"].sample(0, rng=np.random.default_rng(1)).shape == (0,)
    with pytest.raises(ValueError):
        dists["normal"].sample(-1, rng=np.random.default_rng(1))


def test_distributions_are_frozen(dists: dict[str, Distribution]) -> None:
    with pytest.raises(AttributeError):
        dists["normal"].sd = 2.0  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- truncation

U_GRID = np.concatenate(
    [[1e-12, 1e-9, 1e-6], np.linspace(0.001, 0.999, 999), [1 - 1e-6, 1 - 1e-9]]
)


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        pytest.param(-1.0, None, id="lower-only"),
        pytest.param(None, 0.8, id="upper-only"),
        pytest.param(-0.2, 0.9, id="both"),
        pytest.param(1.3, None, id="far-upper-tail"),
        pytest.param(None, -0.3, id="far-lower-tail"),
        pytest.param(1.2, 1.4, id="narrow-upper-tail"),
    ],
)
def test_truncated_normal_matches_scipy_truncnorm(
    lower: float | None, upper: float | None
) -> None:
    mean, sd = 0.5, 0.2
    spec: dict[str, object] = {"dist": "normal", "mean": mean, "sd": sd}
    spec |= {k: v for k, v in (("lower", lower), ("upper", upper)) if v is not None}
    dist = parse_distribution(spec, path="g")
    a = -math.inf if lower is None else (lower - mean) / sd
    b = math.inf if upper is None else (upper - mean) / sd
    ref = stats.truncnorm(a, b, loc=mean, scale=sd)
    x = dist.ppf(U_GRID)
    expected = ref.ppf(U_GRID)
    # Relative to the truncated distribution's own spread: closed forms to rounding.
    scale = float(ref.ppf(0.99) - ref.ppf(0.01))
    assert np.max(np.abs(x - expected)) <= 1e-9 * scale
    assert np.all(np.diff(x) >= 0.0)
    lo, hi = dist.support()
    assert lo == (-math.inf if lower is None else lower)
    assert hi == (math.inf if upper is None else upper)
    assert np.all((x >= lo) & (x <= hi))
    np.testing.assert_allclose(dist.cdf(x), U_GRID, rtol=1e-9, atol=1e-12)
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-9, abs=1e-12)


def test_truncated_normal_is_vectorised_and_keeps_the_shape() -> None:
    dist = parse_distribution({"dist": "normal", "mean": 0.0, "sd": 1.0, "lower": 0.0}, path="x")
    u = np.linspace(0.01, 0.99, 12).reshape(3, 4)
    out = dist.ppf(u)
    assert out.shape == (3, 4)
    np.testing.assert_array_equal(out.ravel(), dist.ppf(u.ravel()))
    # Half a standard normal: the quantile u of the truncation is the quantile (1 + u) / 2.
    np.testing.assert_allclose(out, special.ndtri(0.5 + 0.5 * u), rtol=1e-14)


def test_truncated_lognormal_is_a_truncated_normal_of_the_log() -> None:
    mu, sigma = math.log(20.0), 0.5
    spec = {"dist": "lognormal", "mu": mu, "sigma": sigma, "lower": 10.0, "upper": 60.0}
    dist = parse_distribution(spec, path="m")
    a, b = (math.log(10.0) - mu) / sigma, (math.log(60.0) - mu) / sigma
    ref = stats.truncnorm(a, b, loc=mu, scale=sigma)
    np.testing.assert_allclose(np.log(dist.ppf(U_GRID)), ref.ppf(U_GRID), rtol=1e-10, atol=1e-12)
    assert dist.support() == (10.0, 60.0)
    expected_mean = ref.expect(np.exp)
    assert dist.mean() == pytest.approx(expected_mean, rel=1e-8)


def test_truncated_scipy_uses_the_exact_truncated_inverse() -> None:
    spec = {"dist": "scipy", "name": "gamma", "a": 2.0, "scale": 3.0, "lower": 1.0, "upper": 12.0}
    dist = parse_distribution(spec, path="x")
    ref = stats.gamma(2.0, scale=3.0)
    f_lo, f_hi = ref.cdf(1.0), ref.cdf(12.0)
    expected = ref.ppf(f_lo + U_GRID * (f_hi - f_lo))
    # The gamma's ppf is a table (TABLE_BOUND of its spread); truncation adds rounding only.
    spread = float(ref.ppf(0.99) - ref.ppf(0.01))
    assert np.max(np.abs(dist.ppf(U_GRID) - expected)) <= TABLE_BOUND * spread
    assert dist.mean() == pytest.approx(ref.expect(lb=1.0, ub=12.0, conditional=True), rel=1e-8)


def test_truncated_sample_mean_within_standard_error() -> None:
    spec = {"dist": "normal", "mean": 0.05, "sd": 0.6, "lower": -0.9}
    dist = parse_distribution(spec, path="g")
    ref = stats.truncnorm((-0.9 - 0.05) / 0.6, math.inf, loc=0.05, scale=0.6)
    n = 200_000
    draws = dist.sample(n, rng=np.random.default_rng(20250701))
    assert draws.min() >= -0.9
    assert abs(draws.mean() - ref.mean()) <= 4 * ref.std() / math.sqrt(n)


def test_truncated_round_trips_and_describes() -> None:
    spec = {"dist": "normal", "mean": 0.5, "sd": 0.2, "lower": -0.9, "upper": 3.0}
    dist = parse_distribution(spec, path="g")
    assert dist.to_dict() == spec
    assert dist.describe() == "normal(mean=0.5, sd=0.2, lower=-0.9, upper=3)"
    again = parse_distribution(dist.to_dict(), path="g")
    np.testing.assert_array_equal(again.ppf(U_GRID), dist.ppf(U_GRID))
    scipy_spec = {"dist": "scipy", "name": "norm", "loc": 1.0, "scale": 2.0, "upper": 4.0}
    assert parse_distribution(scipy_spec, path="x").describe() == (
        "scipy.norm(loc=1, scale=2, upper=4)"
    )


def test_truncation_takes_money() -> None:
    def money(value: object, path: str) -> float:
        return float(str(value).removesuffix("M")) * 1e6

    spec = {"dist": "lognormal", "p50": "20M", "p90": "40M", "upper": "30M"}
    dist = parse_distribution(spec, path="rev", value=money)
    assert dist.support() == (0.0, 30e6)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"dist": "normal", "mean": 0, "sd": 1, "lower": 1, "upper": 1}, "lower must be < upper"),
        ({"dist": "normal", "mean": 0, "sd": 1, "lower": 2, "upper": 1}, "lower must be < upper"),
        ({"dist": "normal", "mean": 0, "sd": 1, "lower": 5}, "keep only 2.87e-07"),
        ({"dist": "normal", "mean": 0, "sd": 1, "upper": -40}, "keep only 0 of"),
        ({"dist": "lognormal", "mu": 0, "sigma": 1, "upper": -1}, "keep only 0 of"),
        ({"dist": "normal", "mean": 0, "sd": 1, "lower": math.nan}, "finite number"),
        ({"dist": "normal", "mean": 0, "sd": 1, "upper": "x"}, "expected a number"),
        ({"dist": "uniform", "min": 0, "max": 1, "lower": 0.5}, "unknown key 'lower'"),
    ],
)
def test_invalid_truncations_are_rejected(spec: dict[str, object], fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_distribution(spec, path="g")
    assert fragment in info.value.message
    assert info.value.path.startswith("g")


def test_every_truncatable_distribution_takes_lower_and_upper() -> None:
    for name in DISTRIBUTIONS:
        assert (name in TRUNCATABLE) == ({"lower", "upper"} <= set(PARAMETERS[name])) or (
            name == "metalog"
        )


def test_constants_written_out_to_spare_the_scipy_import_are_scipys() -> None:
    # Reading a scenario imports no scipy (tests/test_startup.py): these are its digits.
    from scipy import special

    from sim.distributions import parse, tables

    assert float(special.ndtri(0.9)) == parse._Z90
    assert float(special.ndtri(1.0 - 2.0**-53)) == parse._Z_END
    assert float(special.expit(-tables._T_END)) == tables._U_LO
    assert float(special.expit(tables._T_END)) == tables._U_HI
