"""Baseline vs current results: relative columns and the findings a CI gate acts on.

Rows are matched on (model, config, arch, peripheral_settings, point): the same model on
the same arch with the same peripherals at the same effective settings (defaults included)
and sweep point, so QVanilla at its default 16 MACs/cycle and at 32 are two rows, never a
"regression" of one another.  With `subset`, only rows both sides have are compared (a
partial run gates against a full baseline).  For each tracked metric the table
gets `<metric>_base`, `<metric>` (current) and `<metric>_rel` = current / baseline
(1.0 = unchanged; the MLonMCU habit for relative columns).  Findings name what
got worse: a metric beyond the threshold, a validation that was exact and is
no longer, a run that now fails, a row missing from the current results.
Rows only in the current results are reported but never block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .schema import NUMERIC_COLUMNS, SchemaError

MATCH_KEY = ("model", "config", "arch", "peripheral_settings", "point")
DEFAULT_METRICS = ("run_instructions", "est_cycles", "rom_bytes", "ram_bytes")
HIGHER_IS_BETTER = frozenset({"mips", "saved_pct", "speedup"})

FindingKind = Literal["regression", "validation", "failing", "missing", "new"]


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    key: tuple
    message: str
    metric: str | None = None
    change_pct: float | None = None

    @property
    def blocking(self) -> bool:
        """Whether `--fail-on-regression` fails on it (new rows are only news)."""
        return self.kind != "new"

    def __str__(self) -> str:
        return f"{self.kind.upper()} {key_label(self.key)}: {self.message}"


@dataclass
class Comparison:
    table: pd.DataFrame
    metrics: tuple[str, ...]
    threshold_pct: float
    findings: list[Finding] = field(default_factory=list)
    key: tuple[str, ...] = MATCH_KEY
    subset: bool = False
    only_one_side: int = 0  # rows left out by `subset`

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]


def key_label(key: tuple) -> str:
    """`model config arch [settings] [point]` (settings and point only when the row has them)."""
    head = " ".join("–" if _na(k) else str(k) for k in key[:3])
    return " ".join([head, variant_label(*key[3:])]).strip()


def variant_label(*parts: object) -> str:
    """The peripheral settings and sweep point of a key, those a row has."""
    return " ".join(str(p) for p in parts if not _na(p))


def check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    """Validate metric names: numeric schema columns only, with the list on error."""
    bad = [m for m in metrics if m not in NUMERIC_COLUMNS]
    if bad or not metrics:
        raise SchemaError(
            f"unknown or non-numeric metric(s) {', '.join(bad) or '(none given)'}; "
            f"valid: {', '.join(NUMERIC_COLUMNS)}"
        )
    return tuple(dict.fromkeys(metrics))


def _check_unique(df: pd.DataFrame, name: str) -> None:
    dup = df[df.duplicated(list(MATCH_KEY), keep=False)]
    if not dup.empty:
        keys = sorted({key_label(tuple(r)) for r in dup[list(MATCH_KEY)].itertuples(index=False)})
        raise SchemaError(f"{name}: several rows share (model, config, arch, peripheral settings, point): "
                          f"{'; '.join(keys)}")


def change_pct(base: float, cur: float, metric: str) -> float:
    """How much worse current is than baseline, in % (negative = better)."""
    if base == 0:
        return 0.0 if cur == 0 else (np.inf if (cur > 0) != (metric in HIGHER_IS_BETTER) else -np.inf)
    delta = (cur - base) / abs(base) * 100.0
    return -delta if metric in HIGHER_IS_BETTER else delta


def compare_frames(
    baseline: pd.DataFrame,
    current: pd.DataFrame,
    metrics: Sequence[str] = DEFAULT_METRICS,
    threshold_pct: float = 0.0,
    subset: bool = False,
) -> Comparison:
    """Match rows, add relative columns, and list findings beyond threshold_pct.

    With `subset`, rows only one side has are dropped (counted in `only_one_side`)."""
    metrics = check_metrics(metrics)
    if threshold_pct < 0:
        raise ValueError(f"threshold must be >= 0 %, got {threshold_pct}")
    _check_unique(baseline, "baseline")
    _check_unique(current, "current")
    cols = list(MATCH_KEY) + list(metrics) + ["validation", "failing", "reason"]
    merged = pd.merge(
        baseline[cols].assign(_pos_base=range(len(baseline))),
        current[cols].assign(_pos=range(len(current))),
        on=list(MATCH_KEY), how="outer", suffixes=("_base", ""), indicator=True, sort=False,
    )
    # baseline order first, then rows new in current, in their order
    merged = merged.sort_values(["_pos_base", "_pos"], na_position="last", kind="stable")
    one_side = merged["_merge"] != "both"
    if subset:
        merged = merged[~one_side]
    others = _settings_by_run(current)
    findings: list[Finding] = []
    status = []
    for _, row in merged.iterrows():
        key = tuple(None if _na(row[k]) else row[k] for k in MATCH_KEY)
        row_findings = _row_findings(row, key, metrics, threshold_pct, others)
        findings += row_findings
        status.append(_status(row, row_findings))
    for m in metrics:
        base = merged[f"{m}_base"].astype("float64")
        cur = merged[m].astype("float64")
        merged[f"{m}_rel"] = np.where(base == 0, np.where(cur == 0, 1.0, np.inf), cur / base.where(base != 0))
        merged.loc[base.isna() | cur.isna(), f"{m}_rel"] = np.nan
    merged["status"] = status
    ordered = list(MATCH_KEY) + [c for m in metrics for c in (f"{m}_base", m, f"{m}_rel")]
    ordered += ["validation_base", "validation", "failing_base", "failing", "reason", "status"]
    return Comparison(merged[ordered].reset_index(drop=True), metrics, threshold_pct, findings,
                      subset=subset, only_one_side=int(one_side.sum()) if subset else 0)


def _na(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _settings_by_run(df: pd.DataFrame) -> dict[tuple, list[str]]:
    """(model, config, arch) -> the peripheral settings / points the current results have."""
    out: dict[tuple, list[str]] = {}
    for _, row in df.iterrows():
        label = variant_label(row["peripheral_settings"], row["point"])
        out.setdefault((row["model"], row["config"], row["arch"]), []).append(label or "(no settings)")
    return out


def _row_findings(row: pd.Series, key: tuple, metrics: tuple[str, ...], threshold: float,
                  others: dict[tuple, list[str]]) -> list[Finding]:
    if row["_merge"] == "left_only":
        elsewhere = others.get(key[:3])
        hint = f" (current has {', '.join(elsewhere)}; --subset compares only rows both have)" if elsewhere else ""
        return [Finding("missing", key, f"row in baseline but not in current results{hint}")]
    if row["_merge"] == "right_only":
        return [Finding("new", key, "row not in baseline")]
    if row["failing"] and not row["failing_base"]:
        return [Finding("failing", key, f"now failing: {row['reason']}")]
    found = []
    if row["validation_base"] == "exact" and row["validation"] != "exact":
        found.append(Finding("validation", key, f"validation changed exact -> {row['validation']}"))
    if row["failing"]:
        return found
    for m in metrics:
        base, cur = row[f"{m}_base"], row[m]
        if pd.isna(base):
            continue
        if pd.isna(cur):
            found.append(Finding("regression", key, f"{m} no longer reported (baseline {_value(base)})", m))
            continue
        worse = change_pct(float(base), float(cur), m)
        if worse > threshold:
            found.append(Finding(
                "regression", key,
                f"{m} {_signed(cur, base)} ({_value(base)} -> {_value(cur)}), worse by {worse:.2f}% > {threshold:g}%",
                m, worse,
            ))
    return found


def _signed(cur: object, base: object) -> str:
    b, c = float(base), float(cur)
    return "+inf%" if b == 0 else f"{(c - b) / abs(b) * 100:+.2f}%"


def _value(v: object) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{float(v):.6g}"


def _status(row: pd.Series, findings: list[Finding]) -> str:
    if row["_merge"] == "left_only":
        return "missing"
    if row["_merge"] == "right_only":
        return "new"
    if any(f.kind == "failing" for f in findings) or row["failing"]:
        return "failing"
    if findings:
        return "regressed"
    return "ok"

