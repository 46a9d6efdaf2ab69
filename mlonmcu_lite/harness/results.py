"""From typed run results to the report: comparisons, files, console table (and the sweep
plots when the session swept)."""

from __future__ import annotations

import dataclasses
from pathlib import Path


def report_session(results: list, out_dir: Path, sweep: bool = False):
    """Write the session report; returns (DataFrame, written files, console table).

    A sweep's plots are added to the files as `plot:<knob>`, and its table is the sweep table.
    Per-layer data goes to files["layers_csv"] / ["layers_parquet"] when runs have layers.
    """
    from mlonmcu_lite.reports import add_comparisons, study_table, to_dataframe, write_session_report
    from mlonmcu_lite.reports.layers import layers_frame

    df = add_comparisons(to_dataframe(results))
    layers = layers_frame([dataclasses.asdict(r) for r in results])
    files = write_session_report(df, out_dir, layers)  # the sweep plots too (the page embeds them)
    if not sweep:
        return df, files, study_table(df)
    from mlonmcu_lite.reports.sweep import sweep_table

    files.update({f"plot:{name[5:]}": path for name, path in list(files.items()) if name.startswith("plot_sweep_")})
    return df, files, sweep_table(df)
