"""`bench compare` and its math: relative columns, findings, the CI gate's exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from tests.reports.test_reports import sample_results

from mlonmcu_lite.cli.compare import compare
from mlonmcu_lite.reports import SCHEMA_VERSION, add_comparisons, compare_frames, to_dataframe
from mlonmcu_lite.reports.io import write_json
from mlonmcu_lite.reports.regression import change_pct

BENCH = Path(sys.executable).parent / "bench"


@pytest.fixture
def current() -> pd.DataFrame:
    return add_comparisons(to_dataframe(sample_results()))


def doctored(df: pd.DataFrame, model: str, config: str, **changes) -> pd.DataFrame:
    """A copy with some columns of one row replaced (a hand-edited baseline)."""
    out = df.copy()
    row = (out["model"] == model) & (out["config"] == config)
    assert row.sum() == 1
    for column, value in changes.items():
        out.loc[row, column] = value
    return out


def write_pair(tmp_path: Path, baseline: pd.DataFrame, current: pd.DataFrame) -> tuple[str, str]:
    (tmp_path / "base").mkdir()
    write_json(baseline, tmp_path / "base" / "results.json")
    write_json(current, tmp_path / "results.json")
    return str(tmp_path / "base"), str(tmp_path / "results.json")


def test_relative_columns_and_findings(current: pd.DataFrame) -> None:
    # baseline 2 % better than current on resnet cpu+qvanilla, 10 % worse on aww cpu ROM
    base = doctored(current, "resnet", "cpu+qvanilla", run_instructions=14_118_857)
    base = doctored(base, "aww", "cpu", rom_bytes=231_000)
    cmp = compare_frames(base, current, threshold_pct=1.0)
    t = cmp.table.set_index(["model", "config"])
    assert t.loc[("resnet", "cpu+qvanilla"), "run_instructions_rel"] == pytest.approx(14_401_234 / 14_118_857)
    assert t.loc[("aww", "cpu"), "rom_bytes_rel"] == pytest.approx(210_000 / 231_000)
    assert t.loc[("vww", "cpu"), "est_cycles_rel"] == 1.0
    assert [(f.kind, f.key[:2], f.metric) for f in cmp.findings] == [
        ("regression", ("resnet", "cpu+qvanilla"), "run_instructions")
    ]
    assert cmp.findings[0].change_pct == pytest.approx(2.0, abs=1e-4)
    assert t.loc[("resnet", "cpu+qvanilla"), "status"] == "regressed"
    assert t.loc[("aww", "cpu"), "status"] == "ok"  # got better
    assert list(cmp.table["model"])[:2] == ["resnet", "resnet"]  # baseline order kept


def test_change_pct_direction() -> None:
    assert change_pct(100, 110, "run_instructions") == pytest.approx(10.0)
    assert change_pct(100, 110, "mips") == pytest.approx(-10.0)  # higher is better
    assert change_pct(0, 0, "rom_bytes") == 0.0
    assert change_pct(0, 5, "rom_bytes") == float("inf")


def test_doctored_baseline_fails_the_gate_cli_runner(current: pd.DataFrame, tmp_path: Path) -> None:
    base = doctored(current, "vww", "cpu+qvanilla", est_cycles=14_500_000)  # current 15,068,105 is 3.92 % worse
    b, c = write_pair(tmp_path, base, current)
    result = CliRunner().invoke(compare, [b, c, "--fail-on-regression", "1"])
    assert result.exit_code == 1, result.output
    assert "REGRESSION vww cpu+qvanilla rv32imc: est_cycles +3.92% (14,500,000 -> 15,068,105)" in result.output
    assert "1 regression(s)" in result.output


def test_doctored_baseline_fails_the_gate_subprocess(current: pd.DataFrame, tmp_path: Path) -> None:
    base = doctored(current, "resnet", "cpu", run_instructions=50_000_000, ram_bytes=100_000)
    b, c = write_pair(tmp_path, base, current)
    proc = subprocess.run([str(BENCH), "compare", b, c, "--fail-on-regression", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "resnet cpu rv32imc: run_instructions +14.62%" in proc.stderr
    assert "resnet cpu rv32imc: ram_bytes +20.00%" in proc.stderr
    assert "regressed" in proc.stdout


def test_change_within_threshold_passes(current: pd.DataFrame, tmp_path: Path) -> None:
    base = doctored(current, "aww", "cpu+qvanilla", run_instructions=5_300_000)  # +0.75 %
    b, c = write_pair(tmp_path, base, current)
    result = CliRunner().invoke(compare, [b, c, "--fail-on-regression", "1"])
    assert result.exit_code == 0, result.output
    assert "no regressions beyond 1%" in result.output
    assert "5,340,005 (+0.75%)" in result.output
    strict = CliRunner().invoke(compare, [b, c, "--fail-on-regression", "0.5"])
    assert strict.exit_code == 1


def test_missing_row_is_flagged(current: pd.DataFrame, tmp_path: Path) -> None:
    partial = current[~((current["model"] == "aww") & (current["config"] == "cpu+qvanilla"))]
    b, c = write_pair(tmp_path, current, partial)
    report_only = CliRunner().invoke(compare, [b, c])
    assert report_only.exit_code == 0
    assert "MISSING aww cpu+qvanilla rv32imc: row in baseline but not in current results" in report_only.output
    gate = CliRunner().invoke(compare, [b, c, "--fail-on-regression", "50"])
    assert gate.exit_code == 1 and "MISSING aww cpu+qvanilla" in gate.output


def test_new_row_is_reported_but_not_blocking(current: pd.DataFrame, tmp_path: Path) -> None:
    b, c = write_pair(tmp_path, current.iloc[:4], current)
    result = CliRunner().invoke(compare, [b, c, "--fail-on-regression", "1"])
    assert result.exit_code == 0, result.output
    assert "NEW aww cpu rv32imc" in result.output


def test_validation_no_longer_exact_and_new_failure_block(current: pd.DataFrame, tmp_path: Path) -> None:
    cur = doctored(current, "resnet", "cpu+qvanilla", validation="mismatch")
    cur = doctored(cur, "vww", "cpu", failing=True, reason="TimeoutError: 60 s @ run")
    cmp = compare_frames(current, cur, threshold_pct=5)
    kinds = {(f.kind, f.key[0]) for f in cmp.blocking}
    assert kinds == {("validation", "resnet"), ("failing", "vww")}
    b, c = write_pair(tmp_path, current, cur)
    result = CliRunner().invoke(compare, [b, c, "--fail-on-regression", "5"])
    assert result.exit_code == 1
    assert "validation changed exact -> mismatch" in result.output
    assert "now failing: TimeoutError: 60 s @ run" in result.output


def test_markdown_goes_to_github_step_summary(current: pd.DataFrame, tmp_path: Path) -> None:
    base = doctored(current, "resnet", "cpu", rom_bytes=200_000)
    b, c = write_pair(tmp_path, base, current)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = CliRunner(env={"GITHUB_STEP_SUMMARY": str(summary)}).invoke(compare, [b, c, "--markdown"])
    assert result.exit_code == 0
    assert "| resnet | cpu" in result.output
    text = summary.read_text()
    assert text.startswith("earlier step\n### bench compare: 6 rows")
    assert "210,000 (+5.00%)" in text and "|---" in text


def test_csv_and_json_inputs_and_metric_selection(current: pd.DataFrame, tmp_path: Path) -> None:
    from mlonmcu_lite.reports import write_session_report

    base = doctored(current, "aww", "cpu", mips=200.0)
    cur = doctored(current, "aww", "cpu", mips=150.0)
    write_session_report(base, tmp_path / "base")
    write_session_report(cur, tmp_path / "cur")
    args = [str(tmp_path / "base" / "results.csv"), str(tmp_path / "cur" / "results.json")]
    result = CliRunner().invoke(compare, args + ["--metrics", "mips", "--fail-on-regression", "10"])
    assert result.exit_code == 1, result.output
    assert "mips -25.00%" in result.output  # higher is better: a drop is a regression
    result = CliRunner().invoke(compare, args + ["--fail-on-regression", "10"])
    assert result.exit_code == 0, result.output  # mips is not tracked by default


@pytest.mark.parametrize(
    "setup, args, message",
    [
        ("version", [], f"reads version {SCHEMA_VERSION}"),
        ("none", [], "no such results file"),
        ("ok", ["--metrics", "speed,model"], "unknown or non-numeric metric(s) speed, model; valid: run_instructions"),
        ("duplicate", [], "several rows share (model, config, arch, peripheral settings, point): resnet cpu rv32imc"),
    ],
)
def test_bad_input_is_a_clear_error(current: pd.DataFrame, tmp_path: Path, setup, args, message) -> None:
    rows = pd.concat([current, current.iloc[:1]]) if setup == "duplicate" else current
    b, c = write_pair(tmp_path, rows, current)
    if setup == "version":
        rows_ = [{**row, "schema_version": 0} for row in json.loads(Path(c).read_text())]
        Path(c).write_text(json.dumps(rows_))
    if setup == "none":
        c = str(tmp_path / "missing.json")
    result = CliRunner().invoke(compare, [b, c, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_bench_entry_point_is_installed() -> None:
    assert BENCH.is_file() and os.access(BENCH, os.X_OK)
