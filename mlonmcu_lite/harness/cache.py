"""Build cache: compiled model C + firmware ELF, keyed by everything they depend on.

The key hashes the model bytes, the compiler/codegen settings (arch, opt level,
each backend's codegen fingerprint), the tool versions (TVM, clang) and the
sources of the code that generates or links firmware, so that editing the
compiler or a driver invalidates stale entries.  Peripheral *cost* settings are
not part of the key: a sweep over `macs_per_cycle` reuses one firmware.

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
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
# Code whose change must invalidate cached firmware.
CODE_DIRS = ("mlonmcu_lite/frontend", "mlonmcu_lite/compiler", "mlonmcu_lite/peripheral", "platform")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class IOBuffer:
    """A model input/output buffer in the firmware."""

    name: str
    symbol: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int


@dataclass
class BuildArtifacts:
    """What a run needs from the build stages; persisted as the cache manifest."""

    key: str
    directory: str
    elf: str
    inputs: list[IOBuffer]
    outputs: list[IOBuffer]
    layers: list[dict]
    arena_bytes: int
    arena_lower_bound: int | None
    sizes: dict[str, int]  # rom_bytes, ram_bytes, rom_code, rom_rodata, ram_data, ram_bss, ...
    compile_seconds: float
    build_seconds: float
    cached: bool = False
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "BuildArtifacts":
        data = json.loads(text)
        for io in ("inputs", "outputs"):
            data[io] = [IOBuffer(**{**b, "shape": tuple(b["shape"])}) for b in data[io]]
        return cls(**data)


@lru_cache(maxsize=1)
def tool_versions() -> dict[str, str]:
    versions = {"mlonmcu-lite": _dist_version("mlonmcu-lite"), "apache-tvm": _dist_version("apache-tvm")}
    try:
        out = subprocess.run(["clang-14", "--version"], capture_output=True, text=True, timeout=30)
        versions["clang"] = out.stdout.splitlines()[0] if out.stdout else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        versions["clang"] = "missing"
    return versions


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def hash_tree(paths: list[Path]) -> str:
    """Content hash of every source file below `paths` (order-independent of walk order)."""
    digest = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix in {".pyc"}:
                continue
            digest.update(str(path.relative_to(root.parent) if root.is_dir() else path.name).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_hash() -> str:
    return hash_tree([REPO_ROOT / d for d in CODE_DIRS if (REPO_ROOT / d).exists()])


def cache_key(model_bytes: bytes, arch: str, opt: str, backend_fingerprints: list[str],
              extra_code: list[Path] = ()) -> str:
    payload = {
        "model": hashlib.sha256(model_bytes).hexdigest(),
        "arch": arch,
        "opt": opt,
        "backends": backend_fingerprints,
        "tools": tool_versions(),
        "code": code_hash(),
        "extra_code": hash_tree(list(extra_code)) if extra_code else "",
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


class BuildCache:
    """Directory of build entries `<root>/<key>/` each holding a manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def lookup(self, key: str) -> BuildArtifacts | None:
        manifest = self.root / key / MANIFEST
        if not manifest.exists():
            return None
        artifacts = BuildArtifacts.from_json(manifest.read_text())
        artifacts.cached = True
        return artifacts

    def get_or_build(self, key: str, build: Callable[[Path], BuildArtifacts]) -> BuildArtifacts:
        """Return the entry for `key`, calling `build(tmp_dir)` once if it is missing."""
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
                artifacts = build(tmp)
                text = artifacts.to_json().replace(str(tmp), str(final))
                (tmp / MANIFEST).write_text(text)
                os.replace(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            result = BuildArtifacts.from_json(text)
            return result

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        with open(self.root / f".{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
