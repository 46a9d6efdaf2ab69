"""The Python API from a script file and from `python -` on stdin (neither with a `__main__`
guard), its session files (study.toml, provenance.json), and the study round trip: the
session's own study.toml, run again with `bench run --study`, gives identical rows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers.e2e import REPO, TEST_CACHE, bench_json

# differ between two runs of the same study by nature: the session name and wall-clock times
VOLATILE = {"session", "sim_seconds", "mips", "compile_seconds", "build_seconds", "cached", "layers"}


def _python(code: str, *, stdin: bool, cwd: Path) -> subprocess.CompletedProcess:
    code = textwrap.dedent(code)
    if stdin:
        cmd, text = [sys.executable, "-"], code
    else:
        script = cwd / "study_script.py"
        script.write_text(code)
        cmd, text = [sys.executable, str(script)], None
    proc = subprocess.run(cmd, input=text, capture_output=True, text=True, cwd=cwd, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def _rows(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in rows]


def test_session_from_stdin_writes_its_study_and_provenance_and_reruns_identically(tmp_path):
    code = f"""
        import json
        from mlonmcu_lite import Session
        from mlonmcu_lite.reports.io import json_rows

        result = Session(models=["add"], settings={{"validate_samples": 1}},
                         reports_dir={str(tmp_path / "a")!r}, cache_dir={str(TEST_CACHE)!r}, jobs=2).run()
        assert result.ok, result.failing
        print(json.dumps({{"out": str(result.out_dir), "layers": len(result.layers),
                          "rows": json_rows(result.runs)}}, default=str))
    """
    out = json.loads(_python(code, stdin=True, cwd=tmp_path).stdout)
    rows, session = out["rows"], Path(out["out"])
    # the default peripheral: CPU-only and with QVanilla (no conv in `add`: labelled, passing)
    assert [r["run_id"] for r in rows] == ["add__cpu__rv32imc", "add__cpu+qvanilla__rv32imc"]
    assert all(r["validation"] == "exact" for r in rows) and out["layers"] > 0

    study = (session / "study.toml").read_text()
    assert 'models = [\n    "add",\n]' in study and "peripherals_default = true" in study
    assert "validate_samples = 1" in study and "max_instructions = 4000000000" in study  # every setting

    provenance = json.loads((session / "provenance.json").read_text())
    tools = provenance["tools"]
    assert {"mlonmcu-lite", "apache-tvm", "unicorn", "ai-edge-litert", "clang", "lld"} <= set(tools)
    assert tools["clang"].startswith("Debian clang version 14") and tools["unicorn"].startswith("2.1")
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert provenance["project"]["git"]["commit"] == head and provenance["project"]["layout"] == "checkout"
    assert provenance["peripherals"]["qvanilla"]["folder"].endswith("peripherals/qvanilla")
    assert provenance["peripherals"]["qvanilla"]["git"]["commit"] == head
    assert provenance["command"] == ["-"] and provenance["host"]["cpus"] >= 1

    proc, _ = bench_json("run", "--study", str(session / "study.toml"), "--out", str(tmp_path / "b"),
                         "--cache-dir", str(TEST_CACHE))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (rerun,) = (tmp_path / "b").iterdir()
    first, again = (json.loads((folder / "results.json").read_text()) for folder in (session, rerun))
    assert len(again) == 2 and _rows(again) == _rows(first)
    assert (rerun / "study.toml").read_text() == study  # the effective study is a fixed point


def test_session_from_a_script_without_main_guard_runs_once_in_workers(tmp_path):
    code = """
        from mlonmcu_lite import Session

        print("SCRIPT-BODY-RAN")
        result = Session(models=["add"], archs=["rv32imc", "rv32gc"], peripherals=[], jobs=2, reports_dir="r",
                         cache_dir=%r).run()
        print(result)
        print(result.runs[["run_id", "validation"]].to_string())
    """ % str(TEST_CACHE)
    proc = _python(code, stdin=False, cwd=tmp_path)
    assert proc.stdout.count("SCRIPT-BODY-RAN") == 1  # the workers did not re-run the script
    assert "SessionResults(2 runs, ok" in proc.stdout
    assert proc.stdout.count("exact") == 2
