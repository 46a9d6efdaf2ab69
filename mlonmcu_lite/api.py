"""The Python API: a session from a notebook or a script, without the command line.

    from mlonmcu_lite import Session

    result = Session(models=["aww"], peripherals=["qvanilla:macs_per_cycle=32"]).run()
    result.runs     # pandas DataFrame, one row per run (as results.csv)
    result.layers   # pandas DataFrame, one row per run x layer (as layers.parquet)

A `Session` is a `Study` (harness/study.py, the same thing a study file holds) plus where
to write and how many workers; `run()` goes through `harness.session.run_session` exactly
as `bench run` does, so the session folder holds the same report, study.toml and
provenance.json.  Worker processes do not re-run the caller's `__main__` (see
`harness.pool`), so a script without a `__main__` guard and `python -` on stdin work.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from mlonmcu_lite.harness.study import PeripheralEntry, Study, StudyGroup

PeripheralArg = str | Mapping[str, Any]  # "qvanilla:macs_per_cycle=32" or {"name": ..., "settings": {...}}


@dataclass
class SessionResults:
    """What `Session.run()` returns."""

    runs: pd.DataFrame     # one row per run, with the CPU vs accelerator comparisons
    layers: pd.DataFrame   # one row per run x layer
    out_dir: Path          # the session folder (report, study.toml, provenance.json)
    files: dict[str, Path]
    table: str             # the console study table
    failing: dict[str, str] = field(default_factory=dict)  # run id -> reason
    report_error: str | None = None
    interrupted: bool = False  # Ctrl-C: the runs after it are failing rows "Interrupted"

    @property
    def ok(self) -> bool:
        return not self.failing and not self.report_error and not self.interrupted

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"{len(self.failing)} failing"
        return f"SessionResults({len(self.runs)} runs, {state}, out_dir={str(self.out_dir)!r})"


class Session:
    """Models x archs, CPU-only and with peripherals, as `bench run` (or `bench sweep` with
    `sweep=`) would run them.

    `peripherals`: None = the default accelerator (QVanilla; a model it takes no layer of
    still passes), [] = CPU only, else strings as after `-p` or mappings
    `{"name": "qvanilla", "settings": {"macs_per_cycle": 32}}`.  `settings`: run settings
    (`bench run -s`, typed values).  `sweep`: knob -> values, a grid over the first
    peripheral.  `reports_dir` / `cache_dir` default as for the command line."""

    def __init__(self, models: Sequence[str], peripherals: Sequence[PeripheralArg] | None = None,
                 settings: Mapping[str, Any] | None = None, archs: Sequence[str] = ("rv32imc",),
                 sweep: Mapping[str, Sequence[Any]] | None = None, input: str | Path | None = None,
                 peripheral_path: Sequence[str | Path] = (), reports_dir: str | Path | None = None,
                 cache_dir: str | Path | None = None, jobs: int | None = None,
                 progress: bool | None = None) -> None:
        if isinstance(models, str):
            models = [models]
        group = StudyGroup.model_validate({
            "models": list(models), "archs": list(archs), "sweep": {k: list(v) for k, v in (sweep or {}).items()},
            "peripherals": None if peripherals is None else [PeripheralEntry.model_validate(p) for p in peripherals],
            "cpu_only": peripherals is not None and not peripherals})
        study = Study(groups=[group], settings=dict(settings or {}),
                      peripheral_path=[str(Path(p).resolve()) for p in peripheral_path],
                      input=str(Path(input).resolve()) if input else None, suffix="-sweep" if sweep else "")
        self.__init_from(study, reports_dir, cache_dir, jobs, progress)

    @classmethod
    def from_study(cls, study: Study | str | Path, reports_dir: str | Path | None = None,
                   cache_dir: str | Path | None = None, jobs: int | None = None,
                   progress: bool | None = None) -> "Session":
        """A session from a study file (e.g. `reports/<session>/study.toml`) or a `Study`."""
        self = cls.__new__(cls)
        self.__init_from(study if isinstance(study, Study) else Study.load(study), reports_dir, cache_dir, jobs,
                         progress)
        return self

    def __init_from(self, study: Study, reports_dir, cache_dir, jobs, progress) -> None:
        from mlonmcu_lite.workspace import Workspace

        self.study = study
        self.workspace = Workspace.from_env(reports_dir=reports_dir, cache_dir=cache_dir)
        self.jobs = jobs
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.request = study.request(self.workspace)  # validated now: bad input fails here, before any run

    def run(self) -> SessionResults:
        """Run every run (failing runs keep their rows) and write the session report."""
        from mlonmcu_lite.harness.session import run_session
        from mlonmcu_lite.reports.layers import layers_frame

        result = run_session(self.request, jobs=self.jobs, progress=self.progress)
        layers = layers_frame([dataclasses.asdict(r) for r in result.results])
        return SessionResults(runs=result.frame, layers=layers, out_dir=result.out_dir, files=result.files,
                              table=result.table, failing={r.run_id: r.reason for r in result.failing},
                              report_error=result.report_error, interrupted=result.interrupted)
