"""Runs in a child interpreter under a hard time limit (`run_timeout_s`), for the Dask executor.

A Dask task runs in a worker thread, which nothing can stop, and Dask's worker processes are
daemonic (multiprocessing refuses them children).  So each worker thread keeps one child
interpreter (`subprocess`, its own process group) that runs its runs one after another (the
imports, ~1 s, are paid once, as in the local pool's worker processes) and waits for each
at most `run_timeout_s`: past it, the child's whole group (the run and any compiler it
started) is killed, the row says "TimeoutError: run exceeded N s @ <stage>" as the local
pool's does, and the next run starts a fresh child.  A child that dies is that run's
failing row.  Results travel as the local pool's sealed bytes (`pool._sealed_run`) over the
child's own copy of stdout; whatever a run prints goes to stderr.  A child whose worker
goes away sees its stdin close and exits.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Callable

from mlonmcu_lite.harness.pool import _exit_text, _opened, _sealed_run, failed_result
from mlonmcu_lite.harness.runner import execute_run, first_line, last_stage, run_directory
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.reports.schema import RunResult

START_TIMEOUT_S = 300.0  # a child's imports, not counted in any run's time
_HEADER = struct.Struct("<Q")
_local = threading.local()


class _ChildGone(Exception):
    """The child closed its end (it died) before answering."""


class _Child:
    """One child interpreter serving runs over its stdin / stdout (length-prefixed pickles)."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # this worker's imports
        self.proc = subprocess.Popen([sys.executable, "-m", __name__], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, start_new_session=True)
        self._buffer = b""
        self._read(START_TIMEOUT_S)  # "ready": the imports are done

    def run(self, worker: Callable, spec: RunSpec, limit: float) -> bytes:
        """The sealed result; raises TimeoutError past `limit`, _ChildGone if it died."""
        data = pickle.dumps((worker, spec))
        try:
            self.proc.stdin.write(_HEADER.pack(len(data)) + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _ChildGone() from exc
        return self._read(limit)

    def _read(self, limit: float) -> bytes:
        deadline = time.monotonic() + limit
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                if len(self._buffer) >= _HEADER.size:
                    (size,) = _HEADER.unpack_from(self._buffer)
                    if len(self._buffer) >= _HEADER.size + size:
                        message = self._buffer[_HEADER.size:_HEADER.size + size]
                        self._buffer = self._buffer[_HEADER.size + size:]
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise TimeoutError()
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise _ChildGone()
                self._buffer += chunk

    def kill(self) -> int | None:
        """Kill the child's process group; its exit status."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.proc.wait()


def run_bounded(spec: RunSpec, worker: Callable[[RunSpec], RunResult] = execute_run) -> RunResult:
    """`worker(spec)` in this thread's child interpreter, stopped after `spec.settings.run_timeout_s`."""
    limit = spec.settings.run_timeout_s
    child = getattr(_local, "child", None)
    if child is None or child.proc.poll() is not None:
        try:
            child = _local.child = _Child()
        except (TimeoutError, _ChildGone):
            _local.child = None
            return failed_result(spec, f"WorkerCrashed: the run's process did not start within {START_TIMEOUT_S:g} s "
                                       f"@ {last_stage(run_directory(spec))}")
    try:
        payload = child.run(worker, spec, limit)
    except TimeoutError:
        _local.child = None
        child.kill()
        return failed_result(spec, f"TimeoutError: run exceeded {limit:g} s @ {last_stage(run_directory(spec))}")
    except _ChildGone:
        _local.child = None
        code = child.proc.wait()
        return failed_result(spec, f"WorkerCrashed: the run's process died ({_exit_text(code)}) "
                                   f"@ {last_stage(run_directory(spec))}")
    except BaseException:
        _local.child = None
        child.kill()
        raise
    try:
        return _opened(payload)
    except Exception as exc:  # noqa: BLE001 - this run's failure only
        return failed_result(spec, f"ResultNotTransferable: {type(exc).__name__}: {first_line(exc)} "
                                   f"@ {last_stage(run_directory(spec))}")


def _serve() -> None:
    """In the child: answer "ready", then one sealed result per (worker, spec) received."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what runs print goes to stderr, never into the results
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the session's to handle

    def send(data: bytes) -> None:
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()

    send(b"ready")
    source = sys.stdin.buffer
    while True:
        header = source.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the worker went away
        (size,) = _HEADER.unpack(header)
        worker, spec = pickle.loads(source.read(size))
        send(_sealed_run(worker, spec))


if __name__ == "__main__":
    _serve()
