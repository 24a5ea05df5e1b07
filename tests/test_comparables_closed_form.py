"""The comparables' posterior predictive in closed form (issue 20).

A synthetic peer table with known coefficients; a company whose revenue and growth are
fixed, so its regressors x0 are known. Each path's EV / revenue is then exp(T) with T a
Student t with n - p degrees of freedom, location x0'b and scale s sqrt(1 + x0'(X'X)^-1 x0)
(b, s from least squares, computed here by numpy, independently of the package), and
P(EV >= k x revenue) is that t's survival function at log k: checked within 4 standard
errors of a proportion.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.errors import ScenarioError
from sim.run.engine import simulate
from sim.scenario import load_scenario

N_PEERS = 14
GROWTH, MARGIN = 0.5, 0.6  # the company's regressors: fixed growth into the year, margin
REVENUE = 100e6
PATHS = 200_000


def _table(path: Path, *, seed: int = 2026, rows: int = N_PEERS, bad: str = "") -> Path:
    rng = np.random.default_rng(seed)
    g = rng.uniform(0.0, 1.2, rows)
    m = rng.uniform(0.2, 0.85, rows)
    y = 0.8 + 2.0 * g + 1.5 * m + rng.normal(0.0, 0.5, rows)  # known coefficients
    rev = rng.uniform(2e8, 5e9, rows)
    lines = ["name,as_of,ev,revenue_ntm,growth_ntm,gross_margin,venue,source"]
    for i in range(rows):
        ev = rev[i] * math.exp(y[i])
        cells = (float(ev), float(rev[i]), float(g[i]), float(m[i]))
        row = ",".join(map(repr, cells))
        lines.append(f"peer{i},2025-12-0{1 + i % 9},{row},X,synthetic")
    if bad == "negative_ev":
        lines[1] = lines[1].replace(lines[1].split(",")[2], "-5", 1)
    if bad == "late":
        lines[1] = lines[1].replace(lines[1].split(",")[1], "2026-02-01", 1)
    if bad == "basic_date":  # ISO's basic form, which date.fromisoformat would take
        lines[1] = lines[1].replace(lines[1].split(",")[1], "20251201", 1)
    table = path / "peers.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def _scenario(path: Path, extra: str = "") -> Path:
    toml = f"""
[scenario]
name = "comps-closed-form"
base_year = 2025
horizon = 1
as_of = "2025-12-31"
listing_date = "2026-01-09"

[[segments]]
name = "only"
revenue = {REVENUE!r}
growth = {GROWTH!r}
volatility = 0.0
regions = {{ US = 1.0 }}

[valuation]
method = "ev_to_sales"
year = 2026
gross_margin = {MARGIN!r}
net_cash = 0
{extra}

[comparables]
file = "peers.csv"
regressors = ["growth", "gross_margin"]

[[targets]]
label = "k"
value = "1bn"
"""
    file = path / "s.toml"
    file.write_text(toml, encoding="utf-8")
    return file


def _predictive(table: Path) -> tuple[float, float, int]:
    data = np.genfromtxt(table, delimiter=",", names=True, dtype=None, encoding="utf-8")
    y = np.log(data["ev"] / data["revenue_ntm"])
    x = np.column_stack([np.ones(len(y)), data["growth_ntm"], data["gross_margin"]])
    b, rss, *_ = np.linalg.lstsq(x, y, rcond=None)
    df = len(y) - x.shape[1]
    s = math.sqrt(float(rss[0]) / df)
    x0 = np.array([1.0, GROWTH, MARGIN])
    scale = s * math.sqrt(1.0 + x0 @ np.linalg.inv(x.T @ x) @ x0)
    return float(x0 @ b), scale, df


def test_p_ev_at_least_k_revenue_is_the_t_survival(tmp_path: Path) -> None:
    table = _table(tmp_path)
    loc, scale, df = _predictive(table)
    result = simulate(load_scenario(_scenario(tmp_path)), PATHS, seed=151, keep=PATHS)
    multiple = result.kept.values.multiple
    assert multiple is not None
    revenue = REVENUE * (1 + GROWTH)
    ev = result.kept.values.equity  # net cash 0, no offering: equity = EV
    np.testing.assert_allclose(ev, revenue * multiple, rtol=1e-12)
    for k in (5.0, 20.0, 60.0, 200.0):
        expected = float(stats.t.sf((math.log(k) - loc) / scale, df))
        got = float(np.mean(ev >= k * revenue))
        se = math.sqrt(max(expected * (1 - expected), 1e-12) / PATHS)
        assert abs(got - expected) <= 4 * se + 1e-12, (k, got, expected)
    # The location is the median: half the paths on either side of exp(x0'b).
    assert float(np.mean(multiple <= math.exp(loc))) == pytest.approx(
        0.5, abs=4 * 0.5 / PATHS**0.5
    )


@pytest.mark.parametrize(
    ("bad", "extra", "rows", "needle"),
    [
        ("negative_ev", "", N_PEERS, "ev"),
        ("late", "", N_PEERS, "listing_date"),
        ("basic_date", "", N_PEERS, "expected a date YYYY-MM-DD, got '20251201'"),
        ("", "", 5, "rows"),
        ("", "multiple = 10", N_PEERS, "multiple"),
        ("", "growth_elasticity = 0.5", N_PEERS, "growth_elasticity"),
    ],
)
def test_a_bad_table_or_key_is_refused(
    tmp_path: Path, bad: str, extra: str, rows: int, needle: str
) -> None:
    _table(tmp_path, rows=rows, bad=bad)
    with pytest.raises(ScenarioError, match=needle):
        load_scenario(_scenario(tmp_path, extra))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda lines: [*lines, lines[1]], "duplicate peer name in peers.csv 'peer0'"),
        (
            lambda lines: [lines[0] + ",venue", *(line + ",Y" for line in lines[1:])],
            "duplicate column of peers.csv 'venue'",
        ),
    ],
    ids=["peer", "column"],
)
def test_a_name_given_twice_is_refused_at_the_file(
    tmp_path: Path, edit: Callable[[list[str]], list[str]], message: str
) -> None:
    # Peers and columns are not keys of the scenario: the error names comparables.file.
    table = _table(tmp_path)
    lines = table.read_text(encoding="utf-8").splitlines()
    table.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(tmp_path))
    assert message in str(err.value)
    assert err.value.path == "comparables.file"
