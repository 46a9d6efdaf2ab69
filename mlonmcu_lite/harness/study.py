"""A study as a file: what a session runs (models, archs, peripherals and their settings,
run settings, sweep grids), read from and written to TOML.

`bench run --study study.toml` and the Python API build their `SessionRequest` from a
`Study`; every session writes the effective study it ran (`<session>/study.toml`: all run
settings spelled out, paths absolute), and `Study.from_request` is the inverse of
`Study.request`, so `bench run --study reports/<session>/study.toml` runs the same runs
again and gives the same rows.

The file, in its short form (one group of runs):

    models = ["aww", "toycar"]
    archs = ["rv32imc"]                                   # default: rv32imc
    peripherals = ["qvanilla:macs_per_cycle=32"]          # or [{name = "qvanilla", settings = {...}}];
                                                          # [] = CPU only; omitted = qvanilla (default)
    sweep = {macs_per_cycle = [8, 16, 32]}                # optional grid over the first peripheral
    [settings]                                            # run settings (`bench run -s`)
    validate_samples = 1

or several `[[groups]]` with those keys (models, archs, peripherals, sweep/points).
Relative paths (a `.tflite` model, `input`, `peripheral_path`) are relative to the file.
"""

from __future__ import annotations

import tomllib
from enum import Enum
from pathlib import Path
from typing import Any, Mapping

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.harness.session import RunGroup, SessionRequest
from mlonmcu_lite.harness.settings import settings_from
from mlonmcu_lite.harness.spec import DEFAULT_ARCH
from mlonmcu_lite.workspace import Workspace

STUDY_FILE = "study.toml"
DEFAULT_PERIPHERAL = "qvanilla"
GROUP_KEYS = ("models", "archs", "peripherals", "peripherals_default", "cpu_only", "sweep", "points")


class StudyError(UserError):
    """A study file or study arguments that do not validate."""


class PeripheralEntry(BaseModel):
    """One peripheral of the accelerated run: its name and the settings given (typed or text)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """`"qvanilla:macs_per_cycle=32"`, as on the command line."""
        if isinstance(value, str):
            from mlonmcu_lite.peripheral.settings import parse_peripheral_arg

            name, overrides = parse_peripheral_arg(value)
            return {"name": name, "settings": overrides}
        return value


class StudyGroup(BaseModel):
    """Models x archs, each CPU-only and with the peripherals (see `harness.session.RunGroup`)."""

    model_config = ConfigDict(extra="forbid")
    models: list[str] = Field(min_length=1)
    archs: list[str] = Field(default_factory=lambda: [DEFAULT_ARCH], min_length=1)
    peripherals: list[PeripheralEntry] | None = None  # None: the default peripheral
    peripherals_default: bool = False  # the peripherals are the default ones (no offload required)
    cpu_only: bool = False
    sweep: dict[str, list[Any]] = Field(default_factory=dict)  # knob -> values (a grid)
    points: list[dict[str, Any]] = Field(default_factory=list)  # explicit grid points

    @field_validator("models")
    @classmethod
    def _no_empty_model(cls, models: list[str]) -> list[str]:
        if any(not m.strip() for m in models):
            raise ValueError("an empty model name was given (a zoo name or a .tflite path is needed)")
        return models

    @model_validator(mode="after")
    def _consistent(self) -> "StudyGroup":
        if self.cpu_only and self.peripherals:
            raise ValueError("cpu_only = true with peripherals: give one or the other")
        if (self.sweep or self.points) and not self.peripherals:
            raise ValueError("a sweep needs a peripheral (the grid applies to the first one)")
        if self.sweep and self.points:
            raise ValueError("give either sweep (a grid) or points, not both")
        return self


class Study(BaseModel):
    """Everything a session runs, as the study file holds it."""

    model_config = ConfigDict(extra="forbid")
    groups: list[StudyGroup] = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)
    peripheral_path: list[str] = Field(default_factory=list)
    input: str | None = None
    suffix: str = ""  # the session folder's suffix, e.g. "-sweep"

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        """Top-level group keys are the one group of a short study file."""
        if isinstance(data, Mapping) and any(key in data for key in GROUP_KEYS):
            if "groups" in data:
                raise ValueError(f"give either [[groups]] or top-level {', '.join(GROUP_KEYS)}, not both")
            group = {key: data[key] for key in GROUP_KEYS if key in data}
            return {**{k: v for k, v in data.items() if k not in GROUP_KEYS}, "groups": [group]}
        return data

    # -- files -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | str) -> "Study":
        """Read a study file; relative paths in it are relative to its folder."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise StudyError(f"cannot read study file {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise StudyError(f"study file {path} is not valid TOML: {exc}") from None
        return cls.parse(data, where=str(path)).relative_to(path.resolve().parent)

    @classmethod
    def parse(cls, data: Mapping[str, Any], where: str = "study") -> "Study":
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())
            raise StudyError(f"{where}: {problems}") from None

    def relative_to(self, folder: Path) -> "Study":
        """Paths of this study made absolute against `folder` (models only when they are paths)."""
        def resolve(text: str) -> str:
            return str((folder / text).resolve()) if not Path(text).is_absolute() else text

        def model(text: str) -> str:
            return resolve(text) if text.endswith(".tflite") or "/" in text else text

        groups = [g.model_copy(update={"models": [model(m) for m in g.models]}) for g in self.groups]
        return self.model_copy(update={"groups": groups, "peripheral_path": [resolve(p) for p in self.peripheral_path],
                                       "input": resolve(self.input) if self.input else None})

    def dumps(self) -> str:
        """TOML text (None values omitted; the short form for one group)."""
        data = self.model_dump(exclude_none=True)
        groups = [{k: v for k, v in group.items() if v not in ({}, [], False) or k == "peripherals"}
                  for group in data.pop("groups")]
        data = {k: v for k, v in data.items() if v not in ("", [])}
        settings = data.pop("settings", {})
        if len(groups) == 1:
            data.update(groups[0])
        else:
            data["groups"] = groups
        return tomli_w.dumps({**_plain(data), "settings": _plain(settings)})

    def write(self, path: Path) -> Path:
        Path(path).write_text(self.dumps())
        return Path(path)

    # -- to and from a session request -------------------------------------------------
    def request(self, workspace: Workspace, out_dir: Path | None = None) -> SessionRequest:
        """The validated `SessionRequest` (peripheral settings and sweep points typed)."""
        from mlonmcu_lite.harness.sweep import grid_points, typed_points
        from mlonmcu_lite.peripheral.request import PeripheralRequest

        search = [Path(p) for p in self.peripheral_path]
        groups = []
        for group in self.groups:
            default = group.peripherals is None and not group.cpu_only
            entries = [PeripheralEntry(name=DEFAULT_PERIPHERAL)] if default else (group.peripherals or [])
            requests = tuple(PeripheralRequest.build(p.name, p.settings, search) for p in entries)
            points = group.points or (grid_points(group.sweep) if group.sweep else [])
            groups.append(RunGroup(models=tuple(group.models), archs=tuple(dict.fromkeys(group.archs)),
                                   peripherals=requests,
                                   points=typed_points(requests[0], points, search) if points else (),
                                   peripherals_default=default or group.peripherals_default))
        _check_archs(workspace, [arch for g in groups for arch in g.archs])
        return SessionRequest(groups=tuple(groups), settings=settings_from(self.settings),
                              peripheral_path=tuple(self.peripheral_path), input_path=self.input,
                              workspace=workspace, out_dir=out_dir, suffix=self.suffix)

    @classmethod
    def from_request(cls, request: SessionRequest) -> "Study":
        """The effective study of a request: every run setting, typed values, absolute paths."""
        groups = [StudyGroup(models=[_absolute_model(m) for m in g.models], archs=list(g.archs),
                             peripherals=[PeripheralEntry(name=p.name, settings=dict(p.settings))
                                          for p in g.peripherals],
                             peripherals_default=g.peripherals_default, cpu_only=not g.peripherals,
                             points=[dict(point) for point in g.points])
                  for g in request.groups]
        return cls(groups=groups, settings=request.settings.model_dump(),
                   peripheral_path=[str(Path(p).resolve()) for p in request.peripheral_path],
                   input=str(Path(request.input_path).resolve()) if request.input_path else None,
                   suffix=request.suffix)


def _absolute_model(model: str) -> str:
    return str(Path(model).resolve()) if model.endswith(".tflite") or "/" in model else model


def _check_archs(workspace: Workspace, archs: list[str]) -> None:
    known = workspace.archs()
    unknown = sorted(set(archs) - set(known))
    if unknown:
        raise StudyError(f"unknown arch(s) {', '.join(unknown)}; available: {', '.join(known)}")


def _plain(value: Any) -> Any:
    """Values TOML can hold: typed settings (e.g. enums) become their plain value; None
    (TOML has none) is left out, so the setting takes its default again."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
