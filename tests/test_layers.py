"""The package's layers, each importing only those below it, checked in fresh interpreters.

From the bottom: :mod:`sim.errors`; :mod:`sim.metric_names` (a leaf: the metrics' names
and units); :mod:`sim.distributions`; :mod:`sim.valuation` (the methods a scenario's
``[valuation]`` is made of); :mod:`sim.scenario` (the parser). The parser checks an
``[[expect]]`` metric's name and unit against :mod:`sim.metric_names`, so it imports none
of :mod:`sim.metrics`' readers, nor the engine, the summary or the report they serve.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sim import metric_names, metrics

ROOT = Path(__file__).resolve().parents[1]

ABOVE_THE_PARSER = (
    "sim.metrics",
    "sim.run.engine",
    "sim.model",
    "sim.model.offering",
    "sim.model.aftermarket",
    "sim.report",
    "sim.analysis.summary",
    "sim.stats",
    "sim.run.sampling",
    "sim.run.workers",
    "sim.output.run_folder",
    "sim.cli",
    "matplotlib",
    "scipy",
)

# What the parser stands on (besides sim/__init__.py): a module named here, or inside a
# package named here.
BELOW_THE_PARSER = (
    "sim._lazy",
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
    for name in ("sim.metrics", "sim.run.engine", "sim.report"):
        assert name not in loaded
    assert sorted(m for m in loaded if _within(m, ABOVE_THE_PARSER)) == []
    beside = ("sim.scenario", *BELOW_THE_PARSER)
    assert sorted(m for m in _sim(loaded) - {"sim"} if not _within(m, beside)) == []


def test_metric_names_is_a_leaf() -> None:
    loaded = _loaded("sim.metric_names")
    # sim/__init__.py itself loads the version, the errors and its lazy face's helper.
    assert _sim(loaded) == {"sim", "sim._lazy", "sim._version", "sim.errors", "sim.metric_names"}
    assert "numpy" not in loaded


def test_valuation_methods_sit_below_the_parser() -> None:
    loaded = _sim(_loaded("sim.valuation"))
    assert "sim.valuation.dcf" in loaded
    below = ("sim._lazy", "sim._version", "sim.errors", "sim.distributions", "sim.valuation")
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
    assert out["eager"] == ["sim", "sim._lazy", "sim._version", "sim.errors"]
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


# --- layering (issue 24), appended by relayout.py ---
# The layers of sim/, lowest first: a module imports (at run time, at any depth of its
# code; ``if TYPE_CHECKING:`` blocks aside) only from its own layer and those before it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "leaves",
        (
            "sim._version",
            "sim._lazy",
            "sim.errors",
            "sim.format",
            "sim.money",
            "sim.stats",
            "sim.csvcells",
            "sim.serial",
            "sim.metric_names",
            "sim.metrics",
        ),
    ),
    (
        "scenario",
        (
            "sim.distributions",
            "sim.valuation",
            "sim.scenario",
        ),
    ),
    ("model", ("sim.model",)),
    ("run", ("sim.run",)),
    (
        "analysis",
        (
            "sim.analysis",
            "sim.testing",
        ),
    ),
    ("studies", ("sim.studies",)),
    ("report", ("sim.report",)),
    ("output", ("sim.output",)),
    (
        "cli",
        (
            "sim.cli",
            "sim._entry",
            "sim.__main__",
        ),
    ),
)
# Upward imports that exist today, each lazy (inside the function that needs it), each a
# debt named so that no new one slips in: (importer, imported, why it is still there).
UPWARD_DEBTS: tuple[tuple[str, str, str], ...] = (
    (
        "sim.metrics",
        "sim.model.offering",
        "the [offering] metrics count exactly at the pricing grid's prices",
    ),
    ("sim.studies.compare", "sim.report", "write_comparison draws the comparison report"),
    ("sim.output.run_folder", "sim.cli.printing", "summary.txt is the terminal's summary tables"),
)
SIM = Path(__file__).resolve().parents[1] / "sim"


def _layer(module: str) -> int | None:
    for i, (_, members) in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members):
            return i
    return None


def _modules() -> list[str]:
    return sorted(
        ".".join(p.relative_to(SIM.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in SIM.rglob("*.py")
    )


def _runtime_imports(module: str) -> set[str]:
    """The sim modules ``module`` imports outside ``if TYPE_CHECKING:`` blocks."""
    path = SIM.parent.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sim."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "sim":
                found.update(f"sim.{a.name}" for a in node.names)
            elif node.module.startswith("sim."):
                found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_every_module_of_sim_has_a_layer() -> None:
    unplaced = [m for m in _modules() if m != "sim" and _layer(m) is None]
    assert unplaced == [], f"give these a layer in tests/test_layers.py's LAYERS: {unplaced}"


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    upward = []
    for module in _modules():
        own = _layer(module)
        if own is None:
            continue
        for imported in sorted(_runtime_imports(module)):
            theirs = _layer(imported)
            debt = any(
                module == a and (imported == b or imported.startswith(b + "."))
                for a, b, _ in UPWARD_DEBTS
            )
            if theirs is not None and theirs > own and not debt:
                upward.append(
                    f"{module} ({LAYERS[own][0]}) imports {imported} ({LAYERS[theirs][0]})"
                )
    assert upward == []


@pytest.mark.parametrize(
    "package", ["sim.model", "sim.run", "sim.analysis", "sim.studies", "sim.output"]
)
def test_each_layer_face_gives_every_name_it_lists(package: str) -> None:
    face = importlib.import_module(package)
    assert face.__all__, package
    assert [name for name in face.__all__ if not hasattr(face, name)] == []


@pytest.mark.parametrize("layer", ["scenario", "model", "run", "analysis"])
def test_importing_a_layer_loads_nothing_above_it(layer: str) -> None:
    index = [name for name, _ in LAYERS].index(layer)
    own = [m for m in _modules() if _layer(m) == index]
    above = [m for _, members in LAYERS[index + 1 :] for m in members]
    code = (
        "import importlib, json, sys\n"
        f"for m in {own!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('sim'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert set(own) <= set(loaded)  # the probe saw the layer itself
    assert [m for m in loaded if any(m == a or m.startswith(a + ".") for a in above)] == []
