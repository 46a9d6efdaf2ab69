"""Text / Markdown rendering of a `Comparison` (console and CI step summary)."""

from __future__ import annotations

import pandas as pd

from .formatting import MISSING, fmt_float, fmt_int, fmt_pct, fmt_text, render_table
from .regression import Comparison
from .schema import INT_COLUMNS


def _value(metric: str, value: object) -> str:
    return fmt_int(value) if metric in INT_COLUMNS else fmt_float(value, 3)


def _cell(row: pd.Series, metric: str) -> str:
    base, cur, rel = row[f"{metric}_base"], row[metric], row[f"{metric}_rel"]
    if pd.isna(cur):
        return MISSING if pd.isna(base) else f"{MISSING} (was {_value(metric, base)})"
    text = _value(metric, cur)
    if pd.isna(rel):
        return text
    return f"{text} (=)" if rel == 1.0 else f"{text} ({fmt_pct((rel - 1.0) * 100.0, signed=True)})"


def _validation(row: pd.Series) -> str:
    base, cur = fmt_text(row["validation_base"]), fmt_text(row["validation"])
    return cur if base in (cur, MISSING) else f"{base} -> {cur}"


def render_comparison(cmp: Comparison, *, markdown: bool = False) -> str:
    """Summary line, one table line per matched row (current value and change), findings."""
    key = [k for k in cmp.key if k in ("model", "config", "arch") or cmp.table[k].notna().any()]
    headers = key + list(cmp.metrics) + ["validation", "status"]
    rows = [
        [fmt_text(row[k]) for k in key]
        + [_cell(row, m) for m in cmp.metrics]
        + [_validation(row), str(row["status"])]
        for _, row in cmp.table.iterrows()
    ]
    blocking = cmp.blocking
    verdict = (
        f"{len(blocking)} problem(s)" if blocking else "no regressions"
    ) + f" beyond {cmp.threshold_pct:g}% (lower is better except mips/saved_pct/speedup)"
    if cmp.subset:
        verdict += f"; --subset: {cmp.only_one_side} row(s) only one side has left out"
    title = f"### bench compare: {len(rows)} rows, {verdict}" if markdown else f"bench compare: {len(rows)} rows, {verdict}"
    lines = [title, "", render_table(headers, rows, markdown=markdown)]
    if cmp.findings:
        bullet = "- " if markdown else "  "
        lines += ["", *(f"{bullet}{f}" for f in cmp.findings)]
    return "\n".join(lines) + "\n"
