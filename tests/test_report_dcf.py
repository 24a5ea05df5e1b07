"""The DCF's report pages: present only with a DCF, drawn from the DCF's own parts."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.text import Text

from sim import format as fmt
from sim.analysis.summary import Summary, summarise
from sim.report.dcf import _fig_dcf, _fig_methods
from sim.report.layout import _Ctx
from sim.report.style import choose_fonts
from sim.report.write import _pages, render
from sim.run.engine import Result, simulate
from sim.scenario import build_scenario, load_scenario
from tests.builders import scenario

DATA = Path(__file__).parent / "data"


def _both_raw(primary: str = "multiple") -> dict[str, Any]:
    raw: dict[str, Any] = tomllib.loads((DATA / "dcf_small.toml").read_text("utf-8"))
    raw["valuation"] |= {
        "method": "both",
        "primary": primary,
        "multiple": {"dist": "lognormal", "p50": 20, "p90": 40},
    }
    return raw


def _run(raw: dict[str, Any] | None = None, n: int = 4000) -> tuple[Result, Summary]:
    sc = (
        load_scenario(DATA / "dcf_small.toml")
        if raw is None
        else build_scenario(raw, source=None, own_name="dcf_small")
    )
    result = simulate(sc, n, seed=5)
    return result, summarise(result)


def _ctx(result: Result, summary: Summary) -> _Ctx:
    colours = ("#440154",) * max(len(summary.targets), 1)
    return _Ctx(
        result.scenario, result.kept, summary, choose_fonts(cjk=False), "#0072B2", colours, "usd"
    )


def _texts(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text)]


def test_the_pages_appear_only_with_a_dcf() -> None:
    names = [p.name for p in _pages(scenario())]
    assert "dcf.png" not in names and "methods.png" not in names
    dcf = [p.name for p in _pages(load_scenario(DATA / "dcf_small.toml"))]
    assert "dcf.png" in dcf and "methods.png" not in dcf
    both = build_scenario(_both_raw(), source=None, own_name="t")
    names = [p.name for p in _pages(both)]
    assert names.index("exceedance.png") < names.index("dcf.png") < names.index("methods.png")


@pytest.mark.parametrize("method", ["dcf", "both"])
def test_the_parts_add_up_to_the_dcf_of_each_kept_path(method: str) -> None:
    result, _ = _run(None if method == "dcf" else _both_raw("dcf"))
    assert result.kept.dcf is not None
    parts = result.kept.dcf.parts
    values = result.kept.values
    # Under dcf (and both with primary dcf) the multiple is the DCF's EV / revenue.
    assert np.allclose(parts.ev, values.multiple * values.revenue[:, 2], rtol=1e-12)
    going = parts.explicit + parts.terminal
    assert np.array_equal(parts.ev[~parts.failed], going[~parts.failed])
    fails = going[parts.failed]  # d x a positive going concern; a negative one stays
    assert np.allclose(parts.ev[parts.failed], np.where(fails > 0, 0.3 * fails, fails))
    assert np.all(parts.ev <= going)  # the bridge's failure step never adds value
    assert 0.1 < parts.failed.mean() < 0.3  # failure_probability 0.2
    # The margin path: the base year's margin, the target from margin_year (2029) on.
    assert np.allclose(parts.margin[0], -1.5)
    target = result.kept.inputs["valuation.target_margin"]
    assert np.allclose(parts.margin[5:], target)  # rows 2029, 2030
    assert simulate(scenario(), 100, seed=5).kept.dcf is None  # no DCF, no parts


def test_the_dcf_page_states_its_bridge_in_means() -> None:
    result, summary = _run()
    assert result.kept.dcf is not None
    parts = result.kept.dcf.parts
    fig = _fig_dcf(_ctx(result, summary))
    texts = _texts(fig)
    assert any("means over the kept paths" in t for t in texts)
    assert fmt.money(float(parts.explicit.mean()), short=True) in texts
    assert fmt.money(float(parts.terminal.mean()), short=True) in texts
    assert any("operating margin by year" in t for t in texts)
    assert any("terminal value's share" in t for t in texts)
    # The failure rule is stated; the failure step is the (non-positive) mean change.
    assert any("Failure never adds value" in t and "limited liability" in t for t in texts)
    assert fmt.money(float((parts.ev - parts.going_concern).mean()), short=True) in texts


def test_the_methods_page_sets_the_two_side_by_side(tmp_path: Path) -> None:
    result, summary = _run(_both_raw())
    values = result.kept.values
    assert values.equity_dcf is not None and values.equity_multiple is not None
    texts = _texts(_fig_methods(_ctx(result, summary)))
    assert any(t.startswith("EV/sales multiple (median") and "primary" in t for t in texts)
    ratio = float(np.median(values.equity_dcf / values.equity_multiple))
    assert any(f"median ×{fmt.number(ratio, 2)}" in t for t in texts)
    written = render(result, summary, tmp_path, formats=["png"], fonts=choose_fonts(cjk=False))
    assert {"dcf.png", "methods.png"} <= {p.name for p in written}
