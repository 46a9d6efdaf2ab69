"""Named TOML tables validated by a pydantic model: core timing profiles and energy tables.

A name is a built-in table (`<folder>/<name>.toml`, package data); anything else is a path
to the user's own file.  Errors name the file, the key and the problem, and list the
built-in names.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def builtin_names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_named(spec: str, folder: Path, model: type[M], error: type[Exception], what: str) -> M:
    """The table `spec` (built-in name or path) as a validated `model`; `error` otherwise."""
    path = folder / f"{spec}.toml" if spec in builtin_names(folder) else Path(spec).expanduser()
    return _load(str(path.resolve()) if path.exists() else str(path), folder, model, error, what)


@lru_cache(maxsize=64)
def _load(path: str, folder: Path, model: type[M], error: type[Exception], what: str) -> M:
    file = Path(path)
    if not file.is_file():
        raise error(f"{what} {path!r}: not a built-in one ({', '.join(builtin_names(folder))}) "
                    "nor a .toml file")
    try:
        data = tomllib.loads(file.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise error(f"{what} {file}: {exc}") from None
    try:
        return model(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(table)'}: {e['msg']}" for e in exc.errors())
        raise error(f"{what} {file}: {problems}") from None
