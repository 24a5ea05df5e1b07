"""A normal run prints nothing on stderr with --quiet: no matplotlib warning or log line,
no NumPy RuntimeWarning, whatever the labels hold (issue 23, item 13). Run as a real
process with every warning shown (PYTHONWARNINGS=always), report pages and all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "small.toml"


def _constant_with_odd_glyphs(tmp_path: Path) -> Path:
    """Every input fixed (a value without spread: degenerate histograms and axes), labels
    with glyphs no report font has (an emoji, Hangul) and a control character."""
    text = SMALL.read_text(encoding="utf-8")
    for old, new in [
        (
            'growth = { dist = "metalog", p10 = 0.2, p50 = 0.5, p90 = 0.85, lower = -1 }',
            "growth = 0.5",
        ),
        ('growth = { dist = "lognormal", p50 = 1.6, p90 = 2.2 }', "growth = 1.6"),
        ('multiple = { dist = "lognormal", p50 = 20, p90 = 40 }', "multiple = 20"),
        ('label = "article: 25亿 USD"', 'label = "25亿 😀 한국 ≥ \\u0007"'),
        (
            '[[correlations]]\nbetween = ["segments.talkie.growth", '
            '"segments.open_platform.growth"]\nspearman = 0.5\n',
            "",
        ),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "odd.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("which", ["baseline", "constant"])
def test_a_normal_run_with_its_report_is_silent(tmp_path: Path, which: str) -> None:
    scenario = ROOT / "scenarios" / "baseline.toml"
    if which == "constant":
        scenario = _constant_with_odd_glyphs(tmp_path)
    out = ["--out", str(tmp_path / "out")]
    env = {**os.environ, "PYTHONWARNINGS": "always", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(scenario), "--paths", "3000", "--quiet", *out],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stderr == "", proc.stderr
    assert any((tmp_path / "out").rglob("report.pdf"))
