"""Where a run's block tasks run: in this process, on worker processes, or on an executor.

Every backend takes the same three things: ``run(context, task) -> outcome`` (the engine's
block function), the ``context`` every task shares (the scenario) and the tasks in
order; it gives back the outcomes in task order and stops whatever still runs on
``close``. :func:`run_tasks` picks one; a new backend (a cluster's client of its own,
say) is one more class with ``__next__`` and ``close`` here, chosen there.

The context is sent to each worker once, not with each task: for the baseline it is
about 2.4 MB (mostly quantile tables), a task a few dozen bytes. Worker processes of our
own receive it when they start. A caller's :class:`concurrent.futures.Executor` has no
hook to prepare its workers, so there every task carries the context: the price of not
keeping a cache at module level in the workers (a per-process cache keyed by the
context's digest would avoid it, at the cost of state that outlives a run).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, Protocol, Self, TypeVar

import numpy as np

from sim.errors import SimError

__all__ = ["IN_FLIGHT_PER_WORKER", "Outcomes", "run_tasks"]

#: Blocks in flight per worker: handed out and not yet merged into the result (blocks
#: merge in order, so a finished block waits for the slower ones before it). The bound
#: keeps memory to a few blocks' outcomes per worker however long the run, while a
#: worker that finishes finds its next block ready. A caller's executor gets one more
#: worker's worth, for the tasks its scheduler holds queued.
IN_FLIGHT_PER_WORKER = 2

Ctx = TypeVar("Ctx")  # the context every task shares
Task = TypeVar("Task")
Out = TypeVar("Out")  # an outcome
Out_co = TypeVar("Out_co", covariant=True)


class Outcomes(Protocol[Out_co]):
    """Outcomes in task order; ``close`` stops whatever still runs."""

    def __iter__(self) -> Iterator[Out_co]: ...

    def __next__(self) -> Out_co: ...

    def close(self) -> None: ...


def run_tasks(
    run: Callable[[Ctx, Task], Out],
    context: Ctx,
    tasks: Iterator[Task],
    *,
    workers: int,
    executor: Executor | None,
    client: Any = None,
    batch: int = 1,
) -> Outcomes[Out]:
    """Run ``run(context, task)`` for each task; the outcomes in task order.

    Parameters
    ----------
    run : callable
        A module-level function (worker processes look it up by name when spawned).
    context : object
        Shared by every task: sent to each worker process once.
    tasks : iterator
        Drawn as they are needed, at most ``IN_FLIGHT_PER_WORKER`` per worker ahead of
        the outcome handed out next.
    workers : int
        1 runs the tasks in this process; more start that many worker processes. With
        ``executor``, the number of tasks it is expected to run at once.
    executor : Executor, optional
        Runs the tasks instead (e.g. a dask.distributed client's executor); the caller
        owns it. Each task then carries the context.
    client : distributed.Client, optional
        Runs the tasks on a dask.distributed cluster (the caller owns the client): the
        context is scattered to every worker once, and ``workers`` is the number of
        tasks the cluster runs at once.
    batch : int
        With ``client``: consecutive tasks sent to the cluster as one (the scheduler's and
        the client's work is per task, a few milliseconds each: on a small cluster that
        is time taken from the workers). The outcomes are the same, in the same order.
    """
    if client is not None:
        window = IN_FLIGHT_PER_WORKER * (workers + 1)
        return _DaskOutcomes(client, run, context, tasks, window, max(1, batch))
    if executor is not None:
        window = IN_FLIGHT_PER_WORKER * (max(workers, 1) + 1)
        pool = executor

        def submit(task: Task) -> Future[Out]:
            return pool.submit(run, context, task)

        return _ExecutorOutcomes(submit, tasks, window)
    if workers == 1:
        return (run(context, t) for t in tasks)
    return _LocalPool(run, context, tasks, workers, IN_FLIGHT_PER_WORKER * workers)


class _ExecutorOutcomes(Generic[Task, Out]):
    """Outcomes in task order from an executor (e.g. dask's), which the caller owns."""

    def __init__(
        self, submit: Callable[[Task], Future[Out]], tasks: Iterator[Task], window: int
    ) -> None:
        self._submit = submit
        self._tasks = tasks
        self._pending: list[Future[Out]] = []
        self._window = window

    def __iter__(self) -> _ExecutorOutcomes[Task, Out]:
        return self

    def __next__(self) -> Out:
        while len(self._pending) < self._window:
            task = next(self._tasks, None)
            if task is None:
                break
            self._pending.append(self._submit(task))
        if not self._pending:
            raise StopIteration
        return self._pending.pop(0).result()

    def close(self) -> None:
        for f in self._pending:
            f.cancel()
        self._pending.clear()


def _run_each(run: Callable[[Ctx, Task], Out], context: Ctx, tasks: list[Task]) -> list[Out]:
    """One cluster task: ``run(context, task)`` for each of ``tasks``, in order."""
    return [run(context, task) for task in tasks]


class _InOrder(Generic[Out]):
    """Outcomes handed out in task order from tasks that finish in any order.

    A subclass sends tasks ahead as far as its window allows (:meth:`_send`), says
    whether any task is still out (:meth:`_waiting`), and waits for at least one to
    finish, putting its outcome into ``_done`` under the task's position
    (:meth:`_collect`).
    """

    def __init__(self) -> None:
        self._done: dict[int, Out] = {}  # finished tasks not yet handed out
        self._next = 0  # the task to hand out next

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Out:
        while self._next not in self._done:
            self._send()
            if not self._waiting():
                raise StopIteration
            self._collect()
        self._next += 1
        return self._done.pop(self._next - 1)

    def _send(self) -> None:
        raise NotImplementedError

    def _waiting(self) -> bool:
        raise NotImplementedError

    def _collect(self) -> None:
        raise NotImplementedError


class _DaskOutcomes(_InOrder[Out], Generic[Ctx, Task, Out]):
    """Outcomes in task order from a dask.distributed cluster, whose client the caller owns.

    The context is scattered to every worker once (``broadcast``; a worker that joins
    later fetches it from a peer) and each task refers to it, so a task is a few dozen
    bytes on the wire. At most ``window`` tasks are submitted ahead of the outcome handed
    out next; finished ones are collected as they complete (``as_completed``), so a slow
    block holds back the merge, not the workers.
    """

    def __init__(
        self,
        client: Any,
        run: Callable[[Ctx, Task], Out],
        context: Ctx,
        tasks: Iterator[Task],
        window: int,
        batch: int = 1,
    ) -> None:
        from distributed import as_completed

        super().__init__()
        self._client = client
        self._run = run
        self._tasks = tasks
        self._batch = batch
        self._window = window * batch  # in tasks of the caller's, not the cluster's
        self._context = client.scatter(context, broadcast=True, hash=False)
        self._running: dict[Any, int] = {}  # future -> its first task (by position)
        self._sent = 0
        self._completed = as_completed()

    def _waiting(self) -> bool:
        return bool(self._running)

    def _collect(self) -> None:
        future = next(self._completed)
        first = self._running.pop(future)
        for i, outcome in enumerate(future.result()):
            self._done[first + i] = outcome
        future.release()

    def _send(self) -> None:
        while self._sent < self._next + self._window:
            batch = list(itertools.islice(self._tasks, self._batch))
            if not batch:
                return
            future = self._client.submit(_run_each, self._run, self._context, batch, pure=False)
            self._running[future] = self._sent
            self._completed.add(future)
            self._sent += len(batch)

    def close(self) -> None:
        """Cancel the tasks still queued or running and release the scattered context."""
        if self._running:
            self._client.cancel(list(self._running))
        self._running.clear()
        self._done.clear()
        self._completed.clear()
        if self._context is not None:
            self._client.cancel([self._context])
            self._context = None


#: Signals the parent process handles for a whole run (where the platform has them).
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP in this thread until the block is done.

    A held signal is delivered when the block ends, so nothing is lost; meanwhile the
    block cannot be cut short half-way (a worker started but not recorded, for one).
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover (Windows)
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (its ``__cause__``)."""


def _worker(conn: Connection, parent: int, run: Callable[[Ctx, Task], Out], context: Ctx) -> None:
    """A worker process: run the tasks it is sent, one at a time, until told to stop.

    ``context`` arrives once, with the process's arguments; each task is sent alone.
    """
    # The parent handles Ctrl-C and a closed terminal for the whole run, and stops its
    # workers itself: a signal to the process group must not kill a worker mid-block
    # (a traceback each) nor leave the parent waiting for it. SIGTERM stays the way to
    # stop a worker. The parent started this process with these signals held.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    while True:
        # Wake up now and then: a worker whose parent was killed outright exits too.
        while not conn.poll(1.0):
            if os.getppid() != parent:
                return
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            reply: tuple[Any, ...] = (run(context, task), None, "")
        except Exception as err:
            reply = (None, _portable(err), traceback.format_exc())
        try:
            _send(conn, reply)
        except OSError:  # the parent is gone
            return


#: How often a worker checks that its parent is alive, in seconds.
PARENT_CHECK_S = 0.25


def _watch_parent(parent: int) -> None:
    """Exit this worker process at once when its parent is gone (a thread of its own).

    A parent killed outright (SIGKILL, the out-of-memory killer) cannot stop its workers,
    and a worker in the middle of a block (or a report page) would go on for seconds or
    minutes before it next read its pipe. Orphaned, it is adopted by another process and
    its parent id changes: then nothing of its work can be delivered, so it exits
    without clean-up (there is none to do: it writes no files).
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


#: Where a Connection is a file descriptor (POSIX), large buffers bypass its framing.
_RAW = sys.platform != "win32"


def _send(conn: Connection, reply: object) -> None:
    """Send ``reply`` to the parent: the pickle, then each large array's bytes as they are.

    A block's outcome can hold tens of megabytes of arrays (the paths kept exactly).
    Pickled whole and read back through a Connection, each byte was copied four times
    (the pickle, the Connection's growing read buffer, its value, the arrays unpickled),
    with the worker waiting on the parent all the while. Out-of-band buffers (pickle
    protocol 5) go over the same pipe as they lie in memory and are read straight into
    the arrays the parent keeps (:func:`_recv`): the parent's work per kept block halves.
    """
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(reply, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    conn.send((data, [raw.nbytes for raw in raws]))
    for raw in raws:
        if _RAW:
            while raw.nbytes:
                raw = raw[os.write(conn.fileno(), raw) :]
        else:  # pragma: no cover (Windows)
            conn.send_bytes(raw)


def _recv(conn: Connection) -> Any:
    """A reply sent by :func:`_send`; raises EOFError if the worker is gone."""
    data, sizes = conn.recv()
    buffers = []
    for size in sizes:
        buffer = np.empty(size, dtype=np.uint8)  # not zeroed: every byte is read into it
        if _RAW:
            view = buffer.data
            while view.nbytes:
                got = os.readv(conn.fileno(), [view])
                if got == 0:
                    raise EOFError
                view = view[got:]
        else:  # pragma: no cover (Windows)
            conn.recv_bytes_into(buffer)
        buffers.append(buffer)
    return pickle.loads(data, buffers=buffers)


def _portable(err: Exception) -> Exception:
    """``err`` if it survives the trip to the parent process, else a stand-in naming it."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        stand_in = SimError if isinstance(err, SimError) else RuntimeError
        return stand_in(f"{type(err).__name__}: {err}")
    return err


class _LocalPool(_InOrder[Out], Generic[Ctx, Task, Out]):
    """Worker processes of our own, one pipe each; outcomes in task order.

    A process pool built on shared queues can hang when it is interrupted (a worker
    stopped while holding a queue's lock, an idle worker killed by the Ctrl-C that the
    parent is handling): here every worker has its own pipe, ignores the signals the
    parent handles, and is killed outright on ``close``, so an interrupted run stops
    within moments of the signal whatever the workers are doing.
    """

    def __init__(
        self,
        run: Callable[[Ctx, Task], Out],
        context: Ctx,
        tasks: Iterator[Task],
        workers: int,
        window: int,
    ) -> None:
        super().__init__()
        self._tasks = tasks
        self._window = window
        self._procs: list[multiprocessing.process.BaseProcess] = []
        self._conns: list[Connection] = []
        self._busy: dict[int, int] = {}  # worker -> the task (by position) it runs
        self._sent = 0  # tasks sent so far
        self._queued: Task | None = None
        ctx = multiprocessing.get_context()
        try:
            # Started with the signals held: a Ctrl-C in between would reach a worker
            # before it could ignore it.
            with _signals_held():
                for i in range(workers):
                    mine, theirs = ctx.Pipe()
                    proc = ctx.Process(
                        target=_worker,
                        args=(theirs, os.getpid(), run, context),
                        name=f"ipo-sim worker {i}",
                        daemon=True,
                    )
                    self._conns.append(mine)
                    proc.start()
                    self._procs.append(proc)
                    theirs.close()
        except BaseException:
            self.close()
            raise

    def _waiting(self) -> bool:
        return bool(self._busy)

    def _collect(self) -> None:
        for conn in wait([self._conns[i] for i in self._busy]):
            i = self._conns.index(conn)  # type: ignore[arg-type]
            self._receive(i)

    def _send(self) -> None:
        """Give each idle worker the next task, at most ``window`` tasks ahead."""
        for i in range(len(self._conns)):
            if i in self._busy:
                continue
            if self._sent >= self._next + self._window:
                return
            if self._queued is None:
                self._queued = next(self._tasks, None)
            if self._queued is None:
                return
            self._conns[i].send(self._queued)
            self._busy[i] = self._sent
            self._sent += 1
            self._queued = None

    def _receive(self, i: int) -> None:
        position = self._busy.pop(i)
        try:
            outcome, err, text = _recv(self._conns[i])
        except EOFError:
            proc = self._procs[i]
            proc.join(timeout=1)
            raise SimError(
                f"a worker process stopped unexpectedly while running block {position} "
                f"(exit code {proc.exitcode}; out of memory?)"
            ) from None
        if err is not None:
            raise err from _RemoteTraceback(text)
        self._done[position] = outcome

    def close(self) -> None:
        """Kill the workers, whatever they are doing (a Ctrl-C here is held until done)."""
        with _signals_held():
            for proc in self._procs:
                if proc.is_alive():
                    proc.kill()
            for proc in self._procs:
                proc.join()
            for conn in self._conns:
                conn.close()
            self._procs.clear()
            self._conns.clear()
            self._busy.clear()
            self._done.clear()
