"""What CI systems read: a Markdown summary (`$GITHUB_STEP_SUMMARY`) and JUnit XML.

JUnit: one `<testcase>` per result row, named by the row's key (model, config, arch, the
effective peripheral settings, sweep point), so CI test views list each run.  A run fails
its test case when it failed or its output is not bit-exact; in `bench compare` a row
also fails when the regression gate (`--fail-on-regression`) blocks on it.  The XML is
built with the standard library's ElementTree (attribute and text escaping included).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

import pandas as pd

from .formatting import escape_markdown
from .regression import Comparison, Finding, key_label
from .tables import study_table

# Figures attached to each test case as <properties> (when the row has them).
PROPERTIES = ("run_instructions", "est_cycles", "rom_bytes", "ram_bytes", "acc_cycles", "speedup")


def run_summary_markdown(df: pd.DataFrame, title: str = "bench run") -> str:
    """The study table in Markdown under a one-line verdict (runs, failing, not exact)."""
    failing = int(df["failing"].sum())
    inexact = int(((df["validation"] != "exact") & ~df["failing"]).sum())
    verdict = f"{len(df)} runs, {failing} failing, {inexact} not validated bit-exact"
    return f"### {escape_markdown(title)}: {verdict}\n\n{study_table(df, markdown=True)}\n"


def case_name(row: pd.Series) -> str:
    """`config arch [peripheral settings] [point]`: unique within a model's rows."""
    parts = [row.get("config"), row.get("arch"), row.get("peripheral_settings"), row.get("point")]
    return " ".join(str(p) for p in parts if p is not None and not pd.isna(p))


def junit_runs(df: pd.DataFrame, suite: str = "bench run") -> str:
    """JUnit XML of a session: a failing run or an inexact output fails its test case."""
    cases = []
    for _, row in df.iterrows():
        problem = None
        if row["failing"]:
            problem = str(row["reason"])
        elif row["validation"] == "mismatch":
            problem = f"output not bit-exact vs TFLite: {row.get('validation_detail') or 'mismatch'}"
        skipped = None if problem or row["validation"] == "exact" else "output not validated"
        cases.append(_case(str(row["model"]), case_name(row), problem, skipped, row, _seconds(row)))
    return _suite(suite, cases)


def junit_comparison(cmp: Comparison, gate: bool, suite: str = "bench compare") -> str:
    """JUnit XML of a comparison: with `gate`, a row with a blocking finding fails; without
    it, the findings are only reported (the command exits 0 then, and so do the cases)."""
    by_key: dict[tuple, list[Finding]] = {}
    for finding in cmp.findings:
        by_key.setdefault(tuple(_norm(k) for k in finding.key), []).append(finding)
    cases = []
    for _, row in cmp.table.iterrows():
        key = tuple(_norm(row[k]) for k in cmp.key)
        findings = by_key.get(key, [])
        blocking = [str(f) for f in findings if f.blocking]
        problem = "\n".join(blocking) if gate and blocking else None
        name = key_label(tuple(row[k] for k in cmp.key[1:]))
        case = _case(str(row["model"]), name, problem, None, row, None)
        if findings and not problem:
            ET.SubElement(case, "system-out").text = "\n".join(str(f) for f in findings)
        cases.append(case)
    return _suite(suite, cases)


def _norm(value: object) -> object:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _seconds(row: pd.Series) -> float:
    return float(sum(v for c in ("compile_seconds", "build_seconds", "sim_seconds")
                     if not pd.isna(v := row.get(c))))


def _case(classname: str, name: str, failure: str | None, skipped: str | None,
          row: pd.Series, seconds: float | None) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=name)
    if seconds is not None:
        case.set("time", f"{seconds:.3f}")
    props = [(p, row[p]) for p in PROPERTIES if p in row.index and not pd.isna(row[p])]
    if props:
        holder = ET.SubElement(case, "properties")
        for name_, value in props:
            ET.SubElement(holder, "property", name=name_, value=str(value))
    if failure:
        ET.SubElement(case, "failure", message=failure.splitlines()[0][:500]).text = failure
    elif skipped:
        ET.SubElement(case, "skipped", message=skipped)
    return case


def _suite(name: str, cases: Iterable[ET.Element]) -> str:
    cases = list(cases)
    suite = ET.Element("testsuite", name=name, tests=str(len(cases)),
                       failures=str(sum(c.find("failure") is not None for c in cases)),
                       errors="0", skipped=str(sum(c.find("skipped") is not None for c in cases)))
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
