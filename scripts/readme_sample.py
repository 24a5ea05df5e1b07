"""Regenerate the sample output in README.md from the command the README documents.

Runs ``ipo-sim run scenarios/baseline.toml`` (as ``python -m sim``, with ``--format json``
into a temporary folder: the printed table is the same for every format) and writes what
it prints, less the closing "wrote ... files" line, between the README's markers::

    python scripts/readme_sample.py          # rewrite the block in README.md
    python scripts/readme_sample.py --check  # exit 1 if the block is out of date

The run time on the first line differs from run to run; ``--check`` (and
tests/test_readme_sample.py) compare the block with it masked.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
COMMAND = ("run", "scenarios/baseline.toml")
BEGIN = "<!-- sample-output: python scripts/readme_sample.py -->"
END = "<!-- end sample-output -->"
_ELAPSED = re.compile(r"(, \w+ sampler, )\d+(?:\.\d+)? s$", re.MULTILINE)


def run_sample() -> str:
    """What the documented command prints, less the closing "wrote N files" line."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "sim", *COMMAND, "--format", "json", "--out", tmp],
            cwd=ROOT,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"ipo-sim {' '.join(COMMAND)} failed ({done.returncode}):\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if not line.startswith("  wrote ")]
    return "\n".join(lines) + "\n"


def block(text: str) -> str:
    """The sample output now in ``text`` (README.md's contents), without the code fence."""
    try:
        inner = text.split(BEGIN, 1)[1].split(END, 1)[0]
    except IndexError:
        raise SystemExit(f"README.md lacks the markers {BEGIN!r} ... {END!r}") from None
    return inner.strip("\n").removeprefix("```").removesuffix("```").strip("\n") + "\n"


def masked(output: str) -> str:
    """``output`` with the run time on its first line replaced by ``<t>``."""
    return _ELAPSED.sub(r"\g<1><t> s", output)


def replace_block(text: str, output: str) -> str:
    """``text`` with the sample output between the markers replaced by ``output``."""
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n```\n{output}```\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    output = run_sample()
    if args.check:
        if masked(block(text)) != masked(output):
            print("README.md's sample output is stale: run python scripts/readme_sample.py")
            return 1
        return 0
    README.write_text(replace_block(text, output), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
