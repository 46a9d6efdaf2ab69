"""Where everything lives: one object owns every root the harness reads or writes.

Two layouts, told apart by `pyproject.toml` beside the package:
* a checkout: the package's parent folder holds platform/, models/, peripherals/ and
  reports/; the cache is `build/cache/`;
* an installed package (`pip install .` or a wheel): platform/, models/ and peripherals/
  ship as package data in `mlonmcu_lite/data/` (setup.py copies them at build time), the
  cache goes to the user's cache directory (platformdirs: `$XDG_CACHE_HOME/mlonmcu-lite`,
  usually `~/.cache/mlonmcu-lite`) and reports to `./reports` of the working directory.
Each root can be moved by an environment variable, and any root can be given as an option
(`Workspace.from_env(cache_dir=...)`).  This module is the only place that derives a path
from `__file__`.

The workspace also decides what a cache key covers: `firmware_inputs()` lists every file
whose content shapes a firmware (frontend, compiler, peripheral framework, the toolchain's
flags and arch files, the linker-script generator, platform/ and the peripheral folders),
and `code_hash()` hashes them all, so editing any of them invalidates cached builds.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR_NAME = "data"  # mlonmcu_lite/data/{platform,models,peripherals} in an installed package
DATA_ROOTS = ("platform", "models", "peripherals")  # what setup.py ships as package data
CHECKOUT_MARKER = "pyproject.toml"
APP_NAME = "mlonmcu-lite"

# root attribute -> environment variable that overrides its default
ENVIRONMENT = {
    "root": "MLML_ROOT",
    "platform_dir": "MLML_PLATFORM_DIR",
    "peripherals_dir": "MLML_PERIPHERALS_DIR",
    "models_dir": "MLML_MODELS_DIR",
    "cache_dir": "MLML_CACHE_DIR",
    "reports_dir": "MLML_REPORTS_DIR",
}

# Inside the package: the code that turns a model into firmware (paths relative to it).
FIRMWARE_CODE = (
    "frontend",            # TFLite -> integer Relax
    "zoo/tflite_info.py",  # what the frontend reads of a .tflite
    "compiler",            # Relax -> C, offload
    "peripheral",          # framework: capabilities, headers, driver calls
    "firmware",            # toolchain flags, link order, platform object cache
    "vp/memory_map.py",    # the generated linker script and memory-map header
)
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".so", ".o"}


@dataclass(frozen=True)
class Workspace:
    """The roots of one harness installation (all absolute)."""

    package_dir: Path
    root: Path
    platform_dir: Path
    peripherals_dir: Path
    models_dir: Path
    cache_dir: Path
    reports_dir: Path
    installed: bool = False  # the installed-package layout (see the module docstring)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **options: Path | str | None) -> "Workspace":
        """Defaults, overridden by the environment, overridden by non-None `options`."""
        env = os.environ if env is None else env
        chosen = {key: Path(env[var]) for key, var in ENVIRONMENT.items() if env.get(var)}
        chosen.update({key: Path(value) for key, value in options.items() if value is not None})
        package_dir = Path(chosen.pop("package_dir", PACKAGE_DIR))
        installed = "root" not in chosen and not is_checkout(package_dir.parent)
        root = Path(chosen.pop("root", package_dir / DATA_DIR_NAME if installed else package_dir.parent))
        defaults = {
            "platform_dir": root / "platform",
            "peripherals_dir": root / "peripherals",
            "models_dir": root / "models",
            "cache_dir": user_cache_dir() if installed else root / "build" / "cache",
            "reports_dir": Path.cwd() / "reports" if installed else root / "reports",
        }
        unknown = set(chosen) - set(defaults)
        if unknown:
            raise TypeError(f"unknown workspace root(s): {', '.join(sorted(unknown))}")
        roots = {**defaults, **chosen}
        return cls(package_dir=package_dir.resolve(), root=root.resolve(), installed=installed,
                   **{key: path.resolve() for key, path in roots.items()})

    def with_roots(self, **roots: Path | str | None) -> "Workspace":
        """This workspace with some roots replaced (None keeps the current one)."""
        return replace(self, **{k: Path(v).resolve() for k, v in roots.items() if v is not None})

    def describe(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}

    @property
    def layout(self) -> str:
        return "installed" if self.installed else "checkout"

    # -- the model zoo ---------------------------------------------------------------
    @property
    def zoo_dir(self) -> Path:
        return self.models_dir / "zoo"

    @property
    def ops_dir(self) -> Path:
        return self.models_dir / "ops"

    @property
    def float_dir(self) -> Path:
        """float32 and hybrid op models (committed) and float zoo models (generated, not versioned)."""
        return self.models_dir / "float"

    @property
    def realworld_dir(self) -> Path:
        """Replicas of public vision models made by the TFLite converter (models/realworld/)."""
        return self.models_dir / "realworld"

    # -- the platform ----------------------------------------------------------------
    @property
    def platform_include(self) -> Path:
        return self.platform_dir / "include"

    @property
    def platform_main(self) -> Path:
        return self.platform_dir / "main.c"

    @property
    def arch_dir(self) -> Path:
        return self.platform_dir / "arch"

    def archs(self) -> list[str]:
        """ISA variants: one `platform/arch/<name>.json` each."""
        return sorted(p.stem for p in self.arch_dir.glob("*.json"))

    def package_file(self, relative: str) -> Path:
        """A data file shipped inside the package (e.g. `vp/native/block_counter.c`)."""
        return self.package_dir / relative

    # -- reports ---------------------------------------------------------------------
    @property
    def baseline_dir(self) -> Path:
        """The committed baseline of the tracked set (`bench baseline` rewrites it);
        an installed package has none: `<reports>/baseline`."""
        return self.reports_dir / "baseline" if self.installed else self.root / "reports" / "baseline"

    # -- what shapes a firmware --------------------------------------------------------
    def firmware_roots(self) -> list[Path]:
        """Files and folders whose content shapes a firmware, in hashing order."""
        inside = [self.package_dir / rel for rel in FIRMWARE_CODE]
        return [*inside, self.platform_dir, self.peripherals_dir]

    def firmware_inputs(self) -> list[Path]:
        """Every file below `firmware_roots()` that the code hash covers."""
        return [path for _, path in _files(self.firmware_roots())]

    def code_hash(self) -> str:
        """Content hash of `firmware_inputs()` (names and bytes); recomputed on each call."""
        return hash_files(self.firmware_roots())


def is_checkout(folder: Path) -> bool:
    """A source checkout: the project file and the platform sit beside the package."""
    return (folder / CHECKOUT_MARKER).is_file() and (folder / "platform").is_dir()


def user_cache_dir() -> Path:
    """The user's cache directory for this tool (XDG on Linux, the OS's convention elsewhere)."""
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def hash_files(roots: list[Path]) -> str:
    """Content hash of every file below `roots` (each named relative to its root's parent)."""
    digest = hashlib.sha256()
    for name, path in _files(roots):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _files(roots: list[Path]) -> list[tuple[str, Path]]:
    out = []
    for root in roots:
        if root.is_file():
            out.append((root.name, root))
            continue
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if "__pycache__" in path.parts or path.suffix in SKIPPED_SUFFIXES:
                continue
            out.append((str(path.relative_to(root.parent)), path))
    return out


@lru_cache(maxsize=8)
def cached_code_hash(workspace: Workspace) -> str:
    """`workspace.code_hash()` once per process (the code does not change under a run)."""
    return workspace.code_hash()


def default_workspace() -> Workspace:
    """The workspace of this process: defaults and the environment."""
    return Workspace.from_env()
