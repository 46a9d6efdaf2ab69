"""The Dask executor: runs on a cluster's worker processes give the rows of a local run."""

from __future__ import annotations

import dataclasses

import pytest

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.harness.executor import Executor
from mlonmcu_lite.harness.runner import execute_run
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.peripheral.request import PeripheralRequest
from tests.helpers.e2e import TEST_WORKSPACE

VOLATILE = {"sim_seconds", "mips", "compile_seconds", "build_seconds", "cached", "trace"}


def _specs(out) -> list[RunSpec]:
    qvanilla = PeripheralRequest.parse("qvanilla")
    common = dict(session="t", out_dir=str(out), workspace=TEST_WORKSPACE)
    return [RunSpec(model="conv_5x3_s2_same", **common),
            RunSpec(model="conv_5x3_s2_same", peripherals=(qvanilla,), **common),
            RunSpec(model="no_such_model", **common)]  # fails on its own, the others go on


def _rows(results) -> list[dict]:
    return [{k: v for k, v in dataclasses.asdict(r).items() if k not in VOLATILE} for r in results]


@pytest.fixture(scope="module")
def cluster():
    """Two process workers, one thread each (as the README starts them); shared by the tests."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster


def test_local_cluster_rows_equal_the_local_pool(tmp_path, cluster):
    specs = _specs(tmp_path)
    local = [execute_run(spec) for spec in specs]  # what the local pool's workers run
    remote = Executor(kind="dask", scheduler=cluster.scheduler_address).run(specs, progress=False)
    assert [r.failing for r in remote] == [False, False, True]
    assert "no_such_model" in remote[2].reason
    assert _rows(remote) == _rows(local)


def test_executor_arguments_are_checked():
    with pytest.raises(UserError, match="--scheduler"):
        Executor(kind="dask")
    with pytest.raises(UserError, match="only used with --executor dask"):
        Executor(scheduler="tcp://localhost:8786")
    with pytest.raises(UserError, match="cannot reach the Dask scheduler"):
        Executor(kind="dask", scheduler="tcp://127.0.0.1:1", connect_timeout_s=1).run(_specs("/tmp/x"), progress=False)


def test_a_hung_run_on_the_cluster_times_out_and_the_others_finish(tmp_path, cluster):
    """`run_timeout_s` holds on Dask too: the hung run's process is killed, its row says so,
    the worker goes on with the next run."""
    from mlonmcu_lite.harness.executor import run_on_dask
    from mlonmcu_lite.harness.settings import RunSettings
    from tests.helpers.harness_workers import behave

    settings = RunSettings(run_timeout_s=3)
    specs = [RunSpec(model=name, session="t", out_dir=str(tmp_path), workspace=TEST_WORKSPACE, settings=settings)
             for name in ("hang", "ok1", "crash", "ok2", "ok3")]
    rows = run_on_dask(specs, cluster.scheduler_address, progress=False, worker=behave)
    assert [r.failing for r in rows] == [True, False, True, False, False], [r.reason for r in rows]
    assert rows[0].reason == "TimeoutError: run exceeded 3 s @ run"
    assert rows[2].reason.startswith("WorkerCrashed: the run's process died (exit code 3)")
    assert [r.run_instructions for r in rows if not r.failing] == [42, 42, 42]
