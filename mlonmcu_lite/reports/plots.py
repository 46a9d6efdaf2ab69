"""PNG plots for the session report (matplotlib, headless Agg backend).

Each plot is a grouped bar chart: one group per model, one bar per config.
A plot with no data (e.g. saved % of a CPU-only session) is skipped, not drawn
empty.  matplotlib is imported here only, so reading results stays light.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PLOTS = {
    # name: (title, [(column, y label, bar label format)], log-scale allowed)
    "instructions": (
        "Instructions per inference: CPU vs CPU+Acc", [("run_instructions", "retired instructions", "{:.3g}")], True
    ),
    "saved_pct": ("Instructions saved by the accelerator", [("saved_pct", "saved %", "{:.1f}%")], False),
    "memory": (
        "Memory footprint", [("rom_bytes", "ROM bytes", "{:,.0f}"), ("ram_bytes", "RAM bytes", "{:,.0f}")], False
    ),
}


def _group_label(df: pd.DataFrame) -> pd.Series:
    label = df["model"].astype(str)
    for col in ("arch", "input"):
        if df[col].nunique(dropna=False) > 1:
            label = label + " " + df[col].astype(str)
    return label


def _matrix(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """model-label x config table of a metric, failing runs left out, order kept."""
    ok = df.loc[~df["failing"].astype(bool)].copy()
    ok["_group"] = _group_label(ok)
    ok["_value"] = ok[column].astype("float64")
    table = ok.pivot_table(index="_group", columns="config", values="_value", aggfunc="first", sort=False)
    return table.dropna(how="all").dropna(axis=1, how="all")


def write_plots(df: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """Write the report's PNGs into out_dir; returns {plot name: path} for those drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: dict[str, Path] = {}
    for name, (title, panels, log_ok) in PLOTS.items():
        tables = [(_matrix(df, col), label, fmt) for col, label, fmt in panels]
        if all(t[0].empty for t in tables):
            continue
        fig, axes = plt.subplots(1, len(tables), figsize=(6.5 * len(tables), 4.2), squeeze=False)
        for ax, (table, label, fmt) in zip(axes[0], tables):
            _grouped_bars(ax, table, label, fmt, log_ok)
        fig.suptitle(title)
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written[name] = path
    return written


def _grouped_bars(ax, table: pd.DataFrame, ylabel: str, fmt: str, log_ok: bool) -> None:
    ax.set_ylabel(ylabel)
    if table.empty:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    x = np.arange(len(table.index))
    width = 0.8 / len(table.columns)
    for i, config in enumerate(table.columns):
        bars = ax.bar(x + (i - (len(table.columns) - 1) / 2) * width, table[config].to_numpy(), width, label=config)
        ax.bar_label(bars, fmt=fmt, fontsize=7)
    values = table.to_numpy()
    positive = values[np.isfinite(values) & (values > 0)]
    if log_ok and positive.size and positive.max() / positive.min() > 50:
        ax.set_yscale("log")
    ax.set_xticks(x, table.index)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
