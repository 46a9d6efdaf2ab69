"""Where a session's runs execute: the local process pool (default) or a Dask cluster.

Both take a list of `RunSpec`s and return one `RunResult` per spec, in order, whatever
fails; `run_session` does not care which it got.  A Dask cluster runs the same
`runner.execute_run` on its workers, so rows are identical to a local run provided every
worker sees the same paths: the workspace (build cache, models, peripherals) and the
session's report folder must be on a shared directory mounted at the same path on each
machine (the cache is content-addressed and file-locked, so workers share builds safely).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable, Literal

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.reports.schema import RunResult

EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class Executor:
    """`local`: `jobs` worker processes on this machine; `dask`: the cluster behind `scheduler`."""

    kind: Literal["local", "dask"] = "local"
    jobs: int | None = None
    scheduler: str | None = None
    connect_timeout_s: float = 20.0  # how long to wait for the scheduler to answer

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise UserError(f"unknown executor {self.kind!r}; valid: {', '.join(EXECUTORS)}")
        if self.kind == "dask" and not self.scheduler:
            raise UserError("--executor dask needs --scheduler tcp://HOST:PORT (a running `dask scheduler`)")
        if self.kind == "local" and self.scheduler:
            raise UserError("--scheduler is only used with --executor dask")

    def run(self, specs: list[RunSpec], progress: bool = True) -> list[RunResult]:
        if not specs:
            return []
        if self.kind == "local":
            from mlonmcu_lite.harness.pool import run_many

            return run_many(specs, jobs=self.jobs, progress=progress)
        return run_on_dask(specs, self.scheduler or "", progress=progress, timeout_s=self.connect_timeout_s)


def run_on_dask(specs: list[RunSpec], scheduler: str, progress: bool = True,
                timeout_s: float = 20.0, worker: Callable[[RunSpec], RunResult] | None = None) -> list[RunResult]:
    """Every spec as one task on the cluster; the progress bar advances as tasks finish
    anywhere on it.  A task that raises or whose worker dies becomes that run's failing row;
    each run is held to its `run_timeout_s` (harness/bounded.py: a child process the task
    kills).  Ctrl-C cancels the tasks not yet finished (their rows say Interrupted)."""
    from distributed import Client, as_completed
    from tqdm import tqdm

    from mlonmcu_lite.harness.bounded import run_bounded
    from mlonmcu_lite.harness.pool import RunsInterrupted, failed_result
    from mlonmcu_lite.harness.runner import execute_run, last_stage, run_directory

    try:
        client = Client(scheduler, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    rows: list[RunResult | None] = [None] * len(specs)
    bar = tqdm(total=len(specs), desc="runs (dask)", unit="run", file=sys.stderr, disable=not progress)
    try:
        futures = client.map(run_bounded, specs, worker=worker or execute_run, pure=False, retries=0)
        position = {future.key: index for index, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                index = position[future.key]
                spec = specs[index]
                try:
                    rows[index] = future.result()
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: this run only
                    rows[index] = failed_result(spec, f"{type(exc).__name__}: {exc} @ "
                                                      f"{last_stage(run_directory(spec))}")
                bar.set_postfix_str(f"{spec.run_id}: {'FAIL' if rows[index].failing else 'ok'}")
                bar.update(1)
        except KeyboardInterrupt:
            client.cancel([f for f in futures if not f.done()])
            raise RunsInterrupted([row or failed_result(spec, "Interrupted: stopped by Ctrl-C @ "
                                                              f"{last_stage(run_directory(spec))}")
                                   for spec, row in zip(specs, rows)]) from None
    finally:
        bar.close()
        client.close()
    return [row for row in rows if row is not None]
