"""Validation helpers: each table's declared keys, typed reads, unknown-key hints."""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sim.distributions import TRUNCATABLE, Distribution, parse_distribution, plain_number
from sim.errors import ScenarioError, unknown_key_message
from sim.scenario.types import _C, _DECLARED, _NAME_RE, KEYS, MAX_NAME_LENGTH

# --------------------------------------------------------------------------- validation


@dataclass(frozen=True, slots=True)
class _Keys:
    """The keys one scenario table takes, declared next to the parser that reads them.

    ``elsewhere`` keys are read before validation (``scenario.extends``, when the files
    are merged): optional, and never unknown.
    """

    table: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()

    @property
    def declared(self) -> Mapping[str, bool]:
        """Each key and whether it is required (the table's entry in :data:`KEYS`)."""
        return {k: True for k in self.required} | dict.fromkeys(
            (*self.optional, *self.elsewhere), False
        )


def _declare(
    table: str,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    elsewhere: tuple[str, ...] = (),
) -> _Keys:
    """Declare the keys of ``table`` (``""`` for the top level) and enter them in KEYS."""
    keys = _Keys(table, required, optional, elsewhere)
    if table in _DECLARED:
        raise AssertionError(f"[{table}] is declared twice")
    _DECLARED[table] = MappingProxyType(dict(keys.declared))
    return keys


def _known_keys() -> frozenset[str]:
    """Every key name some scenario table takes: a key outside this set that closely
    matches a missing required key is reported as that key misspelt ("growht"), not as a
    missing key."""
    return frozenset(k for table in KEYS.values() for k in table)


class _Table:
    """A TOML table being validated: keys are taken one by one; leftovers are unknown keys."""

    def __init__(self, data: object, path: str, keys: _Keys | None = None) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"expected a table, got {_kind(data)}", path=path)
        self.data: dict[str, Any] = data
        self.path = path
        self.taken: set[str] = set()
        # The keys this table takes; None for tables of user-chosen names.
        self.keys = keys

    def _declared(self, key: str) -> None:
        if self.keys is not None and key not in self.keys.declared:
            raise AssertionError(f"key {key!r} of [{self.keys.table}] is not declared")

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        self._declared(key)
        self.taken.add(key)
        return self.data.get(key, default)

    def need(self, key: str) -> Any:
        self._declared(key)
        self.taken.add(key)
        if key not in self.data:
            for other in self.data:
                if (
                    isinstance(other, str)
                    and other not in _known_keys()
                    and difflib.get_close_matches(other, [key])
                ):
                    raise ScenarioError(unknown_key_message(other, [key]), path=self.key(other))
            raise ScenarioError("required key is missing", path=self.key(key))
        return self.data[key]

    def done(self, allowed: tuple[str, ...] = ()) -> None:
        """Refuse every key not taken, given in ``allowed``, or read before validation."""
        for key in allowed:
            self._declared(key)
        elsewhere = self.keys.elsewhere if self.keys is not None else ()
        known = self.taken | set(allowed) | set(elsewhere)
        for key in self.data:
            if key not in known:
                raise ScenarioError(unknown_key_message(key, known), path=self.key(key))


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    for typ, name in names.items():
        if type(value) is typ:
            return f"{name} ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _int(value: object, path: str, *, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"expected an integer, got {_kind(value)}", path=path)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise ScenarioError(f"expected an integer in {rng}, got {value}", path=path)
    return value


def _num(
    value: object, path: str, *, lo: float = -math.inf, hi: float = math.inf, lo_open: bool = False
) -> float:
    x = plain_number(value, path)
    if x < lo or x > hi or (lo_open and x == lo):
        left = "(" if lo_open else "["
        raise ScenarioError(f"expected a number in {left}{lo:g}, {hi:g}], got {x:g}", path=path)
    return x


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"expected a string, got {_kind(value)}", path=path)
    return value


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: object, path: str) -> datetime.date:
    """A calendar date: a TOML date literal (``2026-01-09``) or the string ``"2026-01-09"``."""
    if isinstance(value, datetime.datetime):
        raise ScenarioError(f"expected a date (YYYY-MM-DD) without a time, got {value}", path=path)
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError as err:
            raise ScenarioError(
                f"expected a date (YYYY-MM-DD), got {value!r}: {err}", path=path
            ) from None
    raise ScenarioError(f"expected a date (YYYY-MM-DD), got {_kind(value)}", path=path)


def _choice(value: object, path: str, choices: tuple[_C, ...], *, what: str) -> _C:
    """One of ``choices`` (a string), typed as the choice it is."""
    text = _str(value, path)
    for choice in choices:
        if text == choice:
            return choice
    raise ScenarioError(unknown_key_message(text, choices, what=what), path=path)


def _name(value: object, path: str) -> str:
    text = _str(value, path)
    if not _NAME_RE.fullmatch(text):
        raise ScenarioError(
            f"expected a name of letters, digits, '.', '_' and '-', not starting with '.', "
            f"got {text!r}",
            path=path,
        )
    if len(text) > MAX_NAME_LENGTH:
        raise ScenarioError(
            f"expected a name of at most {MAX_NAME_LENGTH} characters, got {len(text)}",
            path=path,
        )
    return text


def _label(value: object, path: str) -> str:
    text = _str(value, path).strip()
    if not text:
        raise ScenarioError("expected a non-empty name", path=path)
    return text


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScenarioError(f"expected an array, got {_kind(value)}", path=path)
    return value


def _tables(value: object, path: str, keys: _Keys) -> Iterator[tuple[_Table, str]]:
    """Entries of an array of tables, with their paths named by their name when they have one."""
    for i, entry in enumerate(_list(value, path)):
        label = entry.get("name", entry.get("label")) if isinstance(entry, dict) else None
        sub = f"{path}.{label}" if isinstance(label, str) and label else f"{path}[{i}]"
        yield _Table(entry, sub, keys), sub


def _dist_in(
    dist: Distribution, path: str, lo: float, hi: float, *, lo_open: bool = False, what: str
) -> Distribution:
    a, b = dist.support()
    # An open bound may be the support's limit (a metalog with lower = -1 never reaches
    # it), but not a point mass on it.
    bad_lo = a < lo or (lo_open and a == lo == b)
    if bad_lo or b > hi:
        left = "(" if lo_open else "["
        hint = _truncation_hint(dist, lo if bad_lo else None, hi if b > hi else None)
        raise ScenarioError(
            f"{what} must lie in {left}{lo:g}, {hi:g}]; {dist.describe()} has support "
            f"[{a:g}, {b:g}]{hint}",
            path=path,
        )
    return dist


def _truncation_hint(dist: Distribution, lo: float | None, hi: float | None) -> str:
    """How to bring a distribution that takes ``lower``/``upper`` inside a range."""
    kind = dist.to_dict().get("dist")
    if kind not in TRUNCATABLE:
        return ""
    given = [f"{k} = {v:g}" for k, v in (("lower", lo), ("upper", hi)) if v is not None]
    return f"; truncate it with {' and '.join(given)} in its table"


def _unique(names: list[str], path: str, what: str, *, keyed: bool = True) -> None:
    """Refuse the first name given twice, at ``path.<name>`` where the names are keys
    (``keyed``), else at ``path`` (a peer table's rows and columns are not keys)."""
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ScenarioError(f"duplicate {what} {n!r}", path=f"{path}.{n}" if keyed else path)
        seen.add(n)


def _growth_path(
    value: object, path: str, fraction: Callable[[object, str], float], horizon: int
) -> tuple[Distribution, tuple[Distribution, ...] | None]:
    """A segment's ``growth``: a rate (a distribution above -1) and None, or, given as an
    array of one rate per simulated year (no fade), the first year's and all of them."""
    if not isinstance(value, list):
        return _growth_rate(value, path, fraction), None
    if len(value) != horizon:
        raise ScenarioError(
            f"expected one growth rate per simulated year, {horizon}, got {len(value)}",
            path=path,
        )
    rates = tuple(_growth_rate(v, f"{path}[{k}]", fraction) for k, v in enumerate(value, 1))
    return rates[0], rates


def _growth_rate(
    value: object, path: str, fraction: Callable[[object, str], float]
) -> Distribution:
    growth = parse_distribution(value, path=path, value=fraction)
    return _dist_in(growth, path, -1.0, math.inf, lo_open=True, what="growth")
