"""From typed run results to the report: comparisons, files, console table (and the sweep
plots when the session swept)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mlonmcu_lite.errors import ToolError


class ReportNotWritten(ToolError):
    """Writing the report files failed after the runs (the table and rows still exist)."""


def report_session(results: list, out_dir: Path, sweep: bool = False, objectives: tuple[str, ...] = ()):
    """Write the session report; returns (DataFrame, written files, console table).

    A sweep's plots are added to the files as `plot:<knob>`, and its table is the sweep table.
    Per-layer data goes to files["layers_csv"] / ["layers_parquet"] when runs have layers.
    The table is made before any file is written; a failure to write (disk full, folder
    gone) raises `ReportNotWritten` carrying the frame and table, so they are never lost.
    """
    from mlonmcu_lite.reports import add_comparisons, study_table, to_dataframe
    from mlonmcu_lite.reports import session as report_files
    from mlonmcu_lite.reports.layers import layers_frame
    from mlonmcu_lite.reports.precision import PRECISION_TITLE, precision_table
    from mlonmcu_lite.reports.sweep import sweep_table

    df = add_comparisons(to_dataframe(results))
    table = sweep_table(df) if sweep else study_table(df)
    precision = precision_table(df)
    if precision:
        table += f"\n\n{PRECISION_TITLE}:\n{precision}"
    if sweep and objectives:
        from mlonmcu_lite.reports.sweep import pareto_table

        table += "\n\n" + pareto_table(df, objectives)
    try:
        layers = layers_frame([dataclasses.asdict(r) for r in results])
        # the sweep plots too (the page embeds them)
        files = report_files.write_session_report(df, out_dir, layers, objectives)
    except Exception as exc:  # noqa: BLE001 - whatever failed, the runs' results survive
        error = ReportNotWritten(f"report not written to {out_dir}: {type(exc).__name__}: {exc}")
        error.frame, error.table = df, table
        raise error from exc
    if sweep:
        files.update({f"plot:{name[5:]}": path for name, path in list(files.items()) if name.startswith(("plot_sweep_", "plot_pareto"))})
    return df, files, table
