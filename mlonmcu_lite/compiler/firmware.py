"""Firmware build of a compiled model with the platform (toolchain.build_firmware)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mlonmcu_lite.peripheral.backend import AcceleratorBackend

from .model import CompiledModel

PLATFORM_MAIN = Path(__file__).resolve().parents[2] / "platform" / "main.c"


def build_model_firmware(cm: CompiledModel, out_dir: Path, arch: str = "rv32imc",
                         backends: Sequence[AcceleratorBackend] = (), opt: str = "-O2", **kwargs):
    """Link model.c, kernels.c, the backends' drivers and platform/main.c into an ELF."""
    from mlonmcu_lite.toolchain import build_firmware

    sources = [*cm.sources, *cm.backend_sources]
    for backend in backends:
        sources += [Path(p) for p in backend.c_sources() if Path(p) not in sources]
    sources.append(PLATFORM_MAIN)
    return build_firmware(sources, Path(out_dir), arch=arch, include_dirs=list(cm.include_dirs),
                          defines={}, opt=opt, **kwargs)
