"""Worker functions for the pool tests (importable by spawned processes)."""

import os
import time

from dataclasses import replace

from mlonmcu_lite.harness.runner import base_result, last_stage, run_directory


def _mark(spec, stage):
    directory = run_directory(spec)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stage").write_text(stage)
    (directory / "pid").write_text(str(os.getpid()))


def behave(spec):
    """Behaviour chosen by the spec's model name: ok, raise, hang, crash."""
    _mark(spec, "run")
    if spec.model == "hang":
        time.sleep(60)
    if spec.model == "crash":
        os._exit(3)
    if spec.model == "raise":
        raise RuntimeError("boom")
    return replace(base_result(spec), run_instructions=42)
