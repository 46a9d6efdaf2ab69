"""The package outside the checkout: a built wheel installed into a fresh venv runs a model
exactly, finds its platform/models/peripherals as package data, and keeps its cache in the
user's cache directory and its reports in the working directory.

The venv borrows the shared environment's dependencies through a `.pth` line (no TVM
reinstall); the wheel itself is installed with `--no-deps`.  Set `MLML_TEST_WHEEL` to a
built wheel to skip the build (e.g. CI building it once)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers.e2e import REPO, TEST_CACHE

pytestmark = pytest.mark.wheel


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} -> {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    given = os.environ.get("MLML_TEST_WHEEL")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    # sdist first, then the wheel from the unpacked sdist: MANIFEST.in is tested too, and
    # nothing is built inside the checkout
    # cwd outside the checkout: its build/ cache folder would shadow the `build` package
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)], cwd=out)
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(root)])
    _run([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install", "-q",
          "--no-deps", "--ignore-installed", str(wheel)], env=_without_pythonpath())
    # then the dependencies: the shared environment's site-packages, after the venv's own
    site = root / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (site / "shared-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _without_pythonpath() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("MLML_")}


@pytest.fixture
def user_env(tmp_path) -> dict[str, str]:
    """A user's environment outside the checkout: no PYTHONPATH, no MLML_* roots, an XDG
    cache kept across test sessions (so only the first session compiles)."""
    env = _without_pythonpath()
    env["XDG_CACHE_HOME"] = str(TEST_CACHE / "xdg")
    return env


def test_installed_package_runs_a_model_exactly(venv, user_env, tmp_path):
    python = venv / "bin" / "python"
    where = _run([str(python), "-c", "import mlonmcu_lite.workspace as w; ws = w.default_workspace(); "
                  "print(w.PACKAGE_DIR); print(ws.layout); print(ws.platform_main); print(ws.cache_dir)"],
                 cwd=tmp_path, env=user_env).stdout.split()
    assert where[0].startswith(str(venv)) and where[1] == "installed", where
    assert Path(where[2]).is_file() and where[2].startswith(str(venv))  # package data
    assert where[3] == str(TEST_CACHE / "xdg" / "mlonmcu-lite")

    doctor = _run([str(venv / "bin" / "bench"), "doctor"], cwd=tmp_path, env=user_env)
    assert "status:        ok" in doctor.stdout and "native counting hook" in doctor.stdout

    proc = _run([str(venv / "bin" / "bench"), "run", "toycar", "--cpu-only", "--no-progress"],
                cwd=tmp_path, env=user_env)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("toycar"))
    assert int(row.split()[1].replace(",", "")) > 0 and row.split()[-1] == "exact", proc.stdout
    assert list((tmp_path / "reports").glob("*/results.csv"))  # reports in the working directory
    assert any((TEST_CACHE / "xdg" / "mlonmcu-lite").glob("fw-*"))  # cache in the user's cache dir


def test_wheel_holds_every_data_file_of_the_checkout(wheel):
    """Every versioned non-Python file of the package, platform/, models/ and peripherals/
    is in the wheel (a data file added later without a package-data pattern fails here)."""
    import zipfile

    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "mlonmcu_lite", "platform", "models", "peripherals"],
                            capture_output=True, text=True, check=True).stdout.split()
    expected = {path if path.startswith("mlonmcu_lite/") else f"mlonmcu_lite/data/{path}"
                for path in listed if not path.startswith("mlonmcu_lite/") or not path.endswith(".py")}
    names = set(zipfile.ZipFile(wheel).namelist())
    assert expected - names == set()
