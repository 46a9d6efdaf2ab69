"""Worker functions for the pool tests (importable by spawned processes)."""

import ctypes
import os
import signal
import sys
import time

from dataclasses import replace

from mlonmcu_lite.harness.runner import base_result, last_stage, run_directory


def _mark(spec, stage):
    directory = run_directory(spec)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stage").write_text(stage)
    (directory / "pid").write_text(str(os.getpid()))


class Delegating:
    """A cost view delegating attributes to its job, as QVanilla's `Requantized` did: loading
    one from a pickle recurses (`__setstate__` -> `job` -> `__getattr__` ...)."""

    def __init__(self, job):
        self.job = job

    def __getattr__(self, name):
        return getattr(self.job, name)


def _load_only_in(pid):
    if os.getpid() != pid:
        raise ModuleNotFoundError("No module named 'gone_in_the_session'")
    return "loaded"


class LoadsOnlyInWorker:
    """Loads back in the worker that made it, fails in the session."""

    def __reduce__(self):
        return _load_only_in, (os.getpid(),)


def behave(spec):
    """Behaviour chosen by the spec's model name: ok, raise, hang, crash, and the ways a
    worker dies or returns something the session cannot take (see test_pool_isolation)."""
    _mark(spec, "run")
    if spec.model == "hang":
        time.sleep(60)
    if spec.model == "crash":
        os._exit(3)
    if spec.model == "raise":
        raise RuntimeError("boom")
    if spec.model == "sigkill":  # as the OOM killer does
        os.kill(os.getpid(), signal.SIGKILL)
    if spec.model == "segfault":  # a crash in native code
        ctypes.string_at(0)
    if spec.model == "memory":
        raise MemoryError("cannot allocate 4 GiB")
    if spec.model == "exit":
        sys.exit(4)
    if spec.model == "not_a_result":
        return {"model": spec.model}
    result = replace(base_result(spec), run_instructions=42)
    if spec.model == "recursing":
        _mark(spec, "postprocess")
        result.trace = {"jobs": [Delegating(job=None)]}
    if spec.model == "session_only_failure":
        result.trace = {"jobs": [LoadsOnlyInWorker()]}
    return result
