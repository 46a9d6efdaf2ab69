"""Ctrl-C held back over a few lines that must finish (e.g. writing results.json).

A Ctrl-C inside `deferred_interrupt()` is remembered and delivered when the block ends, to
whatever SIGINT handler was installed before (Python's `KeyboardInterrupt`, or the pool's
"second Ctrl-C: exit at once"), so the results files are whole or not begun, never half.
Only the main thread can set signal handlers; elsewhere the block runs unchanged.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:  # SIG_DFL (or unknown): what Python does by default
            raise KeyboardInterrupt
