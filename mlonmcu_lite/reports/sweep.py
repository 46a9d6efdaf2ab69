"""Sweep reports: estimated cycles and energy (and instructions) against each swept knob."""

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
        given = knobs[column].notna()
        numeric = pd.to_numeric(knobs[column], errors="coerce")
        knobs[column] = numeric if numeric[given].notna().all() else knobs[column]
    # a run-setting knob (`core`) is also a column: the knob's values replace it
    rows = rows.drop(columns=[c for c in knobs.columns if c in rows.columns])
    return pd.concat([rows, knobs], axis=1)


def sweep_knobs(df: pd.DataFrame) -> list[str]:
    """The knobs of a sweep's points, in order of first appearance."""
    seen: dict[str, None] = {}
    for point in df["point"].dropna():
        seen.update(dict.fromkeys(point_values(point)))
    return list(seen)


# (column, axis label) of each panel of a sweep plot
SWEEP_METRICS = (("est_cycles", "estimated cycles (CPU model + accelerator stall)"),
                 ("energy_uj", "energy, uJ (estimate)"))


def write_sweep_plots(df: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """One PNG per knob: estimated cycles and estimated energy of each model against the knob
    (a line per value of the other run knobs, e.g. per core), CPU-only dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlonmcu_lite.harness.sweep import RUN_KNOBS

    frame = sweep_frame(df)
    knobs = sweep_knobs(df)
    ok = frame[~frame["failing"]]
    cpu_all = df[(df["config"] == "cpu") & ~df["failing"]]
    cpu_points = sweep_frame(cpu_all)
    metrics = [(m, label) for m, label in SWEEP_METRICS if ok[m].notna().any()]
    written: dict[str, Path] = {}
    for knob in knobs:
        fig, axes = plt.subplots(1, len(metrics), figsize=(6.0 * len(metrics), 4.2), squeeze=False)
        acc = ok[ok["config"] != "cpu"]
        by = ["model", *[k for k in knobs if k in RUN_KNOBS and k != knob]]
        for ax, (metric, label) in zip(axes[0], metrics):
            for key, group in acc.groupby(by, sort=False):
                key = key if isinstance(key, tuple) else (key,)
                name = " ".join(map(str, key))
                series = group.groupby(knob)[metric].min().sort_index()
                line = ax.plot(_x(series.index), series.to_numpy(dtype=float), marker="o", label=f"{name} CPU+acc")
                cpu = cpu_points[cpu_points["model"] == key[0]] if knob in RUN_KNOBS else None
                if cpu is not None and len(cpu):  # the knob changes the CPU run too
                    cs = cpu.groupby(knob)[metric].min().sort_index()
                    ax.plot(_x(cs.index), cs.to_numpy(dtype=float), linestyle="--", marker="x",
                            color=line[0].get_color(), alpha=0.7, label=f"{name} CPU only")
                    continue
                base = cpu_points if len(by) > 1 else cpu_all
                mask = base["model"] == key[0]
                for k, v in zip(by[1:], key[1:]):
                    mask &= base[k] == v
                if mask.any() and base.loc[mask, metric].notna().any():
                    ax.axhline(float(base.loc[mask, metric].min()), linestyle="--", color=line[0].get_color(),
                               alpha=0.6, label=f"{name} CPU only")
            if pd.api.types.is_numeric_dtype(frame[knob]):
                ax.set_xscale("log", base=2)
            ax.set_xlabel(knob)
            ax.set_ylabel(label)
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(f"sweep over {knob} (cycles: core timing model; energy: estimate)")
        fig.tight_layout()
        path = Path(out_dir) / f"sweep_{knob}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written[f"sweep_{knob}"] = path
    return written


def _x(index: pd.Index):
    """Numeric knob values as numbers, others (core names) as category labels."""
    return index if pd.api.types.is_numeric_dtype(index) else index.astype(str)
SWEEP_TABLE_ROWS = 60  # a sampled sweep has thousands of points: the rest are in results.csv


def sweep_table(df: pd.DataFrame) -> str:
    """Console table: one line per model and grid point (the first SWEEP_TABLE_ROWS)."""
    from mlonmcu_lite.reports.formatting import fmt_float, fmt_int, fmt_pct, render_table

    frame = sweep_frame(df)
    rows = [[r["model"], r["config"], r["point"], fmt_int(r["run_instructions"]), fmt_int(r["cpu_cycles"]),
             fmt_int(r["acc_cycles"]), fmt_int(r["est_cycles"]), fmt_float(r["energy_uj"], 1),
             fmt_pct(r["saved_pct"]), fmt_float(r["speedup"], 2, "x"),
             "FAILED" if r["failing"] else r["validation"]]
            for _, r in frame.head(SWEEP_TABLE_ROWS).iterrows()]
    header = ["model", "config", "point", "instr", "CPU cycles", "acc cycles", "est. cycles",
              "energy uJ (est.)", "saved", "speedup", "validation"]
    more = f"\n({len(frame) - SWEEP_TABLE_ROWS} more points in results.csv)" if len(frame) > SWEEP_TABLE_ROWS else ""
    return render_table(header, rows) + more


def pareto_mask(values) -> "np.ndarray":
    """True for the rows of `values` (n x k, all minimised) that no other row dominates
    (no worse in every objective and better in one)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    keep = np.ones(len(values), dtype=bool)
    for i, row in enumerate(values):
        if keep[i]:
            dominated = np.all(row <= values, axis=1) & np.any(row < values, axis=1)
            keep &= ~dominated
    return keep


def pareto_front(df: pd.DataFrame, objectives: tuple[str, ...]) -> pd.DataFrame:
    """The passing sweep rows on the Pareto front of `objectives` (columns or knobs),
    sorted by the first objective; duplicates in objective space are all kept."""
    frame = sweep_frame(df)
    frame = frame[~frame["failing"].astype(bool)]
    missing = [o for o in objectives if o not in frame.columns]
    if missing:
        raise ValueError(f"objective(s) {', '.join(missing)} are neither columns nor swept knobs")
    values = frame[list(objectives)].apply(pd.to_numeric, errors="coerce")
    frame, values = frame[values.notna().all(axis=1)], values[values.notna().all(axis=1)]
    front = frame[pareto_mask(values.to_numpy(dtype=float))] if len(frame) else frame
    return front.sort_values(list(objectives))


def write_pareto(df: pd.DataFrame, objectives: tuple[str, ...], out_dir: Path) -> dict[str, Path]:
    """pareto.csv (the front's rows) and pareto.png (every point, the front highlighted;
    the first two objectives)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    front = pareto_front(df, objectives)
    out = {"pareto_csv": Path(out_dir) / "pareto.csv"}
    front.to_csv(out["pareto_csv"], index=False)
    if len(objectives) < 2:
        return out
    x, y = objectives[:2]
    frame = sweep_frame(df)
    frame = frame[~frame["failing"].astype(bool)]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.scatter(pd.to_numeric(frame[x]), pd.to_numeric(frame[y]), s=10, color="#bbb", label=f"{len(frame)} points")
    ax.step(pd.to_numeric(front[x]), pd.to_numeric(front[y]), where="post", color="#c33", alpha=0.6)
    ax.scatter(pd.to_numeric(front[x]), pd.to_numeric(front[y]), s=24, color="#c33",
               label=f"Pareto front ({len(front)})")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for axis, name in ((ax.set_xscale, x), (ax.set_yscale, y)):
        series = pd.to_numeric(frame[name])
        if len(series) and series.min() > 0 and series.max() / series.min() > 50:
            axis("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    models = ", ".join(map(str, frame["model"].unique()))
    ax.set_title(f"{models}: Pareto front, both minimised (cycles are modelled)", fontsize=9)
    fig.tight_layout()
    out["pareto"] = Path(out_dir) / "pareto.png"
    fig.savefig(out["pareto"], dpi=110)
    plt.close(fig)
    return out


def pareto_table(df: pd.DataFrame, objectives: tuple[str, ...], limit: int = 30) -> str:
    """Console table of the Pareto front (first `limit` rows)."""
    from mlonmcu_lite.reports.formatting import render_table

    front = pareto_front(df, objectives)
    rows = [[r["model"], r["point"], *(f"{r[o]:,}" if isinstance(r[o], (int, float)) else str(r[o])
                                      for o in objectives)] for _, r in front.head(limit).iterrows()]
    more = f"\n({len(front) - limit} more in pareto.csv)" if len(front) > limit else ""
    return f"Pareto front over {', '.join(objectives)} ({len(front)} points):\n" + \
        render_table(["model", "point", *objectives], rows) + more
