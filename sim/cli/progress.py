"""Progress on stderr: tqdm bars for the long steps, one line for the others, and none
off a terminal or with ``--quiet``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _status(message: str, *, quiet: bool) -> None:
    """One progress line on stderr for a step without a bar, at a terminal only."""
    if not quiet and sys.stderr.isatty():
        print(f"ipo-sim: {message}", file=sys.stderr, flush=True)


@contextmanager
def _bar(label: str, unit: str, *, quiet: bool, total: int | None = None) -> Iterator[Any]:
    """A tqdm bar on stderr; ``None`` when stderr is not a terminal or with --quiet."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        unit=unit,
        unit_scale=unit == "path",
        desc=label,
        file=getattr(sys.stderr, "inner", sys.stderr),  # the bar's own escapes, not escaped
        leave=False,
        dynamic_ncols=True,
    )
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def _lazy_bar(
    label: str, unit: str, *, quiet: bool
) -> Iterator[Callable[[int, int], None] | None]:
    """A report writer's ``progress(done, total)`` hook: a tqdm bar on stderr, made at its
    first call (a run that draws no report shows none); ``None`` where :func:`_bar` is."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bars: list[Any] = []

    def tick(done: int, total: int) -> None:
        if not bars:
            from tqdm import tqdm

            bars.append(
                tqdm(
                    total=total,
                    unit=unit,
                    desc=label,
                    file=sys.stderr,
                    leave=False,
                    dynamic_ncols=True,
                )
            )
        bars[0].total = total
        bars[0].update(done - bars[0].n)

    try:
        yield tick
    finally:
        for bar in bars:
            bar.close()
