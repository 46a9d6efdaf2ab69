"""Cross-compiling bare-metal RV32 firmware: clang-14 + ld.lld-14 + platform/.

`build_firmware` turns C/assembly sources into an ELF linked against the
platform's startup code and small libc, with a linker script generated from
the VP's memory map, and reports ROM/RAM from the ELF's sections.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from mlonmcu_lite.errors import ToolError, UserError
from mlonmcu_lite.vp.memory_map import MemoryMap
from mlonmcu_lite.workspace import Workspace, default_workspace

INSTALL_COMMAND = ("sudo apt-get update && sudo apt-get install -y clang-14 lld-14 gcc-riscv64-unknown-elf "
                   "picolibc-riscv64-unknown-elf")
PICOLIBC_DIR = Path("/usr/lib/picolibc/riscv64-unknown-elf/lib")  # Debian picolibc-riscv64-unknown-elf
RUNTIME_GCC = "riscv64-unknown-elf-gcc"  # only asked for its multilib libgcc.a (soft-float, 64-bit builtins)
DEFAULT_ARCH = "rv32imc"


class ToolchainMissing(ToolError):
    """clang-14 or ld.lld-14 is not installed; the message says how to install it."""


class UnknownArch(UserError):
    """No platform/arch/<name>.json for the ISA variant asked for."""


class BuildError(ToolError):
    """The compiler or linker failed; `stderr` holds its diagnostics."""

    def __init__(self, message: str, stderr: str = "", command: Sequence[str] = ()) -> None:
        first = first_diagnostic(stderr)
        head = f"{message}: {first}" if first else message
        tail = f"\n$ {shlex.join(command)}" if command else ""
        super().__init__(f"{head}\n{stderr}".rstrip() + tail)
        self.stderr = stderr
        self.command = list(command)


def first_diagnostic(stderr: str) -> str:
    """The first `error:` line of a compiler's or linker's output (its file as a base name), so a
    one-line reason shows what failed rather than the command line; else its first line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    line = (errors or lines or [""])[0]
    return re.sub(r"^\S*/([^/\s:]+:\d+)", r"\1", line)[:300]


class LinkOverflow(BuildError):
    """The firmware overflowed memory regions; `overflows` maps each region ("ROM", "RAM") to its
    missing bytes, so a caller without a user limit can grow the map (`grown_map`)."""

    def __init__(self, message: str, stderr: str, command: Sequence[str], overflows: dict[str, int]) -> None:
        super().__init__(message, stderr)  # the message says what to raise: no command line in a row's reason
        self.command = list(command)
        self.overflows = overflows


@dataclass(frozen=True)
class Toolchain:
    clang: Path
    lld: Path
    clang_version: str
    lld_version: str


@dataclass(frozen=True)
class Arch:
    """An ISA variant declared in platform/arch/<name>.json."""

    name: str
    march: str
    mabi: str
    cflags: tuple[str, ...]
    fpu: bool
    description: str = ""


@dataclass
class FirmwareBuild:
    """A linked firmware ELF and its memory footprint (bytes, from its sections).

    rom_bytes = rom_code + rom_rodata + rom_data_init; ram_bytes = ram_data +
    ram_bss + ram_noinit (the stack window, `stack_bytes`, is reported apart).
    """

    elf: Path
    arch: str
    rom_bytes: int
    ram_bytes: int
    rom_code: int
    rom_rodata: int
    rom_data_init: int
    ram_data: int
    ram_bss: int
    ram_noinit: int
    stack_bytes: int
    compile_commands: list[str] = field(default_factory=list)
    link_command: str = ""
    memory_map: MemoryMap = field(default_factory=MemoryMap)  # the map it is linked for (grown or not)

    @property
    def compile_command(self) -> str:
        """The command line that compiled the first user source."""
        return self.compile_commands[0] if self.compile_commands else ""


def _first_line(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


@functools.lru_cache(maxsize=1)
def find_toolchain() -> Toolchain:
    """Locate clang-14 and ld.lld-14 on PATH."""
    clang, lld = shutil.which("clang-14"), shutil.which("ld.lld-14")
    missing = [name for name, path in (("clang-14", clang), ("ld.lld-14", lld)) if path is None]
    if missing:
        raise ToolchainMissing(
            f"RISC-V cross toolchain not found ({', '.join(missing)} missing). Install it with:\n"
            f"  {INSTALL_COMMAND}")
    return Toolchain(Path(clang), Path(lld), _first_line([clang, "--version"]),
                     _first_line([lld, "--version"]))


@functools.lru_cache(maxsize=None)
def runtime_library(march: str, mabi: str) -> Path:
    """The compiler runtime (libgcc.a of the RISC-V GCC toolchain's matching multilib).

    It provides the soft-float routines (`__divsf3`, `__fixsfsi`, ...) and the 64-bit
    integer builtins (`__ashldi3`, `__divdi3`, ...) that clang calls on rv32; a real,
    maintained library rather than hand-written ones.
    """
    gcc = shutil.which(RUNTIME_GCC)
    if gcc is None:
        raise ToolchainMissing(f"compiler runtime library not found ({RUNTIME_GCC} missing: its libgcc.a "
                               f"provides soft-float and 64-bit builtins). Install it with:\n  {INSTALL_COMMAND}")
    out = subprocess.run([gcc, f"-march={march}", f"-mabi={mabi}", "-print-libgcc-file-name"],
                         capture_output=True, text=True, check=False)
    path = Path(out.stdout.strip())
    if out.returncode != 0 or not path.is_file():
        raise ToolchainMissing(f"{RUNTIME_GCC} has no libgcc.a for -march={march} -mabi={mabi} "
                               f"({(out.stderr or out.stdout).strip()[:200]})")
    return path


@functools.lru_cache(maxsize=None)
def math_library(march: str, mabi: str) -> Path | None:
    """picolibc's `libc.a` for the multilib of (march, mabi), or None when not installed.

    Linked last (before libgcc) for its libm, newlib's single-precision `expf`/`tanhf`/`expm1f`
    (picolibc keeps libm inside libc.a): only a float model's softmax, logistic and tanh call
    them, so archive members are pulled for nothing else (the platform libc defines mem* and
    printf).  None of these routines touch errno.
    """
    gcc = shutil.which(RUNTIME_GCC)
    if gcc is None:
        return None
    out = subprocess.run([gcc, f"-march={march}", f"-mabi={mabi}", "--specs=picolibc.specs",
                          "-print-multi-directory"], capture_output=True, text=True, check=False)
    path = PICOLIBC_DIR / out.stdout.strip() / "libc.a"
    return path if out.returncode == 0 and path.is_file() else None


def available_archs(workspace: Workspace | None = None) -> list[str]:
    return (workspace or default_workspace()).archs()


def load_arch(name: str, workspace: Workspace | None = None) -> Arch:
    workspace = workspace or default_workspace()
    path = workspace.arch_dir / f"{name}.json"
    if not path.is_file():
        raise UnknownArch(f"unknown ISA variant {name!r}; available: {', '.join(workspace.archs())}")
    data = json.loads(path.read_text())
    return Arch(name=data["name"], march=data["march"], mabi=data["mabi"],
                cflags=tuple(data["cflags"]), fpu=bool(data["fpu"]),
                description=data.get("description", ""))


def platform_sources(workspace: Workspace | None = None) -> list[Path]:
    """Startup code and libc, linked into every firmware."""
    platform = (workspace or default_workspace()).platform_dir
    return [platform / "startup.S", *sorted((platform / "libc").glob("*.c"))]


def base_cflags(arch: Arch, opt: str, include_dirs: Iterable[Path], defines: Mapping[str, object],
                werror: bool, extra_cflags: Iterable[str]) -> list[str]:
    # Fused multiply-add: clang's default; a quantized model's kernels.c turns it off for its
    # float islands (compiler/driver.py `_kernels_c`).
    flags = ["--target=riscv32-unknown-elf", *arch.cflags, opt, "-g", "-ffreestanding", "-nostdlib",
             "-fno-common", "-ffunction-sections", "-fdata-sections", "-Wall"]
    if werror:
        flags.append("-Werror")
    flags += [f"-I{d}" for d in include_dirs]
    for key, value in defines.items():
        flags.append(f"-D{key}" if value is None else f"-D{key}={value}")
    return flags + list(extra_cflags)


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"{what} failed (exit {proc.returncode})", proc.stderr, cmd)


_OVERFLOW = re.compile(r"will not fit in region '(\w+)': overflowed by (\d+) bytes")
_SIZE_SETTING = {"ROM": "rom_kib", "RAM": "ram_kib"}  # the run settings that size each region


def _condensed(stderr: str) -> str:
    """lld repeats "section X will not fit in region R" per input section: keep the last of each."""
    lines = stderr.strip().splitlines()
    last: dict[str, int] = {}
    for i, line in enumerate(lines):
        if _OVERFLOW.search(line):
            last[line.split(": overflowed by")[0]] = i
    keep = set(last.values())
    return "\n".join(line for i, line in enumerate(lines) if i in keep or not _OVERFLOW.search(line))


def _link(cmd: list[str], memory_map: MemoryMap = MemoryMap()) -> None:
    """Run the linker; an overflowing memory region names its need, its limit and the setting to raise.

    The message leads with the linker's own diagnostic lines (the command line is kept in
    `BuildError.command`), so a report's one-line reason is never a truncated command.
    """
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        return
    diagnostics = _condensed(proc.stderr)
    overflows: dict[str, int] = {}
    for region, size in _OVERFLOW.findall(diagnostics):
        overflows[region] = max(overflows.get(region, 0), int(size))
    if overflows:
        limits = {"ROM": memory_map.rom_size, "RAM": memory_map.ram_size}
        what = "; ".join(_does_not_fit(region, size, limits.get(region)) for region, size in overflows.items())
        cause = "\n".join(line for line in diagnostics.splitlines() if _OVERFLOW.search(line))
        raise LinkOverflow(f"linking failed: {what}", cause, cmd, overflows)  # lld's overlaps follow from it
    raise BuildError(f"linking failed (exit {proc.returncode})", diagnostics, cmd)


def _does_not_fit(region: str, overflow: int, limit: int | None) -> str:
    """'does not fit: ROM 4,466,688 B > 4,194,304 B (rom_kib=4096); raise -s rom_kib=5120'."""
    setting = _SIZE_SETTING.get(region, region.lower())
    if limit is None:
        return f"does not fit: {region} overflowed by {overflow} bytes; raise -s {setting}"
    need_kib = -(-(limit + overflow) // 1024)
    suggest = -(-need_kib // (GROW_STEP // 1024)) * (GROW_STEP // 1024)  # the next GROW_STEP
    return (f"does not fit: {region} {limit + overflow:,} B > {limit:,} B ({setting}={limit // 1024}; "
            f"{region} overflowed by {overflow} bytes); raise -s {setting}={suggest}")


def _compile(clang: Path, flags: list[str], src: Path, obj: Path) -> str:
    cmd = [str(clang), *flags, "-c", str(src), "-o", str(obj)]
    _run(cmd, f"compiling {src.name}")
    return shlex.join(cmd)


def _platform_objects(tc: Toolchain, flags: list[str], header_dir: Path, workspace: Workspace) -> list[Path]:
    """Compile startup + libc once per flag set and cache the objects (content-keyed)."""
    sources = platform_sources(workspace)
    key = hashlib.sha256()
    for part in [tc.clang_version, *flags, (header_dir / "mlml_memory_map.h").read_text()]:
        key.update(part.encode())
    for src in sources + sorted(workspace.platform_include.glob("*.h")):
        key.update(src.read_bytes())
    cache = workspace.cache_dir / "platform" / key.hexdigest()[:20]
    objs = [cache / f"{src.stem}{src.suffix.replace('.', '_')}.o" for src in sources]
    if all(o.is_file() for o in objs):
        return objs
    cache.mkdir(parents=True, exist_ok=True)
    for src, obj in zip(sources, objs):
        tmp = obj.with_suffix(f".{os.getpid()}.tmp")
        _compile(tc.clang, flags, src, tmp)
        os.replace(tmp, obj)
    return objs


def build_firmware(sources: Sequence[Path], out_dir: Path, arch: str = DEFAULT_ARCH,
                   include_dirs: Sequence[Path] = (), defines: Mapping[str, object] | None = None,
                   memory_map: MemoryMap = MemoryMap(), opt: str = "-O2",
                   extra_cflags: Sequence[str] = (), werror: bool = False,
                   name: str = "firmware", workspace: Workspace | None = None,
                   grow: Sequence[str] = ()) -> FirmwareBuild:
    """Compile `sources` with the platform (startup, libc) and link `out_dir/<name>.elf`.

    The caller adds `workspace.platform_main` to `sources` for model firmware.  Regions named in
    `grow` ("ROM", "RAM") have no user limit: a link that overflows them is rebuilt for a map
    grown to fit (the generated header and linker script change, so everything is recompiled).
    Raises `BuildError` (with the compiler's stderr) or `ToolchainMissing`.
    """
    workspace = workspace or default_workspace()
    tc = find_toolchain()
    spec = load_arch(arch, workspace)
    sources = [Path(s) for s in sources]
    for src in sources:
        if not src.is_file():
            raise BuildError(f"source file not found: {src}")
    out_dir = Path(out_dir)
    gen_dir = out_dir / "include"
    obj_dir = out_dir / "obj"
    gen_dir.mkdir(parents=True, exist_ok=True)
    obj_dir.mkdir(parents=True, exist_ok=True)
    (gen_dir / "mlml_memory_map.h").write_text(memory_map.render_c_header())
    linker_script = out_dir / "link.ld"
    linker_script.write_text(memory_map.render_linker_script())

    includes = [gen_dir, workspace.platform_include, *map(Path, include_dirs)]
    flags = base_cflags(spec, opt, includes, defines or {}, werror, extra_cflags)
    platform_objs = _platform_objects(tc, base_cflags(spec, opt, [gen_dir, workspace.platform_include], {},
                                                      True, ()), gen_dir, workspace)
    objs = [obj_dir / f"{i:03d}_{src.stem}.o" for i, src in enumerate(sources)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        commands = list(pool.map(lambda so: _compile(tc.clang, flags, *so), zip(sources, objs)))

    elf = out_dir / f"{name}.elf"
    link = [str(tc.lld), "-m", "elf32lriscv", "-T", str(linker_script), "--gc-sections",
            "-Map", str(out_dir / f"{name}.map"), "-o", str(elf), *map(str, objs),
            *map(str, platform_objs)]
    libm = math_library(spec.march, spec.mabi)
    link += [*([str(libm)] if libm else []), str(runtime_library(spec.march, spec.mabi))]
    try:
        _link(link, memory_map)
    except LinkOverflow as err:
        grown = grown_map(memory_map, err.overflows, grow)
        if grown is None:
            raise
        return build_firmware(sources, out_dir, arch=arch, include_dirs=include_dirs, defines=defines,
                              memory_map=grown, opt=opt, extra_cflags=extra_cflags, werror=werror,
                              name=name, workspace=workspace, grow=grow)
    except BuildError as err:
        if libm is None and "undefined symbol" in err.stderr:
            raise BuildError(f"linking failed: the math library (expf/tanhf of a float model) is missing; "
                             f"install it with: {INSTALL_COMMAND}", err.stderr, err.command) from None
        raise
    sizes = section_sizes(elf, memory_map)
    return FirmwareBuild(elf=elf, arch=spec.name, compile_commands=commands,
                         link_command=shlex.join(link), memory_map=memory_map, **sizes)


GROW_STEP = 256 * 1024  # grown regions are rounded up to this (the overflow message's step too)


def grown_map(memory_map: MemoryMap, overflows: Mapping[str, int], grow: Sequence[str]) -> MemoryMap | None:
    """The map with each overflowing region grown by its missing bytes (in GROW_STEP steps), or
    None when a region that overflowed has a user limit (the overflow message then stands)."""
    if not overflows or any(region not in grow for region in overflows):
        return None
    sizes = {"ROM": memory_map.rom_size, "RAM": memory_map.ram_size}
    for region, missing in overflows.items():
        sizes[region] = -(-(sizes[region] + missing) // GROW_STEP) * GROW_STEP
    try:
        return dataclasses.replace(memory_map, rom_size=sizes["ROM"], ram_size=sizes["RAM"])
    except ValueError as exc:  # e.g. a ROM reaching the platform's devices
        raise BuildError(f"does not fit the virtual platform: ROM {sizes['ROM']:,} B, RAM {sizes['RAM']:,} B "
                         f"needed ({exc})") from None


def section_sizes(elf_path: Path, memory_map: MemoryMap = MemoryMap()) -> dict[str, int]:
    """ROM/RAM breakdown of a linked ELF, classified by section flags and address."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    sizes = dict(rom_code=0, rom_rodata=0, rom_data_init=0, ram_data=0, ram_bss=0, ram_noinit=0,
                 stack_bytes=0)
    with open(elf_path, "rb") as fh:
        for sec in ELFFile(fh).iter_sections():
            flags, size, addr = sec["sh_flags"], sec["sh_size"], sec["sh_addr"]
            if not flags & SH_FLAGS.SHF_ALLOC or size == 0:
                continue
            nobits = sec["sh_type"] == "SHT_NOBITS"
            if sec.name == ".stack" or memory_map.stack_base <= addr < memory_map.stack_top:
                sizes["stack_bytes"] += size
            elif sec.name.startswith(".noinit"):
                sizes["ram_noinit"] += size
            elif nobits:
                sizes["ram_bss"] += size
            elif flags & SH_FLAGS.SHF_EXECINSTR:
                sizes["rom_code"] += size
            elif flags & SH_FLAGS.SHF_WRITE:
                sizes["ram_data"] += size
                sizes["rom_data_init"] += size  # its load image lives in ROM
            else:
                sizes["rom_rodata"] += size
    sizes["rom_bytes"] = sizes["rom_code"] + sizes["rom_rodata"] + sizes["rom_data_init"]
    sizes["ram_bytes"] = sizes["ram_data"] + sizes["ram_bss"] + sizes["ram_noinit"]
    return sizes
