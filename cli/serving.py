"""Keeping a foreground server command alive until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading


def wait_until_stopped() -> None:
    """Block until SIGINT (Ctrl-C) or SIGTERM.

    SIGINT is handled explicitly: a shell that starts a command in the background sets it to
    "ignored", and ``kill -INT`` must still stop the simulators cleanly.
    """
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
