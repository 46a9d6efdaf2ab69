"""What one run is: a model, an arch, typed peripheral requests, a sweep point, settings,
and the workspace it builds in; and the stages it goes through."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Mapping

from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.peripheral.request import PeripheralRequest
from mlonmcu_lite.workspace import Workspace, default_workspace

DEFAULT_ARCH = "rv32imc"


class Stage(StrEnum):
    """A run's stages, in order; a failing run's reason ends in `@ <stage>`."""

    LOAD = "load"                # resolve the model, configure the peripherals, pick inputs
    BUILD = "build"              # TFLite -> Relax -> C (TVM), cached per model and backends
    COMPILE = "compile"          # C -> ELF (clang/lld), cached per model entry, arch and opt
    RUN = "run"                  # the measured emulation
    POSTPROCESS = "postprocess"  # accelerator figures and the "accelerator never used" check
    VALIDATE = "validate"        # every selected sample bit-exact against BUILTIN_REF


def model_label(model: str) -> str:
    """Zoo name as is; a path becomes its file stem."""
    return Path(model).stem if model.endswith(".tflite") or "/" in model else model


def point_label(point: Mapping[str, Any]) -> str:
    """`{"macs_per_cycle": 16}` -> `"macs_per_cycle=16"` (the report's `point` column)."""
    return ",".join(f"{key}={value}" for key, value in point.items())


@dataclass(frozen=True)
class RunSpec:
    model: str
    session: str
    out_dir: str
    workspace: Workspace = field(default_factory=default_workspace)
    arch: str = DEFAULT_ARCH
    peripherals: tuple[PeripheralRequest, ...] = ()
    peripheral_path: tuple[str, ...] = ()
    input_path: str | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    point: Mapping[str, Any] = field(default_factory=dict)  # sweep grid point ({} outside sweeps)
    # False when the peripherals are the default ones (the user named none): a peripheral
    # that takes no layer is then a labelled row ("no layer offloaded"), not a failure.
    require_offload: bool = True
    label: str = ""  # the model's label in the report (default: `model_label(model)`)
    # also record the event counts other core profiles are costed from (vp/event_record.py;
    # set by re-costing sessions on the runs they simulate; not part of the row)
    record_events: bool = False

    @property
    def model_name(self) -> str:
        return self.label or model_label(self.model)

    @property
    def config(self) -> str:
        return "+".join(["cpu", *(p.name for p in self.peripherals)])

    @property
    def tag(self) -> str:
        return point_label(self.point)

    @property
    def run_id(self) -> str:
        parts = [self.model_name, self.config, self.arch]
        if self.point:
            parts.append(self.tag)
        return "__".join(parts).replace("/", "_")
