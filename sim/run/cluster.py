"""A dask.distributed cluster for a command's runs: ``--scheduler ADDRESS`` or ``local``.

:class:`Cluster` is opened lazily, on the first run that needs it (so a scenario with a
bad key fails before anything connects), serves every run of the command and is closed
once at the end, also on an error or Ctrl-C. ``local`` starts a LocalCluster of
``workers`` processes with one thread each; an address connects to a running scheduler
(``dask scheduler``) whose workers (``dask worker ADDRESS``) must be able to import
``sim``. dask is an optional extra: ``pip install "ipo-sim[distributed]"``.
"""

from __future__ import annotations

import logging
import signal
import warnings
from typing import Any

from sim.errors import SimError

__all__ = ["CONNECT_TIMEOUT_S", "INSTALL_HINT", "LOCAL", "Cluster"]

#: Seconds to wait for a scheduler to answer before giving up with one line.
CONNECT_TIMEOUT_S = 5
#: The ``--scheduler`` value that starts a LocalCluster on this machine.
LOCAL = "local"
INSTALL_HINT = 'pip install "ipo-sim[distributed]"'

#: dask's nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``, which also
#: turns off glibc's adaptive mmap threshold: every numpy temporary over 128 KiB is then
#: mapped and unmapped afresh, and a block runs about 1.3x slower (measured: 1.74 s
#: against 2.26 s for 10^6 baseline paths in one process). A LocalCluster's workers are
#: started without it; for workers started by hand, see the README.
_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
#: A dask worker samples its own stack every 10 ms for the dashboard's profile, which a
#: LocalCluster started here (no dashboard) has no use for.
_PROFILE = "distributed.worker.profile.enabled"


class Cluster:
    """A dask.distributed client, connected on first use and closed by :meth:`close`."""

    def __init__(self, address: str, workers: int) -> None:
        self.address = address
        self.workers = workers
        self._client: Any = None
        self._local: Any = None

    def client(self) -> tuple[Any, int]:
        """The client and the number of blocks the cluster runs at once (its threads)."""
        if self._client is None:
            self._connect()
        threads = sum(self._client.nthreads().values())
        if threads < 1:
            raise SimError(f"the dask scheduler at {self.address} has no workers")
        return self._client, threads

    def _connect(self) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise SimError(
                f"--scheduler needs dask.distributed, which is not installed: {INSTALL_HINT}"
            ) from None
        if self.address == LOCAL:
            # The worker processes are started with Ctrl-C ignored: the command handles it
            # and closes the cluster, rather than each worker printing a traceback.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                with dask.config.set({_TRIM: None, _PROFILE: False}), warnings.catch_warnings():
                    # Another cluster on this machine holds dask's HTTP port: ours takes
                    # a free one, which needs no warning (there is no dashboard to find).
                    warnings.filterwarnings("ignore", message="Port .* is already in use")
                    self._local = LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        # Not the nanny's warnings about workers it stops at the end.
                        silence_logs=logging.ERROR,
                    )
            finally:
                signal.signal(signal.SIGINT, previous)
            self._client = Client(self._local)
            return
        try:
            self._client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise SimError(
                f"--scheduler: cannot connect to a dask scheduler at {self.address!r} ({reason})"
            ) from None

    def close(self) -> None:
        """Disconnect, and stop the LocalCluster if this started one."""
        client, local = self._client, self._local
        self._client = self._local = None
        if client is not None:
            client.close()
        if local is not None:
            # Stopping a LocalCluster mid-run (Ctrl-C) makes its scheduler, which runs in
            # this process, log the work it drops: the command has said what happened.
            for name in ("distributed", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
            local.close()
