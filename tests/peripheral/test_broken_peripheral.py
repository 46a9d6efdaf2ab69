"""A broken peripheral folder is a clear error with its file and line, never a traceback,
and never takes the other peripherals down (issue 15 item 9)."""

from __future__ import annotations

import pytest

from mlonmcu_lite.peripheral import PeripheralConfigError, load_backend
from mlonmcu_lite.peripheral.scaffold import scaffold
from tests.helpers.e2e import bench


@pytest.fixture
def broken_dir(tmp_path):
    """Two scaffolded peripherals: one with a syntax error, one raising at import."""
    syntax = scaffold("bad_syntax", tmp_path)
    backend = syntax / "backend.py"
    lines = backend.read_text().splitlines()
    lines.insert(5, "def oops(:")  # line 6
    backend.write_text("\n".join(lines) + "\n")
    raising = scaffold("bad_import", tmp_path)
    (raising / "model.py").write_text((raising / "model.py").read_text() + "\nundefined_name\n")
    return tmp_path


def test_syntax_error_in_backend_names_file_and_line(broken_dir):
    with pytest.raises(PeripheralConfigError) as info:
        load_backend("bad_syntax", search_path=[broken_dir])
    text = str(info.value)
    assert f"{broken_dir / 'bad_syntax' / 'backend.py'}:6" in text and "SyntaxError" in text


def test_error_at_import_names_file_and_line(broken_dir):
    with pytest.raises(PeripheralConfigError, match=r"model\.py:\d+.*NameError.*undefined_name"):
        load_backend("bad_import", search_path=[broken_dir])


def test_list_shows_broken_peripherals_as_broken_and_the_others(broken_dir):
    proc = bench("peripheral", "list", "--peripheral-path", str(broken_dir))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert "BROKEN" in lines["bad_syntax"] and "backend.py:6" in lines["bad_syntax"]
    assert "BROKEN" in lines["bad_import"]
    assert "0x40000000" in lines["qvanilla"] and "BROKEN" not in lines["qvanilla"]


def test_run_with_a_broken_peripheral_is_a_usage_error(broken_dir):
    proc = bench("run", "aww", "-p", "bad_syntax", "--peripheral-path", str(broken_dir), "--no-progress")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "backend.py:6" in proc.stderr


def test_docs_say_that_peripheral_folders_run_code(repo):
    """Item 14: users are told that --peripheral-path / MLML_PERIPHERAL_PATH import Python and
    that `bench peripheral list` imports every peripheral found."""
    readme = " ".join((repo / "README.md").read_text().split())
    assert "Peripherals are plugins that run code." in readme
    assert "`--peripheral-path DIR` or `MLML_PERIPHERAL_PATH` imports and runs the Python" in readme
    assert "`bench peripheral list` imports every peripheral it finds" in readme
    assert "imported and run" in bench("run", "--help").stdout
    assert "imports every peripheral folder found" in " ".join(bench("peripheral", "list", "--help").stdout.split())
