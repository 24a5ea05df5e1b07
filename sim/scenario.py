"""Scenario files: TOML -> a validated, frozen :class:`Scenario` in which money is USD.

Only this module reads scenario files. Every key is checked: unknown keys get a close-match
hint, values their type and range, and names the cross-references they make. Values are
data: nothing in a scenario file is ever evaluated.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
import stat
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, TypeVar, get_args

import numpy as np

from sim import metrics
from sim.distributions import TRUNCATABLE, Distribution, parse_distribution, plain_number
from sim.errors import ScenarioError, unknown_key_message
from sim.metrics import EXPECT_METRICS
from sim.money import canonical_currency, format_money, parse_fraction, parse_money
from sim.valuation import DEFAULT_METHOD, Shared, Unit, Valuation, method_class, table_keys

__all__ = [
    "EXPECT_METRICS",
    "EXPECT_STATS",
    "KEYS",
    "SAMPLERS",
    "Correlation",
    "Expectation",
    "Offering",
    "Sampler",
    "Scenario",
    "Segment",
    "Shock",
    "SimulationDefaults",
    "Stat",
    "Target",
    "Valuation",
    "load_scenario",
    "resolve_raw",
]

Sampler: TypeAlias = Literal["random", "lhs", "sobol"]
Stat: TypeAlias = Literal["p_at_least", "p_below", "quantile", "mean"]
SAMPLERS: tuple[Sampler, ...] = get_args(Sampler)
EXPECT_STATS: tuple[Stat, ...] = get_args(Stat)
_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
_MERGE_KEYS = {
    "segments": "name",
    "shocks": "name",
    "targets": "label",
    "expect": "name",
    "correlations": "between",
}
_DECLARED: dict[str, Mapping[str, bool]] = {}
KEYS: Mapping[str, Mapping[str, bool]] = MappingProxyType(_DECLARED)
"""Every key of every scenario table ("" is the top level), and whether it is required
(``threshold``, ``q`` and the bounds of ``[[expect]]`` are required by its ``stat``).
``[fx]`` and the share tables (``regions``, ``regions_at_horizon``) take names of the
user's choosing. Each table's parser declares its keys next to it (:func:`_declare`), and
those declarations fill this table; the parser reads no key it did not declare, the
loader takes no key outside this table, and docs/scenarios.md is tested against it."""
# Share tables are replaced whole under `extends`: shares must sum to 1, so a child's
# split is meant as the whole split, not as an edit of some regions.
_REPLACED_TABLES = frozenset({"regions", "regions_at_horizon"})
MAX_FILE_BYTES = 4 * 2**20
"""The largest scenario file read (4 MiB): the shipped ones are about 10 KB."""
MAX_EXTENDS = 32
"""The longest ``extends`` chain: a file and at most this many bases below it."""
MAX_NESTING = 64
"""The deepest nesting of tables and arrays in a scenario file (a mixture of mixtures
of distributions takes two levels per mixture; see :data:`MAX_DISTRIBUTION_NESTING`)."""
_C = TypeVar("_C", bound=str)
DEFAULT_PATHS = 200_000
#: The most paths a run may have (``simulation.paths`` and the command line's --paths).
MAX_PATHS = 10**12
#: The longest name (of a scenario, segment or shock): a scenario's name names a folder.
MAX_NAME_LENGTH = 100
DEFAULT_SEED = 20250618


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """A product line.

    ``shares`` and ``shares_at_horizon`` are aligned with :attr:`Scenario.regions`.
    """

    name: str
    revenue: Distribution
    growth: Distribution
    fade: float
    terminal_growth: float
    volatility: float
    shares: tuple[float, ...]
    region_concentration: float | None
    shares_at_horizon: tuple[float, ...] | None


@dataclass(frozen=True, slots=True, eq=False)
class Shock:
    """An adverse event (app-store removal, ban, sanction) hitting named regions/segments.

    ``recovery_years`` is ``None`` for a permanent loss.
    """

    name: str
    regions: tuple[str, ...]
    segments: tuple[str, ...]
    annual_probability: Distribution
    severity: Distribution
    recovery_years: Distribution | None
    max_events: int | None
    multiple_hit: float


@dataclass(frozen=True, slots=True)
class Offering:
    """Offering terms: value per share is compared with the price range (USD per share)."""

    shares_outstanding: int
    price_range_usd: tuple[float, float]
    price_range_text: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Target:
    """A labelled valuation target; ``text`` keeps the amount as the user wrote it."""

    label: str
    value_usd: float
    text: str


@dataclass(frozen=True, slots=True)
class Correlation:
    """A Spearman rank correlation between two named scalar inputs."""

    between: tuple[str, str]
    spearman: float


@dataclass(frozen=True, slots=True)
class Expectation:
    """An assumption stated in the scenario and tested with Monte Carlo error in mind.

    ``threshold``, ``bounds`` are in the metric's units (USD, a share, or a probability).
    ``bounds`` is ``(lower, upper)`` with ``None`` for an open side.
    """

    name: str
    metric: str
    stat: Stat
    threshold: float | None
    q: float | None
    bounds: tuple[float | None, float | None]

    @property
    def text(self) -> str:
        """A one-line statement of the assertion, for reports and the command line."""
        what = {
            "p_at_least": f"P({self.metric} >= {_fmt_num(self.threshold)})",
            "p_below": f"P({self.metric} < {_fmt_num(self.threshold)})",
            "quantile": f"q{self.q:g}({self.metric})" if self.q is not None else "",
            "mean": f"mean({self.metric})",
        }[self.stat]
        lo, hi = self.bounds
        if lo is not None and hi is not None:
            bound = f"in [{_fmt_num(lo)}, {_fmt_num(hi)}]"
        elif hi is not None:
            bound = f"<= {_fmt_num(hi)}"
        else:
            bound = f">= {_fmt_num(lo)}"
        return f"{self.name}: {what} {bound}" if self.name else f"{what} {bound}"


@dataclass(frozen=True, slots=True)
class SimulationDefaults:
    """Run defaults from ``[simulation]``; the command line overrides them."""

    paths: int = DEFAULT_PATHS
    seed: int = DEFAULT_SEED
    sampler: Sampler = "random"


@dataclass(frozen=True, slots=True, eq=False)
class Scenario:
    """A validated scenario. Every amount is USD; every name cross-reference resolved.

    Attributes
    ----------
    years : tuple[int, ...]
        The simulated years, ``base_year + 1 .. base_year + horizon``.
    regions : tuple[str, ...]
        Every region named by a segment, in order of first appearance.
    raw : dict
        The resolved TOML (after ``extends``), as the user wrote it.
    sha256 : str
        SHA-256 of the canonical JSON of ``raw``: identifies the scenario's content.
    """

    name: str
    description: str
    base_year: int
    horizon: int
    fx: Mapping[str, float]
    regions: tuple[str, ...]
    segments: tuple[Segment, ...]
    shocks: tuple[Shock, ...]
    valuation: Valuation
    offering: Offering | None
    targets: tuple[Target, ...]
    correlations: tuple[Correlation, ...]
    expectations: tuple[Expectation, ...]
    simulation: SimulationDefaults
    source: Path | None
    raw: Mapping[str, Any] = field(repr=False)
    sha256: str = ""

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.base_year + 1, self.base_year + self.horizon + 1))

    def scalar_inputs(self) -> dict[str, Distribution]:
        """Every scalar input (drawn once per path) by its stable name, fixed ones included.

        These names key the random streams, the correlations and the sensitivity analysis.
        """
        return _scalar_inputs(self.segments, self.shocks, self.valuation)

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as JSON-able data, every amount in USD."""
        regions = self.regions
        return {
            "scenario": {
                "name": self.name,
                "description": self.description,
                "base_year": self.base_year,
                "horizon": self.horizon,
                "years": list(self.years),
                "sha256": self.sha256,
                "source": str(self.source) if self.source else None,
            },
            "fx": dict(self.fx),
            "regions": list(regions),
            "segments": [
                {
                    "name": s.name,
                    "revenue": s.revenue.to_dict(),
                    "growth": s.growth.to_dict(),
                    "fade": s.fade,
                    "terminal_growth": s.terminal_growth,
                    "volatility": s.volatility,
                    "regions": _share_dict(regions, s.shares),
                    "region_concentration": s.region_concentration,
                    "regions_at_horizon": (
                        _share_dict(regions, s.shares_at_horizon)
                        if s.shares_at_horizon is not None
                        else None
                    ),
                }
                for s in self.segments
            ],
            "shocks": [
                {
                    "name": k.name,
                    "regions": list(k.regions),
                    "segments": list(k.segments),
                    "annual_probability": k.annual_probability.to_dict(),
                    "severity": k.severity.to_dict(),
                    "recovery_years": (
                        k.recovery_years.to_dict() if k.recovery_years is not None else "permanent"
                    ),
                    "max_events": k.max_events,
                    "multiple_hit": k.multiple_hit,
                }
                for k in self.shocks
            ],
            "valuation": self.valuation.to_dict(),
            "offering": (
                {
                    "shares_outstanding": self.offering.shares_outstanding,
                    "price_range_usd": list(self.offering.price_range_usd),
                    "price_range": list(self.offering.price_range_text),
                }
                if self.offering
                else None
            ),
            "targets": [
                {"label": t.label, "value_usd": t.value_usd, "written": t.text}
                for t in self.targets
            ],
            "correlations": [
                {"between": list(c.between), "spearman": c.spearman} for c in self.correlations
            ],
            "expect": [
                {
                    "name": e.name,
                    "metric": e.metric,
                    "stat": e.stat,
                    "threshold": e.threshold,
                    "q": e.q,
                    "bounds": list(e.bounds),
                    "text": e.text,
                }
                for e in self.expectations
            ],
            "simulation": {
                "paths": self.simulation.paths,
                "seed": self.simulation.seed,
                "sampler": self.simulation.sampler,
            },
        }


def _scalar_inputs(
    segments: Sequence[Segment], shocks: Sequence[Shock], valuation: Valuation
) -> dict[str, Distribution]:
    """See :meth:`Scenario.scalar_inputs` (the loader asks before the Scenario exists)."""
    out: dict[str, Distribution] = {}
    for seg in segments:
        out[f"segments.{seg.name}.revenue"] = seg.revenue
        out[f"segments.{seg.name}.growth"] = seg.growth
    for shock in shocks:
        out[f"shocks.{shock.name}.annual_probability"] = shock.annual_probability
        out[f"shocks.{shock.name}.severity"] = shock.severity
        if shock.recovery_years is not None:
            out[f"shocks.{shock.name}.recovery_years"] = shock.recovery_years
    out.update(valuation.scalar_inputs())
    return out


@dataclass(frozen=True, slots=True, eq=False)
class _Parsed:
    """The parts of a scenario that name its metrics, parsed before its expectations."""

    base_year: int
    years: tuple[int, ...]
    shocks: tuple[Shock, ...]
    offering: Offering | None
    targets: tuple[Target, ...]


def _share_dict(regions: tuple[str, ...], shares: tuple[float, ...]) -> dict[str, float]:
    return {r: w for r, w in zip(regions, shares, strict=True) if w > 0}


def _fmt_num(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1e5:
        return format_money(x)
    return f"{x:g}"


# --------------------------------------------------------------------------- loading


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Anything wrong with the file, naming the file and the key path.
    """
    path = Path(path)
    chain = _read_chain(path)
    raw = _resolve(chain)
    try:
        return build_scenario(raw, source=path, own_name=_own_name(chain[0][1], path))
    except ScenarioError as err:
        raise err.with_file(str(_origin(err.path, chain))) from None


def _origin(key_path: str, chain: Sequence[tuple[Path, dict[str, Any]]]) -> Path:
    """The file of an ``extends`` chain that wrote ``key_path`` (or its closest parent).

    A mistake inherited from a base file is reported against the base file; where the
    chain gives no better answer, against the file the user named (``chain[0]``).
    """
    best, best_len = chain[0][0], -1
    for file, document in chain:  # child first: on a tie the overriding file wins
        written = _written_paths(document, "")
        for prefix in _prefixes(key_path):
            if prefix in written and len(prefix) > best_len:
                best, best_len = file, len(prefix)
                break
    return best


def _prefixes(key_path: str) -> list[str]:
    """``a.b[0].c`` -> ``a.b[0].c``, ``a.b[0]``, ``a.b``, ``a`` (longest first)."""
    parts = re.split(r"(?=[.\[])", key_path)
    return ["".join(parts[:i]).lstrip(".") for i in range(len(parts), 0, -1)]


def _written_paths(data: object, path: str) -> set[str]:
    """Every key path a TOML document sets, named as error paths name them."""
    out = {path} if path else set()
    if isinstance(data, dict):
        for key, value in data.items():
            out |= _written_paths(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list) and _is_table_list(data):
        for i, entry in enumerate(data):
            label = entry.get("name", entry.get("label"))
            sub = f"{path}.{label}" if isinstance(label, str) and label else f"{path}[{i}]"
            out |= _written_paths(entry, sub)
    return out


def _own_name(own: Mapping[str, Any], path: Path) -> str:
    """A file that does not name itself is named after its file, not its base's name."""
    table = own.get("scenario")
    if isinstance(table, dict) and "name" in table:
        return _str(table["name"], "scenario.name")
    return path.stem


def resolve_raw(path: Path) -> dict[str, Any]:
    """The TOML of ``path`` with its ``extends`` chain merged in (base first).

    Tables merge key by key; scalars and arrays replace; arrays of tables listed in
    ``_MERGE_KEYS`` merge entry by entry on their name (or label / pair).
    """
    return _resolve(_read_chain(path))


def _read_chain(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Each file of the ``extends`` chain of ``path`` and its TOML, ``path`` first.

    Every file is read once: merging, naming and tracing a mistake to the file that wrote
    it all work on these documents.
    """
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: list[Path] = []  # the resolved paths of the files read so far
    while True:
        data = _read_toml(path)  # first: it turns a symlink loop into a ScenarioError
        real = path.resolve()
        if real in seen:
            cycle = " -> ".join(p.name for p in (*seen, real))
            raise ScenarioError(f"extends cycle: {cycle}", path="scenario.extends", file=str(path))
        chain.append((path, data))
        table = data.get("scenario")
        base_ref = table.get("extends") if isinstance(table, dict) else None
        if base_ref is None:
            return chain
        if not isinstance(base_ref, str) or not base_ref:
            raise ScenarioError(
                f"expected a relative file path, got {base_ref!r}",
                path="scenario.extends",
                file=str(path),
            )
        if len(seen) >= MAX_EXTENDS:
            raise ScenarioError(
                f"more than {MAX_EXTENDS} levels of extends below "
                f"{seen[0].name}; shorten the chain",
                path="scenario.extends",
                file=str(path),
            )
        base_path = path.parent / base_ref
        try:
            found = base_path.is_file()
        except OSError:  # a name too long, a symlink loop: no file either way
            found = False
        if not found:
            raise ScenarioError(
                f"no such file {base_ref!r} (looked in {path.parent})",
                path="scenario.extends",
                file=str(path),
            )
        seen.append(real)
        path = base_path


def _resolve(chain: Sequence[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """Merge the documents of an ``extends`` chain (``path`` first), each over its base."""
    raw = chain[-1][1]
    for _, data in reversed(chain[:-1]):
        child = copy.deepcopy(data)
        del child["scenario"]["extends"]
        raw = _merge(raw, child, "")
    return raw


def _read_toml(path: Path) -> dict[str, Any]:
    """The TOML document in ``path``: a regular file of at most :data:`MAX_FILE_BYTES`.

    A leading UTF-8 byte-order mark is skipped (editors on Windows write one). The
    document may nest tables and arrays at most :data:`MAX_NESTING` deep.
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError("is a folder, not a scenario file", file=str(path))
        if not stat.S_ISREG(info.st_mode):
            # A device (/dev/zero), a pipe or a socket: opening a pipe may block for ever
            # and a device may never end, so they are refused before any read.
            raise ScenarioError(
                "is not a regular file (a device, pipe or socket); give a .toml file",
                file=str(path),
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("no such scenario file", file=str(path)) from None
    except IsADirectoryError:
        raise ScenarioError("is a folder, not a scenario file", file=str(path)) from None
    except OSError as err:
        raise ScenarioError(f"cannot read it: {err.strerror or err}", file=str(path)) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"larger than {MAX_FILE_BYTES // 2**20} MiB, the most a scenario file may be",
            file=str(path),
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"not UTF-8 text ({err.reason})", file=str(path)) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"invalid TOML: {err}", file=str(path)) from None
    except RecursionError:
        # tomllib parses inline tables and arrays recursively: some hundreds deep exhaust
        # Python's stack before any of our checks can name a key.
        raise ScenarioError(
            f"invalid TOML: arrays or inline tables nested too deeply (at most {MAX_NESTING})",
            file=str(path),
        ) from None
    _check_nesting(document, path)
    return document


def _check_nesting(document: dict[str, Any], path: Path) -> None:
    """Refuse tables and arrays nested deeper than :data:`MAX_NESTING`, naming the key.

    Every later step (``extends`` merging, copying, hashing) recurses on the document,
    so its depth is bounded here, without recursion.
    """
    stack: list[tuple[object, str, int]] = [(document, "", 0)]
    while stack:
        value, key_path, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ScenarioError(
                f"tables and arrays nested more than {MAX_NESTING} deep",
                path=key_path,
                file=str(path),
            )
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((item, f"{key_path}.{key}" if key_path else str(key), depth + 1))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                stack.append((item, f"{key_path}[{i}]", depth + 1))


def _merge(base: dict[str, Any], over: dict[str, Any], path: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        here = f"{path}.{key}" if path else key
        old = out.get(key)
        # A distribution table naming another `dist` replaces the old one: the old
        # parameters belong to the old distribution.
        if (
            isinstance(old, dict)
            and isinstance(value, dict)
            and key not in _REPLACED_TABLES
            and ("dist" not in value or value["dist"] == old.get("dist"))
        ):
            out[key] = _merge(old, value, here)
        elif (
            key in _MERGE_KEYS
            and not path
            and isinstance(old, list)
            and _is_table_list(old)
            and _is_table_list(value)
        ):
            out[key] = _merge_entries(old, value, _MERGE_KEYS[key], here)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_table_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _entry_key(entry: dict[str, Any], key: str) -> object:
    value = entry.get(key)
    return tuple(sorted(map(str, value))) if isinstance(value, list) else value


def _merge_entries(
    base: list[dict[str, Any]], over: list[dict[str, Any]], key: str, path: str
) -> list[dict[str, Any]]:
    out = [copy.deepcopy(e) for e in base]
    index = {_entry_key(e, key): i for i, e in enumerate(out) if _entry_key(e, key) is not None}
    for entry in over:
        k = _entry_key(entry, key)
        if k is not None and k in index:
            out[index[k]] = _merge(out[index[k]], entry, path)
        else:
            out.append(copy.deepcopy(entry))
    return out


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


def _choice(value: object, path: str, choices: tuple[_C, ...], *, what: str) -> _C:
    """One of ``choices`` (a string), typed as the choice it is."""
    text = _str(value, path)
    for choice in choices:
        if text == choice:
            return choice
    raise ScenarioError(unknown_key_message(text, choices, what=what), path=path)


def _name(value: object, path: str) -> str:
    text = _str(value, path)
    if not _NAME_RE.match(text) or text in {".", ".."}:
        raise ScenarioError(
            f"expected a name of letters, digits, '.', '_' and '-', got {text!r}", path=path
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


_TOP_KEYS = _declare(
    "",
    required=("scenario", "segments", "valuation"),
    optional=("fx", "shocks", "offering", "targets", "correlations", "expect", "simulation"),
)
_SCENARIO_KEYS = _declare(
    "scenario",
    required=("base_year", "horizon"),
    optional=("name", "description"),
    elsewhere=("extends",),
)
_TARGET_KEYS = _declare("targets", required=("label", "value"))


def build_scenario(raw: Mapping[str, Any], *, source: Path | None, own_name: str) -> Scenario:
    """Validate resolved TOML data into a :class:`Scenario` (see :func:`load_scenario`)."""
    top = _Table(dict(raw), "", _TOP_KEYS)
    fx = _parse_fx(top.get("fx", {}))

    def money(value: object, path: str) -> float:
        return parse_money(value, path=path, fx=fx)

    def fraction(value: object, path: str) -> float:
        return parse_fraction(value, path=path, lo=-math.inf, hi=math.inf)

    sc = _Table(top.need("scenario"), "scenario", _SCENARIO_KEYS)
    name = own_name
    sc.get("name")
    _name(name, "scenario.name")
    description = _str(sc.get("description", ""), "scenario.description")
    base_year = _int(sc.need("base_year"), "scenario.base_year", lo=1900, hi=2200)
    horizon = _int(sc.need("horizon"), "scenario.horizon", lo=1, hi=50)
    sc.done()
    years = tuple(range(base_year + 1, base_year + horizon + 1))

    # Regions are collected first so that shares line up across segments.
    seg_entries = list(_tables(top.need("segments"), "segments", _SEGMENT_KEYS))
    if not seg_entries:
        raise ScenarioError("expected at least one [[segments]] entry", path="segments")
    regions: list[str] = []
    for table, _ in seg_entries:
        for key in ("regions", "regions_at_horizon"):
            value = table.data.get(key)
            if isinstance(value, dict):
                regions.extend(r for r in value if r not in regions)
    region_tuple = tuple(regions)

    segments: list[Segment] = []
    for table, path in seg_entries:
        segments.append(_parse_segment(table, path, region_tuple, money, fraction))
    _unique([s.name for s in segments], "segments", "segment")

    shocks = [
        _parse_shock(t, p, region_tuple, [s.name for s in segments], fraction)
        for t, p in _tables(top.get("shocks", []), "shocks", _SHOCK_KEYS)
    ]
    _unique([k.name for k in shocks], "shocks", "shock")

    valuation = _parse_valuation(
        _ValuationKeys(_Table(top.need("valuation"), "valuation", _valuation_keys()), fx), years
    )
    offering = _parse_offering(top.get("offering"), fx)

    targets = []
    for t, _ in _tables(top.get("targets", []), "targets", _TARGET_KEYS):
        label = _label(t.need("label"), t.key("label"))
        value = t.need("value")
        targets.append(Target(label, money(value, t.key("value")), str(value)))
        t.done()
    _unique([t.label for t in targets], "targets", "target label")

    # The names the correlations and the expectations refer to come first, so that the
    # Scenario is built once, complete.
    inputs = _scalar_inputs(segments, shocks, valuation)
    correlations = _parse_correlations(top.get("correlations", []), inputs)
    parsed = _Parsed(base_year, years, tuple(shocks), offering, tuple(targets))
    expectations = [
        _parse_expect(t, p, parsed, fx)
        for t, p in _tables(top.get("expect", []), "expect", _EXPECT_KEYS)
    ]
    _unique([e.name for e in expectations if e.name], "expect", "expectation name")
    simulation = _parse_simulation(top.get("simulation", {}))
    top.done()

    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return Scenario(
        name=name,
        description=description,
        base_year=base_year,
        horizon=horizon,
        fx=fx,
        regions=region_tuple,
        segments=tuple(segments),
        shocks=tuple(shocks),
        valuation=valuation,
        offering=offering,
        targets=tuple(targets),
        correlations=tuple(correlations),
        expectations=tuple(expectations),
        simulation=simulation,
        source=source,
        raw=raw,
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )


def _unique(names: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ScenarioError(f"duplicate {what} {n!r}", path=f"{path}.{n}")
        seen.add(n)


def _parse_fx(value: object) -> dict[str, float]:
    table = _Table(value, "fx")
    fx: dict[str, float] = {}
    for code in list(table.data):
        path = table.key(code)
        iso = canonical_currency(code)
        if iso == "USD":
            # Amounts are converted to USD, so its rate is 1 by definition; a rate given
            # here would be silently ignored.
            raise ScenarioError(
                "USD is the base currency (its rate is 1 by definition); remove this key",
                path=path,
            )
        if not re.fullmatch(r"[A-Z]{3}", code):
            hint = f"; {code!r} is read as {iso}, so write {iso} = ..." if iso else ""
            raise ScenarioError(f"expected a 3-letter currency code such as HKD{hint}", path=path)
        fx[code] = _num(table.get(code), path, lo=0.0, lo_open=True)
    if "RMB" in fx and "CNY" not in fx:
        fx["CNY"] = fx["RMB"]
    table.done()
    return fx


def _parse_shares(
    value: object, path: str, regions: tuple[str, ...], fraction: Callable[[object, str], float]
) -> tuple[float, ...]:
    table = _Table(value, path)
    if not table.data:
        raise ScenarioError("expected at least one region share", path=path)
    shares = dict.fromkeys(regions, 0.0)
    for region in list(table.data):
        share = fraction(table.get(region), table.key(region))
        if not 0.0 <= share <= 1.0:
            raise ScenarioError(
                f"expected a share in [0, 1], got {share:g}", path=table.key(region)
            )
        shares[region] = share
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"shares must sum to 1, they sum to {total:.6g}", path=path)
    return tuple(shares[r] / total for r in regions)


_SEGMENT_KEYS = _declare(
    "segments",
    required=("name", "revenue", "growth", "regions"),
    optional=(
        *("fade", "terminal_growth", "volatility"),
        *("region_concentration", "regions_at_horizon"),
    ),
)


def _parse_segment(
    t: _Table,
    path: str,
    regions: tuple[str, ...],
    money: Callable[[object, str], float],
    fraction: Callable[[object, str], float],
) -> Segment:
    name = _name(t.need("name"), t.key("name"))
    revenue = parse_distribution(t.need("revenue"), path=t.key("revenue"), value=money)
    _dist_in(revenue, t.key("revenue"), 0.0, math.inf, what="revenue")
    growth = parse_distribution(t.need("growth"), path=t.key("growth"), value=fraction)
    _dist_in(growth, t.key("growth"), -1.0, math.inf, lo_open=True, what="growth")
    fade = _num(t.get("fade", 1.0), t.key("fade"), lo=0.0, hi=1.0)
    terminal = fraction(t.get("terminal_growth", 0.0), t.key("terminal_growth"))
    if terminal <= -1.0:
        raise ScenarioError(
            f"expected a growth rate above -1, got {terminal:g}", path=t.key("terminal_growth")
        )
    vol = _num(t.get("volatility", 0.0), t.key("volatility"), lo=0.0, hi=5.0)
    shares = _parse_shares(t.need("regions"), t.key("regions"), regions, fraction)
    kappa_raw = t.get("region_concentration")
    kappa = None
    if kappa_raw is not None:
        kappa = _num(kappa_raw, t.key("region_concentration"), lo=0.0, lo_open=True)
    horizon_raw = t.get("regions_at_horizon")
    at_horizon = None
    if horizon_raw is not None:
        at_horizon = _parse_shares(horizon_raw, t.key("regions_at_horizon"), regions, fraction)
    t.done()
    return Segment(name, revenue, growth, fade, terminal, vol, shares, kappa, at_horizon)


_SHOCK_KEYS = _declare(
    "shocks",
    required=("name", "regions", "annual_probability", "severity", "recovery_years"),
    optional=("segments", "max_events", "multiple_hit"),
)


def _parse_shock(
    t: _Table,
    path: str,
    regions: tuple[str, ...],
    segment_names: list[str],
    fraction: Callable[[object, str], float],
) -> Shock:
    name = _name(t.need("name"), t.key("name"))
    hit_regions = tuple(
        _str(r, f"{t.key('regions')}[{i}]")
        for i, r in enumerate(_list(t.need("regions"), t.key("regions")))
    )
    if not hit_regions:
        raise ScenarioError("expected at least one region", path=t.key("regions"))
    for i, r in enumerate(hit_regions):
        if r not in regions:
            raise ScenarioError(
                unknown_key_message(r, regions, what="region"), path=f"{t.key('regions')}[{i}]"
            )
    seg_raw = t.get("segments")
    if seg_raw is None:
        hit_segments = tuple(segment_names)
    else:
        hit_segments = tuple(
            _str(s, f"{t.key('segments')}[{i}]")
            for i, s in enumerate(_list(seg_raw, t.key("segments")))
        )
        if not hit_segments:
            raise ScenarioError("expected at least one segment", path=t.key("segments"))
        for i, s in enumerate(hit_segments):
            if s not in segment_names:
                raise ScenarioError(
                    unknown_key_message(s, segment_names, what="segment"),
                    path=f"{t.key('segments')}[{i}]",
                )
    prob = parse_distribution(
        t.need("annual_probability"), path=t.key("annual_probability"), value=fraction
    )
    _dist_in(prob, t.key("annual_probability"), 0.0, 1.0, what="a probability")
    severity = parse_distribution(t.need("severity"), path=t.key("severity"), value=fraction)
    _dist_in(severity, t.key("severity"), 0.0, 1.0, what="severity")
    rec_raw = t.need("recovery_years")
    recovery: Distribution | None
    if isinstance(rec_raw, str) and rec_raw.strip().lower() == "permanent":
        recovery = None
    else:
        if isinstance(rec_raw, str):
            raise ScenarioError(
                f'expected a number of years, a distribution or "permanent", got {rec_raw!r}',
                path=t.key("recovery_years"),
            )
        recovery = parse_distribution(rec_raw, path=t.key("recovery_years"))
        _dist_in(
            recovery, t.key("recovery_years"), 0.0, math.inf, lo_open=True, what="recovery time"
        )
    max_raw = t.get("max_events")
    max_events = None if max_raw is None else _int(max_raw, t.key("max_events"), lo=1)
    hit = fraction(t.get("multiple_hit", 0.0), t.key("multiple_hit"))
    if not 0.0 <= hit < 1.0:
        raise ScenarioError(
            f"expected a fraction in [0, 1), got {hit:g}", path=t.key("multiple_hit")
        )
    t.done()
    return Shock(name, hit_regions, hit_segments, prob, severity, recovery, max_events, hit)


def _valuation_keys() -> _Keys:
    """The shared keys and every registered method's own (see :mod:`sim.valuation`).

    Built from the registry when a table is read, so that a method registered later (a
    new module, or a test's) brings its keys with it.
    """
    keys = table_keys()
    return _Keys(
        "valuation",
        required=tuple(k for k, required in keys.items() if required),
        optional=tuple(k for k, required in keys.items() if not required),
    )


_DECLARED["valuation"] = MappingProxyType(dict(_valuation_keys().declared))


class _ValuationKeys:
    """The ``[valuation]`` table as :class:`sim.valuation.Keys`: what a method reads it by."""

    def __init__(self, table: _Table, fx: Mapping[str, float]) -> None:
        self.table = table
        self.fx = fx

    def path(self, key: str) -> str:
        return self.table.key(key)

    def _value(self, key: str, default: object) -> object:
        return self.table.need(key) if default is None else self.table.get(key, default)

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        lo: float = -math.inf,
        hi: float = math.inf,
        lo_open: bool = False,
    ) -> float:
        return _num(self._value(key, default), self.path(key), lo=lo, hi=hi, lo_open=lo_open)

    def fraction(self, key: str, default: float | None = None) -> float:
        return parse_fraction(
            self._value(key, default), path=self.path(key), lo=-math.inf, hi=math.inf
        )

    def distribution(
        self,
        key: str,
        default: float | None = None,
        *,
        unit: Unit = "number",
        lo: float = -math.inf,
        hi: float = math.inf,
        lo_open: bool = False,
        what: str = "",
    ) -> Distribution:
        fx = self.fx
        readers: dict[str, Callable[[object, str], float]] = {
            "number": plain_number,
            "fraction": lambda v, p: parse_fraction(v, path=p, lo=-math.inf, hi=math.inf),
            "money": lambda v, p: parse_money(v, path=p, fx=fx),
            "signed_money": lambda v, p: parse_money(v, path=p, fx=fx, allow_negative=True),
        }
        path = self.path(key)
        dist = parse_distribution(self._value(key, default), path=path, value=readers[unit])
        if lo > -math.inf or hi < math.inf:
            _dist_in(dist, path, lo, hi, lo_open=lo_open, what=what)
        return dist


def _parse_valuation(keys: _ValuationKeys, years: tuple[int, ...]) -> Valuation:
    """The shared keys here, the method's own in its module (:mod:`sim.valuation`)."""
    t = keys.table
    method = method_class(_str(t.get("method", DEFAULT_METHOD), t.key("method")), t.key("method"))
    year = _int(t.need("year"), t.key("year"))
    if year not in years:
        raise ScenarioError(
            f"expected a simulated year in {years[0]}..{years[-1]}, got {year}", path=t.key("year")
        )
    net_cash = keys.distribution("net_cash", 0.0, unit="signed_money")
    proceeds = keys.distribution("ipo_proceeds", 0.0, unit="money", lo=0.0, what="IPO proceeds")
    valuation = method.parse(keys, Shared(year, net_cash, proceeds))
    t.done()
    return valuation


_OFFERING_KEYS = _declare("offering", required=("shares_outstanding", "price_range"))


def _parse_offering(value: object, fx: Mapping[str, float]) -> Offering | None:
    if value is None:
        return None
    t = _Table(value, "offering", _OFFERING_KEYS)
    shares = _int(t.need("shares_outstanding"), t.key("shares_outstanding"), lo=1)
    pr = _list(t.need("price_range"), t.key("price_range"))
    if len(pr) != 2:
        raise ScenarioError(
            f"expected [low, high], got {len(pr)} values", path=t.key("price_range")
        )
    lo, hi = (parse_money(p, path=f"{t.key('price_range')}[{i}]", fx=fx) for i, p in enumerate(pr))
    if lo > hi:
        raise ScenarioError("expected low <= high", path=t.key("price_range"))
    t.done()
    return Offering(shares, (lo, hi), (str(pr[0]), str(pr[1])))


_CORRELATION_KEYS = _declare("correlations", required=("between", "spearman"))


def _parse_correlations(value: object, known: Mapping[str, Distribution]) -> list[Correlation]:
    out: list[Correlation] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(_list(value, "correlations")):
        path = f"correlations[{i}]"
        t = _Table(entry, path, _CORRELATION_KEYS)
        between = _list(t.need("between"), t.key("between"))
        if len(between) != 2:
            raise ScenarioError(
                f"expected two input names, got {len(between)}", path=t.key("between")
            )
        a, b = (_str(x, f"{t.key('between')}[{j}]") for j, x in enumerate(between))
        for j, n in enumerate((a, b)):
            if n not in known:
                raise ScenarioError(
                    unknown_key_message(n, known, what="input"), path=f"{t.key('between')}[{j}]"
                )
            if known[n].is_fixed:
                raise ScenarioError(
                    f"input {n!r} is fixed: there is nothing to correlate",
                    path=f"{t.key('between')}[{j}]",
                )
        if a == b:
            raise ScenarioError("an input cannot be correlated with itself", path=t.key("between"))
        pair = (min(a, b), max(a, b))
        if pair in seen:
            raise ScenarioError(
                f"duplicate correlation between {a!r} and {b!r}", path=t.key("between")
            )
        seen.add(pair)
        rho = _num(t.need("spearman"), t.key("spearman"), lo=-1.0, hi=1.0)
        t.done()
        out.append(Correlation((a, b), rho))
    if out:
        check_correlation_matrix(out)
    return out


def check_correlation_matrix(correlations: list[Correlation]) -> None:
    """Raise if the implied rank-correlation matrix is not positive semi-definite.

    The error names the pairs whose inputs carry the offending (negative) eigenvector.
    """
    names = sorted({n for c in correlations for n in c.between})
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for c in correlations:
        i, j = index[c.between[0]], index[c.between[1]]
        matrix[i, j] = matrix[j, i] = c.spearman
    values, vectors = np.linalg.eigh(matrix)
    if values[0] >= -1e-10:
        return
    weight = np.abs(vectors[:, 0])
    involved = {names[i] for i in np.flatnonzero(weight > 0.2 * weight.max())}
    pairs = [
        f"{c.between[0]} ~ {c.between[1]} ({c.spearman:g})"
        for c in correlations
        if c.between[0] in involved and c.between[1] in involved
    ]
    raise ScenarioError(
        "correlation matrix is not positive semi-definite (smallest eigenvalue "
        f"{values[0]:.3g}); these pairs are inconsistent: {'; '.join(pairs)}",
        path="correlations",
    )


_EXPECT_KEYS = _declare(
    "expect",
    required=("metric", "stat"),
    # threshold and q are required by some stats; exactly one bound is required.
    optional=("name", "threshold", "q", "at_most", "at_least", "between"),
)


def _parse_expect(t: _Table, path: str, s: _Parsed, fx: Mapping[str, float]) -> Expectation:
    # A name is optional (the design's own examples have none); unnamed ones are shown
    # by their statement.
    name = _label(t.get("name"), t.key("name")) if t.has("name") else ""
    metric = _str(t.need("metric"), t.key("metric"))
    unit = metrics.unit(metric, s, path=t.key("metric"))
    stat = _choice(t.need("stat"), t.key("stat"), EXPECT_STATS, what="stat")
    if unit == "probability" and stat != "mean":
        raise ScenarioError('a shock\'s p_any takes stat = "mean"', path=t.key("stat"))

    def in_unit(value: object, p: str) -> float:
        if unit == "money":
            return parse_money(value, path=p, fx=fx, allow_negative=True)
        return parse_fraction(value, path=p, lo=-math.inf, hi=math.inf)

    threshold = q = None
    if stat in ("p_at_least", "p_below"):
        threshold = in_unit(t.need("threshold"), t.key("threshold"))
        bound_unit = "probability"
    else:
        bound_unit = unit
        if stat == "quantile":
            q = _num(t.need("q"), t.key("q"), lo=0.0, hi=1.0)
            if not 0.0 < q < 1.0:
                raise ScenarioError(
                    f"expected q strictly between 0 and 1, got {q:g}", path=t.key("q")
                )

    def bound(value: object, p: str) -> float:
        if bound_unit == "money":
            return parse_money(value, path=p, fx=fx, allow_negative=True)
        lim = (0.0, 1.0) if bound_unit == "probability" else (-math.inf, math.inf)
        return parse_fraction(value, path=p, lo=lim[0], hi=lim[1])

    given = [k for k in ("at_most", "at_least", "between") if t.has(k)]
    if len(given) != 1:
        raise ScenarioError(
            "expected exactly one of at_most, at_least, between"
            + (f"; got {', '.join(given)}" if given else ""),
            path=path,
        )
    lo: float | None = None
    hi: float | None = None
    if given[0] == "at_most":
        hi = bound(t.get("at_most"), t.key("at_most"))
    elif given[0] == "at_least":
        lo = bound(t.get("at_least"), t.key("at_least"))
    else:
        pair = _list(t.get("between"), t.key("between"))
        if len(pair) != 2:
            raise ScenarioError("expected [low, high]", path=t.key("between"))
        lo, hi = (bound(v, f"{t.key('between')}[{i}]") for i, v in enumerate(pair))
        if lo > hi:
            raise ScenarioError("expected low <= high", path=t.key("between"))
    t.done(("threshold", "q") if stat in ("quantile", "mean") else ())
    if stat == "mean":
        for k in ("threshold", "q"):
            if t.has(k):
                raise ScenarioError(f"not used with stat = {stat!r}", path=t.key(k))
    if stat == "quantile" and t.has("threshold"):
        raise ScenarioError("not used with stat = 'quantile'", path=t.key("threshold"))
    if stat in ("p_at_least", "p_below") and t.has("q"):
        raise ScenarioError(f"not used with stat = {stat!r}", path=t.key("q"))
    return Expectation(name, metric, stat, threshold, q, (lo, hi))


_SIMULATION_KEYS = _declare("simulation", required=(), optional=("paths", "seed", "sampler"))


def _parse_simulation(value: object) -> SimulationDefaults:
    t = _Table(value, "simulation", _SIMULATION_KEYS)
    paths = _int(t.get("paths", DEFAULT_PATHS), t.key("paths"), lo=1, hi=MAX_PATHS)
    seed = _int(t.get("seed", DEFAULT_SEED), t.key("seed"), lo=0, hi=2**63 - 1)
    sampler = _choice(t.get("sampler", "random"), t.key("sampler"), SAMPLERS, what="sampler")
    t.done()
    return SimulationDefaults(paths, seed, sampler)
