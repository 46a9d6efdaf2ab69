"""Parallel runs in worker processes, with per-run timeouts and crash isolation.

pebble's process pool kills a worker that exceeds its timeout (the thread
pools and futures of the standard library cannot), and reports a worker that
died (e.g. a native crash) as an error instead of hanging.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Callable

from pebble import ProcessExpired, ProcessPool
from tqdm import tqdm

from mlonmcu_lite.harness.runner import base_result, execute_run, last_stage, run_directory
from mlonmcu_lite.harness.spec import RunSpec, Stage
from mlonmcu_lite.reports.schema import RunResult, SchemaError


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_many(specs: list[RunSpec], jobs: int | None = None, progress: bool = True,
             worker: Callable[[RunSpec], RunResult] = execute_run) -> list[RunResult]:
    """Run every spec; one result per spec, in the order given, whatever fails."""
    jobs = max(1, min(jobs or default_jobs(), len(specs) or 1))
    rows: list[RunResult | None] = [None] * len(specs)
    bar = tqdm(total=len(specs), desc="runs", unit="run", file=sys.stderr, disable=not progress)
    context = multiprocessing.get_context("spawn")
    with ProcessPool(max_workers=jobs, context=context) as pool:
        futures = [pool.schedule(worker, args=(spec,), timeout=spec.settings.run_timeout_s) for spec in specs]
        for index, (spec, future) in enumerate(zip(specs, futures)):
            rows[index] = _collect(spec, future)
            bar.set_postfix_str(f"{spec.run_id}: {'FAIL' if rows[index].failing else 'ok'}")
            bar.update(1)
    bar.close()
    return [row for row in rows if row is not None]


def _collect(spec: RunSpec, future) -> RunResult:
    try:
        return future.result()
    except FutureTimeout:
        reason = f"TimeoutError: run exceeded {spec.settings.run_timeout_s:g} s"
    except ProcessExpired as exc:
        reason = f"WorkerCrashed: worker process died (exit code {exc.exitcode})"
    except Exception as exc:  # noqa: BLE001 - e.g. pickling errors; keep the others going
        reason = f"{type(exc).__name__}: {exc}"
    return failed_result(spec, f"{reason} @ {last_stage(run_directory(spec))}")


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
