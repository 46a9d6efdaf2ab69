"""From run rows to the report: schema objects, comparisons, files, console table."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


def to_run_results(rows: list[dict[str, Any]]):
    from mlonmcu_lite.reports.schema import RunResult

    known = {f.name for f in dataclasses.fields(RunResult)}
    return [RunResult(**{k: v for k, v in row.items() if k in known}) for row in rows]


def report_session(rows: list[dict[str, Any]], out_dir: Path):
    """Write the session report; returns (DataFrame, written files, console table)."""
    from mlonmcu_lite.reports import add_comparisons, study_table, to_dataframe, write_session_report

    df = add_comparisons(to_dataframe(to_run_results(rows)))
    files = write_session_report(df, out_dir)
    return df, files, study_table(df)
