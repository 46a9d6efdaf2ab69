"""The session's index.html, ordered for reading at a glance.

Study table first, then the plots (summary PNGs inlined as data URIs, interactive plotly
charts per model with plotly.js inlined once), then one section per model with each run's
per-layer table, then all runs in a styled, sortable table.  One self-contained file: it
links to nothing but the data files beside it (never into the build cache).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from .formatting import MISSING, numeric_columns
from .layer_plots import figure_html, layer_figures
from .schema import SCHEMA_VERSION
from .precision import HEADERS as PRECISION_HEADERS, PRECISION_TITLE, precision_rows
from .tables import failing_runs, study_rows

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 13px; margin: .5em 0 1em; }
td, th { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f3f5f7; position: sticky; top: 0; }
td { max-width: 28em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafbfc; }
table.sortable th { cursor: pointer; } table.sortable th:hover { background: #e6ebf0; }
.failing, tr.failing td { color: #a00; }
.note { color: #555; font-size: 0.9em; }
details { margin: .4em 0 1em; } summary { cursor: pointer; font-weight: 600; }
img { max-width: 100%; }
.wide { overflow-x: auto; }
.pngs { display: flex; flex-wrap: wrap; gap: 1em; } .pngs img { max-height: 330px; }
"""

# click a header to sort (numbers by value, thousands separators ignored)
_SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.querySelectorAll('thead th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.from(body.rows), dir = th.dataset.dir === 'asc' ? -1 : 1;
      th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      var key = function (r) { var s = r.cells[col].innerText.trim(), n = parseFloat(s.replace(/[,%x]/g, ''));
        return isNaN(n) ? s : n; };
      rows.sort(function (a, b) { var x = key(a), y = key(b);
        if (typeof x === typeof y) { return (x > y ? 1 : x < y ? -1 : 0) * dir; }
        return (typeof x === 'number' ? -1 : 1) * dir; });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

# (column, header, format) of the all-runs table
RUN_COLUMNS = (
    ("model", "model", None), ("config", "config", None), ("arch", "arch", None), ("point", "sweep point", None),
    ("run_instructions", "run instr", "{:,.0f}"), ("total_instructions", "total instr", "{:,.0f}"),
    ("core", "core", None), ("cpu_cycles", "CPU cycles (model)", "{:,.0f}"), ("cpi", "CPI", "{:.3f}"),
    ("est_cycles", "est. cycles", "{:,.0f}"), ("cpu_energy_uj", "CPU energy uJ (estimate)", "{:,.1f}"),
    ("acc_energy_uj", "acc energy uJ (estimate)", "{:,.1f}"), ("saved_pct", "saved %", "{:.1f}%"), ("speedup", "speedup", "{:.2f}x"),
    ("acc_jobs", "acc jobs", "{:,.0f}"), ("acc_macs", "acc MACs", "{:,.0f}"), ("acc_ops", "acc element ops", "{:,.0f}"),
    ("acc_cycles", "acc cycles", "{:,.0f}"),
    ("acc_stall_cycles", "acc stall", "{:,.0f}"), ("layers_offloaded", "offloaded", "{:,.0f}"),
    ("layers_total", "conv/FC layers", "{:,.0f}"), ("rom_bytes", "ROM B", "{:,.0f}"), ("ram_bytes", "RAM B", "{:,.0f}"),
    ("arena_bytes", "arena B", "{:,.0f}"), ("validation", "validation", None), ("sim_seconds", "sim s", "{:.3f}"),
    ("mips", "MIPS", "{:,.0f}"), ("reason", "failing reason", None),
)

LAYER_COLUMNS = (
    ("layer", "layer", None), ("tflite_ops", "TFLite #", None), ("kernel", "kernel", None), ("instructions", "instructions", "{:,.0f}"),
    ("share_pct", "share", "{:.1f}%"), ("cycles", "CPU cycles (model)", "{:,.0f}"), ("macs", "MACs", "{:,.0f}"),
    ("peripheral_used", "peripheral", None),
    ("acc_jobs", "jobs", "{:,.0f}"), ("acc_ops", "element ops", "{:,.0f}"), ("acc_cycles", "acc cycles", "{:,.0f}"),
    ("acc_stall_cycles", "stall cycles", "{:,.0f}"), ("acc_bytes", "bytes moved", "{:,.0f}"),
    ("acc_utilisation", "MAC utilisation", "{:.3f}"),
    ("live_arena_bytes", "live arena B", "{:,.0f}"), ("reason", "why not offloaded", None),
)


def styled_table(frame: pd.DataFrame, columns, *, sortable: bool = False, failing: pd.Series | None = None) -> str:
    """A pandas Styler table of `columns` (those present and not all-missing), numbers
    formatted with thousands separators, missing values as an en dash."""
    cols = [(c, h, f) for c, h, f in columns if c in frame.columns and frame[c].notna().any()]
    view = frame[[c for c, _, _ in cols]].rename(columns={c: h for c, h, _ in cols})
    view = view.reset_index(drop=True).astype(object).where(view.notna().to_numpy(), None)
    numeric = [h for c, h, f in cols if f is not None]
    formats = {h: (f.format if f is not None else (lambda v: html.escape(str(v)))) for _, h, f in cols}
    styler = view.style.hide(axis="index").format(formats, na_rep=MISSING)
    styler = styler.set_td_classes(pd.DataFrame(
        [["num" if h in numeric else "" for h in view.columns]] * len(view), columns=view.columns))
    if failing is not None and failing.any():
        flags = failing.reset_index(drop=True).astype(bool)
        styler = styler.apply(lambda row: ["color: #a00" if flags[row.name] else "" for _ in row], axis=1)
    attrs = "class='sortable'" if sortable else ""
    return f"<div class='wide'>{styler.set_table_attributes(attrs).to_html()}</div>"


def _img(path: Path, name: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f"<img src='data:image/png;base64,{data}' alt='{html.escape(name)}'>"


def _study_html(df: pd.DataFrame) -> str:
    headers, rows, _ = study_rows(df)
    return _html_table(headers, rows)


def _html_table(headers, rows) -> str:
    numeric = numeric_columns(len(headers), rows)
    head = "".join(f"<th class='{'num' if numeric[i] else ''}'>{html.escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td class='{'num' if numeric[i] else ''}'>{html.escape(c)}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# Per-layer tables and charts are drawn for at most this many runs (a sweep has thousands;
# the page would take minutes and hundreds of MB); layers.csv keeps every run's layers.
MAX_LAYER_RUNS = 12


def render_html(df: pd.DataFrame, plots: dict[str, Path], title: str, layers: pd.DataFrame | None = None) -> str:
    """The whole page; `plots` are PNGs to inline, `layers` the session's layer frame."""
    layers = layers if layers is not None else pd.DataFrame()
    all_layer_runs = layers["run_id"].nunique() if not layers.empty else 0
    if all_layer_runs > MAX_LAYER_RUNS:
        with_layers = set(layers["run_id"])
        shown = [r for r in df["run_id"] if r in with_layers][:MAX_LAYER_RUNS]
        layers = layers[layers["run_id"].isin(shown)]
    data = "<a href='results.csv'>results.csv</a>, <a href='results.json'>results.json</a>"
    if not layers.empty:
        data += ", <a href='layers.csv'>layers.csv</a>, <a href='layers.parquet'>layers.parquet</a>"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>{len(df)} runs, {int(df['failing'].sum())} failing; results schema version "
        f"{SCHEMA_VERSION}. Data: {data}. Instruction counts are exact (VP); accelerator cycles, stalls and "
        f"est. cycles come from the peripheral's cost model. Missing values ({MISSING}) do not apply.</p>",
        "<h2>CPU vs CPU+accelerator</h2>", _study_html(df),
    ]
    precision = precision_rows(df)
    if precision:
        parts += [f"<h2>{html.escape(PRECISION_TITLE[0].upper() + PRECISION_TITLE[1:])}</h2>",
                  _html_table(list(PRECISION_HEADERS), precision)]
    failing = failing_runs(df)
    if not failing.empty:
        parts.append("<p class='failing'><b>Failing runs:</b></p><ul class='failing'>")
        parts += [f"<li>{html.escape(f'{r.model} {r.config} {r.arch}')}: {html.escape(str(r.reason))}</li>"
                  for r in failing.itertuples()]
        parts.append("</ul>")
    parts.append("<h2>Plots</h2>")
    if plots:
        parts.append("<div class='pngs'>" + "".join(_img(p, name) for name, p in plots.items()) + "</div>")
    figures = layer_figures(df[df["run_id"].isin(set(layers["run_id"]))] if not layers.empty else df, layers) \
        if not layers.empty else []
    parts += [f"<div>{figure_html(fig, i == 0)}</div>" for i, (_, fig) in enumerate(figures)]
    if not plots and not figures:
        parts.append("<p>No plottable data.</p>")
    if not layers.empty:
        parts.append("<h2>Per layer</h2><p class='note'>One row per call in the AOT <code>mlml_model_run()</code>, "
                     "named after the TFLite operators it implements (#index in the TFLite graph); "
                     "callees (libc, drivers) count for their layer, <code>(glue)</code> is run()'s own code. "
                     "Layers sum exactly to the run's instructions.</p>")
        if all_layer_runs > MAX_LAYER_RUNS:
            parts.append(f"<p class='note'>The first {MAX_LAYER_RUNS} of {all_layer_runs} runs; every run's "
                         "layers are in <a href='layers.csv'>layers.csv</a>.</p>")
        for model, runs in layers.groupby("model", sort=False):
            parts.append(f"<h3>{html.escape(str(model))}</h3>")
            order = sorted(runs["run_id"].unique(), key=lambda r: (runs.loc[runs["run_id"] == r, "config"].iloc[0] != "cpu", r))
            for run_id in order:
                run = runs[runs["run_id"] == run_id]
                total = int(run["instructions"].sum())
                point = run["point"].dropna()
                label = f"{run['config'].iloc[0]} {run['arch'].iloc[0]}" + (f" ({point.iloc[0]})" if len(point) else "")
                parts.append(f"<details open><summary>{html.escape(label)}: {total:,} instructions, "
                             f"{len(run) - 1} layers</summary>{styled_table(run, LAYER_COLUMNS)}</details>")
    parts += ["<h2>All runs</h2><p class='note'>Click a header to sort. Every column is in "
              "<a href='results.csv'>results.csv</a>.</p>",
              styled_table(df, RUN_COLUMNS, sortable=True, failing=df["failing"]),
              f"<script>{_SORT_JS}</script></body></html>"]
    return "\n".join(parts) + "\n"
