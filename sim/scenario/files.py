"""Reading scenario files: bounded TOML reads, the ``extends`` chain and its merge rules."""

from __future__ import annotations

import copy
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.keys import _str
from sim.scenario.types import (
    _MERGE_KEYS,
    _REPLACED_TABLES,
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    MAX_NESTING,
)
from sim.valuation import DEFAULT_METHOD, METHODS, SHARED_KEYS, SHARED_VALUE_KEYS

# --------------------------------------------------------------------------- loading


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


def _read_chain(
    path: Path, text: str | None = None, base_dir: Path | None = None
) -> list[tuple[Path, dict[str, Any]]]:
    """Each file of the ``extends`` chain of ``path`` and its TOML, ``path`` first.

    Every file is read once: merging, naming and tracing a mistake to the file that wrote
    it all work on these documents. With ``text``, the first document is that TOML text
    and ``path`` only names it in messages; its ``extends`` is then relative to
    ``base_dir``, and without one an ``extends`` is refused.
    """
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: list[Path] = []  # the resolved paths of the files read so far
    if text is None:
        data = _read_toml(path)
    else:
        data = _parse_toml(text.encode("utf-8", "surrogatepass"), path)
    folder: Path | None = path.parent if text is None else base_dir
    while True:
        # Reading first turns a symlink loop into a ScenarioError.
        real = path.resolve() if text is None or chain else None
        if real is not None and real in seen:
            cycle = " -> ".join(p.name for p in (*seen, real))
            raise ScenarioError(f"extends cycle: {cycle}", path="scenario.extends", file=str(path))
        chain.append((path, data))
        if "extends" in data:
            # A top-level extends would otherwise be read as a file without a base and
            # refused for its missing [scenario] keys, which says nothing of the cause.
            raise ScenarioError(
                "extends belongs in the [scenario] table (scenario.extends), not at the top "
                "of the file",
                path="extends",
                file=str(path),
            )
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
        if folder is None:
            raise ScenarioError(
                f"extends {base_ref!r} needs the folder it is relative to: pass base_dir",
                path="scenario.extends",
                file=str(path),
            )
        if len(chain) - 1 >= MAX_EXTENDS:
            raise ScenarioError(
                f"more than {MAX_EXTENDS} levels of extends below "
                f"{chain[0][0].name}; shorten the chain",
                path="scenario.extends",
                file=str(path),
            )
        base_path = folder / base_ref
        _check_base(base_path, base_ref, folder, path)
        if real is not None:
            seen.append(real)
        path = base_path
        data = _read_toml(path)
        folder = path.parent


def _check_base(base_path: Path, base_ref: str, folder: Path, path: Path) -> None:
    """Refuse an ``extends`` target that is not a regular file, saying what it is instead.

    A folder or a FIFO exists, so "no such file" would send the user looking for a typo;
    a pipe is refused before it is opened (opening one may block for ever).
    """
    try:
        mode = base_path.stat().st_mode
    except FileNotFoundError:
        problem = f"no such file {base_ref!r} (looked in {folder})"
    except OSError as err:  # a name too long, a symlink loop, no permission
        problem = f"{base_ref!r} cannot be read ({err.strerror or err})"
    else:
        if stat.S_ISREG(mode):
            return
        if stat.S_ISDIR(mode):
            problem = f"{base_ref!r} is a folder, not a scenario file"
        else:
            problem = f"{base_ref!r} is not a regular file (a device, pipe or socket)"
    message = f"{problem}; give the path of a .toml file, relative to {path.name}"
    raise ScenarioError(message, path="scenario.extends", file=str(path))


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
    return _parse_toml(data, path)


def _parse_toml(data: bytes, path: Path) -> dict[str, Any]:
    """The TOML document in ``data`` (at most :data:`MAX_FILE_BYTES`, nesting bounded);
    ``path`` names it in messages."""
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


def _method_keys(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """The base's ``[valuation]`` as an override naming another method sees it: the keys
    the new method takes (the shared ``year``, ``net_cash``, ``ipo_proceeds`` and its own);
    the old method's own keys belong to the old method. An unknown method keeps them all
    (the loader names the method)."""
    old_method = base.get("method", DEFAULT_METHOD)
    new_method = over.get("method", old_method)
    if new_method == old_method or new_method not in METHODS:
        return base
    takes = {*SHARED_KEYS, *SHARED_VALUE_KEYS, *METHODS[new_method].own_keys}
    return {k: v for k, v in base.items() if k in takes}


def _merge(base: dict[str, Any], over: dict[str, Any], path: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    old_val, new_val = out.get("valuation"), over.get("valuation")
    if not path and isinstance(old_val, dict) and isinstance(new_val, dict):
        out["valuation"] = _method_keys(old_val, new_val)
        # A base's peer table sets the multiple: a method with none leaves it behind.
        method = METHODS.get(new_val.get("method", ""))
        if method is not None and "multiple" not in method.own_keys:
            out.pop("comparables", None)
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
