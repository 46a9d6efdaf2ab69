"""From typed run results to the report: comparisons, files, console table (and the sweep
plots when the session swept)."""

from __future__ import annotations

from pathlib import Path


def report_session(results: list, out_dir: Path, sweep: bool = False):
    """Write the session report; returns (DataFrame, written files, console table).

    A sweep's plots are added to the files as `plot:<knob>`, and its table is the sweep table.
    """
    from mlonmcu_lite.reports import add_comparisons, study_table, to_dataframe, write_session_report

    df = add_comparisons(to_dataframe(results))
    files = write_session_report(df, out_dir)
    if not sweep:
        return df, files, study_table(df)
    from mlonmcu_lite.reports.sweep import sweep_table, write_sweep_plots

    files.update({f"plot:{name}": path for name, path in write_sweep_plots(df, out_dir).items()})
    return df, files, sweep_table(df)
