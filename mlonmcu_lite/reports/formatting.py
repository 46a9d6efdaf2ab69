"""Number formatting and plain-text / Markdown table rendering.

Counts are printed exactly with thousands separators (57,312,456 rather than
5.73e7): the harness measures exact figures and the tables should not hide
them.  Missing values print as an en dash.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

MISSING = "–"
FAILED = "FAILED"
_NOT_DECIDING = (MISSING, FAILED, "")  # cells that do not decide a column's alignment


def fmt_int(value: object) -> str:
    return MISSING if _missing(value) else f"{int(value):,}"


def fmt_pct(value: object, *, signed: bool = False) -> str:
    if _missing(value):
        return MISSING
    return f"{float(value):+.2f}%" if signed else f"{float(value):.1f}%"


def fmt_float(value: object, digits: int = 2, suffix: str = "") -> str:
    return MISSING if _missing(value) else f"{float(value):.{digits}f}{suffix}"


def fmt_text(value: object) -> str:
    return MISSING if _missing(value) else str(value)


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool = False
) -> str:
    """Align columns (numbers right, text left); Markdown pipes when asked.

    A column is right-aligned when every cell that holds a value starts like a number.
    """
    right = numeric_columns(len(headers), rows)
    cells = [list(headers)] + [[escape_markdown(c) if markdown else c for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if rt else c.ljust(w) for c, w, rt in zip(row, widths, right)]
        return ("| " + " | ".join(parts) + " |") if markdown else "  ".join(parts).rstrip()

    if markdown:
        rule = "|" + "|".join(("-" * (w + 1) + ":") if rt else ("-" * (w + 2)) for w, rt in zip(widths, right)) + "|"
    else:
        rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def numeric_columns(width: int, rows: Sequence[Sequence[str]]) -> list[bool]:
    """Per column: does every cell holding a value start like a number (-> right-align)?"""
    right = []
    for i in range(width):
        deciding = [r[i] for r in rows if r[i] not in _NOT_DECIDING]
        right.append(bool(deciding) and all(_numeric_looking(c) for c in deciding))
    return right


def _numeric_looking(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or (cell[0] in "+-" and cell[1:2].isdigit()))


def escape_markdown(text: str) -> str:
    """Text shown as is in Markdown: HTML is escaped (`&lt;img ...&gt;` stays text), and
    the characters that make cells, links or code (pipe, brackets, backtick) are
    backslash-escaped."""
    text = html.escape(str(text), quote=False).replace("\n", " ")
    for char in "|[]`":
        text = text.replace(char, "\\" + char)
    return text

