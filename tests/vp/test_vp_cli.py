"""`bench sim` / `bench doctor` and the counting fallback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from tests.helpers.vp_programs import build_program, build_syscall_elf

from mlonmcu_lite.cli import main
from mlonmcu_lite.vp import counting


def test_sim_json(out_root):
    elf = build_program("hello", out_root, "rv32imc")
    res = CliRunner().invoke(main, ["sim", str(elf), "--json"])
    assert res.exit_code == 7, res.output  # the firmware's exit code
    data = json.loads(res.output)
    assert {"exit_code", "total_instructions", "run_instructions", "console", "sim_seconds",
            "mips"} <= set(data)
    assert data["exit_code"] == 7 and data["console"].startswith("hello -42 42 beef")
    assert data["total_instructions"] > 1000 and data["run_instructions"] is None
    assert data["counting"] == "native"


def test_sim_text_syscall_elf(out_root):
    elf = build_syscall_elf(out_root, "rv32gc")
    res = CliRunner().invoke(main, ["sim", str(elf)])
    assert res.exit_code == 42
    assert "hi from ecall" in res.output and "total instructions: 12" in res.output


def test_sim_fault(out_root):
    elf = build_program("faults", out_root, "rv32imc", defines={"FAULT_STACK": None})
    res = CliRunner().invoke(main, ["sim", str(elf), "--json"])
    assert res.exit_code == 125
    data = json.loads(res.output)
    assert data["error"] == "StackOverflow" and data["function"].startswith("recurse")
    res = CliRunner().invoke(main, ["sim", str(elf), "--max-instructions", "1000"])
    assert res.exit_code == 125 and "instruction limit exceeded" in res.output


def test_sim_bad_input(tmp_path):
    bad = tmp_path / "bad.elf"
    bad.write_text("nope")
    res = CliRunner().invoke(main, ["sim", str(bad)])
    assert res.exit_code == 1 and "not a valid ELF" in res.output


def test_doctor():
    res = CliRunner().invoke(main, ["doctor"])
    assert res.exit_code == 0, res.output
    assert "clang-14" in res.output and "rv32imc (ilp32)" in res.output
    assert "native counting hook" in res.output and "status:        ok" in res.output


def test_no_host_compiler_falls_back_with_warning(monkeypatch, tmp_path):
    monkeypatch.setattr(counting, "find_host_compiler", lambda: None)
    monkeypatch.setenv("MLML_CACHE_DIR", str(tmp_path))
    counting.load_native_library.cache_clear()
    try:
        with pytest.raises(counting.NativeHookUnavailable, match="apt-get install"):
            counting.make_counter("native")
        with pytest.warns(RuntimeWarning, match="Python block hook"):
            counter = counting.make_counter("auto")
        assert isinstance(counter, counting.PythonBlockCounter)
    finally:
        counting.load_native_library.cache_clear()


def test_doctor_reports_what_to_install(monkeypatch):
    from mlonmcu_lite.firmware import toolchain

    def missing():
        raise toolchain.ToolchainMissing(f"not found. Install it with:\n  {toolchain.INSTALL_COMMAND}")

    monkeypatch.setattr(toolchain, "find_toolchain", missing)
    res = CliRunner().invoke(main, ["doctor"])
    assert res.exit_code == 1
    assert "toolchain:     MISSING" in res.output
    assert "sudo apt-get update && sudo apt-get install -y clang-14 lld-14" in res.output
