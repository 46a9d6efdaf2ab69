"""From typed run results to the report: comparisons, files, console table (and the sweep
plots when the session swept)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mlonmcu_lite.errors import ToolError
from mlonmcu_lite.interrupts import deferred_interrupt


class ReportNotWritten(ToolError):
    """Writing the report files failed after the runs (the table and rows still exist)."""


class ReportInterrupted(ReportNotWritten):
    """Ctrl-C while the report was written: the rows' files are whole, the rest may be missing."""


def report_session(results: list, out_dir: Path, sweep: bool = False, objectives: tuple[str, ...] = ()):
    """Write the session report; returns (DataFrame, written files, console table).

    A sweep's plots are added to the files as `plot:<knob>`, and its table is the sweep table.
    Per-layer data goes to files["layers_csv"] / ["layers_parquet"] when runs have layers.
    The table is made before any file is written; a failure to write (disk full, folder
    gone) raises `ReportNotWritten` carrying the frame and table, so they are never lost;
    a Ctrl-C then raises `ReportInterrupted` (results.csv/.json are written before the rest).
    """
    from mlonmcu_lite.reports import add_comparisons, study_table, to_dataframe
    from mlonmcu_lite.reports import session as report_files
    from mlonmcu_lite.reports.layers import layers_frame
    from mlonmcu_lite.reports.precision import PRECISION_TITLE, precision_table
    from mlonmcu_lite.reports.sweep import sweep_table

    with deferred_interrupt():  # the rows and their table are made whatever the keyboard says
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
    except KeyboardInterrupt:
        from mlonmcu_lite.reports.io import CSV_NAME, JSON_NAME

        kept = [name for name in (JSON_NAME, CSV_NAME) if (out_dir / name).is_file()]
        error = ReportInterrupted(f"report interrupted by Ctrl-C in {out_dir}: "
                                  + (f"{' and '.join(kept)} written, " if kept else "no results file written, ")
                                  + "the page and plots may be missing")
        error.frame, error.table = df, table
        raise error from None
    except Exception as exc:  # noqa: BLE001 - whatever failed, the runs' results survive
        error = ReportNotWritten(f"report not written to {out_dir}: {type(exc).__name__}: {exc}")
        error.frame, error.table = df, table
        raise error from exc
    if sweep:
        files.update({f"plot:{name[5:]}": path for name, path in list(files.items()) if name.startswith(("plot_sweep_", "plot_pareto"))})
    return df, files, table
