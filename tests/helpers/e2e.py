"""Helpers for end-to-end tests: real compiles, real firmware, real emulation."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from mlonmcu_lite.harness.runner import execute_run
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.peripheral.request import PeripheralRequest
from mlonmcu_lite.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
# Shared by all test workers (file-locked); keys hash the code, so stale entries never match.
TEST_CACHE = REPO / "build" / "test-cache"
TEST_WORKSPACE = Workspace.from_env(cache_dir=TEST_CACHE)
BENCH = [sys.executable, "-m", "mlonmcu_lite.cli"]


def run_one(model: str, out_dir: Path, arch: str = "rv32imc", peripherals: tuple[str, ...] = (),
            peripheral_path: tuple[str, ...] = (), **settings) -> dict:
    """Execute one run in this process and return its row (the typed result as a dict)."""
    requests = tuple(PeripheralRequest.parse(p, peripheral_path) for p in peripherals)
    spec = RunSpec(model=model, session="test", out_dir=str(out_dir), workspace=TEST_WORKSPACE, arch=arch,
                   peripherals=requests, peripheral_path=peripheral_path, settings=RunSettings(**settings))
    return dataclasses.asdict(execute_run(spec))


def bench(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real `bench` command line in a subprocess (`env`: extra environment variables)."""
    return subprocess.run([*BENCH, *args], capture_output=True, text=True, cwd=cwd, timeout=1800,
                          env={**os.environ, **env} if env else None)


def bench_json(*args: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    proc = bench(*args, "--json", "--no-progress")
    try:
        rows = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from bench {' '.join(args)}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc, rows
