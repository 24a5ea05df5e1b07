"""``python -m sim`` is the ``ipo-sim`` command."""

from sim.cli import main

raise SystemExit(main())
