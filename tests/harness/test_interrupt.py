"""Ctrl-C and kill -9 of a session (issue 15 item 1), with the pool's test worker in a real
subprocess (no compiler): the first SIGINT stops scheduling, cancels the running worker,
writes the partial report with the interrupted runs marked and exits 130; a second exits at
once; a killed session leaves no worker behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.e2e import REPO

SCRIPT = """
import sys
from mlonmcu_lite.cli.session import execute
from mlonmcu_lite.harness import pool
from mlonmcu_lite.harness.session import RunGroup, SessionRequest
from mlonmcu_lite.workspace import default_workspace
from tests.helpers.harness_workers import behave

real = pool.run_many
pool.run_many = lambda specs, jobs=None, progress=True: real(specs, jobs=1, progress=False, worker=behave)
workspace = default_workspace().with_roots(reports_dir=sys.argv[1], cache_dir=sys.argv[1] + "/cache")
request = SessionRequest(groups=(RunGroup(models=("ok1", "hang", "ok2", "ok3")),), workspace=workspace)
execute(request, jobs=1, as_json=False, no_progress=True)
"""


@pytest.fixture(autouse=True)
def _no_leftovers():
    """Whatever a failing test leaves running is killed."""
    started: list[subprocess.Popen] = []
    _START_HOOK.append(started.append)
    yield
    _START_HOOK.clear()
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()


_START_HOOK: list = []


def _start(tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # a terminal's session starts with Ctrl-C enabled; an ignored SIGINT is inherited, and the
    # test process may have one (a library of an earlier test in the same worker sets it)
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for hook in _START_HOOK:
        hook(proc)
    return proc


def _hang_pid(tmp_path: Path, proc: subprocess.Popen) -> int:
    """Wait until the hanging run is running; its worker's pid."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list(tmp_path.glob("*/runs/hang__cpu__rv32imc/pid"))
        if found and found[0].read_text():
            time.sleep(0.3)
            return int(found[0].read_text())
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the hanging run never started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not running
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_first_ctrl_c_writes_the_partial_report_and_exits_130(tmp_path):
    proc = _start(tmp_path)
    worker = _hang_pid(tmp_path, proc)
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert time.monotonic() - start < 15
    assert _gone(worker), "the running worker was not cancelled"
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name != "cache"]
    rows = {r["model"]: r for r in json.loads((session / "results.json").read_text())}
    assert set(rows) == {"ok1", "hang", "ok2", "ok3"}
    assert not rows["ok1"]["failing"] and rows["ok1"]["run_instructions"] == 42
    for model in ("hang", "ok2", "ok3"):
        assert rows[model]["failing"] and rows[model]["reason"].startswith("Interrupted"), rows[model]
    assert rows["hang"]["reason"].endswith("@ run")
    assert "ok1" in out and "interrupted" in err.lower() and "Traceback" not in err


def test_second_ctrl_c_exits_at_once(tmp_path):
    proc = _start(tmp_path)
    worker = _hang_pid(tmp_path, proc)
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGINT)
    proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert _gone(worker)


def test_kill_9_of_the_session_leaves_no_worker_running(tmp_path):
    proc = _start(tmp_path)
    worker = _hang_pid(tmp_path, proc)
    proc.kill()
    proc.communicate(timeout=15)
    assert _gone(worker), "worker still running after its session was killed"
