"""A session: one typed request -> runs -> report.  `bench run`, `bench sweep` and
`bench baseline` only differ in the request they build; `run_session` does the rest."""

from __future__ import annotations

import dataclasses

import datetime as _dt
import itertools
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.harness.spec import DEFAULT_ARCH, RunSpec, model_label
from mlonmcu_lite.peripheral.request import PeripheralRequest
from mlonmcu_lite.workspace import Workspace, default_workspace


@dataclass(frozen=True)
class RunGroup:
    """Models x archs, each run CPU-only and (when `peripherals` is not empty) with the
    peripherals (paired runs: same flags, same input).  With `points` (a sweep) the
    accelerated run repeats once per point, its values applied to the first peripheral."""

    models: tuple[str, ...]
    archs: tuple[str, ...] = (DEFAULT_ARCH,)
    peripherals: tuple[PeripheralRequest, ...] = ()
    points: tuple[Mapping[str, Any], ...] = ()
    peripherals_default: bool = False  # the user named none (see RunSpec.require_offload)


@dataclass(frozen=True)
class SessionRequest:
    """Everything a session was asked for, validated (the CLI builds it once)."""

    groups: tuple[RunGroup, ...]
    settings: RunSettings = field(default_factory=RunSettings)
    peripheral_path: tuple[str, ...] = ()
    input_path: str | None = None
    workspace: Workspace = field(default_factory=default_workspace)
    out_dir: Path | None = None  # default: <workspace reports>/<timestamp><suffix>
    suffix: str = ""             # e.g. "-sweep"
    # sweep points that share a firmware are re-costed from one simulation's trace
    # (harness/recost.py) instead of each being simulated
    recost: bool = False
    # objectives to minimise (numeric columns or knobs): the report's Pareto front
    objectives: tuple[str, ...] = ()
    search: "Any | None" = None  # harness.search.SearchSpec: points proposed by NSGA-II

    @property
    def sweep(self) -> bool:
        return self.search is not None or any(group.points for group in self.groups)

    def session_dir(self) -> Path:
        """Create and return this session's folder.  A timestamped folder is created
        atomically (`mkdir` without `exist_ok`): a session started in the same second as
        another gets `<timestamp>-2` (`-3`, ...), never the other's folder."""
        if self.out_dir is not None:
            try:
                Path(self.out_dir).mkdir(parents=True, exist_ok=True)
                _check_writable(Path(self.out_dir))
            except OSError as exc:
                raise UserError(f"cannot write reports to {self.out_dir}: {exc.strerror or exc}") from None
            return Path(self.out_dir)
        root = self.workspace.reports_dir
        name = new_session_name() + self.suffix
        try:
            root.mkdir(parents=True, exist_ok=True)
            for attempt in itertools.count(1):
                candidate = root / (name if attempt == 1 else f"{name}-{attempt}")
                try:
                    candidate.mkdir()
                except FileExistsError:
                    continue
                _check_writable(candidate)
                return candidate
        except OSError as exc:
            raise UserError(f"cannot write reports under {root} (--out / MLML_REPORTS_DIR): "
                            f"{exc.strerror or exc}") from None
        raise AssertionError("unreachable")


@dataclass
class SessionResult:
    """What a session produced: its folder, one typed result per run, and the report."""

    out_dir: Path
    results: list  # list[reports.schema.RunResult], in request order
    frame: Any     # pandas.DataFrame with comparisons
    files: dict[str, Path]
    table: str     # the console study table
    report_error: str | None = None  # why the report files could not be written
    interrupted: bool = False  # Ctrl-C: runs after it are marked "Interrupted"
    recost: "RecostStats | None" = None  # with `request.recost`: how many points, how fast

    @property
    def failing(self) -> list:
        return [r for r in self.results if r.failing]


@dataclass
class RecostStats:
    """What re-costing did: points re-costed, simulations they came from, wall time of
    the re-costing itself, points that had to be simulated after all (trace diverged)."""

    points: int = 0
    simulated: int = 0
    seconds: float = 0.0
    fallbacks: int = 0

    @property
    def points_per_minute(self) -> float:
        return self.points / self.seconds * 60 if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        return (f"re-costed {self.points} points from {self.simulated} simulated runs in {self.seconds:.2f} s "
                f"({self.points_per_minute:,.0f} points/min); {self.fallbacks} re-simulated (trace diverged)")


def _check_writable(folder: Path) -> None:
    """Write and remove a probe file: permissions, read-only mounts and full disks show now,
    before any run, instead of after them."""
    probe = folder / f".write-probe-{os.getpid()}"
    probe.write_bytes(b"")
    probe.unlink()


def new_session_name() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def unique_labels(models: list[str]) -> list[str]:
    """The report label of each model argument, in order: its zoo name or file stem, with
    `-2`, `-3`... for a label already taken (`aww path/to/aww.tflite`, or `aww aww`), so
    run ids and run folders never collide and the same arguments give the same ids."""
    used: set[str] = set()
    out = []
    for model in models:
        base = label = model_label(model)
        for n in itertools.count(2):
            if label not in used:
                break
            label = f"{base}-{n}"
        used.add(label)
        out.append(label)
    return out


def expand(request: SessionRequest, session: str, out_dir: Path) -> list[RunSpec]:
    """Every run of the request, in report order: per group, per model and arch the CPU
    run then the accelerated one; with sweep points, all CPU runs, then each point's."""
    labels = iter(unique_labels([model for group in request.groups for model in group.models]))

    from mlonmcu_lite.harness.sweep import point_settings, split_point

    def spec(model: tuple[str, str], arch: str, peripherals=(), point=None) -> RunSpec:
        settings = point_settings(request.settings, split_point(point or {})[0])
        return RunSpec(model=model[0], label=model[1], session=session, out_dir=str(out_dir),
                       workspace=request.workspace, arch=arch, peripherals=tuple(peripherals), peripheral_path=request.peripheral_path,
                       input_path=request.input_path, settings=settings, point=dict(point or {}),
                       require_offload=not group.peripherals_default)

    specs: list[RunSpec] = []
    for group in request.groups:
        named = [(model, next(labels)) for model in group.models]
        pairs = [(model, arch) for model in named for arch in group.archs]
        if not group.points:
            for model, arch in pairs:
                specs.append(spec(model, arch))
                if group.peripherals:
                    specs.append(spec(model, arch, group.peripherals))
            continue
        # CPU runs once per distinct run-setting knobs of the points (e.g. each core)
        cpu_points = list({tuple(split_point(p)[0].items()): None for p in group.points})
        specs += [spec(model, arch, point=dict(run)) for run in cpu_points for model, arch in pairs]
        first, *rest = group.peripherals
        search = [Path(p) for p in request.peripheral_path]
        typed_peripherals = first.with_points([split_point(point)[1] for point in group.points], search)
        for point, typed in zip(group.points, typed_peripherals, strict=True):
            peripherals = (typed, *rest)
            specs += [spec(model, arch, peripherals, point) for model, arch in pairs]
    return specs


def run_session(request: SessionRequest, jobs: int | None = None, progress: bool = True,
                executor=None) -> SessionResult:
    """Run every run of `request` (failing runs keep their rows) and write the report.
    `executor` (harness/executor.py) says where runs execute: default the local pool."""
    from mlonmcu_lite.harness.executor import Executor
    from mlonmcu_lite.harness.pool import RunsInterrupted
    from mlonmcu_lite.harness.results import ReportInterrupted, ReportNotWritten, report_session

    out_dir = request.session_dir()
    runs = SessionRuns(executor or Executor(jobs=jobs), recost=request.recost, progress=progress)
    session_files = write_session_files(request, out_dir)
    interrupted = False
    try:
        if request.search is not None:
            from mlonmcu_lite.harness.search import run_search

            results = run_search(request, runs, out_dir)
        else:
            results = runs.run(expand(request, out_dir.name, out_dir))
    except RunsInterrupted as stop:  # write what finished; the interrupted runs are marked
        results, interrupted = stop.results, True
    stats = runs.stats if request.recost else None
    try:
        frame, files, table = report_session(results, out_dir, sweep=request.sweep, objectives=request.objectives)
    except ReportNotWritten as exc:
        return SessionResult(out_dir=out_dir, results=results, frame=exc.frame, files=session_files,
                             table=exc.table, report_error=str(exc), recost=stats,
                             interrupted=interrupted or isinstance(exc, ReportInterrupted))
    return SessionResult(out_dir=out_dir, results=results, frame=frame, files={**session_files, **files},
                         table=table, interrupted=interrupted, recost=stats)


class SessionRuns:
    """Runs specs through the executor; with `recost`, one simulation per firmware and the
    other points re-costed from its trace (simulated runs are remembered across calls, so
    a search's later batches re-cost from its first)."""

    def __init__(self, executor, recost: bool = False, progress: bool = True) -> None:
        from mlonmcu_lite.harness.recost import Recoster

        self.executor, self.progress = executor, progress
        self.recoster = Recoster() if recost else None
        self.bases: dict[tuple, Any] = {}  # firmware key -> its simulated row
        self.stats = RecostStats()

    def run(self, specs: list[RunSpec]) -> list:
        if self.recoster is None:
            return self.executor.run(specs, progress=self.progress)
        return self._run_recosting(specs)

    def _run_recosting(self, specs: list[RunSpec]) -> list:
        import time

        from tqdm import tqdm

        from mlonmcu_lite.harness.pool import RunsInterrupted, failed_result
        from mlonmcu_lite.harness.recost import TraceDiverged, plan

        assert self.recoster is not None
        simulate, recost = plan(specs, self.recoster, set(self.bases))
        rows: dict[int, Any] = {}
        try:
            # the simulated runs record the event counts other core profiles are costed from
            rows.update(zip(simulate, self.executor.run([dataclasses.replace(specs[i], record_events=True)
                                                         for i in simulate], progress=self.progress)))
        except RunsInterrupted as stop:
            rows.update(zip(simulate, stop.results))
            raise RunsInterrupted([rows.get(i) or failed_result(spec, "Interrupted: stopped by Ctrl-C @ load")
                                   for i, spec in enumerate(specs)]) from None
        for index in simulate:
            key = self.recoster.key(specs[index])
            if key is not None:
                self.bases.setdefault(key, rows[index])
        fallback = []
        start = time.perf_counter()
        for index, key in tqdm(recost.items(), desc="re-cost", unit="pt", file=sys.stderr,
                               disable=not self.progress or not recost):
            base = self.bases[key]
            if base.failing and self.recoster.same_core(specs[index], base):
                # same firmware, same input, same core: it would fail the same way
                rows[index] = failed_result(specs[index], f"NotSimulated: {base.run_id} (same firmware) "
                                                          f"failed: {base.reason}")
                continue
            if base.failing:  # perhaps because of its core (no FPU, ...): this point runs itself
                fallback.append(index)
                continue
            try:
                rows[index] = self.recoster.recost(specs[index], base)
            except TraceDiverged:
                fallback.append(index)
        self.stats.seconds += time.perf_counter() - start
        if fallback:
            rows.update(zip(fallback, self.executor.run([specs[i] for i in fallback], progress=self.progress)))
        self.stats.points += len(recost) - len(fallback)
        self.stats.simulated += len(simulate) + len(fallback)
        self.stats.fallbacks += len(fallback)
        return [rows[i] for i in range(len(specs))]


def write_session_files(request: SessionRequest, out_dir: Path) -> dict[str, Path]:
    """Before any run: the effective study (`bench run --study <it>` runs the session again)
    and the provenance (tools, git commits, host, command line)."""
    from mlonmcu_lite.harness.provenance import write_provenance
    from mlonmcu_lite.harness.study import STUDY_FILE, Study

    written = {}
    for name, write in (("study", lambda: Study.from_request(request).write(out_dir / STUDY_FILE)),
                        ("provenance", lambda: write_provenance(request, out_dir))):
        try:
            written[name] = write()
        except Exception as exc:  # noqa: BLE001 - the runs still run; the gap is said out loud
            logging.getLogger(__name__).warning("%s not written to %s: %s: %s", name, out_dir,
                                                type(exc).__name__, exc)
    return written
