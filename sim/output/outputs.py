"""Output folders of the ``ipo-sim`` command, written whole or not at all.

Each output folder is written in a hidden temporary folder beside it and then swapped in
with two renames (old out, new in), so it holds exactly one run's files. A folder that
ipo-sim did not write is never replaced; temporary folders left by runs stopped outright
are removed by later runs; a Ctrl-C (or SIGTERM, SIGHUP) during the swap is held until
the swap is done. Used by :mod:`sim.cli` only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.errors import SimError

__all__ = ["STALE_AFTER_S", "Stopped", "check_out", "write_outputs"]

#: Files ipo-sim writes into an output folder: a folder holding anything else is not
#: replaced (it may be a user's own folder that a scenario name happens to match).
_OUR_FILES = re.compile(
    r"(summary\.json|summary\.csv|summary\.txt|summary\.xlsx|report\.pdf|comparison\.json|comparison\.pdf"
    r"|sweep\.json|sweep\.csv|sweep\.pdf|[^/]+\.png)"
)
#: A temporary folder left by a run stopped outright (SIGKILL, power loss) is removed by
#: a later run once its process is gone, or once it is this old (its process id may have
#: been reused), in seconds.
STALE_AFTER_S = 24 * 3600


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, taken like a Ctrl-C: the run stops and cleans up after itself."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def check_out(out: Path, names: Sequence[str]) -> None:
    """Fail before any simulation if the outputs could not be written into ``out``.

    Creates ``out`` and writes (and removes) a probe there; refuses a folder to be
    replaced that is not a folder, or that holds files ipo-sim does not write.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SimError(f"--out: {out} is a file, not a folder") from None
    except OSError as err:
        raise SimError(f"--out: cannot create the folder {out}: {_reason(err)}") from None
    if not out.is_dir():
        raise SimError(f"--out: {out} is a file, not a folder")
    probe: Path | None = None
    try:
        probe = Path(
            tempfile.mkdtemp(
                prefix=_temp_prefix(names[0] if names else "ipo-sim"), suffix=".tmp", dir=out
            )
        )
        (probe / "probe").write_bytes(b"ipo-sim")
    except OSError as err:
        raise SimError(f"--out: cannot write in {out}: {_reason(err)}") from None
    finally:
        if probe is not None:
            shutil.rmtree(probe, ignore_errors=True)
    for name in names:
        _check_ours(out / name)


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


def _check_ours(folder: Path) -> None:
    """Raise unless ``folder`` is absent, empty, or holds one earlier run's outputs."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        kind = "a symbolic link" if folder.is_symlink() else "a file"
        raise SimError(
            f"--out: {folder} is {kind}, not an output folder of ipo-sim; refusing to replace "
            "it (choose another --out or [scenario] name)"
        )
    entries = sorted(folder.iterdir())
    foreign = [
        p.name
        for p in entries
        if p.is_symlink() or not p.is_file() or not _OUR_FILES.fullmatch(p.name)
    ]
    names = {p.name for p in entries}
    if entries and (foreign or not names & {"summary.json", "comparison.json", "sweep.json"}):
        example = f" such as {foreign[0]!r}" if foreign else ""
        raise SimError(
            f"--out: {folder} holds files ipo-sim did not write{example}; refusing to replace "
            "it (choose another --out or [scenario] name, or empty the folder)"
        )


#: The start of every temporary folder's name. Hidden: a scenario name cannot start with
#: '.' (sim.scenario), so no output folder can look like a temporary one and be removed.
TEMP_PREFIX = ".ipo-sim-tmp."


def _temp_prefix(name: str) -> str:
    """The start of a temporary folder's name for ``name``: reserved, with our process id."""
    return f"{TEMP_PREFIX}{name}.{os.getpid()}."


def _remove_stale(folder: Path) -> None:
    """Remove temporary folders for ``folder`` left by runs that were stopped outright."""
    pattern = re.compile(
        rf"{re.escape(TEMP_PREFIX)}{re.escape(folder.name)}\.(\d+)\.[A-Za-z0-9_]+\.tmp"
    )
    for entry in folder.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            age = time.time() - entry.stat().st_mtime
        except OSError:
            continue
        if age > STALE_AFTER_S or not _alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, say: alive
        return True
    return True


def write_outputs(folder: Path, write: Callable[[Path], list[Path]]) -> list[Path]:
    """Write a new ``folder`` in a temporary folder beside it, then replace it whole.

    The folder then holds exactly this run's files, never a mix with an earlier run's.
    An interruption or error while writing leaves the previous folder as it was and no
    partial file; a Ctrl-C (or SIGTERM, SIGHUP) during the (quick) swap is held until it
    is done. A folder that ipo-sim did not write is never replaced (see _check_ours).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(folder)
    tmp = Path(
        tempfile.mkdtemp(prefix=_temp_prefix(folder.name), suffix=".tmp", dir=folder.parent)
    )
    try:
        new = tmp / "new"
        new.mkdir()
        written = write(new)
        with _interrupts_deferred():
            _check_ours(folder)  # again: time has passed since the check before the run
            if folder.exists():
                os.replace(folder, tmp / "old")
            os.replace(new, folder)
        return [folder / path.relative_to(new) for path in written]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C, SIGTERM or SIGHUP until the block is done, then act on it.

    Main thread only; a signal that is ignored stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[int, Any] = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None or signal.getsignal(signum) == signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
    if caught:
        if caught[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise Stopped(caught[0])
