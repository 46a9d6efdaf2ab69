"""What compile_model returns: the generated sources and the facts others report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlonmcu_lite.abi import IOBuffer
from mlonmcu_lite.peripheral.backend import LayerOffload

from .settings import CompilerSettings

__all__ = ["CompiledModel", "IOBuffer"]


@dataclass
class CompiledModel:
    name: str
    out_dir: Path
    sources: list[Path]
    include_dirs: list[Path]
    arena_bytes: int
    arena_lower_bound: int
    inputs: list[IOBuffer]
    outputs: list[IOBuffer]
    layers: list[LayerOffload]
    kernels: int
    plan: dict
    settings: CompilerSettings
    backend_sources: list[Path] = field(default_factory=list)
    weight_bytes: int = 0

    def settings_hash(self) -> str:
        return self.settings.settings_hash()
