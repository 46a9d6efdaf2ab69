"""Build cache: compiled model C + firmware ELF, keyed by everything they depend on.

Two levels: `model-*` entries hold TVM's C output (model bytes, each backend's
codegen fingerprint; independent of the arch), `fw-*` entries hold one ELF per
model entry, arch and opt level.  Every key also hashes the tool versions (TVM,
clang) and the sources of the code that generates or links firmware, so that
editing the compiler or a driver invalidates stale entries.  Peripheral *cost*
settings are not part of any key: a sweep over `macs_per_cycle` reuses one
firmware, and an rv32gc run reuses the rv32imc run's TVM output.

Entries are built in a temporary directory and renamed into place, under a
per-key file lock, so parallel runs needing the same firmware build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

from mlonmcu_lite.abi import IOBuffer
from mlonmcu_lite.firmware.toolchain import RUNTIME_GCC
from mlonmcu_lite.workspace import Workspace, cached_code_hash, hash_files

MANIFEST = "manifest.json"


@dataclass
class ModelArtifacts:
    """TVM's output for one model and set of backends (independent of the arch)."""

    directory: str
    sources: list[str]
    backend_sources: list[str]
    include_dirs: list[str]
    inputs: list[IOBuffer]
    outputs: list[IOBuffer]
    layers: list[dict]
    arena_bytes: int
    arena_lower_bound: int | None
    compile_seconds: float
    cached: bool = False

    @classmethod
    def from_dict(cls, data: dict) -> "ModelArtifacts":
        for io in ("inputs", "outputs"):
            data[io] = [IOBuffer(**{**b, "shape": tuple(b["shape"])}) for b in data[io]]
        return cls(**data)


@dataclass
class FirmwareArtifacts:
    """One ELF built from a ModelArtifacts for one arch."""

    directory: str
    elf: str
    sizes: dict[str, int]  # rom_bytes, ram_bytes, rom_code, rom_rodata, ram_data, ram_bss, ...
    build_seconds: float
    cached: bool = False

    @classmethod
    def from_dict(cls, data: dict) -> "FirmwareArtifacts":
        return cls(**data)


# name in the key -> the tool whose `--version` first line enters every cache key
TOOLS = {"clang": "clang-14", "lld": "ld.lld-14", "runtime": RUNTIME_GCC}


@lru_cache(maxsize=1)
def tool_versions() -> dict[str, str]:
    """Versions of the tools that shape a firmware (the compiler, linker and libgcc's GCC)."""
    versions = {"mlonmcu-lite": _dist_version("mlonmcu-lite"), "apache-tvm": _dist_version("apache-tvm")}
    for name, tool in TOOLS.items():
        try:
            out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30)
            versions[name] = out.stdout.splitlines()[0] if out.stdout else "unknown"
        except (OSError, subprocess.TimeoutExpired):
            versions[name] = "missing"
    return versions


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def hash_tree(paths: list[Path]) -> str:
    """Content hash of every file below `paths` (e.g. an out-of-tree peripheral's folder)."""
    return hash_files(sorted(Path(p) for p in paths))


def cache_key(kind: str, workspace: Workspace, **parts) -> str:
    """`<kind>-<hash>` over `parts`, the tool versions and every file that shapes a firmware
    (`Workspace.code_hash`: frontend, compiler, peripheral framework, toolchain flags and
    arch files, linker-script generator, platform/, peripherals/)."""
    payload = {"kind": kind, "tools": tool_versions(), "code": cached_code_hash(workspace), **parts}
    return f"{kind}-" + hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


class BuildCache:
    """Directory of build entries `<root>/<key>/` each holding a manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def lookup(self, key: str) -> dict | None:
        manifest = self.root / key / MANIFEST
        if not manifest.exists():
            return None
        return {**json.loads(manifest.read_text()), "cached": True}

    def get_or_build(self, key: str, build: Callable[[Path], Any]) -> dict:
        """The manifest of entry `key`, calling `build(tmp_dir)` once if it is missing.

        `build` returns a dataclass (or dict) whose paths point into `tmp_dir`; they are
        rewritten to the entry's final directory.  A failed build leaves nothing behind.
        """
        found = self.lookup(key)
        if found is not None:
            return found
        with self._lock(key):
            found = self.lookup(key)  # another process may have built it meanwhile
            if found is not None:
                return found
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
            final = self.root / key
            try:
                result = build(tmp)
                data = asdict(result) if is_dataclass(result) else dict(result)
                text = json.dumps(data, indent=1, sort_keys=True, default=str).replace(str(tmp), str(final))
                (tmp / MANIFEST).write_text(text)
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return {**json.loads(text), "cached": False}

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        with open(self.root / f".{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
