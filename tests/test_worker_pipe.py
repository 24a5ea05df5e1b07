"""A worker's reply to the parent: the pickle, then large arrays' bytes as they lie."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

from sim.run.workers import _recv, _send


def test_arrays_of_every_layout_come_back_equal_and_writable() -> None:
    rng = np.random.default_rng(5)
    big = rng.random((70_000, 4, 4))  # 9 MB: more than a pipe holds, sent as it lies
    reply = (
        {"c": big, "f": np.asfortranarray(big[:1000, :, 0]), "strided": big[::3, 1]},
        None,
        "text",
    )
    here, there = multiprocessing.Pipe()
    sender = threading.Thread(target=_send, args=(there, reply))
    sender.start()
    got = _recv(here)
    sender.join()
    assert got[1:] == (None, "text")
    for key, value in reply[0].items():
        assert np.array_equal(got[0][key], value), key
        assert got[0][key].flags.writeable, key
    got[0]["c"][0, 0, 0] = -1.0  # the parent owns what it received


def test_a_worker_gone_mid_array_is_an_end_of_file() -> None:
    here, there = multiprocessing.Pipe()
    there.send((b"", [1_000]))  # the header promises 1,000 bytes
    there.send_bytes(b"x" * 10)  # some arrive, then the worker is gone
    there.close()
    with pytest.raises(EOFError):
        _recv(here)
