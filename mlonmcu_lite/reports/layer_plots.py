"""Interactive per-layer charts (plotly) for the session page.

Per model: CPU-only beside CPU+accelerator per layer group (stacked: CPU instructions, then the
accelerator's stall cycles, the part of its busy time the CPU did not overlap), and the
per-layer speedup; per session: each op kind's share of the instructions.  Figures are
returned as HTML fragments; the first one carries plotly.js inline so the page works offline.
"""

from __future__ import annotations

import pandas as pd

from .comparisons import pairs
from .layers import compare_runs, op_kind

_WIDTH, _HEIGHT = 1100, 620  # fits a laptop screen
_CPU, _ACC, _STALL = "#4c78a8", "#f58518", "#e45756"


def _million(series: pd.Series) -> list[float]:
    return [float(v) / 1e6 if pd.notna(v) else None for v in series]


def model_figure(model: str, cpu: pd.DataFrame, acc: pd.DataFrame | None, acc_name: str):
    """Stacked bars per layer group (CPU-only vs CPU+acc) over the per-layer speedup."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if acc is None or acc.empty:
        fig = go.Figure(go.Bar(x=cpu["layer"].astype(str), y=_million(cpu["instructions"]), name="CPU only",
                               marker_color=_CPU, customdata=cpu["instructions"],
                               hovertemplate="%{x}<br>%{customdata:,} instructions<extra></extra>"))
        fig.update_layout(title=f"{model}: CPU instructions per layer", yaxis_title="M instructions",
                          width=_WIDTH, height=_HEIGHT // 1.4)
        return fig
    table = compare_runs(cpu, acc)
    x = table["label"]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04)
    hover = "%{x}<br>%{customdata:,} %{meta}<extra></extra>"
    fig.add_bar(x=x, y=_million(table["instructions_cpu"]), name="CPU only: instructions", offsetgroup="cpu",
                marker_color=_CPU, customdata=table["instructions_cpu"], meta="instructions", hovertemplate=hover,
                row=1, col=1)
    fig.add_bar(x=x, y=_million(table["instructions_acc"]), name=f"CPU+{acc_name}: CPU instructions",
                offsetgroup="acc", marker_color=_ACC, customdata=table["instructions_acc"], meta="instructions",
                hovertemplate=hover, row=1, col=1)
    fig.add_bar(x=x, y=_million(table["acc_stall_cycles"]),
                name=f"CPU+{acc_name}: accelerator stall cycles (model)", offsetgroup="acc",
                marker_color=_STALL, customdata=table["acc_stall_cycles"], meta="stall cycles (busy not overlapped)",
                hovertemplate=hover, row=1, col=1)
    fig.add_bar(x=x, y=table["speedup"], name="speedup (est. cycles)", marker_color="#54a24b", showlegend=False,
                customdata=table["speedup"].round(2), hovertemplate="%{x}<br>%{customdata}x<extra></extra>",
                row=2, col=1)
    fig.update_yaxes(title_text="M instructions / cycles", row=1, col=1)
    fig.update_yaxes(title_text="speedup (x, log)", type="log", row=2, col=1)
    fig.update_xaxes(tickangle=-35, row=2, col=1)
    fig.update_layout(title=f"{model}: per layer, CPU only vs CPU+{acc_name}", barmode="stack", width=_WIDTH,
                      height=_HEIGHT, legend=dict(orientation="h", y=1.08, x=0, traceorder="normal"), margin=dict(b=140))
    return fig


def share_figure(frame: pd.DataFrame):
    """Each op kind's share of a run's instructions, one horizontal 100 % bar per run."""
    import plotly.graph_objects as go

    data = frame.assign(kind=frame["op"].map(op_kind), run=frame["model"] + " " + frame["config"])
    shares = data.groupby(["run", "kind"], sort=False)["instructions"].sum().astype("float64")
    shares = (100 * shares / shares.groupby(level=0).transform("sum")).unstack(fill_value=0.0)
    runs = list(dict.fromkeys(data["run"]))
    shares = shares.reindex(runs)
    fig = go.Figure()
    for kind in shares.columns:
        fig.add_bar(y=shares.index, x=shares[kind], name=kind, orientation="h",
                    hovertemplate="%{y}<br>" + kind + ": %{x:.1f}%<extra></extra>")
    fig.update_layout(barmode="stack", title="Share of CPU instructions per op kind", xaxis_title="% of run instructions",
                      width=_WIDTH, height=min(_HEIGHT, 220 + 40 * len(runs)), yaxis=dict(autorange="reversed"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def layer_figures(df: pd.DataFrame, frame: pd.DataFrame) -> list[tuple[str, object]]:
    """(title, figure) per model pair with layers, then the op-kind share of every run."""
    figures: list[tuple[str, object]] = []
    if frame.empty:
        return figures
    runs = {rid: group for rid, group in frame.groupby("run_id", sort=False)}
    for pair in pairs(df):
        cpu_row = df.loc[pair.cpu] if pair.cpu is not None else None
        acc_row = df.loc[pair.acc] if pair.acc is not None else None
        cpu = runs.get(cpu_row["run_id"]) if cpu_row is not None else None
        acc = runs.get(acc_row["run_id"]) if acc_row is not None else None
        if cpu is None:
            continue
        label = f"{cpu_row['model']}" + (f" ({acc_row['point']})" if acc_row is not None and pd.notna(acc_row["point"]) else "")
        acc_name = str(acc_row["config"]).removeprefix("cpu+") if acc_row is not None else ""
        figures.append((label, model_figure(label, cpu, acc, acc_name)))
    figures.append(("op kinds", share_figure(frame)))
    return figures


def figure_html(fig, first: bool) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=True if first else False,
                       config={"displaylogo": False, "responsive": True})
