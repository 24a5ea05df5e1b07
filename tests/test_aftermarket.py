"""The market after listing (DESIGN 3.5): closed forms, brute force of daily closes,
identities per path, targets and metrics at day1/end/peak."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from sim import simulate, summarise
from sim.distributions import parse_distribution, plain_number
from sim.model.aftermarket import TRADING_DAYS, segment_peak, walk, walk_dims
from sim.scenario import Aftermarket
from tests.builders import scenario

SHARES = 1_000
# builders' scenario: revenue 100 x 1.5^2 = 225 in 2026, x a multiple of 10 = 2250.
FAIR = 2250.0


def _market(aftermarket: dict[str, Any], **extra: Any) -> Any:
    return scenario(
        offering={"shares_outstanding": SHARES, "price_range": [1.0, 3.0]},
        aftermarket=aftermarket,
        **extra,
    )


def _am(days: int, lockup_day: int | None = None, drop: float = 0.0) -> Aftermarket:
    def fixed(x: float) -> Any:
        return parse_distribution(x, path="t", value=plain_number)

    return Aftermarket(
        fixed(1.0),
        fixed(0.0),
        fixed(0.0),
        fixed(0.0),
        days,
        lockup_day,
        fixed(drop) if lockup_day else None,
    )


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1.0 / n) / n)


def test_end_value_is_the_lognormal_tail() -> None:
    """Fixed fair value, day 1 at it (adjustment 1, no noise): log end value = log fair +
    mu T + sigma sqrt(T) Z, with the lock-up's fixed drop on top."""
    sigma, mu, days, drop = 0.7, 0.2, 126, 0.1
    sc = _market(
        {
            "adjustment": 1.0,
            "day1_noise": 0.0,
            "volatility": sigma,
            "drift": mu,
            "days": days,
            "lockup_day": 100,
            "lockup_drop": drop,
        },
        targets=[{"label": f"end {b}", "value": b, "at": "end"} for b in (1500.0, 2250.0, 4000.0)],
    )
    n = 100_000
    result = simulate(sc, n, seed=11)
    summary = summarise(result)
    t = days / TRADING_DAYS
    for target in summary.targets:
        b = target.value_usd
        exact = norm.sf((math.log(b / FAIR) - mu * t - math.log1p(-drop)) / (sigma * math.sqrt(t)))
        assert abs(target.p_at_least - exact) < 4 * _se(exact, n), (b, target.p_at_least, exact)


def _brute_peak(
    rng: np.random.Generator, n: int, days: int, scale: float, lock: int | None, drop: float
) -> np.ndarray:
    """Every daily close: a cumulative sum of ``days`` normals a path (in chunks)."""
    out = np.empty(n)
    chunk = 20_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        x = np.cumsum(scale * rng.standard_normal((days, m)), axis=0)
        if lock is not None:
            x[lock - 1 :] += math.log1p(-drop)
        out[start : start + m] = np.maximum(0.0, x.max(axis=0))
    return out


@pytest.mark.parametrize(("lock", "drop"), [(None, 0.0), (60, 0.15)])
def test_peak_matches_brute_force_daily_closes(lock: int | None, drop: float) -> None:
    """P(peak >= h) of the bridge draw against a walk of every daily close, 4 SE."""
    sigma, days, n = 0.9, 126, 200_000
    scale = sigma / math.sqrt(TRADING_DAYS)
    am = _am(days, lock, drop)
    rng = np.random.default_rng(20260101)
    brute = _brute_peak(rng, n, days, scale, lock, drop)
    u = rng.random((walk_dims(am), n))
    zero = np.zeros(n)
    w = walk(am, zero, np.full(n, sigma), zero, np.full(n, drop), u)
    for h in (0.05, 0.2, 0.4, 0.7, 1.0):
        p_brute, p_bridge = (brute >= h).mean(), (w.peak >= h).mean()
        se = math.hypot(_se(p_brute, n), _se(p_bridge, n))
        assert abs(p_bridge - p_brute) < 4 * se, (h, p_bridge, p_brute)


def test_continuous_peak_is_the_reflection_principle() -> None:
    """Without the continuity correction the draw is the continuous walk's maximum:
    P(max >= h) = 2 P(W_T >= h) for a driftless walk (reflection principle)."""
    sigma, days, n = 0.9, 126, 200_000
    scale = sigma / math.sqrt(TRADING_DAYS)
    rng = np.random.default_rng(5)
    end = math.sqrt(days) * scale * rng.standard_normal(n)
    peak = segment_peak(np.zeros(n), end, np.full(n, scale), days, rng.random(n), beta=0.0)
    for h in (0.1, 0.3, 0.6, 1.0):
        exact = 2 * norm.sf(h / (sigma * math.sqrt(days / TRADING_DAYS)))
        assert abs((peak >= h).mean() - exact) < 4 * _se(exact, n), h


def test_first_day_return_and_day1_identities_on_every_path() -> None:
    sc = _market(
        {
            "adjustment": 1.0,
            "day1_noise": {"dist": "normal", "mean": 0.2, "sd": 0.4},
            "volatility": {"dist": "uniform", "min": 0.4, "max": 1.0},
            "days": 126,
            "lockup_day": 120,
            "lockup_drop": {"dist": "uniform", "min": 0.0, "max": 0.2},
        },
        valuation={"year": 2026, "multiple": {"dist": "lognormal", "p50": 10, "p90": 20}},
    )
    result = simulate(sc, 5_000, seed=3)
    v = result.kept.values
    assert v.first_day_return is not None and v.market_value_offer is not None
    assert v.market_value_day1 is not None and v.market_value_peak is not None
    assert v.market_value_end is not None
    np.testing.assert_allclose(
        v.first_day_return, v.market_value_day1 / v.market_value_offer - 1, rtol=1e-12
    )
    noise = result.kept.inputs["aftermarket.day1_noise"]
    np.testing.assert_allclose(v.market_value_day1, v.equity * np.exp(noise), rtol=1e-12)
    assert np.all(v.market_value_peak >= np.maximum(v.market_value_day1, v.market_value_end))


def test_targets_and_expectations_at_each_point_in_time() -> None:
    sc = _market(
        {"adjustment": 1.0, "day1_noise": 0.3, "volatility": 0.8, "days": 126},
        targets=[
            {"label": "fair", "value": 3000.0},
            {"label": "peak", "value": 3000.0, "at": "peak"},
        ],
        expect=[
            {
                "metric": "market_value.peak",
                "stat": "p_at_least",
                "threshold": 3000.0,
                "at_least": 0.5,
            },
            {"metric": "first_day_return", "stat": "quantile", "q": 0.5, "at_least": 0.0},
        ],
    )
    summary = summarise(simulate(sc, 20_000, seed=9))
    fair, peak = summary.targets
    assert fair.p_at_least == 0.0  # the fair value is fixed at 2250
    # exp(0.3) x 2250 = 3037 on day 1: the peak is at least that on every path.
    assert peak.p_at_least == 1.0
    assert [o.status for o in summary.expectations] == ["passed", "passed"]
    data = summary.to_dict()
    assert set(data["market_value"]) == {"fair", "offer", "day1", "end", "peak"}
    assert data["first_day_return"]["p_at_least_offer"] == 1.0
    rows = {r["label"]: r["p_at_least"] for r in data["aftermarket"]["targets"]}
    assert rows["peak"]["peak"] == 1.0 and rows["fair"]["fair"] == 0.0
    assert rows["fair"]["day1"] == 1.0


def test_fan_quantiles_are_the_mixture_of_normals() -> None:
    """With a fixed day-1 value the fan at day k is the lognormal's quantiles."""
    sigma, days = 0.6, 126
    sc = _market({"adjustment": 1.0, "day1_noise": 0.0, "volatility": sigma, "days": days})
    summary = summarise(simulate(sc, 2_000, seed=1))
    am = summary.aftermarket
    assert am is not None
    for i, k in enumerate(am.fan_days):
        for j, q in enumerate(am.fan_levels):
            exact = FAIR * math.exp(sigma * math.sqrt(k / TRADING_DAYS) * norm.ppf(q))
            assert am.fan_values[i][j] == pytest.approx(exact, rel=1e-9)


def test_fan_puts_paths_that_trade_at_zero_at_zero() -> None:
    """A path with fair value <= 0 trades at 0 (sim.model); the fan is then a point mass
    at 0 of the zero paths' weight, and the other paths' mixture above it."""
    from sim.model.aftermarket import fan

    am = _am(126)
    day1 = np.array([0.0, 0.0, 0.0, 0.0, 1e9, 2e9, 3e9, 4e9])  # 50% at zero
    vol, drift, drop = np.full(8, 0.8), np.zeros(8), np.zeros(8)
    levels = (0.05, 0.25, 0.5, 0.75, 0.95)
    out = fan(am, day1, vol, drift, drop, (0, 60), levels)
    assert np.all(out[:, :3] == 0.0)  # levels 0.05..0.5 lie in the zero mass
    listed = fan(am, day1[4:], vol[4:], drift[4:], drop[4:], (0, 60), (0.5, 0.9))
    np.testing.assert_allclose(out[:, 3:], listed, rtol=1e-12)  # (0.75-0.5)/0.5, ...
    assert np.all(np.isfinite(out))
