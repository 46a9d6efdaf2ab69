"""Parallel runs in worker processes, with per-run timeouts and crash isolation.

pebble's process pool kills a worker that exceeds its timeout (the thread
pools and futures of the standard library cannot), and reports a worker that
died (e.g. a native crash) as an error instead of hanging.

Interruption: workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group)
and die with the session (`PR_SET_PDEATHSIG`, so `kill -9` of `bench` leaves none behind).
The first Ctrl-C stops scheduling and cancels the running workers; the runs that finished
keep their results, the others become failing rows "Interrupted ... @ <stage>", and
`RunsInterrupted` carries all rows to the caller (which writes the partial report).  A
second Ctrl-C exits at once with status 130.

Results cross the process boundary as sealed bytes (`_sealed_run`): pebble unpickles what a
worker sends in its message thread, and an object that fails to load there (e.g. a recursion
in a cost view's `__getattr__`) kills that thread, so every later future waits forever.  Bytes
always load; the worker checks that its result loads back, and the session opens the bytes
itself (`_opened`), so such a run is a failing row naming its stage.  A watchdog (`_wait`)
turns a stopped pool thread into failing rows instead of a hang, whatever stopped it.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

from pebble import ProcessExpired, ProcessPool
from tqdm import tqdm

from mlonmcu_lite.harness.runner import base_result, execute_run, first_line, last_stage, run_directory
from mlonmcu_lite.harness.spec import RunSpec, Stage
from mlonmcu_lite.reports.schema import RunResult, SchemaError


log = logging.getLogger(__name__)


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


INTERRUPTED_EXIT = 130  # 128 + SIGINT, the shell's convention


class RunsInterrupted(KeyboardInterrupt):
    """Ctrl-C during a session; `results` holds one row per run (interrupted ones failing)."""

    def __init__(self, results: list[RunResult]) -> None:
        super().__init__("interrupted")
        self.results = results


def _worker_init(parent: int) -> None:
    """In each worker: leave Ctrl-C to the session, and die with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the session's own cleanup still stops workers
        pass
    if os.getppid() != parent:  # the session died before prctl took effect
        os._exit(1)


@contextmanager
def _main_not_rerun(worker: Callable) -> Iterator[None]:
    """Spawned workers normally re-run the parent's `__main__` (its file, or its module for
    `python -m`): a script without a `__main__` guard would start its session again in every
    worker, and a script read from stdin (`python -`) cannot be re-run at all (the pool
    breaks).  The workers need nothing from it (the run function lives in a module), so
    while the pool lives `__main__` looks like the interactive interpreter's, which spawn
    does not re-run.  Kept as is when the worker itself is defined in `__main__`."""
    main = sys.modules.get("__main__")
    if main is None or getattr(worker, "__module__", None) == "__main__":
        yield
        return
    saved = {key: main.__dict__[key] for key in ("__file__", "__spec__") if key in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _exit_now(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    os._exit(INTERRUPTED_EXIT)  # workers follow via PDEATHSIG


@contextmanager
def _second_ctrl_c_exits() -> Iterator[None]:
    """The first Ctrl-C raises KeyboardInterrupt and, in the same handler, makes the next one exit
    at once.  Re-arming only in run_many's `except` left a window: a second Ctrl-C right behind
    the first interrupted the clean-up, and the pool's join then waited for the hung run forever.
    Only from the main thread, and only over Python's default handler (an ignored or custom
    SIGINT stays as it is)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def first(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        signal.signal(signal.SIGINT, _exit_now)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is first:  # no Ctrl-C came: Python's default again
            signal.signal(signal.SIGINT, signal.default_int_handler)


def run_many(specs: list[RunSpec], jobs: int | None = None, progress: bool = True,
             worker: Callable[[RunSpec], RunResult] = execute_run) -> list[RunResult]:
    """Run every spec; one result per spec, in the order given, whatever fails.
    Raises `RunsInterrupted` (with every row) on Ctrl-C."""
    jobs = max(1, min(jobs or default_jobs(), len(specs) or 1))
    rows: list[RunResult | None] = [None] * len(specs)
    bar = tqdm(total=len(specs), desc="runs", unit="run", file=sys.stderr, disable=not progress)
    context = multiprocessing.get_context("spawn")
    futures: list = []
    with _second_ctrl_c_exits(), _main_not_rerun(worker), ProcessPool(
            max_workers=jobs, context=context, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
        try:
            for spec in specs:
                futures.append(_scheduled(pool, worker, spec))
            for index, (spec, future) in enumerate(zip(specs, futures)):
                rows[index] = _collect(spec, future, pool)
                bar.set_postfix_str(f"{spec.run_id}: {'FAIL' if rows[index].failing else 'ok'}")
                log.info("run %d/%d %s: %s", index + 1, len(specs), spec.run_id,
                         rows[index].reason if rows[index].failing else "ok")
                bar.update(1)
        except KeyboardInterrupt:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, _exit_now)  # a second Ctrl-C: out at once
            for future in futures:
                if not future.done():
                    future.cancel()
            pool.stop()
            bar.close()
            raise RunsInterrupted(_interrupted_rows(specs, futures, rows)) from None
    bar.close()
    return [row for row in rows if row is not None]


def _interrupted_rows(specs: list[RunSpec], futures: list, rows: list[RunResult | None]) -> list[RunResult]:
    """Finished runs keep their results; the others are marked interrupted at their stage."""
    out = []
    for index, spec in enumerate(specs):
        future = futures[index] if index < len(futures) else None
        if rows[index] is None and future is not None and future.done() and not future.cancelled():
            rows[index] = _collect(spec, future)
        out.append(rows[index] or failed_result(
            spec, f"Interrupted: stopped by Ctrl-C @ {last_stage(run_directory(spec))}"))
    return out


WATCHDOG_POLL_S = 1.0  # how often a waiting session checks that the pool's threads still run


class PoolLost(RuntimeError):
    """The pool's own threads stopped: the run's result can never arrive."""


def _sealed_run(worker: Callable[[RunSpec], RunResult], spec: RunSpec) -> bytes:
    """In the worker: the run's result as pickled bytes known to load again (see the module
    docstring).  Whatever the run raises, even `SystemExit` or `MemoryError`, is its failing row."""
    try:
        result = worker(spec)
    except BaseException as exc:  # noqa: BLE001 - one run's failure is its row, never the session's
        return pickle.dumps(failed_result(spec, f"{type(exc).__name__}: {first_line(exc)} @ "
                                                f"{last_stage(run_directory(spec))}"))
    try:
        if not isinstance(result, RunResult):
            raise TypeError(f"the run returned a {type(result).__name__}, not a RunResult")
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)  # what cannot load here cannot load in the session either
        return data
    except BaseException as exc:  # noqa: BLE001 - e.g. RecursionError while loading a job record
        return pickle.dumps(failed_result(spec, f"ResultNotTransferable: the run's result cannot be sent to "
                                                f"the session ({type(exc).__name__}: {first_line(exc)}) @ "
                                                f"{last_stage(run_directory(spec))}"))


def _opened(payload: object) -> RunResult:
    """The result inside a worker's bytes, checked against the schema (a fresh `RunResult`
    runs its checks; unpickling alone does not)."""
    if not isinstance(payload, bytes):
        raise TypeError(f"the worker sent a {type(payload).__name__}, not sealed bytes")
    result = pickle.loads(payload)
    if not isinstance(result, RunResult):
        raise TypeError(f"the worker sent a {type(result).__name__}, not a RunResult")
    return replace(result)


def _scheduled(pool, worker: Callable[[RunSpec], RunResult], spec: RunSpec):
    """The run's future; a pool that died while runs were still being scheduled (pebble raises
    "Unexpected error within the Pool") gives the rest a failed future, i.e. `PoolLost` rows."""
    try:
        return pool.schedule(_sealed_run, args=(worker, spec), timeout=spec.settings.run_timeout_s)
    except RuntimeError as exc:
        lost: Future = Future()
        lost.set_exception(PoolLost(f"the worker pool stopped before this run was scheduled ({exc})"))
        return lost


def _pool_alive(pool) -> bool:
    """pebble's scheduler, pool-manager and message threads (private `_loops`; assumed alive
    when a pebble version names them otherwise)."""
    return all(thread.is_alive() for thread in getattr(pool, "_loops", ()) or ())


def _wait(future, pool) -> object:
    """`future.result()`, unless the pool's threads stop first (the watchdog): then `PoolLost`."""
    while not future.done():
        if pool is not None and not _pool_alive(pool):
            raise PoolLost("the worker pool stopped (its message thread died); this run's result never arrived")
        wait([future], timeout=WATCHDOG_POLL_S)
    return future.result()


def _collect(spec: RunSpec, future, pool=None) -> RunResult:
    try:
        payload = _wait(future, pool)
    except FutureTimeout:
        reason = f"TimeoutError: run exceeded {spec.settings.run_timeout_s:g} s"
    except ProcessExpired as exc:
        reason = f"WorkerCrashed: worker process died ({_exit_text(exc.exitcode)})"
    except Exception as exc:  # noqa: BLE001 - e.g. PoolLost; keep the others going
        reason = f"{type(exc).__name__}: {exc}"
    else:
        try:
            return _opened(payload)
        except Exception as exc:  # noqa: BLE001 - a result that does not load is this run's failure
            reason = f"ResultNotTransferable: the run's result did not load in the session ({type(exc).__name__}: {first_line(exc)})"
    return failed_result(spec, f"{reason} @ {last_stage(run_directory(spec))}")


def _exit_text(code: int | None) -> str:
    """"exit code 3", or the signal: "SIGKILL (killed from outside, e.g. by the OOM killer)"."""
    if code is None or code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
    hint = {"SIGKILL": " (killed from outside, e.g. by the OOM killer)",
            "SIGSEGV": " (a crash in native code)", "SIGABRT": " (a native library aborted)"}.get(name, "")
    return f"killed by {name}{hint}"


def failed_result(spec: RunSpec, reason: str) -> RunResult:
    """The failing result of a run that returned none; even when the run's identifying
    fields break the schema (e.g. an empty model label), a row with the reason is kept."""
    try:
        return replace(base_result(spec), failing=True, reason=reason)
    except SchemaError as exc:
        return RunResult(session=spec.session, run_id=spec.run_id or None, model=spec.model or "<empty>",
                         config=spec.config, arch=spec.arch,
                         peripheral="+".join(p.name for p in spec.peripherals) or None,
                         failing=True, reason=f"SchemaError: {exc} @ {Stage.LOAD}")
