"""Firmware build of a compiled model with the platform (toolchain.build_firmware)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from mlonmcu_lite.peripheral.backend import AcceleratorBackend

from .model import CompiledModel


def build_model_firmware(cm: CompiledModel, out_dir: Path, arch: str = "rv32imc",
                         backends: Sequence[AcceleratorBackend] = (), opt: str = "-O2", **kwargs):
    """Link model.c, kernels.c, the backends' drivers and platform/main.c into an ELF.

    Compiled with -Wall -Werror: the generated C must stay warning-free on the target too.
    """
    from mlonmcu_lite.toolchain import PLATFORM_MAIN, build_firmware

    sources = [*cm.sources, *cm.backend_sources]
    for backend in backends:
        sources += [Path(p) for p in backend.c_sources() if Path(p) not in sources]
    include_dirs = list(cm.include_dirs)
    for backend in backends:
        include_dirs += [Path(p) for p in backend.include_dirs(Path(out_dir) / f"backend_{backend.name}")
                         if Path(p) not in include_dirs]
    kwargs.setdefault("werror", True)
    return build_firmware([*sources, PLATFORM_MAIN], Path(out_dir), arch=arch, include_dirs=include_dirs,
                          opt=opt, **kwargs)
