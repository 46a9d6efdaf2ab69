"""The session's index.html: study table, plots, every run, failing runs.

Plain HTML with the PNGs referenced beside it, so the report directory can be
opened from disk or uploaded as a CI artifact as it is.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from .formatting import MISSING
from .schema import SCHEMA_VERSION
from .tables import failing_runs, study_table

_STYLE = """
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; font-size: 12px; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
pre { background: #f6f6f6; padding: 1em; }
.failing { color: #a00; }
"""


def render_html(df: pd.DataFrame, plots: dict[str, Path], title: str) -> str:
    """One self-describing page; image paths are made relative to the page."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(df)} runs, {int(df['failing'].sum())} failing; results schema version {SCHEMA_VERSION}.",
        " Data: <a href='results.csv'>results.csv</a>, <a href='results.json'>results.json</a>.</p>",
        "<h2>CPU vs CPU+accelerator</h2>",
        f"<pre>{html.escape(study_table(df))}</pre>",
        "<h2>Plots</h2>",
    ]
    parts += [f"<p><img src='{html.escape(p.name)}' alt='{html.escape(name)}'></p>" for name, p in plots.items()]
    if not plots:
        parts.append("<p>No plottable data.</p>")
    parts.append("<h2>Failing runs</h2>")
    failing = failing_runs(df)
    if failing.empty:
        parts.append("<p>None.</p>")
    else:
        parts.append("<ul class='failing'>")
        parts += [
            f"<li>{html.escape(f'{r.model} {r.config} {r.arch}')}: {html.escape(str(r.reason))}</li>"
            for r in failing.itertuples()
        ]
        parts.append("</ul>")
    parts += ["<h2>All runs</h2>", df.to_html(index=False, na_rep=MISSING, escape=True), "</body></html>"]
    return "\n".join(parts) + "\n"
