"""Building the C/assembly test programs in tests/programs/ for the VP tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mlonmcu_lite.firmware.toolchain import build_firmware, find_toolchain, load_arch
from mlonmcu_lite.workspace import default_workspace

PROGRAMS = Path(__file__).resolve().parent / "programs"
ARCHS = ("rv32imc", "rv32gc")
PROBE_BASE = 0x4000_0000


def build_program(name: str, out_root: Path, arch: str, defines: dict | None = None,
                  with_main: bool = False) -> Path:
    """ELF of tests/programs/<name>.c built with the platform (and platform/main.c)."""
    tag = "_".join([name, arch, *sorted(defines or {})])
    sources = [PROGRAMS / f"{name}.c"] + ([default_workspace().platform_main] if with_main else [])
    return build_firmware(sources, out_root / tag, arch=arch, defines=defines, werror=True).elf


def build_syscall_elf(out_root: Path, arch: str) -> Path:
    """tests/programs/syscall.S linked at 0x20000000 with its own stack symbol."""
    tc = find_toolchain()
    out = out_root / f"syscall_{arch}"
    out.mkdir(parents=True, exist_ok=True)
    obj, elf = out / "syscall.o", out / "syscall.elf"
    subprocess.run([str(tc.clang), "--target=riscv32-unknown-elf", *load_arch(arch).cflags, "-c",
                    str(PROGRAMS / "syscall.S"), "-o", str(obj)], check=True)
    subprocess.run([str(tc.lld), "-Ttext=0x20000000", "--defsym=__stack=0x20400000", str(obj),
                    "-o", str(elf)], check=True)
    return elf
