"""The ``ipo-sim`` console script and ``python -m sim``.

It imports the command line inside the handling of Ctrl-C, so that an interrupt while
the modules load ends in one line and exit code 130, as one during a run does (the
command line's own handling covers everything after its import).
"""

from __future__ import annotations

import signal
import sys


def main() -> int:
    """Import the command line and run it; returns the exit code."""
    try:
        from sim.cli import main as cli_main
    except KeyboardInterrupt:
        # The command line is not loaded yet, so its printing is not at hand.
        sys.stderr.write("ipo-sim: interrupted\n")
        return 128 + signal.SIGINT
    return cli_main()
