"""Issue 18 items 4-7 on synthetic results: compare keyed on effective peripheral settings
(and `--subset`), Markdown and JUnit outputs, results.json as one pandas call."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from tests.reports.test_reports import sample_results

from mlonmcu_lite.cli.compare import compare
from mlonmcu_lite.peripheral.request import PeripheralRequest
from mlonmcu_lite.reports import SCHEMA_VERSION, add_comparisons, load_results, to_dataframe
from mlonmcu_lite.reports.ci import junit_runs, run_summary_markdown
from mlonmcu_lite.reports.io import write_json, write_session_json

DEFAULT = PeripheralRequest.parse("qvanilla")
FAST = PeripheralRequest.parse("qvanilla:macs_per_cycle=32")


def session(request: PeripheralRequest, acc_factor: float = 1.0) -> pd.DataFrame:
    """The sample study with every accelerated row run with `request` (its effective
    settings recorded as the runner records them); accelerated figures scaled."""
    rows = []
    for r in sample_results():
        if r.peripheral:
            r.peripheral_settings = request.effective_label
            r.settings = json.dumps({"peripherals": [request.label]})
            r.run_instructions = int(r.run_instructions * acc_factor)
            r.est_cycles = int(r.est_cycles * acc_factor)
        rows.append(r)
    return add_comparisons(to_dataframe(rows))


def write(tmp_path: Path, name: str, df: pd.DataFrame) -> str:
    (tmp_path / name).mkdir()
    write_json(df, tmp_path / name / "results.json")
    return str(tmp_path / name)


def test_effective_settings_spell_defaults() -> None:
    assert DEFAULT.label == "qvanilla"
    name, _, values = DEFAULT.effective_label.partition(":")
    items = values.split(",")
    assert name == "qvanilla" and items == sorted(items)  # every setting, sorted by key
    assert {"fused_requant=true", "macs_per_cycle=16", "setup_cycles=32", "wait_mode=stall"} <= set(items)
    assert FAST.effective_label == DEFAULT.effective_label.replace("macs_per_cycle=16", "macs_per_cycle=32")
    # the canonical spelling is a valid -p argument naming the same settings
    assert PeripheralRequest.parse(DEFAULT.effective_label).effective == DEFAULT.effective


def test_default_and_other_settings_are_distinct_rows_not_a_regression(tmp_path: Path) -> None:
    base = write(tmp_path, "base", session(DEFAULT))
    # twice the MACs/cycle, but *worse* figures: matched by (model, config, arch) only this
    # would be a regression; keyed on the settings it is another row
    cur = write(tmp_path, "cur", session(FAST, acc_factor=1.5))
    full = CliRunner().invoke(compare, [base, cur, "--fail-on-regression", "0"])
    assert full.exit_code == 1, full.output
    assert "REGRESSION" not in full.output
    listed = full.output.split("Error:")[0]  # the findings (the error message repeats the blocking ones)
    findings = [line.split()[0] for line in listed.splitlines() if line.startswith("  ")]
    assert findings.count("MISSING") == 3 and findings.count("NEW") == 3
    assert f"current has {FAST.effective_label}" in full.output
    subset = CliRunner().invoke(compare, [base, cur, "--fail-on-regression", "0", "--subset"])
    assert subset.exit_code == 0, subset.output
    assert "3 rows, no regressions" in subset.output and "6 row(s) only one side has left out" in subset.output
    assert "MISSING" not in subset.output and "NEW" not in subset.output


def test_subset_still_gates_the_rows_both_sides_have(tmp_path: Path) -> None:
    base = write(tmp_path, "base", session(DEFAULT))
    cur = session(DEFAULT, acc_factor=1.1)
    cur = cur[~((cur["model"] == "aww") & (cur["config"] == "cpu"))]  # a partial current run
    result = CliRunner().invoke(compare, [base, write(tmp_path, "cur", cur), "--fail-on-regression", "1", "--subset"])
    assert result.exit_code == 1
    assert f"REGRESSION resnet cpu+qvanilla rv32imc {DEFAULT.effective_label}: run_instructions" in result.output
    assert "MISSING" not in result.output


def test_old_files_are_keyed_on_effective_settings_too(tmp_path: Path) -> None:
    """A baseline written before rows carried `peripheral_settings` (wrapper format, labels
    only) matches rows of today's default QVanilla."""
    new = session(DEFAULT)
    (tmp_path / "old").mkdir()
    rows = [{k: v for k, v in r.items() if k not in ("peripheral_settings", "schema_version")}
            for r in json.loads(Path(write(tmp_path, "new", new), "results.json").read_text())]
    for r in rows:
        r["settings"] = json.dumps(r["settings"])
    (tmp_path / "old" / "results.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION, "rows": rows}))
    assert load_results(tmp_path / "old")["peripheral_settings"].isna().all()
    result = CliRunner().invoke(compare, [str(tmp_path / "old"), str(tmp_path / "new"), "--fail-on-regression", "0"])
    assert result.exit_code == 0, result.output
    assert "6 rows, no regressions" in result.output


def test_a_setting_one_side_lacks_neither_splits_rows_nor_hides_changes(tmp_path: Path) -> None:
    """A knob added to QVanilla since the baseline (here: the baseline's rows lack
    `setup_cycles`) is left out of the key and named; the figures are still compared."""
    old = session(DEFAULT)
    old["peripheral_settings"] = old["peripheral_settings"].str.replace(",setup_cycles=32", "")
    cur = session(DEFAULT, acc_factor=1.1)
    result = CliRunner().invoke(compare, [write(tmp_path, "b", old), write(tmp_path, "c", cur),
                                          "--fail-on-regression", "1"])
    assert result.exit_code == 1
    assert "6 rows, 6 problem(s)" in result.output and "qvanilla.setup_cycles (current only)" in result.output
    assert "MISSING" not in result.output and "REGRESSION aww cpu+qvanilla" in result.output
    # a value both sides know still keys: 16 vs 32 MACs/cycle stay two rows
    fast = session(FAST)
    assert CliRunner().invoke(compare, [write(tmp_path, "f", fast), write(tmp_path, "g", cur)]).output.count(
        "MISSING") == 3


def test_sweep_points_are_compared_point_by_point(tmp_path: Path) -> None:
    def sweep(factor: float) -> pd.DataFrame:
        df = pd.concat([session(PeripheralRequest.parse(f"qvanilla:macs_per_cycle={m}"), factor).assign(
            point=f"macs_per_cycle={m}") for m in (8, 16)])
        return df[df["config"] != "cpu"].reset_index(drop=True)

    base, cur = sweep(1.0), sweep(1.0)
    row = (cur["model"] == "vww") & (cur["point"] == "macs_per_cycle=8")
    cur.loc[row, "est_cycles"] = cur.loc[row, "est_cycles"] * 2
    result = CliRunner().invoke(compare, [write(tmp_path, "b", base), write(tmp_path, "c", cur),
                                          "--fail-on-regression", "1"])
    assert result.exit_code == 1
    assert "6 rows, 1 problem(s)" in result.output
    assert "macs_per_cycle=8: est_cycles +100.00%" in result.output


def test_markdown_file_and_junit_of_a_comparison(tmp_path: Path) -> None:
    base = write(tmp_path, "base", session(DEFAULT))
    cur = write(tmp_path, "cur", session(DEFAULT, acc_factor=1.5))
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = CliRunner(env={"GITHUB_STEP_SUMMARY": str(summary)}).invoke(compare, [
        base, cur, "--fail-on-regression", "5", "--markdown-file", str(summary), "--junit", str(tmp_path / "c.xml")])
    assert result.exit_code == 1
    assert "bench compare: 6 rows, 6 problem(s)" in result.output  # the text table stays on stdout
    text = summary.read_text()
    assert text.startswith("earlier step\n### bench compare: 6 rows, 6 problem(s)") and "|---" in text
    suite = ET.parse(tmp_path / "c.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("6", "3")
    failed = {c.get("classname") + " " + c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert failed == {f"{m} cpu+qvanilla rv32imc {DEFAULT.effective_label}" for m in ("resnet", "vww", "aww")}
    report_only = CliRunner().invoke(compare, [base, cur, "--junit", str(tmp_path / "r.xml")])
    assert report_only.exit_code == 0
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite.get("failures") == "0" and "REGRESSION" in "".join(suite.itertext())


def test_junit_and_markdown_of_a_session() -> None:
    df = add_comparisons(to_dataframe(sample_results(failing_model="vww")))
    df.loc[(df["model"] == "aww") & (df["config"] == "cpu"), ["validation", "validation_detail"]] = \
        ["mismatch", "output 0: 3 of 12 values differ"]
    suite = ET.fromstring(junit_runs(df)).find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("6", "2")
    failures = {c.get("classname"): c.find("failure").get("message") for c in suite.iter("testcase")
                if c.find("failure") is not None}
    assert failures == {"vww": "VPFault: load access fault @ run",
                        "aww": "output not bit-exact vs TFLite: output 0: 3 of 12 values differ"}
    props = {p.get("name"): p.get("value") for p in suite.find("testcase").iter("property")}
    assert props["run_instructions"] == "57312456"
    md = run_summary_markdown(df)
    assert md.startswith("### bench run: 6 runs, 1 failing, 1 not validated bit-exact\n")
    assert "| resnet |" in md


def test_results_json_is_one_pandas_call(tmp_path: Path) -> None:
    df = session(DEFAULT)
    paths = {"json": write_json(df, tmp_path / "results.json")}
    write_session_json(df, tmp_path / "session.json", paths)  # what write_session_report adds
    runs = pd.read_json(paths["json"])
    assert len(runs) == len(df) == 6
    assert runs["run_instructions"].tolist() == df["run_instructions"].tolist()
    assert runs["peripheral_settings"].tolist() == df["peripheral_settings"].tolist()
    assert (runs["schema_version"] == SCHEMA_VERSION).all()
    assert runs.loc[1, "settings"] == {"peripherals": ["qvanilla"]}  # an object, not JSON text
    pd.testing.assert_frame_equal(load_results(paths["json"]), df)
    meta = json.loads((tmp_path / "session.json").read_text())
    assert meta["schema_version"] == SCHEMA_VERSION and meta["columns"]["run_instructions"] == "Int64"
    assert (meta["runs"], meta["failing"], meta["files"]) == (6, 0, {"json": "results.json"})


@pytest.mark.parametrize("stdout_tty, stderr_tty, flag, shown", [
    (True, True, False, True), (False, True, False, False), (True, False, False, False),
    (True, True, True, False)])
def test_progress_bar_only_on_a_terminal(monkeypatch, stdout_tty, stderr_tty, flag, shown) -> None:
    import sys

    from mlonmcu_lite.cli.outputs import show_progress

    monkeypatch.setattr(sys.stdout, "isatty", lambda: stdout_tty, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: stderr_tty, raising=False)
    assert show_progress(flag) is shown


def test_mlonmcu_column_names() -> None:
    from mlonmcu_lite.reports.mlonmcu import mlonmcu_view

    df = session(DEFAULT).assign(framework="tvm", backend="tvmaot-c", target="unicorn-vp", platform="mlml-baremetal")
    view = mlonmcu_view(df)
    assert list(view.columns[:7]) == ["Session", "Run", "Model", "Framework", "Backend", "Platform", "Target"]
    assert "Total Cycles" not in view.columns  # no column of that meaning in these rows
    assert view.loc[1, "Config"] == DEFAULT.effective_label
    assert view["Run Instructions"].tolist() == df["run_instructions"].tolist()
    assert view["Total ROM"].tolist() == df["rom_bytes"].tolist()


def test_bench_run_writes_junit_and_markdown(tmp_path: Path, monkeypatch) -> None:
    """`bench run` end to end through the CLI and the real pool, with the test worker
    (no compiler): a failing run is a failed test case and is named in the summary."""
    from mlonmcu_lite.cli import main
    from mlonmcu_lite.harness import pool
    from mlonmcu_lite.harness.pool import run_many
    from tests.helpers.harness_workers import behave

    monkeypatch.setattr(pool, "run_many", lambda specs, jobs=None, progress=True:
                        run_many(specs, jobs=1, progress=progress, worker=behave))
    summary = tmp_path / "summary.md"
    result = CliRunner(env={"GITHUB_STEP_SUMMARY": str(summary)}).invoke(main, [
        "run", "ok1", "raise", "--cpu-only", "--out", str(tmp_path / "reports"),
        "--junit", str(tmp_path / "run.xml"), "--markdown-file", str(summary)])
    assert result.exit_code == 1, result.output
    suite = ET.parse(tmp_path / "run.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "1", "1")
    failure = next(c for c in suite.iter("testcase") if c.find("failure") is not None)
    assert failure.get("classname") == "raise" and "RuntimeError: boom" in failure.find("failure").text
    text = summary.read_text()
    assert text.startswith("### bench session ") and "2 runs, 1 failing" in text
    assert "| ok1" in text and "raise cpu: RuntimeError: boom" in text
