"""Human tables: the reference study's CPU vs CPU+Acc table, a per-run summary.

The study table pairs each accelerated run with its CPU run (see comparisons.py);
failing runs stay in the table, marked, with their reason listed underneath, so a
broken run is never silently dropped from what the user reads.
"""

from __future__ import annotations

import pandas as pd

from .comparisons import pairs
from .schema import NO_OFFLOAD
from .formatting import FAILED, MISSING, escape_markdown, fmt_float, fmt_int, fmt_pct, fmt_text, render_table

STUDY_HEADERS = (
    "model", "CPU instr", "CPU+Acc instr", "saved", "acc MACs", "acc cycles",
    "est. cycles CPU+Acc", "speedup", "validation",
)

# (column, header, formatter) of the per-run summary in results.md / index.html
SUMMARY_COLUMNS = (
    ("model", "model", fmt_text),
    ("config", "config", fmt_text),
    ("arch", "arch", fmt_text),
    ("run_instructions", "run instr", fmt_int),
    ("total_instructions", "total instr", fmt_int),
    ("core", "core", fmt_text),
    ("cpu_cycles", "CPU cycles", fmt_int),
    ("cpi", "CPI", lambda v: fmt_float(v, 3)),
    ("est_cycles", "est. cycles", fmt_int),
    ("energy_uj", "energy uJ (est.)", lambda v: fmt_float(v, 1)),
    ("acc_jobs", "acc jobs", fmt_int),
    ("layers_offloaded", "offloaded", fmt_int),
    ("layers_eligible", "eligible", fmt_int),
    ("layers_total", "layers", fmt_int),
    ("rom_bytes", "ROM B", fmt_int),
    ("ram_bytes", "RAM B", fmt_int),
    ("validation", "validation", fmt_text),
    ("sim_seconds", "sim s", lambda v: fmt_float(v, 3)),
    ("mips", "MIPS", lambda v: fmt_float(v, 1)),
    ("cached", "cached", fmt_text),
)


def _varying(df: pd.DataFrame, column: str) -> bool:
    return df[column].nunique(dropna=False) > 1


def study_table(df: pd.DataFrame, *, markdown: bool = False) -> str:
    """The console table in the shape of the reference study's, one line per pair.

    Expects `add_comparisons` to have filled saved_pct/speedup.  Extra key
    columns (accelerator config, arch, input) appear only when they vary.
    """
    headers, rows, failures = study_rows(df)
    by_index = dict(zip(df.index, df.to_dict("records")))
    notes = [by_index[p.acc] for p in pairs(df) if p.acc is not None and _no_offload(by_index[p.acc])]
    text = render_table(headers, rows, markdown=markdown)
    bullet = "- " if markdown else "  "
    for title, listed in (("failing runs", failures), ("notes", notes)):
        if listed:
            text += f"\n\n{title}:\n" + "\n".join(
                _text(f"{bullet}{r['model']} {r['config']}: {r['reason']}", markdown) for r in listed)
    return text


def study_rows(df: pd.DataFrame) -> tuple[list[str], list[list[str]], list[pd.Series]]:
    """Headers, formatted cells and failing rows of the study table (text and HTML share it)."""
    acc_configs = df.loc[df["config"] != "cpu", "config"]
    extra = [c for c in ("arch", "input", "point") if _varying(df, c)]
    show_config = acc_configs.nunique() > 1
    show_ops = "acc_ops" in df.columns and df["acc_ops"].notna().any()  # element ops, never as MACs
    headers = [STUDY_HEADERS[0]] + (["accelerator"] if show_config else []) + extra + list(STUDY_HEADERS[1:5]) \
        + (["acc element ops"] if show_ops else []) + list(STUDY_HEADERS[5:])
    rows, failures = [], []
    by_index = dict(zip(df.index, df.to_dict("records")))  # per-row .loc is slow on sweeps
    for pair in pairs(df):
        cpu = by_index[pair.cpu] if pair.cpu is not None else None
        acc = by_index[pair.acc] if pair.acc is not None else None
        first = cpu if cpu is not None else acc
        row = [str(first["model"])]
        if show_config:
            row.append(fmt_text(acc["config"]) if acc is not None else MISSING)
        row += [fmt_text((acc if c == "point" and acc is not None else first)[c]) for c in extra]
        row += [
            _instr(cpu),
            _instr(acc),
            fmt_pct(acc["saved_pct"]) if acc is not None else MISSING,
            _acc_value(acc, "acc_macs"),
            *([_acc_value(acc, "acc_ops")] if show_ops else []),
            _acc_value(acc, "acc_cycles"),
            _acc_value(acc, "est_cycles"),
            _speedup(acc),
            _validation(cpu, acc),
        ]
        rows.append(row)
        failures += [r for r in (cpu, acc) if r is not None and r["failing"]]
    return headers, rows, failures


def _text(line: str, markdown: bool) -> str:
    return escape_markdown(line) if markdown else line


def _no_offload(acc: pd.Series | None) -> bool:
    """A passing accelerated run whose (default) peripheral took no layer."""
    return (acc is not None and not acc["failing"] and acc["config"] != "cpu"
            and not pd.isna(acc["layers_offloaded"]) and acc["layers_offloaded"] == 0)


def _speedup(acc: pd.Series | None) -> str:
    if acc is None:
        return MISSING
    if not _no_offload(acc):
        return fmt_float(acc["speedup"], 2, "x")
    numerics = acc.get("numerics")
    floaty = isinstance(numerics, str) and numerics in ("float32", "hybrid")
    return f"no offloadable layer ({numerics})" if floaty else NO_OFFLOAD


def _instr(row: pd.Series | None) -> str:
    if row is None:
        return MISSING
    return FAILED if row["failing"] else fmt_int(row["run_instructions"])


def _acc_value(row: pd.Series | None, column: str) -> str:
    return MISSING if row is None or row["failing"] else fmt_int(row[column])


def validation_text(row: pd.Series) -> str:
    """`exact`, `mismatch`, ... ; a float model's `allclose (max |err| 3e-06)`."""
    err = row.get("max_abs_err")
    if row["validation"] == "allclose" and err is not None and pd.notna(err):
        return f"allclose (max |err| {err:.2g})"
    return fmt_text(row["validation"])


def _validation(cpu: pd.Series | None, acc: pd.Series | None) -> str:
    present = [(name, r) for name, r in (("cpu", cpu), ("acc", acc)) if r is not None]
    states = [(name, FAILED if r["failing"] else validation_text(r)) for name, r in present]
    if len({s for _, s in states}) == 1:
        return states[0][1]
    return ", ".join(f"{name} {s}" for name, s in states)


def summary_table(df: pd.DataFrame, *, markdown: bool = False) -> str:
    """Key metrics of every run, one line per row of the frame."""
    headers = [h for _, h, _ in SUMMARY_COLUMNS] + ["failing reason / note"]
    rows = [
        [validation_text(row) if col == "validation" else fmt(row[col]) for col, _, fmt in SUMMARY_COLUMNS]
        + [fmt_text(row["reason"]) if row["reason"] else ""]
        for _, row in df.iterrows()
    ]
    return render_table(headers, rows, markdown=markdown)


def failing_runs(df: pd.DataFrame) -> pd.DataFrame:
    return df.loc[df["failing"].astype(bool), ["model", "config", "arch", "reason"]]
