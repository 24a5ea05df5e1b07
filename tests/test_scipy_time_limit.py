"""A scipy distribution whose quantile table would take minutes is refused, naming its
key and suggesting a built-in distribution (issue 23, item 2)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import sim.distributions.scipy_dist as scipy_dist
from sim.cli import main
from sim.distributions import parse_distribution
from sim.errors import ScenarioError

GAMMA = {"dist": "scipy", "name": "gamma", "a": 2.0}


def test_a_table_over_the_time_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scipy_dist, "TABULATE_LIMIT_S", 1e-4)
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        parse_distribution(GAMMA, path="valuation.multiple")
    assert time.perf_counter() - start < 5.0  # stopped early, not after the whole table
    err = info.value
    assert err.path == "valuation.multiple"
    assert "too slow to sample" in err.message
    assert "use a built-in distribution" in err.message and "metalog" in err.message


def test_within_the_limit_the_table_is_built() -> None:
    d = parse_distribution(GAMMA, path="valuation.multiple")
    assert isinstance(d, scipy_dist.ScipyDistribution) and d.tabulated


def test_the_command_refuses_it_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(scipy_dist, "TABULATE_LIMIT_S", 1e-4)
    text = (Path(__file__).parent / "data" / "small.toml").read_text(encoding="utf-8")
    old = 'multiple = { dist = "lognormal", p50 = 20, p90 = 40 }'
    assert old in text
    path = tmp_path / "s.toml"
    path.write_text(
        text.replace(old, 'multiple = { dist = "scipy", name = "gamma", a = 20 }'),
        encoding="utf-8",
    )
    assert main(["run", str(path), "--paths", "100", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "valuation.multiple: scipy.stats.gamma(a=20) is too slow to sample" in err


def test_levy_stable_is_refused_within_seconds() -> None:
    """levy_stable took about 176 s to tabulate on a loaded machine (30 s on a quiet one)."""
    spec = {"dist": "scipy", "name": "levy_stable", "alpha": 1.5, "beta": 0.5}
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match="too slow to sample"):
        parse_distribution(spec, path="valuation.multiple")
    assert time.perf_counter() - start < scipy_dist.TABULATE_LIMIT_S + 5
