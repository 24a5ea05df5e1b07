"""Non-finite numbers (issue 7, defect 4): a run stops with one line naming the input or
the model's stage, never reporting a NaN as a number or a probability over NaNs."""

from __future__ import annotations

import dataclasses
import math
import pickle
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from sim.cli import main
from sim.distributions import InfeasibleDistribution, Triangular, parse_distribution
from sim.errors import ScenarioError
from sim.model.core import PathValues, evaluate, inputs
from sim.run.checks import check_draws, check_values
from sim.run.engine import simulate
from sim.run.sampling import BLOCK_SIZE, Copula, block_draws
from sim.scenario import Scenario
from tests.builders import scenario

SCENARIO = """\
[scenario]
name = "huge"
base_year = 2024
horizon = 2

[[segments]]
name = "talkie"
revenue = {revenue}
growth = 0.5
regions = {{ US = 1.0 }}

[valuation]
year = 2026
multiple = {multiple}

[[targets]]
label = "2.56 bn"
value = "2.56bn"
"""

TRIANGULAR = '{ dist = "triangular", min = 0, mode = 1e308, max = 1.7e308 }'


def _run_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *, revenue: str, multiple: str
) -> str:
    """Run the CLI on the scenario; assert exit 2, nothing written; return the error line."""
    path = tmp_path / "huge.toml"
    path.write_text(SCENARIO.format(revenue=revenue, multiple=multiple), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", str(path), "--paths", "3000", "--format", "json", "--out", str(out)]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ipo-sim: error: "), err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
    return err


@pytest.mark.parametrize("revenue", ["1e308", TRIANGULAR])
def test_revenue_that_overflows_names_the_segment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], revenue: str
) -> None:
    """revenue = 1e308 reported "mean USD inf; p5 USD nan" (or crashed in matplotlib)."""
    err = _run_cli(tmp_path, capsys, revenue=revenue, multiple="10")
    assert re.search(r"segments\.talkie: the model's revenue in 202[56] overflowed", err)
    assert "segments.talkie.revenue = " in err


def test_multiple_that_overflows_names_the_equity_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A multiple up to 1.7e308 made every equity value inf or NaN."""
    err = _run_cli(tmp_path, capsys, revenue='"100M"', multiple=TRIANGULAR)
    assert "valuation: the model's equity value overflowed" in err
    assert "valuation.multiple = " in err


def test_mixture_with_an_enormous_component_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """fixed 5 + triangular to 1.7e308 reported P(>= 2.56 bn) = 0.00%: over NaN paths."""
    mixture = f'{{ dist = "mixture", weights = [0.5, 0.5], components = [5, {TRIANGULAR}] }}'
    err = _run_cli(tmp_path, capsys, revenue='"100M"', multiple=mixture)
    assert "valuation.multiple: " in err
    assert "double precision" in err


def test_mixture_too_large_for_the_statistics_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finite, but squares beyond a double: the variance would be inf, the sd reported."""
    big = '{ dist = "triangular", min = 0, mode = 1e200, max = 1.7e200 }'
    mixture = f'{{ dist = "mixture", weights = [0.5, 0.5], components = [5, {big}] }}'
    err = _run_cli(tmp_path, capsys, revenue='"100M"', multiple=mixture)
    assert "valuation: the model's equity value reached " in err
    assert "too large for its statistics" in err


def test_scipy_pareto_with_a_tiny_shape_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """scipy pareto(b = 0.01) reaches inf at u = 0.9992: it crashed with a traceback."""
    pareto = '{ dist = "scipy", name = "pareto", b = 0.01 }'
    err = _run_cli(tmp_path, capsys, revenue='"100M"', multiple=pareto)
    assert "valuation.multiple: scipy.pareto(b=0.01) cannot be drawn in double precision" in err


# --------------------------------------------------------------------------- load time


def test_load_refuses_a_quantile_function_infinite_where_draws_land() -> None:
    spec = {"dist": "scipy", "name": "pareto", "b": 0.01}
    with pytest.raises(InfeasibleDistribution) as info:
        parse_distribution(spec, path="valuation.multiple")
    assert info.value.path == "valuation.multiple"
    assert "largest draw" in info.value.message
    # A less extreme shape is fine: its largest draw (about 3.5e159) is finite.
    parse_distribution({**spec, "b": 0.1}, path="valuation.multiple")


def test_triangular_with_a_range_beyond_1e154_is_exact_and_quiet() -> None:
    """width * (mode - min) overflowed: the ppf drew inf and the cdf warned of overflow."""
    tri = Triangular(0.0, 1.0, 1e307)
    u = np.array([1e-310, 2.0**-53, 0.25, 0.5, 1.0 - 2.0**-53])
    x = tri.ppf(u)
    assert np.isfinite(x).all() and (np.diff(x) > 0).all() and x[-1] < 1e307
    # Closed form away from the mode: x = hi - sqrt((1 - u) * hi * (hi - 1)).
    assert x[3] == pytest.approx(1e307 - math.sqrt(0.5) * 1e307, rel=1e-12)
    np.testing.assert_allclose(tri.cdf(x[2:4]), u[2:4], rtol=1e-12)
    np.testing.assert_allclose(tri.sf(x[2:4]), 1.0 - u[2:4], rtol=1e-12)


# --------------------------------------------------------------------------- the engine


def _block(s: Scenario, n: int = 1000) -> tuple[dict[str, npt.NDArray[np.float64]], PathValues]:
    draws = block_draws(
        inputs(s),
        s.scalar_inputs(),
        seed=7,
        block=0,
        n=n,
        sampler="random",
        copula=Copula.from_correlations(s.correlations),
    )
    with np.errstate(over="ignore"):  # as in the engine: the checks deal with overflow
        return draws, evaluate(s, draws)


def test_check_draws_names_the_input_and_the_path() -> None:
    s = scenario(valuation={"year": 2026, "multiple": {"dist": "uniform", "min": 5, "max": 9}})
    draws, _ = _block(s)
    check_draws(s, inputs(s), draws, block=2)  # finite: passes
    draws["valuation.multiple"] = draws["valuation.multiple"].copy()
    draws["valuation.multiple"][[17, 40]] = [np.nan, np.inf]
    with pytest.raises(ScenarioError) as info:
        check_draws(s, inputs(s), draws, block=2)
    assert info.value.path == "valuation.multiple"
    assert f"2 of the 1,000 draws in block 2 are not finite (path {2 * BLOCK_SIZE + 17:,}" in (
        info.value.message
    )


def test_check_draws_lets_finite_values_whose_sum_overflows_through() -> None:
    s = scenario(
        segments=[
            {
                "name": "a",
                "revenue": {"dist": "uniform", "min": 1e307, "max": 1.7e308},
                "growth": 0.0,
                "regions": {"X": 1.0},
            }
        ]
    )
    draws, _ = _block(s)
    with np.errstate(over="ignore"):  # the fast path's sum overflows
        assert math.isinf(draws["segments.a.revenue"].sum())
    check_draws(s, inputs(s), draws, block=0)


def test_check_values_names_the_first_stage_that_failed() -> None:
    s = scenario()
    draws, values = _block(s)
    check_values(s, values, draws, block=0)  # finite: passes
    equity = values.equity.copy()
    equity[5] = np.nan
    poisoned = dataclasses.replace(values, equity=equity)
    with pytest.raises(ScenarioError) as info:
        check_values(s, poisoned, draws, block=1)
    assert info.value.path == "valuation"
    assert "equity value became NaN" in info.value.message
    assert f"on 1 of 1,000 paths of block 1 (path {BLOCK_SIZE + 5:,}" in info.value.message
    # A segment's revenue comes before the equity value in the model: it is named first.
    segment = values.segment_revenue.copy()
    segment[5, 0, 2] = np.inf
    revenue = values.revenue.copy()
    revenue[5, 2] = np.inf
    poisoned = dataclasses.replace(poisoned, segment_revenue=segment, revenue=revenue)
    with pytest.raises(ScenarioError) as info:
        check_values(s, poisoned, draws, block=1)
    assert info.value.path == "segments.a"
    assert "revenue in 2026 overflowed" in info.value.message


def test_check_values_bounds_the_squares_not_the_values() -> None:
    """1e150 on every path still has a finite sum of squares; 1e160 has not."""
    s = scenario()
    draws, values = _block(s, n=BLOCK_SIZE)
    check_values(s, dataclasses.replace(values, equity=np.full(BLOCK_SIZE, 1e150)), draws, block=0)
    equity = values.equity.copy()
    equity[9] = 1e160
    with pytest.raises(ScenarioError, match=r"reached 1e\+160, too large for its statistics"):
        check_values(s, dataclasses.replace(values, equity=equity), draws, block=0)


def test_simulate_stops_before_any_statistic_and_the_error_survives_a_worker() -> None:
    multiple = {"dist": "triangular", "min": 0.0, "mode": 1e308, "max": 1.7e308}
    s = scenario(valuation={"year": 2026, "multiple": multiple})
    with pytest.raises(ScenarioError) as info:
        simulate(s, 2 * BLOCK_SIZE, seed=1)
    assert info.value.path == "valuation"
    # Errors from a worker process come back pickled: the key path must survive.
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.path, str(copy)) == (info.value.path, str(info.value))


def test_check_values_names_the_value_beside_the_primary() -> None:
    """Under method both a DCF that overflows is named even when the multiple is fine."""
    s = scenario(
        valuation={
            "method": "both",
            "year": 2026,
            "multiple": 10.0,
            "operating_margin": 0.2,
            "target_margin": 0.2,
            "margin_year": 2026,
            "tax_rate": 0.2,
            "sales_to_capital": 1.5,
            "wacc": 0.1,
            "terminal_growth": 0.02,
        }
    )
    draws, values = _block(s)
    check_values(s, values, draws, block=0)  # finite: passes
    assert values.equity_dcf is not None
    dcf = values.equity_dcf.copy()
    dcf[3] = np.inf
    with pytest.raises(ScenarioError, match="DCF equity value overflowed") as info:
        check_values(s, dataclasses.replace(values, equity_dcf=dcf), draws, block=0)
    assert info.value.path == "valuation"
