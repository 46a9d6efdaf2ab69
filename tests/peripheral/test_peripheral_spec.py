"""Declarations validate themselves; the loader finds peripherals as folders."""

from __future__ import annotations

import shutil

import pytest

from mlonmcu_lite.peripheral import (PeripheralConfigError, available_peripherals, load_backend,
                                     load_backends)
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.peripheral.settings import CostSettings
from mlonmcu_lite.peripheral.spec import BitField, PeripheralSpec, Register
from mlonmcu_lite.peripheral.timing import BusyTimer


def spec(*registers, base=0x4000_1000):
    return PeripheralSpec("demo", base, "demo", registers, CostSettings)


def test_valid_spec_and_field_codec():
    s = spec(Register("A", 0, "a", fields=(BitField("LO", 0, 4), BitField("S", 4, 8, signed=True))))
    _, signed = s.field("A.S")
    assert (signed.min_value, signed.max_value, signed.mask) == (-128, 127, 0xFF0)
    assert signed.extract(signed.insert(0xF, -3)) == -3
    with pytest.raises(PeripheralConfigError, match="outside"):
        signed.insert(0, 128)


@pytest.mark.parametrize("build, why", [
    (lambda: spec(Register("A", 0, "a"), Register("B", 2, "b", width=16),
                  Register("C", 0, "c")), "overlap"),
    (lambda: spec(Register("A", 2, "a")), "not aligned"),
    (lambda: spec(Register("A", 0, "a", fields=(BitField("X", 30, 4),))), "exceeds width"),
    (lambda: spec(Register("A", 0, "a", fields=(BitField("X", 0, 4), BitField("Y", 3, 2)))),
     "overlaps another field"),
    (lambda: spec(Register("A", 0xFFE, "a", width=16), Register("B", 0x1000, "b")), "outside"),
    (lambda: spec(Register("A", 0, "a", reset=1 << 32)), "does not fit"),
    (lambda: spec(Register("A", 0, "a"), base=0x4000_0800), "must be 0x4000_0000"),
    (lambda: spec(Register("a", 0, "a")), "upper-case"),
])
def test_bad_declarations_fail_at_construction(build, why):
    with pytest.raises(PeripheralConfigError, match=why):
        build()


def test_busy_timer_window():
    t = BusyTimer()
    t.start(now=100, cycles=10)
    assert t.busy(110) and not t.busy(111)
    assert t.poll(105) and not t.poll(111)
    assert (t.jobs, t.busy_cycles, t.wait_instructions, t.stall_cycles) == (1, 10, 11, 0)
    t.start(now=200, cycles=10)
    assert t.wait(203) == 8 and t.stall_cycles == 8


def test_busy_timer_stall_advances_the_clock():
    """Back-to-back blocking jobs: the stall of the first is time that has passed."""
    t = BusyTimer()
    t.start(now=1000, cycles=500)
    assert t.wait(1003) == 498
    assert not t.busy(1010)  # 12 instructions + 498 stalled cycles after the start
    t.start(now=1010, cycles=500)
    assert t.busy(1020) and t.wait(1020) == 491
    assert (t.jobs, t.busy_cycles, t.stall_cycles, t.wait_instructions) == (2, 1000, 989, 13)


def test_loader_lists_and_rejects_unknown(tmp_path):
    assert "qvanilla" in available_peripherals()
    with pytest.raises(PeripheralConfigError, match="unknown peripheral 'nope'; available: .*qvanilla"):
        load_backend("nope", search_path=[tmp_path])


def test_extra_search_dir_and_duplicates(tmp_path):
    copy = tmp_path / "qvanilla"
    shutil.copytree(default_workspace().peripherals_dir / "qvanilla", copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.raises(PeripheralConfigError, match="found twice"):
        load_backend("qvanilla", search_path=[tmp_path])
    renamed = tmp_path / "other" / "qv2"
    shutil.copytree(copy, renamed)
    with pytest.raises(PeripheralConfigError, match="differs from declared name 'qvanilla'"):
        load_backend("qv2", search_path=[tmp_path / "other"])


def test_two_peripherals_on_one_base_rejected():
    with pytest.raises(PeripheralConfigError, match="share base"):
        load_backends(["qvanilla", "qvanilla:macs_per_cycle=4"])


def test_scaffolded_peripheral_loads_offloads_and_passes_its_tests(tmp_path):
    import subprocess
    import sys

    from mlonmcu_lite.peripheral.scaffold import scaffold
    from mlonmcu_lite.peripheral.testing import make_region

    folder = scaffold("my_acc", tmp_path)
    assert (folder / "driver" / "my_acc.c").is_file() and (folder / "test_my_acc.py").is_file()
    backend = load_backend("my_acc:macs_per_cycle=64", search_path=[tmp_path])
    assert type(backend).__name__ == "MyAccBackend" and backend.spec.base == 0x4000_1000
    assert [p.name for p in backend.patterns()] == ["my_acc.conv2d_bias"]
    assert backend.accepts(make_region(8, 8, 3, 4, 3, 3, (1, 1), "same"))[1] is None
    assert len(load_backends(["qvanilla", "my_acc"], search_path=[tmp_path])) == 2
    with pytest.raises(PeripheralConfigError, match="already exists"):
        scaffold("my_acc", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(folder)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_address_window_check_is_one_function():
    from mlonmcu_lite.vp.memory_map import PLATFORM_DEVICES, MemoryMap, first_overlap

    windows = [*MemoryMap().regions(), *PLATFORM_DEVICES]
    assert first_overlap(windows) is None
    assert "uart [0x10000000, 0x10001000) and mine [0x10000800" in first_overlap([*windows, ("mine", 0x1000_0800, 0x1000)])
    assert len(load_backends(["qvanilla", "qdepthwise", "qdense"])) == 3  # three distinct windows
