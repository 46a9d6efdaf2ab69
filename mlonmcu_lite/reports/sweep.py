"""Sweep reports: estimated cycles (and instructions) against each swept knob."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def point_values(point: str | None) -> dict[str, str]:
    """`"macs_per_cycle=16,setup_cycles=0"` -> {"macs_per_cycle": "16", "setup_cycles": "0"}."""
    if not point:
        return {}
    return dict(item.split("=", 1) for item in point.split(",") if "=" in item)


def sweep_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The sweep rows with one column per knob (numeric where the values are)."""
    rows = df[df["point"].notna()].copy()
    knobs = pd.DataFrame([point_values(p) for p in rows["point"]], index=rows.index)
    for column in knobs:
        numeric = pd.to_numeric(knobs[column], errors="coerce")
        knobs[column] = numeric if numeric.notna().all() else knobs[column]
    return pd.concat([rows, knobs], axis=1)


def write_sweep_plots(df: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """One PNG per knob: est_cycles of each model against the knob, CPU-only as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = sweep_frame(df)
    knobs = [c for c in frame.columns if c not in df.columns]
    cpu = df[(df["config"] == "cpu") & ~df["failing"]].set_index("model")["est_cycles"]
    written: dict[str, Path] = {}
    for knob in knobs:
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        for model, group in frame[~frame["failing"]].groupby("model", sort=False):
            series = group.groupby(knob)["est_cycles"].min().sort_index()
            line = ax.plot(series.index, series.to_numpy(dtype=float), marker="o", label=f"{model} CPU+acc")
            if model in cpu.index:
                ax.axhline(float(cpu[model]), linestyle="--", color=line[0].get_color(), alpha=0.6,
                           label=f"{model} CPU only")
        if pd.api.types.is_numeric_dtype(frame[knob]):
            ax.set_xscale("log", base=2)
        ax.set_xlabel(knob)
        ax.set_ylabel("estimated cycles (CPU instr + accelerator stall)")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(f"sweep over {knob}")
        fig.tight_layout()
        path = Path(out_dir) / f"sweep_{knob}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written[f"sweep_{knob}"] = path
    return written


def sweep_table(df: pd.DataFrame) -> str:
    """Console table: one line per model and grid point."""
    from mlonmcu_lite.reports.formatting import fmt_float, fmt_int, fmt_pct, render_table

    frame = sweep_frame(df)
    rows = [[r["model"], r["point"], fmt_int(r["run_instructions"]), fmt_int(r["acc_cycles"]),
             fmt_int(r["est_cycles"]), fmt_pct(r["saved_pct"]), fmt_float(r["speedup"], 2, "x"),
             "FAILED" if r["failing"] else r["validation"]]
            for _, r in frame.iterrows()]
    header = ["model", "point", "CPU+Acc instr", "acc cycles", "est. cycles", "saved", "speedup", "validation"]
    return render_table(header, rows)
