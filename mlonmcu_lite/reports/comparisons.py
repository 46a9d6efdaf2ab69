"""CPU vs CPU+accelerator: pairing rows and the derived saved % / speedup.

A run with a peripheral is paired with the CPU-only run of the same model, arch,
input and core timing profile (the runner runs both with the same flags).  Only non-failing rows
with both figures present yield a comparison; anything else stays NaN, so a
missing CPU run never shows up as "0 % saved".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PAIR_KEY = ("model", "arch", "input", "core")


@dataclass(frozen=True)
class Pair:
    """Row indices of one CPU run and one accelerated run (either may be absent)."""

    cpu: int | None
    acc: int | None


def _key(row) -> tuple:
    return tuple(None if pd.isna(getattr(row, k, None)) else getattr(row, k) for k in PAIR_KEY)


def pairs(df: pd.DataFrame) -> list[Pair]:
    """Every accelerated row with its CPU row, plus CPU rows that have no partner.

    Order follows the frame (first appearance of each key), so tables read in
    the order the user listed the models.
    """
    cpu_of: dict[tuple, int] = {}
    rows = list(df[[k for k in (*PAIR_KEY, "config") if k in df.columns]].itertuples())  # fast on big sweeps
    for row in rows:
        if row.config == "cpu":
            cpu_of.setdefault(_key(row), row.Index)
    result: list[Pair] = []
    used: set[int] = set()
    for row in rows:
        idx = row.Index
        if row.config == "cpu":
            continue
        cpu = cpu_of.get(_key(row))
        result.append(Pair(cpu, idx))
        if cpu is not None:
            used.add(cpu)
    result += [Pair(idx, None) for idx in cpu_of.values() if idx not in used]
    first_seen = {idx: pos for pos, idx in enumerate(df.index)}
    return sorted(result, key=lambda p: min(first_seen[i] for i in (p.cpu, p.acc) if i is not None))


def _ratio(num: object, den: object) -> float:
    if pd.isna(num) or pd.isna(den) or den == 0:
        return np.nan
    return float(num) / float(den)


def add_comparisons(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with `saved_pct` and `speedup` set on accelerated rows.

    saved_pct = 100 * (cpu.run_instructions - acc.run_instructions) / cpu.run_instructions
    speedup   = cpu.est_cycles / acc.est_cycles
    CPU rows, failing rows and rows without a CPU partner get NaN.
    """
    out = df.copy()
    saved = pd.Series(np.nan, index=df.index, dtype="float64")
    speedup = saved.copy()
    failing, instr, cycles = (df[c].to_dict() for c in ("failing", "run_instructions", "est_cycles"))
    for pair in pairs(df):
        if pair.cpu is None or pair.acc is None:
            continue
        if failing[pair.cpu] or failing[pair.acc]:
            continue
        kept = _ratio(instr[pair.acc], instr[pair.cpu])
        saved[pair.acc] = 100.0 * (1.0 - kept)
        speedup[pair.acc] = _ratio(cycles[pair.cpu], cycles[pair.acc])
    out["saved_pct"] = saved
    out["speedup"] = speedup
    return out
