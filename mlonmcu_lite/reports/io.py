"""Reading and writing results files (JSON and CSV) with the schema version.

JSON: `{"schema_version": N, "rows": [{column: value, ...}, ...]}`, missing
values as null.  CSV: a leading `schema_version` column (so the version travels
with every copy of the file), then the schema columns.  Both read back into a
frame equal to the one written (`schema.coerce_frame`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .schema import COLUMN_DTYPES, COLUMNS, SCHEMA_VERSION, SchemaError, coerce_frame

JSON_NAME = "results.json"
CSV_NAME = "results.csv"


def _plain(value: Any) -> Any:
    """A JSON-ready Python value: NA/NaN -> None, numpy scalars -> int/float/bool."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts in schema column order (what `--json` and results.json hold)."""
    return [{col: _plain(row[col]) for col in COLUMNS} for _, row in df.iterrows()]


def write_json(df: pd.DataFrame, path: Path) -> Path:
    doc = {"schema_version": SCHEMA_VERSION, "rows": records(df)}
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    return path


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    out = df[list(COLUMNS)].copy()
    out.insert(0, "schema_version", SCHEMA_VERSION)
    out.to_csv(path, index=False)
    return path


def resolve_results_path(path: str | Path) -> Path:
    """The results file behind a file, a report directory, or a reports root.

    A directory without results files of its own (e.g. `reports/`) stands for
    its newest session: the last subdirectory, by name (timestamps sort), that
    holds results.  JSON is preferred over CSV.
    """
    path = Path(path)
    if not path.is_dir():
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such results file or report directory")
        return path
    for name in (JSON_NAME, CSV_NAME):
        if (path / name).is_file():
            return path / name
    sessions = sorted(d for d in path.iterdir() if d.is_dir() and any((d / n).is_file() for n in (JSON_NAME, CSV_NAME)))
    if not sessions:
        raise FileNotFoundError(f"{path}: no {JSON_NAME} or {CSV_NAME} here or in a session directory below")
    return resolve_results_path(sessions[-1])


def load_results(path: str | Path) -> pd.DataFrame:
    """Load results.json, results.csv, a report directory or a reports root.

    Raises SchemaError (a ValueError) with the file name on a wrong schema
    version, missing columns or malformed content; FileNotFoundError when there
    is nothing to read.
    """
    path = resolve_results_path(path)
    if path.suffix == ".json":
        return _load_json(path)
    if path.suffix == ".csv":
        return _load_csv(path)
    raise SchemaError(f"{path}: expected a .json or .csv results file or a report directory")


def _load_json(path: Path) -> pd.DataFrame:
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or "rows" not in doc or not isinstance(doc["rows"], list):
        raise SchemaError(f'{path}: expected {{"schema_version": ..., "rows": [...]}}')
    raw = pd.DataFrame(doc["rows"], columns=_columns_of(doc["rows"]))
    return coerce_frame(raw, source=str(path), version=doc.get("schema_version"))


def _columns_of(rows: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen) or list(COLUMNS)


def _load_csv(path: Path) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    if "schema_version" not in header:
        raise SchemaError(f"{path}: no schema_version column; not a results file of this tool")
    dtypes = {c: d for c, d in COLUMN_DTYPES.items() if c in header}
    try:
        raw = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{path}: malformed results CSV ({exc})") from exc
    versions = [_plain(v) for v in raw["schema_version"].dropna().unique()]
    if not versions:  # header only: no rows that could disagree
        version: Any = SCHEMA_VERSION
    else:
        version = versions[0] if len(versions) == 1 else versions
    return coerce_frame(raw, source=str(path), version=version)
