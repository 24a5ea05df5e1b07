"""``ipo-sim sweep``: a scenario run over a grid of values of some of its keys, paired.

Each ``--set KEY=V1,V2,...`` names a key path of the scenario (after ``extends``), such as
``valuation.multiple``, ``segments.talkie.growth.p50`` or ``scenario.base_year``; entries
of ``[[segments]]``, ``[[shocks]]``, ``[[targets]]`` and ``[[expect]]`` are named by their
name (label). Each value is a TOML value (``12``, ``0.35``, ``"70M"``, an inline table
``{ dist = "lognormal", p50 = 10, p90 = 16 }``, an array); a bare word that is not TOML,
such as ``70M`` or ``25亿``, is taken as a string, which the scenario's own reading of the
key then reads (money with :mod:`sim.money`). Values are split at commas outside braces,
brackets and quotes, so an inline table keeps its commas. Nothing is evaluated.

Every point of the grid (the product of the keys' values) is built into the raw scenario,
validated by the normal loader (:func:`sim.scenario.build_scenario`) before anything is
run, and run with one seed, path count and sampler, so that points differ only by the
values swept (common random numbers); ``[simulation]`` keys are therefore not swept (they
are ``--seed``, ``--paths`` and ``--sampler``).
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import metrics
from sim.analysis.summary import summarise
from sim.csvcells import SafeWriter
from sim.errors import ScenarioError, SimError, unknown_key_message
from sim.run.engine import Result, simulate
from sim.scenario import Scenario, build_scenario
from sim.stats import quantile_interval

__all__ = [
    "Point",
    "Sweep",
    "SweptKey",
    "grid",
    "parse_set",
    "run_sweep",
    "set_path",
    "split_values",
]

#: Arrays of tables whose entries a key path names by this key, as ``extends`` merges them.
_NAMED_BY = {"segments": "name", "shocks": "name", "targets": "label", "expect": "name"}
#: The most points one sweep runs.
MAX_POINTS = 1000


@dataclass(frozen=True, slots=True)
class SweptKey:
    """One ``--set``: the key path, the values as written, and as TOML values."""

    path: str
    written: tuple[str, ...]
    values: tuple[Any, ...]


def split_values(text: str) -> list[str]:
    """Split ``text`` at commas outside braces, brackets and quotes.

    >>> split_values('1, { dist = "normal", mean = 0, sd = 1 },"a,b"')
    ['1', '{ dist = "normal", mean = 0, sd = 1 }', '"a,b"']
    """
    out: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        i += 1
    out.append(text[start:].strip())
    return out


def _value(item: str, key: str) -> Any:
    """One value of a ``--set``: a TOML value, or a bare word (``70M``) as a string."""
    if not item:
        raise SimError(f"--set {key}: an empty value; expected V1,V2,... (TOML values)")
    try:
        return tomllib.loads(f"v = {item}")["v"]
    except tomllib.TOMLDecodeError as err:
        if any(c in item for c in "{}[]\"'=\n"):
            raise SimError(f"--set {key}: cannot read {item!r} as a TOML value ({err})") from None
        return item


def parse_set(text: str) -> SweptKey:
    """``KEY=V1,V2,...`` -> a :class:`SweptKey`; a malformed one raises SimError."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key or not rest.strip():
        raise SimError(f"--set {text!r}: expected KEY=V1,V2,... such as valuation.multiple=8,12")
    if any(not part for part in key.split(".")):
        raise SimError(f"--set {key}: not a key path such as segments.talkie.growth.p50")
    if key.split(".")[0] == "simulation":
        raise SimError(
            f"--set {key}: every point runs with one seed, path count and sampler; "
            "give them with --seed, --paths and --sampler"
        )
    written = split_values(rest)
    return SweptKey(key, tuple(written), tuple(_value(w, key) for w in written))


def set_path(raw: dict[str, Any], path: str, value: Any) -> None:
    """Set key ``path`` of the raw scenario to ``value``; a path that names no table or
    entry of the scenario raises ScenarioError naming it."""
    parts = path.split(".")
    node: Any = raw
    walked: list[str] = []
    i = 0
    while i < len(parts) - 1:
        part = parts[i]
        child = node.get(part) if isinstance(node, dict) else None
        if isinstance(child, list) and not walked and part in _NAMED_BY:
            i += 1
            name = parts[i]
            by = _NAMED_BY[part]
            entry = next((e for e in child if isinstance(e, dict) and e.get(by) == name), None)
            if entry is None:
                known = ", ".join(str(e.get(by)) for e in child if isinstance(e, dict))
                raise ScenarioError(
                    f"no {part} entry with {by} {name!r} (the scenario has: {known})",
                    path=".".join(parts[: i + 1]),
                )
            if i == len(parts) - 1:
                raise ScenarioError(
                    f"names a whole {part} entry; give one of its keys, such as "
                    f"{'.'.join(parts)}.{next(iter(k for k in entry if k != by), 'key')}",
                    path=path,
                )
            walked += [part, name]
            node = entry
            i += 1
            continue
        if child is None:
            if isinstance(node, dict) and part not in node and walked:
                # As the loader says of an unknown key: with the closest one it has.
                hint = unknown_key_message(part, [str(k) for k in node]).removeprefix(
                    f"unknown key {part!r}"
                )
                raise ScenarioError(
                    f"no key {part!r} in {'.'.join(walked)}{hint}",
                    path=".".join(parts[: i + 1]),
                )
            if isinstance(node, dict) and not walked:
                raise ScenarioError(
                    f"no table {part!r} in the scenario", path=".".join(parts[: i + 1])
                )
        if not isinstance(child, dict):
            raise ScenarioError(
                f"is {_kind(child)}, not a table: nothing below it to set",
                path=".".join(parts[: i + 1]),
            )
        walked.append(part)
        node = child
        i += 1
    node[parts[-1]] = copy.deepcopy(value)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    return f"a value ({value!r})"


def grid(keys: Sequence[SweptKey]) -> list[tuple[int, ...]]:
    """Every point of the grid as the index of each key's value, the first key slowest."""
    return list(itertools.product(*(range(len(k.values)) for k in keys)))


def build_points(
    raw: Mapping[str, Any], keys: Sequence[SweptKey], *, source: Path | None, own_name: str
) -> list[Scenario]:
    """Every point's validated scenario, before anything runs; the first bad one raises a
    SimError naming the ``--set`` and the key path."""
    if not keys:
        raise SimError("sweep needs at least one --set KEY=V1,V2,...")
    seen = [k.path for k in keys]
    dupes = sorted({p for p in seen if seen.count(p) > 1})
    if dupes:
        raise SimError(f"--set {dupes[0]}: given twice; give each key once, with all its values")
    count = math.prod(len(k.values) for k in keys)
    if count > MAX_POINTS:
        raise SimError(f"--set: {count:,} points in the grid; at most {MAX_POINTS:,}")
    out = []
    for point in grid(keys):
        hybrid = copy.deepcopy(dict(raw))
        for k, j in zip(keys, point, strict=True):
            try:
                set_path(hybrid, k.path, k.values[j])
            except ScenarioError as err:
                raise SimError(f"--set {k.path}: {err}") from None
        try:
            out.append(build_scenario(hybrid, source=source, own_name=own_name))
        except ScenarioError as err:
            what = ", ".join(f"{k.path}={k.written[j]}" for k, j in zip(keys, point, strict=True))
            raise SimError(f"--set {what}: {err}") from None
    return out


@dataclass(frozen=True, slots=True)
class Point:
    """One point of the sweep: which value of each key, and what the run gave."""

    index: tuple[int, ...]
    scenario_sha256: str
    median_usd: float
    median_ci95: tuple[float, float]
    mean_usd: float
    p_at_least: tuple[float, ...]
    ci95: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Sweep:
    """A sweep's keys, targets and points (one per grid point, the first key slowest)."""

    scenario: str
    scenario_sha256: str
    seed: int
    paths: int
    sampler: str
    keys: tuple[SweptKey, ...]
    targets: tuple[tuple[str, float, str], ...]  # label, value (USD), the value it reads
    points: tuple[Point, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``sweep.json`` schema."""
        return {
            "scenario": self.scenario,
            "scenario_sha256": self.scenario_sha256,
            "seed": self.seed,
            "paths": self.paths,
            "sampler": self.sampler,
            "keys": [{"key": k.path, "values": list(k.written)} for k in self.keys],
            "targets": [
                {"label": label, "value_usd": v, "at": at} for label, v, at in self.targets
            ],
            "points": [
                {
                    "set": {k.path: k.written[j] for k, j in zip(self.keys, p.index, strict=True)},
                    "scenario_sha256": p.scenario_sha256,
                    "median_usd": p.median_usd,
                    "median_ci95": list(p.median_ci95),
                    "mean_usd": p.mean_usd,
                    "targets": [
                        {
                            "label": label,
                            "value_usd": v,
                            "at": at,
                            "p_at_least": pr,
                            "ci95": list(ci),
                        }
                        for (label, v, at), pr, ci in zip(
                            self.targets, p.p_at_least, p.ci95, strict=True
                        )
                    ],
                }
                for p in self.points
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """One row per (point, target); a point with no target has one row."""
        buf = io.StringIO()
        w = SafeWriter(buf)
        w.writerow(
            [
                *(k.path for k in self.keys),
                "median_usd",
                "median_ci95_low",
                "median_ci95_high",
                "mean_usd",
                "target",
                "value_usd",
                "at",
                "p_at_least",
                "ci95_low",
                "ci95_high",
            ]
        )
        for p in self.points:
            head = [
                *(k.written[j] for k, j in zip(self.keys, p.index, strict=True)),
                repr(p.median_usd),
                repr(p.median_ci95[0]),
                repr(p.median_ci95[1]),
                repr(p.mean_usd),
            ]
            if not self.targets:
                w.writerow([*head, "", "", "", "", "", ""])
            for (label, v, at), pr, ci in zip(self.targets, p.p_at_least, p.ci95, strict=True):
                w.writerow([*head, label, repr(v), at, repr(pr), repr(ci[0]), repr(ci[1])])
        return buf.getvalue()


def run_sweep(
    scenarios: Sequence[Scenario],
    keys: Sequence[SweptKey],
    *,
    paths: int,
    seed: int,
    sampler: str,
    base: Scenario,
    run: Callable[[Scenario], Result] | None = None,
) -> Sweep:
    """Run every point (from :func:`build_points`) with one seed and summarise it.

    Targets are the base scenario's, each read at its own point in time (``at``: fair
    value, or the market value at the offer, day 1, the end or the peak); a swept target
    is read at each point's own value.
    """
    runner = run or (lambda s: simulate(s, paths, seed=seed, sampler=sampler))
    targets = tuple((t.label, t.value_usd, t.at) for t in base.targets)
    points = []
    for index, scenario in zip(grid(keys), scenarios, strict=True):
        result = runner(scenario)
        summary = summarise(result)
        estimates = summary.targets
        points.append(
            Point(
                index,
                scenario.sha256,
                summary.equity.quantiles.median,
                _median_interval(result),
                summary.equity.mean,
                tuple(t.p_at_least for t in estimates),
                tuple(t.ci95 for t in estimates),
            )
        )
    return Sweep(base.name, base.sha256, seed, paths, sampler, tuple(keys), targets, tuple(points))


def _median_interval(result: Result) -> tuple[float, float]:
    """A distribution-free 95 % interval for the median equity value."""
    name = metrics.VALUATION.name()
    exact = metrics.per_path(result.scenario, result.kept.values, name)
    values = np.sort(exact) if exact is not None and result.exact else None
    sketch = result.streams[metrics.stream_name(name)].sketch
    return quantile_interval(values, sketch, result.paths, 0.5)
