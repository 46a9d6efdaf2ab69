"""Helpers for end-to-end tests: real compiles, real firmware, real emulation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlonmcu_lite.harness.runner import execute_run
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.harness.spec import RunSpec

REPO = Path(__file__).resolve().parents[2]
# Shared by all test workers (file-locked); keys hash the code, so stale entries never match.
TEST_CACHE = REPO / "build" / "test-cache"
BENCH = [sys.executable, "-m", "mlonmcu_lite.cli"]


def run_one(model: str, out_dir: Path, arch: str = "rv32imc", peripherals: tuple[str, ...] = (),
            peripheral_path: tuple[str, ...] = (), **settings) -> dict:
    """Execute one run in this process and return its row."""
    spec = RunSpec(model=model, session="test", out_dir=str(out_dir), cache_dir=str(TEST_CACHE), arch=arch,
                   peripherals=peripherals, peripheral_path=peripheral_path, settings=RunSettings(**settings))
    return execute_run(spec)


def bench(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The real `bench` command line in a subprocess."""
    return subprocess.run([*BENCH, *args], capture_output=True, text=True, cwd=cwd, timeout=1800)


def bench_json(*args: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    proc = bench(*args, "--json", "--no-progress")
    try:
        rows = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from bench {' '.join(args)}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc, rows
