"""Per-layer data of a session: the tidy frame (one row per run x layer), its files, tables.

`layers.csv` / `layers.parquet` sit beside results.csv and load with one call
(`pd.read_csv(".../layers.csv")` or `pd.read_parquet(...)`).  Layer rows come from the run
rows' `layers` lists (harness/layers.py); the "(glue)" row makes each run's layers sum to
its `run_instructions` exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .formatting import fmt_float, fmt_int, fmt_pct, fmt_text, render_table

LAYERS_CSV = "layers.csv"
LAYERS_PARQUET = "layers.parquet"
RUN_KEYS = ("session", "run_id", "model", "config", "arch", "peripheral", "point")
LAYER_COLUMNS = ("index", "layer", "op", "tflite_ops", "kernel", "instructions", "cycles", "share_pct", "macs",
                 "peripheral_used", "reason", "acc_jobs", "acc_macs", "acc_ops", "acc_cycles", "acc_stall_cycles",
                 "acc_bytes", "acc_compute_cycles", "acc_dma_cycles", "acc_utilisation", "est_cycles",
                 "live_arena_bytes")
_INT = ("index", "instructions", "cycles", "macs", "acc_jobs", "acc_macs", "acc_ops", "acc_cycles", "acc_stall_cycles",
        "acc_bytes", "acc_compute_cycles", "acc_dma_cycles", "est_cycles", "live_arena_bytes")


def layers_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (run, layer) from the run rows; runs without layers contribute none."""
    records = []
    for row in rows:
        layers = row.get("layers") or []
        total = row.get("run_instructions") or 0
        for layer in layers:
            rec = {k: row.get(k) for k in RUN_KEYS}
            rec.update(layer)
            rec["peripheral_used"] = rec.pop("peripheral", None) if "peripheral" in layer else None
            rec["peripheral"] = row.get("peripheral")
            rec["share_pct"] = 100.0 * layer["instructions"] / total if total else None
            cpu = layer["cycles"] if layer.get("cycles") is not None else layer["instructions"]
            rec["est_cycles"] = cpu + (layer.get("acc_stall_cycles") or 0)
            if not row.get("peripheral"):  # accelerator figures do not apply to a CPU-only run
                rec.update(acc_jobs=None, acc_macs=None, acc_ops=None, acc_cycles=None, acc_stall_cycles=None)
            records.append(rec)
    frame = pd.DataFrame(records, columns=[*RUN_KEYS, *LAYER_COLUMNS])
    for col in _INT:
        frame[col] = pd.array(frame[col], dtype="Int64")
    frame["share_pct"] = frame["share_pct"].astype("float64")
    for col in ("session", "run_id", "model", "config", "arch", "peripheral", "point", "layer", "op",
                "tflite_ops", "kernel", "peripheral_used", "reason"):
        frame[col] = frame[col].astype("string")
    return frame


def write_layers(frame: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """layers.csv and layers.parquet in out_dir (nothing when no run has layers)."""
    if frame.empty:
        return {}
    out = Path(out_dir)
    csv, parquet = out / LAYERS_CSV, out / LAYERS_PARQUET
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return {"layers_csv": csv, "layers_parquet": parquet}


def load_layers(path: str | Path) -> pd.DataFrame:
    """layers.parquet / layers.csv, or the one in a report directory (empty if none)."""
    path = Path(path)
    if path.is_dir():
        for name in (LAYERS_PARQUET, LAYERS_CSV):
            if (path / name).is_file():
                return load_layers(path / name)
        return pd.DataFrame(columns=[*RUN_KEYS, *LAYER_COLUMNS])
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={c: "Int64" for c in _INT})


def op_kind(op: str) -> str:
    """The leading TFLite operator of a layer ("CONV_2D+ADD" -> "CONV_2D")."""
    return str(op).split("+")[0]


# --- aligning the layers of a CPU run with those of its accelerated run -----------------

def _ops(value: object) -> list[int]:
    if value is None or pd.isna(value) or value == "":
        return []
    return [int(x) for x in str(value).split(",")]


def op_groups(*runs: pd.DataFrame) -> dict[int, int]:
    """TFLite op index -> group id: the finest partition in which every layer of every run
    lies in one group (the accelerated run splits and fuses differently from the CPU run)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for run in runs:
        for value in run["tflite_ops"]:
            ops = _ops(value)
            for op in ops:
                find(op)
            for a, b in zip(ops, ops[1:]):
                parent[find(a)] = find(b)
    roots = {op: find(op) for op in parent}
    order = {root: min(op for op, r in roots.items() if r == root) for root in set(roots.values())}
    return {op: order[root] for op, root in roots.items()}


def grouped(run: pd.DataFrame, groups: dict[int, int]) -> pd.DataFrame:
    """A run's layers summed per op group (glue as its own group, last)."""
    keys, labels = [], []
    for _, layer in run.iterrows():
        ops = _ops(layer["tflite_ops"])
        if not ops:
            keys.append(10**9)
            labels.append(str(layer["layer"]))
            continue
        keys.append(groups[ops[0]])
        labels.append(None)
    frame = run.assign(_group=keys)
    out = frame.groupby("_group", sort=True).agg(
        instructions=("instructions", "sum"), acc_cycles=("acc_cycles", "sum"),
        acc_stall_cycles=("acc_stall_cycles", "sum"), est_cycles=("est_cycles", "sum"),
        op=("op", lambda s: "+".join(dict.fromkeys("+".join(s.astype(str)).split("+")))),
        peripheral=("peripheral_used", lambda s: ",".join(sorted({str(v) for v in s.dropna()})) or None),
    )
    return out


def group_label(group: int, groups: dict[int, int], op: str) -> str:
    if group >= 10**9:
        return "(glue)"
    members = sorted(op for op, g in groups.items() if g == group)
    span = f"#{members[0]}" if len(members) == 1 else f"#{members[0]}-{members[-1]}"
    return f"{span} {op}"


def compare_runs(cpu: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """CPU run vs accelerated run per op group: instructions, est. cycles, speedup."""
    groups = op_groups(cpu, acc)
    a, b = grouped(cpu, groups), grouped(acc, groups)
    table = pd.merge(a[["instructions", "est_cycles", "op"]],
                     b[["instructions", "acc_cycles", "acc_stall_cycles", "est_cycles", "peripheral", "op"]],
                     left_index=True, right_index=True, how="outer", suffixes=("_cpu", "_acc"))
    table["op"] = table["op_acc"].fillna(table["op_cpu"])
    table["label"] = [group_label(g, groups, op) for g, op in zip(table.index, table["op"])]
    table["speedup"] = table["est_cycles_cpu"].astype("float64") / table["est_cycles_acc"].astype("float64")
    return table.reset_index(drop=True)


# --- text tables -----------------------------------------------------------------------

_TABLE = (("layer", "layer", fmt_text), ("tflite_ops", "TFLite #", fmt_text), ("kernel", "kernel", fmt_text),
          ("instructions", "instructions", fmt_int), ("share_pct", "share", fmt_pct),
          ("cycles", "CPU cycles", fmt_int), ("macs", "MACs", fmt_int), ("peripheral_used", "peripheral", fmt_text),
          ("acc_jobs", "jobs", fmt_int), ("acc_ops", "element ops", fmt_int), ("acc_cycles", "acc cycles", fmt_int),
          ("acc_stall_cycles", "stall", fmt_int), ("acc_bytes", "bytes", fmt_int),
          ("acc_utilisation", "MAC util.", lambda v: fmt_float(v, 3)),
          ("live_arena_bytes", "live arena B", fmt_int), ("reason", "not offloaded because", fmt_text))


def layer_table(run: pd.DataFrame, *, markdown: bool = False) -> str:
    """The per-layer table of one run (rows in run() order, glue last)."""
    cols = [c for c in _TABLE if c[0] in ("layer", "tflite_ops", "kernel", "instructions", "share_pct")
            or run[c[0]].notna().any()]  # columns that do not apply to this run are left out
    rows = [[fmt(r[col]) for col, _, fmt in cols] for _, r in run.iterrows()]
    total = run["instructions"].sum()
    rows.append(["total", "", fmt_int(total), fmt_pct(100.0 * total / total if total else None)] +
                [""] * (len(cols) - 4))
    return render_table([h for _, h, _ in cols], rows, markdown=markdown)


def session_layer_tables(frame: pd.DataFrame) -> str:
    """Every run's per-layer table, titled, for the console (`bench run --layers`)."""
    parts = []
    for run_id, run in frame.groupby("run_id", sort=False):
        parts.append(f"\nlayers of {run_id}:\n{layer_table(run)}")
    return "\n".join(parts) if parts else "\n(no per-layer data)"


# --- comparing two sessions layer by layer ----------------------------------------------

_MATCH = ("model", "config", "arch", "layer")


def layer_deltas(base: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Instructions and est. cycles per layer, baseline vs current, matched on
    (model, config, arch, layer); a layer present on one side only has NA on the other."""
    cols = [*_MATCH, "instructions", "est_cycles"]
    merged = base[cols].merge(current[cols], on=list(_MATCH), how="outer", suffixes=("_base", "_cur"), sort=False)
    merged["delta"] = merged["instructions_cur"] - merged["instructions_base"]
    merged["delta_pct"] = 100.0 * merged["delta"].astype("float64") / merged["instructions_base"].astype("float64")
    return merged


def layer_delta_table(base: pd.DataFrame, current: pd.DataFrame, *, markdown: bool = False) -> str:
    """The layers whose instruction count changed (or that exist on one side only)."""
    deltas = layer_deltas(base, current)
    changed = deltas[(deltas["delta"] != 0).fillna(True)]
    if changed.empty:
        return f"per-layer: all {len(deltas)} layers unchanged\n"
    rows = [[str(r["model"]), str(r["config"]), str(r["arch"]), str(r["layer"]), fmt_int(r["instructions_base"]),
             fmt_int(r["instructions_cur"]), (f"{int(r['delta']):+,}" if pd.notna(r["delta"]) else "–"),
             fmt_pct(r["delta_pct"], signed=True)] for _, r in changed.iterrows()]
    headers = ["model", "config", "arch", "layer", "base instr", "current instr", "delta", "delta %"]
    title = f"per-layer changes ({len(changed)} of {len(deltas)} layers):\n"
    return title + render_table(headers, rows, markdown=markdown) + "\n"
