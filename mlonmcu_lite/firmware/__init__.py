"""The cross toolchain only: C/assembly sources + platform/ -> a linked RV32 ELF and its
ROM/RAM footprint (toolchain), and the firmware of a compiled model (model)."""

from .model import build_model_firmware, with_drivers
from .toolchain import (DEFAULT_ARCH, Arch, BuildError, FirmwareBuild, Toolchain, ToolchainMissing,
                        available_archs, build_firmware, find_toolchain, load_arch, section_sizes)

__all__ = ["build_model_firmware", "with_drivers", "build_firmware", "find_toolchain", "load_arch",
           "available_archs", "section_sizes", "Arch", "Toolchain", "FirmwareBuild", "BuildError",
           "ToolchainMissing", "DEFAULT_ARCH"]
