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


def test_local_cluster_rows_equal_the_local_pool(tmp_path):
    from distributed import LocalCluster

    specs = _specs(tmp_path)
    local = [execute_run(spec) for spec in specs]  # what the local pool's workers run
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
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
