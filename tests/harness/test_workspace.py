"""The workspace: roots from defaults, environment and options; archs from platform/arch;
one code hash over every file that shapes a firmware, so any edit invalidates the cache."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from mlonmcu_lite.harness.cache import cache_key, tool_versions
from mlonmcu_lite.workspace import Workspace, default_workspace

# Files that must be covered by name: the ones issue 15 (item 16) found outside the old hash.
MUST_COVER = ("mlonmcu_lite/firmware/toolchain.py", "mlonmcu_lite/firmware/model.py",
              "mlonmcu_lite/vp/memory_map.py", "platform/arch/rv32imc.json", "platform/arch/rv32gc.json",
              "platform/startup.S", "platform/main.c", "mlonmcu_lite/zoo/tflite_info.py",
              "mlonmcu_lite/frontend/importer.py", "mlonmcu_lite/compiler/driver.py",
              "mlonmcu_lite/peripheral/spec_backend.py", "peripherals/qvanilla/driver/qvanilla.c",
              "peripherals/qdepthwise/backend.py")
# Files that do not shape a firmware: editing them must keep cached builds.
NOT_COVERED = ("mlonmcu_lite/reports/tables.py", "mlonmcu_lite/harness/runner.py",
               "mlonmcu_lite/vp/platform.py", "mlonmcu_lite/cli/run.py", "README.md")


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Workspace:
    """A temporary copy of the checkout's code, platform and peripherals."""
    real = default_workspace()
    root = tmp_path_factory.mktemp("checkout")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("mlonmcu_lite", "platform", "peripherals"):
        shutil.copytree(real.root / name, root / name, ignore=ignore)
    shutil.copy(real.root / "README.md", root / "README.md")
    return Workspace.from_env(env={}, root=root, package_dir=root / "mlonmcu_lite")


def _fw_key(ws: Workspace) -> str:
    """The firmware cache key with the code hash recomputed (no per-process memo)."""
    from mlonmcu_lite.workspace import cached_code_hash

    cached_code_hash.cache_clear()
    return cache_key("fw", ws, model="m", arch="rv32imc", opt="-O2")


def test_every_file_that_shapes_a_firmware_changes_the_cache_key(copy):
    inputs = copy.firmware_inputs()
    names = {str(p.relative_to(copy.root)) for p in inputs}
    assert set(MUST_COVER) <= names, set(MUST_COVER) - names
    before = _fw_key(copy)
    for path in inputs:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        try:
            assert _fw_key(copy) != before, f"editing {path.relative_to(copy.root)} kept the cache key"
        finally:
            path.write_bytes(original)
    assert _fw_key(copy) == before  # restored: the key is a pure function of the content


def test_files_that_do_not_shape_a_firmware_keep_the_key(copy):
    before = _fw_key(copy)
    for rel in NOT_COVERED:
        path = copy.root / rel
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        try:
            assert _fw_key(copy) == before, rel
        finally:
            path.write_bytes(original)


def test_a_new_arch_file_is_an_arch_and_changes_the_key(copy):
    before = _fw_key(copy)
    extra = copy.arch_dir / "rv32im_test.json"
    extra.write_text((copy.arch_dir / "rv32imc.json").read_text())
    try:
        assert "rv32im_test" in copy.archs()
        assert _fw_key(copy) != before
    finally:
        extra.unlink()
    assert copy.archs() == default_workspace().archs() == ["rv32gc", "rv32imc"]


def test_roots_from_defaults_environment_and_options(tmp_path):
    env = {"MLML_CACHE_DIR": str(tmp_path / "env-cache"), "MLML_REPORTS_DIR": str(tmp_path / "r")}
    ws = Workspace.from_env(env=env)
    assert ws.cache_dir == tmp_path / "env-cache" and ws.reports_dir == tmp_path / "r"
    assert ws.platform_dir == ws.root / "platform" and (ws.platform_main).is_file()
    assert Workspace.from_env(env=env, cache_dir=tmp_path / "opt").cache_dir == tmp_path / "opt"
    assert Workspace.from_env(env={}).cache_dir == ws.root / "build" / "cache"
    assert ws.baseline_dir == ws.root / "reports" / "baseline"
    with pytest.raises(TypeError, match="unknown workspace root"):
        Workspace.from_env(env={}, cash_dir=tmp_path)


def test_no_module_computes_a_path_from_its_own_file():
    package = default_workspace().package_dir
    def uses_file(path: Path) -> bool:  # code, not text (scaffold.py writes `__file__` into a plugin)
        return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(ast.parse(path.read_text())))

    offenders = [str(p.relative_to(package)) for p in package.rglob("*.py")
                 if p.name != "workspace.py" and uses_file(p)]
    assert offenders == []


def test_the_tools_that_shape_a_firmware_are_in_the_key():
    versions = tool_versions()
    assert {"apache-tvm", "clang", "lld", "runtime"} <= set(versions)
    assert "clang version 14" in versions["clang"] and "LLD 14" in versions["lld"]


def test_installed_layout_uses_package_data_user_cache_and_cwd_reports(tmp_path, monkeypatch):
    """Without pyproject.toml beside the package: data from mlonmcu_lite/data/, cache in
    the user's cache dir (XDG), reports in ./reports; a checkout keeps its own folders."""
    package = tmp_path / "site-packages" / "mlonmcu_lite"
    (package / "data" / "platform").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    ws = Workspace.from_env(env={}, package_dir=package)
    assert ws.installed and ws.layout == "installed"
    assert ws.platform_dir == package / "data" / "platform" and ws.models_dir == package / "data" / "models"
    assert ws.reports_dir == tmp_path / "reports" and ws.baseline_dir == tmp_path / "reports" / "baseline"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Workspace.from_env(env={}, package_dir=package).cache_dir == tmp_path / "xdg" / "mlonmcu-lite"
    assert Workspace.from_env(env={"MLML_CACHE_DIR": str(tmp_path / "c")}, package_dir=package).cache_dir == tmp_path / "c"
    checkout = default_workspace()
    assert not checkout.installed and checkout.cache_dir == checkout.root / "build" / "cache"
