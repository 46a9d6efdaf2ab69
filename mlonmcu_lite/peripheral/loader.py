"""Finding and loading peripherals: a peripheral is a folder, nothing else to register.

`peripherals/<name>/` in the repository, or `<dir>/<name>/` for any extra
directory (`--peripheral-path`, or `MLML_PERIPHERAL_PATH`), is a Python package
with a `backend.py` defining one `AcceleratorBackend` subclass.  It is imported
under a private module name keyed by its path, so two folders never clash.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Iterable, Mapping

from mlonmcu_lite.workspace import default_workspace

from .backend import AcceleratorBackend
from .errors import PeripheralConfigError
from .settings import parse_peripheral_arg, validate_settings

ENV_PATH = "MLML_PERIPHERAL_PATH"
_NAMESPACE = "mlonmcu_lite_peripherals"


def search_dirs(search_path: Iterable[Path | str] | None = None) -> list[Path]:
    """Extra dirs first, then `$MLML_PERIPHERAL_PATH`, then the workspace's peripherals/
    (MLML_PERIPHERALS_DIR); de-duplicated."""
    dirs = [Path(p) for p in (search_path or [])]
    dirs += [Path(p) for p in os.environ.get(ENV_PATH, "").split(os.pathsep) if p]
    dirs.append(default_workspace().peripherals_dir)
    seen, out = set(), []
    for d in dirs:
        key = d.resolve()
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _is_peripheral(folder: Path) -> bool:
    return (folder / "__init__.py").is_file() and (folder / "backend.py").is_file()


def find_peripherals(search_path: Iterable[Path | str] | None = None) -> dict[str, Path]:
    """name -> folder; the same name in two places is an error naming both."""
    found: dict[str, Path] = {}
    for d in search_dirs(search_path):
        if not d.is_dir():
            continue
        for folder in sorted(d.iterdir()):
            if not _is_peripheral(folder):
                continue
            if folder.name in found:
                raise PeripheralConfigError(
                    f"peripheral {folder.name!r} found twice: {found[folder.name]} and {folder}")
            found[folder.name] = folder
    return found


def available_peripherals(search_path: Iterable[Path | str] | None = None) -> list[str]:
    return sorted(find_peripherals(search_path))


def _import_package(folder: Path) -> str:
    if _NAMESPACE not in sys.modules:
        ns = types.ModuleType(_NAMESPACE)
        ns.__path__ = []
        sys.modules[_NAMESPACE] = ns
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    module_name = f"{_NAMESPACE}.{folder.name}_{digest}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            module_name, folder / "__init__.py", submodule_search_locations=[str(folder)])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return module_name


def load_backend_class(name: str, search_path: Iterable[Path | str] | None = None
                       ) -> type[AcceleratorBackend]:
    peripherals = find_peripherals(search_path)
    if name not in peripherals:
        raise PeripheralConfigError(
            f"unknown peripheral {name!r}; available: {', '.join(sorted(peripherals)) or 'none'} "
            f"(searched {', '.join(map(str, search_dirs(search_path)))})")
    try:
        package = _import_package(peripherals[name])
        module = importlib.import_module(f"{package}.backend")
    except Exception as exc:  # noqa: BLE001 - any error in a plugin's code is the plugin's
        raise PeripheralConfigError(
            f"peripheral {name!r} is broken: {_where(exc, peripherals[name])}") from exc
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, AcceleratorBackend) and c.__module__ == module.__name__]
    if len(classes) != 1:
        raise PeripheralConfigError(
            f"{peripherals[name]}/backend.py must define exactly one AcceleratorBackend "
            f"subclass, found {[c.__name__ for c in classes]}")
    cls = classes[0]
    spec = getattr(cls, "spec", None)
    if spec is not None and spec.name != name:
        raise PeripheralConfigError(
            f"{peripherals[name]}: folder name {name!r} differs from declared name {spec.name!r}")
    return cls


def _where(exc: Exception, folder: Path) -> str:
    """`file:line: Error: message` of an error raised while importing a peripheral folder."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    inside = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve().is_relative_to(folder.resolve())]
    where = f"{inside[-1].filename}:{inside[-1].lineno}: " if inside else f"{folder}: "
    return f"{where}{type(exc).__name__}: {exc}"


def load_backend(text: str, search_path: Iterable[Path | str] | None = None
                 ) -> AcceleratorBackend:
    """`"qvanilla:macs_per_cycle=32"` -> a configured backend (settings validated)."""
    name, overrides = parse_peripheral_arg(text)
    return instantiate_backend(name, overrides, search_path)


def instantiate_backend(name: str, settings: Mapping[str, Any],
                        search_path: Iterable[Path | str] | None = None) -> AcceleratorBackend:
    """Peripheral `name` configured with `settings` (text or typed values, validated)."""
    cls = load_backend_class(name, search_path)
    if hasattr(cls, "from_overrides"):
        return cls.from_overrides(dict(settings))
    if settings:
        raise PeripheralConfigError(f"{name}: takes no settings, got {sorted(settings)}")
    return cls()


def load_backends(texts: Iterable[str], search_path: Iterable[Path | str] | None = None
                  ) -> list[AcceleratorBackend]:
    """Several peripherals for one run; their address windows must not collide with each
    other, the platform's devices or the default memories (`memory_map.first_overlap`)."""
    from mlonmcu_lite.vp.memory_map import PLATFORM_DEVICES, MemoryMap, first_overlap

    backends = [load_backend(t, search_path) for t in texts]
    bases: dict[int, str] = {}
    windows = [*MemoryMap().regions(), *PLATFORM_DEVICES]
    for b in backends:
        spec = getattr(b, "spec", None)
        if spec is None:
            continue
        if spec.base in bases:
            raise PeripheralConfigError(
                f"peripherals {bases[spec.base]} and {b.name} share base {spec.base:#x}")
        bases[spec.base] = b.name
        windows.append((f"peripheral {b.name}", spec.base, spec.size))
    problem = first_overlap(windows)
    if problem:
        raise PeripheralConfigError(f"address windows collide: {problem}")
    return backends


__all__ = ["available_peripherals", "find_peripherals", "instantiate_backend", "load_backend", "load_backend_class",
           "load_backends", "search_dirs", "validate_settings"]
