"""`bench run` sessions under awkward input: nothing lost, nothing misleading (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlonmcu_lite.harness.pool import run_many as _real_run_many
from mlonmcu_lite.peripheral.request import PeripheralRequest
from tests.helpers.e2e import bench


def _session_rows(out: Path) -> tuple[Path, list[dict]]:
    (session,) = [p for p in out.iterdir() if p.is_dir()]
    return session, json.loads((session / "results.json").read_text())


def test_default_peripheral_taking_no_layer_is_labelled_not_failed(tmp_path):
    """Item 15: the README's `bench run <model>` on an all-dense model exits 0; the
    accelerated row says "no layer offloaded" with the rejections; `-p` still fails loudly."""
    proc = bench("run", "fc", "--out", str(tmp_path / "default"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no layer offloaded" in proc.stdout
    assert "runs:" not in proc.stderr and "run/s" not in proc.stderr  # no progress bar off a terminal
    _, rows = _session_rows(tmp_path / "default")
    acc = next(r for r in rows if r["config"] == "cpu+qvanilla")
    # issue 18: the effective settings (defaults included) and the flow in MLonMCU's terms
    assert acc["peripheral_settings"] == PeripheralRequest.parse("qvanilla").effective_label
    assert {"fused_requant=true", "macs_per_cycle=16", "setup_cycles=32"} <= \
        set(acc["peripheral_settings"].partition(":")[2].split(","))
    assert acc["settings"]["peripheral_settings"]["qvanilla"]["macs_per_cycle"] == 16
    assert rows[0]["peripheral_settings"] is None and rows[0]["settings"]["peripheral_settings"] == {}
    assert {k: acc[k] for k in ("framework", "backend", "target", "platform")} == \
        {"framework": "tvm", "backend": "tvmaot-c", "target": "unicorn-vp", "platform": "mlml-baremetal"}
    assert not acc["failing"] and acc["validation"] == "exact" and acc["layers_offloaded"] == 0
    assert acc["reason"].startswith("no layer offloaded") and "fully connected" in acc["reason"]
    assert acc["acc_jobs"] == 0

    proc = bench("run", "fc", "-p", "qvanilla", "--no-progress", "--out", str(tmp_path / "explicit"))
    assert proc.returncode == 1
    assert "peripheral qvanilla was configured but accepted no layer" in proc.stderr


def _fake_run_many(specs, jobs=None, progress=True):
    """The real pool with the test worker (no compiler needed)."""
    from tests.helpers.harness_workers import behave

    return _real_run_many(specs, jobs=1, progress=False, worker=behave)


def test_sessions_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    """Item 2: two sessions, same timestamp, same --out: two folders, neither overwritten."""
    import threading

    from mlonmcu_lite.harness import pool, session
    from mlonmcu_lite.workspace import default_workspace

    monkeypatch.setattr(session, "new_session_name", lambda: "20260101-000000")
    monkeypatch.setattr(pool, "run_many", _fake_run_many)
    workspace = default_workspace().with_roots(reports_dir=tmp_path, cache_dir=tmp_path / "cache")
    outcomes = {}

    def one(model):
        request = session.SessionRequest(groups=(session.RunGroup(models=(model,)),), workspace=workspace)
        outcomes[model] = session.run_session(request, progress=False)

    threads = [threading.Thread(target=one, args=(m,)) for m in ("ok1", "ok2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dirs = {m: r.out_dir for m, r in outcomes.items()}
    assert dirs["ok1"] != dirs["ok2"], dirs
    for model, out in dirs.items():
        rows = json.loads((out / "results.json").read_text())
        assert [r["model"] for r in rows] == [model]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and p.name != "cache") == \
        ["20260101-000000", "20260101-000000-2"]


def test_run_ids_unique_and_stable_for_same_stem_and_repeated_models(tmp_path, repo):
    """Item 3: `bench run aww path/aww.tflite` and `bench run aww aww` give distinct run ids
    (and model labels, so the study table pairs the right rows), the same on every expansion."""
    from mlonmcu_lite.harness.runner import base_result
    from mlonmcu_lite.harness.session import RunGroup, SessionRequest, expand
    from mlonmcu_lite.peripheral.request import PeripheralRequest

    qv = (PeripheralRequest.parse("qvanilla", []),)
    path = str(repo / "models" / "zoo" / "aww.tflite")
    for models in (("aww", path), ("aww", "aww"), ("aww", path, "aww")):
        request = SessionRequest(groups=(RunGroup(models=models, peripherals=qv),))
        specs = expand(request, "s", tmp_path)
        ids = [s.run_id for s in specs]
        assert len(set(ids)) == len(ids) == 2 * len(models), ids
        assert ids == [s.run_id for s in expand(request, "s", tmp_path)]  # stable
        labels = [base_result(s).model for s in specs[::2]]
        assert labels[0] == "aww" and len(set(labels)) == len(models), labels
        assert ids[0] == "aww__cpu__rv32imc"


def test_empty_model_argument_rejected_before_any_work(tmp_path):
    """Item 4: `bench run aww ""` is a usage error; no session folder is created."""
    proc = bench("run", "aww", "", "--no-progress", "--out", str(tmp_path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "empty model argument" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_schema_problem_in_one_row_never_loses_the_others(tmp_path):
    """Item 4: a run whose result cannot even be built (e.g. an empty model label through
    the API) becomes a failing row; the other rows and the report survive."""
    from mlonmcu_lite.harness.pool import run_many
    from mlonmcu_lite.harness.results import report_session
    from mlonmcu_lite.harness.spec import RunSpec
    from tests.helpers.harness_workers import behave

    specs = [RunSpec(model=m, session="s", out_dir=str(tmp_path)) for m in ("ok1", "", "ok2")]
    rows = run_many(specs, jobs=1, progress=False, worker=behave)
    assert [r.failing for r in rows] == [False, True, False]
    assert "SchemaError" in rows[1].reason and "model is empty" in rows[1].reason
    frame, files, table = report_session(rows, tmp_path)
    assert len(frame) == 3 and (tmp_path / "results.json").is_file()


def test_unwritable_out_is_a_usage_error_before_any_work(tmp_path):
    """Item 10: `--out` below a regular file cannot be created: exit 2 naming it, no traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = bench("run", "fc", "--cpu-only", "--no-progress", "--out", str(blocker / "reports"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and str(blocker / "reports") in proc.stderr
    assert "runs" not in proc.stdout  # nothing ran


def _session_with_broken_report(tmp_path, monkeypatch, writer: str, broken) -> int:
    """A two-run session (fake runs) whose report writer `writer` is replaced by `broken`; its exit code."""
    from mlonmcu_lite.cli.session import execute
    from mlonmcu_lite.harness import pool, session
    from mlonmcu_lite.reports import session as report_files
    from mlonmcu_lite.workspace import default_workspace

    monkeypatch.setattr(pool, "run_many", _fake_run_many)
    monkeypatch.setattr(report_files, writer, broken)
    workspace = default_workspace().with_roots(reports_dir=tmp_path, cache_dir=tmp_path / "cache")
    request = session.SessionRequest(groups=(session.RunGroup(models=("ok1", "ok2")),), workspace=workspace)
    with pytest.raises(SystemExit) as info:
        execute(request, jobs=1, as_json=False, no_progress=True)
    return info.value.code


def test_report_write_failure_still_prints_the_table(tmp_path, monkeypatch, capsys):
    """Item 10: when writing the report fails after the runs, the console table is printed
    anyway, then the reason, and the exit code says a tool failed."""
    def broken_writer(df, out_dir, layers=None, objectives=()):
        raise OSError(28, "No space left on device")

    code = _session_with_broken_report(tmp_path, monkeypatch, "write_session_report", broken_writer)
    out, err = capsys.readouterr()
    assert code == 3
    assert "ok1" in out and "ok2" in out and "42" in out  # the study table
    assert "report not written" in err and "No space left on device" in err


def test_ctrl_c_while_the_report_is_written_keeps_the_rows_and_exits_130(tmp_path, monkeypatch, capsys):
    """A Ctrl-C during the plots: results.json/.csv hold every row, the table is printed, the
    message says what happened, exit 130 (not click's "Aborted!")."""
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    code = _session_with_broken_report(tmp_path, monkeypatch, "write_plots", ctrl_c)
    out, err = capsys.readouterr()
    assert code == 130
    assert "ok1" in out and "ok2" in out and "42" in out
    assert "report interrupted by Ctrl-C" in err and "results.json and results.csv written" in err
    out_dir, rows = _session_rows(tmp_path)
    assert [r["model"] for r in rows] == ["ok1", "ok2"] and not (out_dir / "index.html").exists()
    assert json.loads((out_dir / "session.json").read_text())["runs"] == 2


def test_ctrl_c_outside_a_session_is_a_clear_message_and_130(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from mlonmcu_lite.cli import compare, main

    def ctrl_c(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "resolve_results_path", ctrl_c)
    result = CliRunner().invoke(main, ["compare", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 130, result.output
    assert "Interrupted by Ctrl-C" in result.output and "Aborted" not in result.output


def test_a_ctrl_c_while_the_rows_are_written_is_held_until_they_are_whole():
    import os
    import signal

    import pytest

    from mlonmcu_lite.interrupts import deferred_interrupt

    done = []
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # an xdist worker may ignore it
    try:
        with pytest.raises(KeyboardInterrupt):
            with deferred_interrupt():
                os.kill(os.getpid(), signal.SIGINT)
                done.append("rows written")
        assert done == ["rows written"] and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("name, content, detail", [
    ("results.json", b"\xff\xfe\x00not utf-8", "UnicodeDecodeError"),
    ("results.csv", b'schema_version,model\n1,"unterminated\n', "ParserError"),
])
def test_unreadable_results_file_is_a_usage_error_naming_it(tmp_path, name, content, detail):
    """`bench compare` on a damaged results file: exit 2 naming the file, no traceback."""
    from click.testing import CliRunner

    from mlonmcu_lite.cli import main

    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["compare", str(path), str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}: unreadable results file ({detail}" in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


def test_a_run_whose_folder_records_cannot_be_written_keeps_its_row(tmp_path, monkeypatch):
    """The run folder's own records (stage, result.json) failing to write (disk full) are
    logged; the measured row still reaches the session."""
    from pathlib import Path

    from tests.helpers.e2e import run_one

    real = Path.write_text

    def full_disk(self, *args, **kwargs):
        if self.name in ("stage", "result.json", "error.txt"):
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    row = run_one("add", tmp_path)
    assert not row["failing"] and row["validation"] == "exact" and row["run_instructions"] > 0, row["reason"]
    assert not (tmp_path / "runs" / row["run_id"] / "result.json").exists()


@pytest.mark.parametrize("name, content", [("in.npy", b"garbage"), ("in.npz", b"PK\x03\x04broken"),
                                           ("in.npy", b"\x93NUMPY\x01\x00")])
def test_a_damaged_input_file_is_an_input_error_naming_it(tmp_path, name, content):
    """`--input` with a file numpy cannot read: an InputError naming it (the run's failing row
    says it at stage load), not numpy's own words about pickles or zip files alone."""
    from mlonmcu_lite.harness.inputs import InputError, load_user_input
    from mlonmcu_lite.zoo import TensorSpec

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"{path}: unreadable \.np[yz] input file \("):
        load_user_input(path, [TensorSpec("x", (1, 4), "int8", 1.0, 0)])


def test_an_unwritable_junit_file_keeps_the_table_and_the_report(tmp_path, monkeypatch):
    """`--junit` into a path that cannot be written: the table and the report are still
    there, the error line names the file, exit 2 (bad input) after the runs."""
    from click.testing import CliRunner

    from mlonmcu_lite.cli import main
    from mlonmcu_lite.harness import pool

    monkeypatch.setattr(pool, "run_many", _fake_run_many)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["run", "ok1", "ok2", "--cpu-only", "--no-progress", "--out", str(tmp_path / "r"),
                                       "--junit", str(blocker / "run.xml"), "--markdown-file", str(tmp_path / "s.md")])
    assert result.exit_code == 2, result.output
    assert "ok1" in result.stdout and "42" in result.stdout and "report:" in result.stdout
    assert f"Error: cannot write {blocker / 'run.xml'}" in result.stderr
    assert "ok2" in (tmp_path / "s.md").read_text()  # the other CI file is still written
    _, rows = _session_rows(tmp_path / "r")
    assert [r["model"] for r in rows] == ["ok1", "ok2"]
