"""The package's layers, each importing only those below it, checked in fresh interpreters.

From the bottom: :mod:`sim.errors`; :mod:`sim.metric_names` (a leaf: the metrics' names
and units); :mod:`sim.distributions`; :mod:`sim.valuation` (the methods a scenario's
``[valuation]`` is made of); :mod:`sim.scenario` (the parser). The parser checks an
``[[expect]]`` metric's name and unit against :mod:`sim.metric_names`, so it imports none
of :mod:`sim.metrics`' readers, nor the engine, the summary or the report they serve.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sim import metric_names, metrics

ROOT = Path(__file__).resolve().parents[1]

ABOVE_THE_PARSER = (
    "sim.metrics",
    "sim.engine",
    "sim.model",
    "sim.offering",
    "sim.aftermarket",
    "sim.report",
    "sim.summary",
    "sim.stats",
    "sim.sampling",
    "sim.workers",
    "sim.run_folder",
    "sim.cli",
    "matplotlib",
    "scipy",
)

# What the parser stands on (besides sim/__init__.py): a module named here, or inside a
# package named here.
BELOW_THE_PARSER = (
    "sim._version",
    "sim.errors",
    "sim.format",
    "sim.money",
    "sim.metric_names",
    "sim.distributions",
    "sim.valuation",
)

# Imports argv[1] and prints the modules then loaded, and where sim came from (the
# interpreter runs in ROOT, so this checkout's sim is found before an installed one).
_LOADED = """\
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps({"sim": sys.modules["sim"].__file__, "modules": sorted(sys.modules)}))
"""


def _python(code: str, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _loaded(module: str) -> set[str]:
    """The modules a fresh interpreter holds after importing ``module``."""
    out = _python(_LOADED, module)
    assert Path(out["sim"]).resolve() == ROOT / "sim" / "__init__.py"
    return set(out["modules"])


def _sim(modules: set[str]) -> set[str]:
    return {m for m in modules if m == "sim" or m.startswith("sim.")}


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_importing_the_scenario_parser_imports_nothing_above_it() -> None:
    loaded = _loaded("sim.scenario")
    assert "sim.scenario.parse" in loaded  # the probe saw the parser itself
    for name in ("sim.metrics", "sim.engine", "sim.report"):
        assert name not in loaded
    assert sorted(m for m in loaded if _within(m, ABOVE_THE_PARSER)) == []
    beside = ("sim.scenario", *BELOW_THE_PARSER)
    assert sorted(m for m in _sim(loaded) - {"sim"} if not _within(m, beside)) == []


def test_metric_names_is_a_leaf() -> None:
    loaded = _loaded("sim.metric_names")
    # sim/__init__.py itself loads the version and the errors, and nothing else.
    assert _sim(loaded) == {"sim", "sim._version", "sim.errors", "sim.metric_names"}
    assert "numpy" not in loaded


def test_valuation_methods_sit_below_the_parser() -> None:
    loaded = _sim(_loaded("sim.valuation"))
    assert "sim.valuation.dcf" in loaded
    below = ("sim._version", "sim.errors", "sim.distributions", "sim.valuation")
    assert sorted(m for m in loaded - {"sim"} if not _within(m, below)) == []


def test_the_registry_reads_the_names_it_is_given() -> None:
    # Each metric is its name's entry with readers: the same patterns, in the same order,
    # with the same units, blanks and messages, so the parser and the engine agree.
    assert [m.pattern for m in metrics.METRICS] == [n.pattern for n in metric_names.NAMES]
    for metric, name in zip(metrics.METRICS, metric_names.NAMES, strict=True):
        assert isinstance(metric, metric_names.MetricName)
        assert (metric.unit, metric.fills, metric.missing, metric.expect) == (
            name.unit,
            name.fills,
            name.missing,
            name.expect,
        )
    assert metrics.EXPECT_METRICS is metric_names.EXPECT_METRICS
    assert metrics.unit is metric_names.unit


# Imports each module named in argv[1] (a JSON list) as a fresh interpreter would: with
# every sim module dropped first, so each is the first of the package to be imported.
_EACH_ALONE = """\
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "sim" or m.startswith("sim.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=-3)
print(json.dumps(failed))
"""


def test_every_module_imports_alone() -> None:
    # An import cycle that works from one entry point fails from another; this enters
    # the package at every module. (`python -m sim` runs the command line: not imported.)
    names = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert "sim.metric_names" in names and "sim.report.pricing" in names
    assert _python(_EACH_ALONE, json.dumps(names)) == {}


_PUBLIC = """\
import json, sys
import sim
eager = sorted(m for m in sys.modules if m == "sim" or m.startswith(("sim.", "numpy")))
at_import = [name for name in sim.__all__ if name in vars(sim)]
for name in sim.__all__:
    exec(f"from sim import {name}")
lazy = {name: getattr(sim, name) is getattr(sys.modules[module], name)
        for name, module in sim._LAZY.items()}
print(json.dumps({
    "eager": eager, "all": sim.__all__, "at_import": at_import, "dir": dir(sim), "lazy": lazy
}))
"""


def test_the_public_names_load_on_first_use() -> None:
    out = _python(_PUBLIC)
    assert out["eager"] == ["sim", "sim._version", "sim.errors"]
    assert set(out["all"]) <= set(out["dir"])
    assert out["lazy"] and all(out["lazy"].values())
    # mypy reads the lazy names' types from the TYPE_CHECKING block: it names each one.
    tree = ast.parse((ROOT / "sim" / "__init__.py").read_text(encoding="utf-8"))
    typed = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for stmt in node.body
        if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    assert typed == set(out["lazy"])
    # Every public name is bound at import (the errors, the version) or lazy, and vice versa.
    assert set(out["all"]) == set(out["at_import"]) | set(out["lazy"])
