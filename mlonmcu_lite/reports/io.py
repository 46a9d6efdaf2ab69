"""Reading and writing results files (JSON and CSV) with the schema version.

JSON: a list of row objects, `[{"schema_version": N, column: value, ...}, ...]`, missing
values as null and `settings` as an object, so `pd.read_json("results.json")` is one row
per run.  The session's metadata (schema version, run counts, column dtypes) sits in the
sibling `session.json`.  CSV: a leading `schema_version` column too (the version travels
with every copy of either file), then the schema columns.  Both read back into a frame
equal to the one written (`schema.coerce_frame`); the wrapper format of earlier versions,
`{"schema_version": N, "rows": [...]}`, still reads.
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
SESSION_NAME = "session.json"


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


def json_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of results.json: `schema_version` first, `settings` as an object."""
    return [{"schema_version": SCHEMA_VERSION, **row, "settings": json.loads(row["settings"] or "{}")}
            for row in records(df)]


def write_json(df: pd.DataFrame, path: Path) -> Path:
    path.write_text(json.dumps(json_rows(df), indent=1, allow_nan=False) + "\n")
    return path


def write_session_json(df: pd.DataFrame, path: Path, files: dict[str, Path] | None = None) -> Path:
    """session.json: what results.json rows share (schema version, counts, column dtypes)."""
    sessions = [s for s in df["session"].dropna().unique().tolist()]
    doc = {
        "schema_version": SCHEMA_VERSION,
        "session": sessions[0] if len(sessions) == 1 else sessions or None,
        "runs": len(df),
        "failing": int(df["failing"].sum()),
        "columns": dict(COLUMN_DTYPES),
        "files": {name: p.name for name, p in sorted((files or {}).items())},
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")
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
    if path.suffix not in (".json", ".csv"):
        raise SchemaError(f"{path}: expected a .json or .csv results file or a report directory")
    try:
        return _load_json(path) if path.suffix == ".json" else _load_csv(path)
    except SchemaError:
        raise
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, a CSV that does not parse, ...
        raise SchemaError(f"{path}: unreadable results file ({type(exc).__name__}: {str(exc)[:200]})") from exc


def _load_json(path: Path) -> pd.DataFrame:
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: not valid JSON ({exc})") from exc
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):  # the earlier wrapper format
        rows, version = doc["rows"], doc.get("schema_version")
    elif isinstance(doc, list) and all(isinstance(row, dict) for row in doc):
        rows, version = doc, _row_version(doc, path)
    else:
        raise SchemaError(f'{path}: expected a list of result rows (or {{"schema_version": ..., "rows": [...]}})')
    rows = [{**row, "settings": _settings_text(row.get("settings"))} if "settings" in row else row for row in rows]
    raw = pd.DataFrame(rows, columns=_columns_of(rows))
    return coerce_frame(raw, source=str(path), version=version)


def _row_version(rows: list[dict], path: Path) -> Any:
    """The rows' schema version (session.json's when rows carry none, e.g. an empty file)."""
    versions = list(dict.fromkeys(row.get("schema_version") for row in rows))
    if len(versions) == 1 and versions[0] is not None:
        return versions[0]
    if not rows and (path.parent / SESSION_NAME).is_file():
        return json.loads((path.parent / SESSION_NAME).read_text()).get("schema_version")
    return versions if versions else SCHEMA_VERSION


def _settings_text(value: Any) -> Any:
    """`settings` as the schema keeps it: canonical JSON text (an object in results.json)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else value


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
