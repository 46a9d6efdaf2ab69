"""The float-vs-int8 view: a float32 (or hybrid) model beside its quantized version.

Why: users quantize to save time and memory; this view shows what they gained on the same
core.  A float row pairs with a quantized CPU row of the same arch whose model name is the
same once a precision suffix is dropped (`resnet_f32` / `resnet`, `kws_fp32` / `kws_int8`);
when a session has exactly one float and one quantized model, those two pair whatever their
names (`bench run model_fp32.tflite model_int8.tflite`).  "top-1 agree" compares the two
firmwares' predictions (`predictions`: arg-max of the first output per validated sample)
sample by sample, so it is meaningful when both models got the same sample data (the zoo
generator writes the float and int8 samples from the same raw inputs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .formatting import FAILED, MISSING, fmt_float, fmt_int, fmt_text, render_table

FLOAT_NUMERICS = ("float32", "hybrid")
PRECISION_TITLE = "float vs int8 (CPU only; int8 speed-up = float instructions / int8 instructions)"
_SUFFIX = re.compile(r"[_-](f32|fp32|float32|float|hyb|hybrid|dynamic|int8|i8|q8|quant|quantized)$", re.I)
HEADERS = ("model", "arch", "float", "instr float", "instr int8", "int8 speed-up", "ROM float", "ROM int8",
           "RAM float", "RAM int8", "float vs ref", "top-1 agree")


@dataclass(frozen=True)
class PrecisionPair:
    float_row: int  # frame index of the float32 / hybrid run
    int_row: int  # frame index of the quantized run


def base_name(model: str) -> str:
    """The model name without a precision suffix (resnet_f32 -> resnet)."""
    return _SUFFIX.sub("", str(model))


def precision_pairs(df: pd.DataFrame) -> list[PrecisionPair]:
    """Float CPU runs with their quantized counterparts (same arch, input and sweep point)."""
    if "numerics" not in df.columns or df.empty:
        return []
    cpu = df[df["config"] == "cpu"]
    out = []
    for _, group in cpu.groupby([cpu["arch"].fillna(""), cpu["input"].fillna(""), cpu["point"].fillna("")],
                                sort=False):
        floats = group[group["numerics"].isin(FLOAT_NUMERICS)]
        ints = group[group["numerics"] == "quantized"]
        if len(floats) == 1 and len(ints) == 1 and base_name(floats["model"].iloc[0]) != base_name(ints["model"].iloc[0]):
            out.append(PrecisionPair(floats.index[0], ints.index[0]))
            continue
        for f_index, f in floats.iterrows():
            match = ints[ints["model"].map(base_name) == base_name(f["model"])]
            if len(match):
                out.append(PrecisionPair(f_index, match.index[0]))
    return out


def _agreement(a: object, b: object) -> str:
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return MISSING
    left, right = a.split(","), b.split(",")
    n = min(len(left), len(right))
    return f"{sum(x == y for x, y in zip(left[:n], right[:n]))}/{n}" if n else MISSING


def _value(row: pd.Series, column: str) -> str:
    return FAILED if row["failing"] else fmt_int(row[column])


def _speedup(f: pd.Series, q: pd.Series) -> str:
    if f["failing"] or q["failing"] or not q["run_instructions"]:
        return MISSING
    return fmt_float(f["run_instructions"] / q["run_instructions"], 2, "x")


def precision_rows(df: pd.DataFrame) -> list[list[str]]:
    rows = []
    for pair in precision_pairs(df):
        f, q = df.loc[pair.float_row], df.loc[pair.int_row]
        rows.append([
            f"{f['model']} / {q['model']}", fmt_text(f["arch"]), fmt_text(f["numerics"]),
            _value(f, "run_instructions"), _value(q, "run_instructions"), _speedup(f, q),
            _value(f, "rom_bytes"), _value(q, "rom_bytes"), _value(f, "ram_bytes"), _value(q, "ram_bytes"),
            f"max |err| {f['max_abs_err']:.2g}" if pd.notna(f.get("max_abs_err")) else fmt_text(f["validation"]),
            _agreement(f.get("predictions"), q.get("predictions")),
        ])
    return rows


def precision_table(df: pd.DataFrame, *, markdown: bool = False) -> str:
    """The float-vs-int8 table, or "" when the session has no such pair."""
    rows = precision_rows(df)
    return render_table(list(HEADERS), rows, markdown=markdown) if rows else ""
