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
A build killed midway leaves its temporary `.<key>-*` folder; the next build of that key
(or `bench cache info/clear`) removes it once no process holds the key's lock.  Each
manifest records a checksum of every file of its entry: an entry that no longer matches
(truncated ELF, deleted file, broken manifest) is rebuilt with a warning, never used.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import warnings
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
    memory_kib: dict[str, int] | None = None  # rom_kib / ram_kib of the map it is linked for (None: older entry)

    def memory_map(self, settings):
        """The VP map this ELF is linked for: grown to fit, or (older cache entries) the settings' map."""
        if not self.memory_kib:
            return settings.memory_map()
        from mlonmcu_lite.vp.memory_map import KiB, MemoryMap

        return MemoryMap(rom_size=self.memory_kib["rom_kib"] * KiB, ram_size=self.memory_kib["ram_kib"] * KiB)

    @classmethod
    def from_dict(cls, data: dict) -> "FirmwareArtifacts":
        return cls(**data)


# name in the key -> the tool whose `--version` first line enters every cache key
TOOLS = {"clang": "clang-14", "lld": "ld.lld-14", "runtime": RUNTIME_GCC}


@lru_cache(maxsize=1)
def tool_versions() -> dict[str, str]:
    """Versions of the tools that shape a firmware (the compiler, linker and libgcc's GCC)."""
    versions = {"mlonmcu-lite": dist_version("mlonmcu-lite"), "apache-tvm": dist_version("apache-tvm")}
    for name, tool in TOOLS.items():
        try:
            out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=30)
            versions[name] = out.stdout.splitlines()[0] if out.stdout else "unknown"
        except (OSError, subprocess.TimeoutExpired):
            versions[name] = "missing"
    return versions


def dist_version(name: str) -> str:
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
        """The verified manifest of entry `key` (without its checksums), or None when absent."""
        entry = self.root / key
        if not entry.exists():
            return None
        problem = _verify(entry)
        if problem:
            return {"corrupt": problem}
        data = json.loads((entry / MANIFEST).read_text())
        data.pop("checksums", None)
        return {**data, "cached": True}

    def get_or_build(self, key: str, build: Callable[[Path], Any]) -> dict:
        """The manifest of entry `key`, calling `build(tmp_dir)` once if it is missing.

        `build` returns a dataclass (or dict) whose paths point into `tmp_dir`; they are
        rewritten to the entry's final directory.  A failed build leaves nothing behind.
        """
        found = self.lookup(key)
        if found is not None and "corrupt" not in found:
            return found
        with self._lock(key):
            for debris in self.root.glob(f".{key}-*"):  # left by a build killed under this lock
                shutil.rmtree(debris, ignore_errors=True)
            found = self.lookup(key)  # another process may have built it meanwhile
            if found is not None and "corrupt" not in found:
                return found
            final = self.root / key
            if found is not None:
                warnings.warn(f"cache entry {key} is corrupted ({found['corrupt']}); rebuilding it",
                              RuntimeWarning, stacklevel=2)
                _remove(final)
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
            try:
                result = build(tmp)
                data = asdict(result) if is_dataclass(result) else dict(result)
                text = json.dumps(data, indent=1, sort_keys=True, default=str).replace(str(tmp), str(final))
                manifest = {**json.loads(text), "checksums": _checksums(tmp)}
                (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return {**json.loads(text), "cached": False}

    # -- maintenance (`bench cache`) ----------------------------------------------------
    def entries(self) -> list[Path]:
        """The cache entries: folders this class built (each has its manifest)."""
        return sorted(p for p in self._folders() if (p / MANIFEST).is_file())

    def side_folders(self) -> list[Path]:
        """Other folders below the root, kept by their own code (native/: the counting hook,
        platform/: the platform objects); not entries, but emptied by `clear` too."""
        return sorted(p for p in self._folders() if not (p / MANIFEST).is_file())

    def _folders(self) -> list[Path]:
        return [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]

    def clean_debris(self) -> int:
        """Remove the temporary folders of builds no process is running; returns how many."""
        removed = 0
        for debris in self.root.glob(".*-*"):
            if not debris.is_dir():
                continue
            key = debris.name[1:debris.name.rindex("-")]
            with open(self.root / f".{key}.lock", "w") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a build of that key is running right now
                shutil.rmtree(debris, ignore_errors=True)
                removed += 1
        return removed

    def clear(self) -> int:
        """Remove every entry, the side folders and debris; returns the number of entries removed."""
        self.clean_debris()
        entries = self.entries()
        for entry in entries + self.side_folders():
            _remove(entry)
        for lock in self.root.glob(".*.lock"):
            lock.unlink(missing_ok=True)
        return len(entries)

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        with open(self.root / f".{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _checksums(entry: Path) -> dict[str, str]:
    """sha256 of every file of an entry but its manifest, by relative path."""
    return {str(path.relative_to(entry)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(entry.rglob("*")) if path.is_file() and path.name != MANIFEST}


def _verify(entry: Path) -> str | None:
    """Why entry no longer matches its manifest, or None."""
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return f"manifest unreadable: {type(exc).__name__}"
    expected = manifest.get("checksums") if isinstance(manifest, dict) else None
    if not isinstance(expected, dict):
        return "manifest has no checksums"
    actual = _checksums(entry)
    for name, digest in expected.items():
        if name not in actual:
            return f"{name} missing"
        if actual[name] != digest:
            return f"{name} changed (checksum mismatch)"
    return None


def _remove(entry: Path) -> None:
    """Move an entry aside atomically, then delete it (readers never see half of it)."""
    trash = Path(tempfile.mkdtemp(prefix=f".{entry.name}-trash", dir=entry.parent))
    try:
        os.replace(entry, trash / "entry")
    except FileNotFoundError:
        pass
    shutil.rmtree(trash, ignore_errors=True)
