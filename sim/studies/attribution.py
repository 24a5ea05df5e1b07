"""Why scenario B differs from A: the difference attributed to each key that differs.

Both scenario files are resolved (``extends``) into raw TOML dicts. A *key* is one
setting of a table: ``valuation.multiple`` (a whole distribution table is one key),
``scenario.base_year``, ``segments.talkie.growth``, ``fx.HKD``. Arrays of tables merge by
name, as ``extends`` merges them, so ``segments.talkie.growth`` names the growth of the
segment called talkie; a segment, shock or correlation (``correlations.a~b``) that only
one scenario has, or a whole table that only one has (``offering``), is one key. Keys
that do not change what is simulated are left out: ``scenario.name``,
``scenario.description``, ``scenario.currency`` (it only converts what is reported),
``[simulation]`` (one seed and path count serve all runs), ``[[targets]]`` (targets are
compared where both scenarios have them) and ``[[expect]]``.

Each key is switched from A's value to B's. A *hybrid* is A's dict with the keys of a set
S switched; it is validated by the normal loader (:func:`sim.scenario.build_scenario`)
and run with the one seed, path count and sampler, so all runs are paired. With ``k``
keys, ``v(S)`` is the median equity value (or P(value >= target)) of the hybrid S, and:

- ``k <= 8`` (:data:`MAX_SHAPLEY_KEYS`): exact Shapley values over the ``2**k`` hybrids,
  ``phi_i = sum over S without i of |S|! (k-|S|-1)! / k! (v(S+i) - v(S))``;
- beyond: sequential, in B's file order: ``phi_i = v(first i keys) - v(first i-1)``.

Either way the contributions sum to ``v(all) - v(none)``: B's run minus A's run at the
attribution's path count (efficiency). The sums are taken in exact rational arithmetic
(:class:`fractions.Fraction`) and each contribution rounded once to a float.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.format import target_label
from sim.metrics import target_values
from sim.run.engine import Result, simulate
from sim.scenario import Scenario, build_scenario

__all__ = [
    "DEFAULT_ATTRIBUTION_PATHS",
    "MAX_SHAPLEY_KEYS",
    "Attribution",
    "Contribution",
    "HybridInvalid",
    "attribute",
    "differing_keys",
    "get_key",
    "sequential",
    "set_key",
    "shapley",
]

#: Exact Shapley values up to this many differing keys (2**8 = 256 small runs).
MAX_SHAPLEY_KEYS = 8
#: Paths of each attribution run: 256 runs of the baseline at this count take ~20 s.
DEFAULT_ATTRIBUTION_PATHS = 10_000
#: Tables whose entries are matched by a key, as ``extends`` merges them.
_ENTRY_TABLES = {"segments": "name", "shocks": "name", "correlations": "between"}
#: What does not change the simulated values (see the module's docstring).
_LEFT_OUT_TABLES = frozenset({"simulation", "targets", "expect"})
_LEFT_OUT_KEYS = frozenset(
    {("scenario", None, "name"), ("scenario", None, "description"), ("scenario", None, "currency")}
)

_MISSING: Any = object()

#: A key: (table, entry name or None, key or None). (table, None, None) is a whole table;
#: (table, entry, None) a whole entry of an array of tables.
Key = tuple[str, str | None, str | None]


class HybridInvalid(ScenarioError):
    """A hybrid of A and B (some keys switched) that the loader refuses."""


def key_name(key: Key) -> str:
    """``valuation.multiple``, ``segments.talkie.growth``, ``shocks.ban``."""
    return ".".join(p for p in key if p is not None)


def _entry_id(entry: Mapping[str, Any], table: str) -> str | None:
    value = entry.get(_ENTRY_TABLES[table])
    if isinstance(value, list):
        return "~".join(sorted(map(str, value)))
    return value if isinstance(value, str) else None


def _entries(raw: Mapping[str, Any], table: str) -> dict[str, dict[str, Any]]:
    value = raw.get(table)
    if not isinstance(value, list):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for entry in value:
        if isinstance(entry, dict):
            name = _entry_id(entry, table)
            if name is not None:
                out[name] = entry
    return out


def _keys_of(raw: Mapping[str, Any]) -> list[Key]:
    """Every key of ``raw`` in file order (whole tables and entries as themselves)."""
    keys: list[Key] = []
    for table, value in raw.items():
        if table in _LEFT_OUT_TABLES:
            continue
        if table in _ENTRY_TABLES and isinstance(value, list):
            for name, entry in _entries(raw, table).items():
                keys.append((table, name, None))
                keys.extend((table, name, k) for k in entry)
        elif isinstance(value, dict):
            keys.append((table, None, None))
            keys.extend((table, None, k) for k in value)
        else:
            keys.append((table, None, None))
    return [k for k in keys if k not in _LEFT_OUT_KEYS]


def get_key(raw: Mapping[str, Any], key: Key) -> Any:
    """The value of ``key`` in ``raw``; ``_MISSING`` where it is not set."""
    table, entry, name = key
    if entry is not None:
        found: Any = _entries(raw, table).get(entry, _MISSING)
    else:
        found = raw.get(table, _MISSING)
    if name is None or found is _MISSING:
        return found
    return found.get(name, _MISSING) if isinstance(found, dict) else _MISSING


def set_key(raw: dict[str, Any], key: Key, value: Any) -> None:
    """Set ``key`` in ``raw`` to ``value`` (a copy); ``_MISSING`` removes it."""
    table, entry, name = key
    value = copy.deepcopy(value)
    if entry is None:
        if name is None:
            _put(raw, table, value)
        else:
            _put(raw.setdefault(table, {}), name, value)
        return
    entries = raw.setdefault(table, [])
    index = next(
        (i for i, e in enumerate(entries) if isinstance(e, dict) and _entry_id(e, table) == entry),
        None,
    )
    if name is None:
        if value is _MISSING:
            if index is not None:
                del entries[index]
        elif index is None:
            entries.append(value)
        else:
            entries[index] = value
        return
    if index is None:  # the entry is switched whole when only one side has it
        return
    _put(entries[index], name, value)


def _put(d: dict[str, Any], key: str, value: Any) -> None:
    if value is _MISSING:
        d.pop(key, None)
    else:
        d[key] = value


def differing_keys(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Key]:
    """The keys whose values differ, in B's file order then A's; a table or entry that
    only one side has is one key (its own keys are not listed)."""
    out: list[Key] = []
    whole: set[tuple[str, str | None]] = set()
    for key in itertools.chain(_keys_of(b), _keys_of(a)):
        if key in out:
            continue
        table, entry, name = key
        if (table, entry) in whole or (table, None) in whole:
            continue
        va, vb = get_key(a, key), get_key(b, key)
        if name is None:
            one_sided = va is _MISSING or vb is _MISSING
            if (one_sided or not isinstance(va, dict | list)) and va != vb:
                out.append(key)
                whole.add((table, entry))
            continue
        if va != vb:
            out.append(key)
    return out


@dataclass(frozen=True, slots=True)
class Contribution:
    """One key's share of the difference: in the median (USD) and in each target's P."""

    key: str
    median_usd: float
    p: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Attribution:
    """B minus A, attributed to each differing key.

    Attributes
    ----------
    scenario, minus : str
        B's and A's names.
    method : {"shapley", "sequential", "none"}
        ``none``: nothing differs, or a hybrid failed validation (``error`` says which).
    paths, seed : int
        Of every attribution run (all paired).
    targets : tuple of (label, USD, at)
        The targets both scenarios have, in A's order, each with the point in time it
        reads (``fair``, ``offer``, ``day1``, ``end``, ``peak``).
    median_a, median_b : float
        The runs' median equity values, USD.
    p_a, p_b : tuple of float
        P(value >= target) in A's and B's runs.
    contributions : tuple of Contribution
        In B's file order; they sum to ``median_b - median_a`` and ``p_b - p_a``.
    runs : int
        Hybrids run (A and B included).
    error : str or None
        Why there is no attribution.
    grouped : bool
        True when a hybrid of single keys failed validation, so the keys of each table or
        entry (``segments.talkie``) were switched together.
    """

    scenario: str
    minus: str
    method: str
    paths: int
    seed: int
    targets: tuple[tuple[str, float, str], ...]
    median_a: float
    median_b: float
    p_a: tuple[float, ...]
    p_b: tuple[float, ...]
    contributions: tuple[Contribution, ...]
    runs: int
    error: str | None = None
    grouped: bool = False

    @property
    def note(self) -> str:
        """How the contributions were found, in one sentence."""
        if self.error is not None:
            return f"no attribution: {self.error}"
        how = self._how()
        if self.grouped:
            how += (
                "; keys switched one at a time made a scenario the loader refuses, so the "
                "keys of each table or segment are switched together"
            )
        return how

    def _how(self) -> str:
        if self.method == "shapley":
            return (
                f"exact Shapley values over {len(self.contributions)} keys "
                f"({self.runs} paired runs of {self.paths:,} paths, seed {self.seed})"
            )
        if self.method == "sequential":
            return (
                f"sequential, in {self.scenario}'s file order: more than {MAX_SHAPLEY_KEYS} "
                f"keys differ ({len(self.contributions)}), so each key's effect is taken "
                f"with the keys before it already switched and depends on that order "
                f"({self.runs} paired runs of {self.paths:,} paths, seed {self.seed})"
            )
        return "nothing that is simulated differs"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "minus": self.minus,
            "method": self.method,
            "note": self.note,
            "paths": self.paths,
            "seed": self.seed,
            "runs": self.runs,
            "error": self.error,
            "grouped": self.grouped,
            "median_usd": {"minus": _finite(self.median_a), "scenario": _finite(self.median_b)},
            "targets": [
                {
                    "label": label,
                    "value_usd": value,
                    "at": at,
                    "p_minus": _finite(pa),
                    "p_scenario": _finite(pb),
                }
                for (label, value, at), pa, pb in zip(
                    self.targets, self.p_a, self.p_b, strict=True
                )
            ],
            "contributions": [
                {
                    "key": c.key,
                    "median_usd": c.median_usd,
                    "p_at_least": {
                        target_label(label, at): p
                        for (label, _, at), p in zip(self.targets, c.p, strict=True)
                    },
                }
                for c in self.contributions
            ],
        }


def _finite(x: float) -> float | None:
    """JSON has no NaN: a value not measured (no attribution) is null."""
    return x if math.isfinite(x) else None


def shapley(k: int, value: Callable[[int], Sequence[Fraction]]) -> list[list[Fraction]]:
    """Exact Shapley values of ``k`` players; ``value(mask)`` gives v(S) per output.

    ``mask`` has bit i set when player i is in S. Returns ``phi[i][output]``.
    """
    weights = [
        Fraction(math.factorial(s) * math.factorial(k - s - 1), math.factorial(k))
        for s in range(k)
    ]
    values = [value(mask) for mask in range(1 << k)]
    outputs = len(values[0])
    phi = [[Fraction(0)] * outputs for _ in range(k)]
    for mask in range(1 << k):
        size = mask.bit_count()
        for i in range(k):
            if mask >> i & 1:
                continue
            w = weights[size]
            with_i, without = values[mask | 1 << i], values[mask]
            for o in range(outputs):
                phi[i][o] += w * (with_i[o] - without[o])
    return phi


def sequential(k: int, value: Callable[[int], Sequence[Fraction]]) -> list[list[Fraction]]:
    """Each player's effect with the players before it already in: v(first i+1) - v(first i)."""
    values = [value((1 << i) - 1) for i in range(k + 1)]
    return [[b - a for a, b in zip(values[i], values[i + 1], strict=True)] for i in range(k)]


def attribute(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    names: tuple[str, str],
    source: Path | None,
    targets: Sequence[tuple[str, float, str]],
    paths: int,
    seed: int,
    sampler: str,
    run: Callable[[Scenario], Result] | None = None,
) -> Attribution:
    """Attribute B minus A (median equity value, each target's P) to each differing key.

    Parameters
    ----------
    a, b : raw scenario dicts
        After ``extends`` (:func:`sim.scenario.resolve_raw`).
    names : (A's name, B's name)
    source : Path or None
        Passed to the loader for the hybrids (A's file).
    targets : sequence of (label, USD, at)
        The targets to attribute P(value at ``at`` >= target) of: the fair value, or the
        market value at the offer, day 1, the end or the peak.
    paths, seed, sampler
        Of every run: one seed so that all runs are paired.
    run : callable, optional
        Runs a scenario; by default :func:`sim.run.engine.simulate` with the above.
    """
    fine = differing_keys(a, b)
    groups: dict[str, list[Key]] = {}
    for key in fine:
        groups.setdefault(key_name((key[0], key[1], None)), []).append(key)
    # Key by key first; if a hybrid is refused, each table or entry switched whole.
    tries = ((False, [(key_name(key), [key]) for key in fine]), (True, list(groups.items())))
    refused: list[str] = []
    for grouped, keys in tries:
        try:
            return _attribute(
                a, b, keys, names, source, targets, paths, seed, sampler, run, grouped=grouped
            )
        except HybridInvalid as err:
            refused.append(str(err))
    first, second = refused
    again = "" if second == first else f"; switching whole tables and entries: {second}"
    return _Empty(names, paths, seed, tuple(targets)).failed(first + again)


def _attribute(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    keys: list[tuple[str, list[Key]]],
    names: tuple[str, str],
    source: Path | None,
    targets: Sequence[tuple[str, float, str]],
    paths: int,
    seed: int,
    sampler: str,
    run: Callable[[Scenario], Result] | None,
    *,
    grouped: bool,
) -> Attribution:
    """:func:`attribute` over ``keys`` (name, the keys switched together); raises
    HybridInvalid when a hybrid fails validation."""
    k = len(keys)
    method = "shapley" if 0 < k <= MAX_SHAPLEY_KEYS else "sequential" if k else "none"
    runner = run or (lambda s: simulate(s, paths, seed=seed, sampler=sampler))
    cache: dict[int, tuple[Fraction, ...]] = {}

    def value(mask: int) -> tuple[Fraction, ...]:
        if mask not in cache:
            raw = copy.deepcopy(dict(a))
            for i, (_, group) in enumerate(keys):
                if mask >> i & 1:
                    for key in group:
                        set_key(raw, key, get_key(b, key))
            switched = [name for i, (name, _) in enumerate(keys) if mask >> i & 1]
            try:
                scenario = build_scenario(raw, source=source, own_name=names[0])
            except ScenarioError as err:
                raise HybridInvalid(
                    f"{names[0]} with {', '.join(switched) or 'nothing'} switched to "
                    f"{names[1]}'s values is not a valid scenario ({err})"
                ) from None
            cache[mask] = _outputs(runner(scenario), targets)
        return cache[mask]

    def floats(values: Sequence[Fraction]) -> tuple[float, ...]:
        return tuple(float(v) for v in values)

    va, vb = value(0), value((1 << k) - 1)
    phi = shapley(k, value) if method == "shapley" else sequential(k, value)
    return Attribution(
        scenario=names[1],
        minus=names[0],
        method=method,
        paths=paths,
        seed=seed,
        targets=tuple(targets),
        median_a=float(va[0]),
        median_b=float(vb[0]),
        p_a=floats(va[1:]),
        p_b=floats(vb[1:]),
        contributions=tuple(
            Contribution(name, float(p[0]), floats(p[1:]))
            for (name, _), p in zip(keys, phi, strict=True)
        ),
        runs=len(cache),
        grouped=grouped,
    )


@dataclass(frozen=True, slots=True)
class _Empty:
    names: tuple[str, str]
    paths: int
    seed: int
    targets: tuple[tuple[str, float, str], ...]

    def failed(self, error: str) -> Attribution:
        nan = math.nan
        n = len(self.targets)
        return Attribution(
            self.names[1],
            self.names[0],
            "none",
            self.paths,
            self.seed,
            self.targets,
            nan,
            nan,
            (nan,) * n,
            (nan,) * n,
            (),
            0,
            error,
        )


def _outputs(result: Result, targets: Sequence[tuple[str, float, str]]) -> tuple[Fraction, ...]:
    """The median equity value and P(value >= t) per target, each read at its point in
    time, exactly (all paths kept)."""
    if not result.exact:
        raise ValueError("attribution runs keep every path: use fewer paths")
    n = result.kept.n
    equity = result.kept.values.equity[:n]
    median = Fraction(float(np.median(equity)))
    out = [median]
    for label, t, at in targets:
        values = target_values(result.scenario, result.kept.values, at)
        if values is None:
            raise HybridInvalid(f"{result.scenario.name} has no {at} value for target {label!r}")
        out.append(Fraction(int(np.count_nonzero(values[:n] >= t)), n))
    return tuple(out)
