"""``python -m sim`` is the ``ipo-sim`` command."""

from sim._entry import main

raise SystemExit(main())
