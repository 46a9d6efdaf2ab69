"""Writing one session's report directory (reports/<timestamp>/)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlonmcu_lite.interrupts import deferred_interrupt

from .formatting import MISSING
from .html import render_html
from .io import CSV_NAME, JSON_NAME, SESSION_NAME, write_csv, write_json, write_session_json
from .layers import write_layers
from .plots import write_plots
from .sweep import write_pareto, write_sweep_plots
from .schema import SCHEMA_VERSION
from .precision import PRECISION_TITLE, precision_pairs, precision_table
from .tables import study_table, summary_table


def write_session_report(df: pd.DataFrame, out_dir: str | Path,
                         layers: pd.DataFrame | None = None, objectives: tuple[str, ...] = ()) -> dict[str, Path]:
    """Write results.csv/.json/.md, session.json, layers.csv/.parquet, index.html and the plot
    PNGs into out_dir (with `objectives`, the sweep's Pareto front: pareto.csv/.png).

    Returns {"csv", "json", "session", "md", "html", "plot_<name>"...: path}.  Expects the
    frame from `add_comparisons(to_dataframe(results))`; works on partial
    sessions (failing rows are reported, not dropped).  The rows (results.csv/.json and a
    first session.json) are written first, whole even under Ctrl-C; the rest may be cut short.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    title = f"mlonmcu-lite session {_session_name(df, out)}"
    with deferred_interrupt():
        paths = {"csv": write_csv(df, out / CSV_NAME), "json": write_json(df, out / JSON_NAME)}
        write_session_json(df, out / SESSION_NAME, paths)
    if layers is not None:
        paths.update(write_layers(layers, out))
    plots = write_plots(df, out)
    if df["point"].notna().any():
        plots.update(write_sweep_plots(df, out))
        if objectives:  # the Pareto plot first on the page: it is what a search is for
            pareto = write_pareto(df, objectives, out)
            paths["pareto_csv"] = pareto.pop("pareto_csv")
            plots = {**pareto, **plots}
    paths["md"] = out / "results.md"
    paths["md"].write_text(render_markdown(df, title))
    paths["html"] = out / "index.html"
    paths["html"].write_text(render_html(df, plots, title, layers))
    paths.update({f"plot_{name}": p for name, p in plots.items()})
    paths["session"] = write_session_json(df, out / SESSION_NAME, paths)
    return paths


def _session_name(df: pd.DataFrame, out: Path) -> str:
    sessions = df["session"].dropna().unique().tolist()
    return str(sessions[0]) if len(sessions) == 1 else out.name


def render_markdown(df: pd.DataFrame, title: str) -> str:
    failing = int(df["failing"].sum())
    return "\n".join([
        f"# {title}",
        "",
        f"{len(df)} runs, {failing} failing; results schema version {SCHEMA_VERSION}. "
        f"Missing values ({MISSING}) do not apply to that run.",
        "",
        "## CPU vs CPU+accelerator",
        "",
        study_table(df, markdown=True),
        "",
        *([f"## {PRECISION_TITLE[0].upper()}{PRECISION_TITLE[1:]}", "", precision_table(df, markdown=True), ""]
          if precision_pairs(df) else []),
        "## All runs",
        "",
        summary_table(df, markdown=True),
        "",
    ])
