"""What one run is: a model, an arch, a set of peripherals, an input, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlonmcu_lite.harness.settings import RunSettings

DEFAULT_ARCH = "rv32imc"
ARCHES = ("rv32imc", "rv32gc")


def peripheral_name(spec: str) -> str:
    """`"qvanilla:macs_per_cycle=32"` -> `"qvanilla"`."""
    return spec.split(":", 1)[0].strip()


def model_label(model: str) -> str:
    """Zoo name as is; a path becomes its file stem."""
    return Path(model).stem if model.endswith(".tflite") or "/" in model else model


@dataclass(frozen=True)
class RunSpec:
    model: str
    session: str
    out_dir: str
    cache_dir: str
    arch: str = DEFAULT_ARCH
    peripherals: tuple[str, ...] = ()
    peripheral_path: tuple[str, ...] = ()
    input_path: str | None = None
    settings: RunSettings = field(default_factory=RunSettings)
    tag: str = ""  # distinguishes sweep points

    @property
    def config(self) -> str:
        return "+".join(["cpu", *(peripheral_name(p) for p in self.peripherals)])

    @property
    def run_id(self) -> str:
        parts = [model_label(self.model), self.config, self.arch]
        if self.tag:
            parts.append(self.tag)
        return "__".join(parts).replace("/", "_")
