"""Firmware of a compiled model: its C sources, the peripherals' drivers and platform/main.c.

Takes plain source lists, so the compiler (which emits them) never imports the toolchain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Protocol, Sequence

from mlonmcu_lite.workspace import Workspace, default_workspace

from .toolchain import FirmwareBuild, build_firmware


class DriverProvider(Protocol):
    """What the firmware needs from an accelerator backend: its driver's C and headers."""

    name: str

    def c_sources(self) -> Iterable[Path | str]: ...

    def include_dirs(self, gen_dir: Path) -> Iterable[Path | str]: ...


def with_drivers(sources: Sequence[Path], include_dirs: Sequence[Path],
                 backends: Sequence[DriverProvider], out_dir: Path) -> tuple[list[Path], list[Path]]:
    """`sources` and `include_dirs` followed by each backend's driver sources and headers
    (order kept, duplicates dropped: the link order fixes the firmware's layout)."""
    sources = [Path(p) for p in sources]
    for backend in backends:
        sources += [Path(p) for p in backend.c_sources() if Path(p) not in sources]
    include_dirs = [Path(p) for p in include_dirs]
    for backend in backends:
        include_dirs += [Path(p) for p in backend.include_dirs(Path(out_dir) / f"backend_{backend.name}")
                         if Path(p) not in include_dirs]
    return sources, include_dirs


def build_model_firmware(sources: Sequence[Path], include_dirs: Sequence[Path], out_dir: Path,
                         arch: str = "rv32imc", opt: str = "-O2", workspace: Workspace | None = None,
                         **kwargs) -> FirmwareBuild:
    """Link the model's sources (drivers included, see `with_drivers`) and platform/main.c
    into an ELF.

    Compiled with -Wall -Werror: the generated C must stay warning-free on the target too.
    """
    workspace = workspace or default_workspace()
    kwargs.setdefault("werror", True)
    return build_firmware([*sources, workspace.platform_main], Path(out_dir), arch=arch,
                          include_dirs=list(include_dirs), opt=opt, workspace=workspace, **kwargs)
