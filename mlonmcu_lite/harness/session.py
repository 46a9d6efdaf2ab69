"""A session: expand the user's request into paired runs, execute them, report."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from mlonmcu_lite.harness.pool import run_many
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.workspace import default_workspace


@dataclass(frozen=True)
class SessionRequest:
    """Everything `bench run` was asked for."""

    models: tuple[str, ...]
    peripherals: tuple[str, ...] = ("qvanilla",)
    cpu_only: bool = False
    arches: tuple[str, ...] = ("rv32imc",)
    peripheral_path: tuple[str, ...] = ()
    input_path: str | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    reports_dir: Path = field(default_factory=lambda: default_workspace().reports_dir)
    cache_dir: Path = field(default_factory=lambda: default_workspace().cache_dir)
    name: str | None = None


def new_session_name() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def expand(request: SessionRequest, session: str, out_dir: Path) -> list[RunSpec]:
    """Paired runs: for each model and arch a CPU-only run and (unless cpu_only) a run
    with all requested peripherals, same flags and same input."""
    configs: list[tuple[str, ...]] = [()]
    if not request.cpu_only and request.peripherals:
        configs.append(tuple(request.peripherals))
    return [
        RunSpec(
            model=model,
            session=session,
            out_dir=str(out_dir),
            cache_dir=str(request.cache_dir),
            arch=arch,
            peripherals=peripherals,
            peripheral_path=request.peripheral_path,
            input_path=request.input_path,
            settings=request.settings,
        )
        for model in request.models
        for arch in request.arches
        for peripherals in configs
    ]


def run_session(request: SessionRequest, jobs: int | None = None, progress: bool = True):
    """Run everything; returns (session dir, rows). Rows of failing runs are kept."""
    session = request.name or new_session_name()
    out_dir = Path(request.reports_dir) / session
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = run_many(expand(request, session, out_dir), jobs=jobs, progress=progress)
    return out_dir, rows
