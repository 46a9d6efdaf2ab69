"""Whatever one worker does, the session gets one row per run and never hangs: results cross
the process boundary as sealed bytes, dead workers and a dead pool thread become failing rows
naming their stage (pool.py)."""

from __future__ import annotations

import threading

import pytest

from mlonmcu_lite.harness import pool
from mlonmcu_lite.harness.pool import run_many
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.workspace import default_workspace
from tests.helpers.harness_workers import behave


def _specs(tmp_path, models):
    workspace = default_workspace().with_roots(cache_dir=tmp_path / "c")
    return [RunSpec(model=m, session="s", out_dir=str(tmp_path), workspace=workspace,
                    settings=RunSettings(run_timeout_s=30)) for m in models]


def _run_bounded(call, seconds=120):
    """Run `call` in a thread; a hang fails the test instead of stopping the suite."""
    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(rows=call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the session hung"
    return out["rows"]


def test_dying_workers_and_unloadable_results_are_failing_rows(tmp_path):
    models = ["ok1", "recursing", "sigkill", "session_only_failure", "segfault", "memory", "exit",
              "not_a_result", "ok2"]
    rows = _run_bounded(lambda: run_many(_specs(tmp_path, models), jobs=2, progress=False, worker=behave))
    by = {r.model: r for r in rows}
    assert [r.model for r in rows] == models
    assert [r.failing for r in rows] == [False] + [True] * 7 + [False]
    assert by["ok1"].run_instructions == by["ok2"].run_instructions == 42
    reasons = {m: by[m].reason for m in models[1:-1]}
    assert reasons["recursing"].startswith("ResultNotTransferable: the run's result cannot be sent")
    assert "RecursionError" in reasons["recursing"] and reasons["recursing"].endswith("@ postprocess")
    assert reasons["sigkill"] == ("WorkerCrashed: worker process died (killed by SIGKILL (killed from outside, "
                                  "e.g. by the OOM killer)) @ run")
    assert reasons["segfault"].startswith("WorkerCrashed: worker process died (killed by SIGSEGV")
    assert reasons["session_only_failure"].startswith("ResultNotTransferable: the run's result did not load "
                                                      "in the session (ModuleNotFoundError")
    assert reasons["memory"] == "MemoryError: cannot allocate 4 GiB @ run"
    assert reasons["exit"] == "SystemExit: 4 @ run"
    assert reasons["not_a_result"].startswith("ResultNotTransferable") and "not a RunResult" in reasons["not_a_result"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_pool_thread_becomes_failing_rows_not_a_hang(tmp_path, monkeypatch):
    """The watchdog: if pebble's message thread dies anyway, every waiting run fails with a reason."""
    from pebble.pool import process

    def die(self, timeout):
        raise ValueError("message thread killed by the test")

    monkeypatch.setattr(process.PoolManager, "process_next_message", die)
    monkeypatch.setattr(pool, "WATCHDOG_POLL_S", 0.05)
    rows = _run_bounded(lambda: run_many(_specs(tmp_path, ["ok1", "ok2"]), jobs=1, progress=False, worker=behave))
    assert [r.failing for r in rows] == [True, True]
    assert all(r.reason.startswith("PoolLost: the worker pool stopped") for r in rows), rows


@pytest.mark.parametrize("code, text", [(3, "exit code 3"), (-9, "killed by SIGKILL (killed from outside, "
                                                                  "e.g. by the OOM killer)"),
                                        (-200, "signal 200"), (None, "exit code None")])
def test_exit_text_names_the_signal(code, text):
    assert pool._exit_text(code) == text
