"""Exact instruction counts: the native block hook, the Python block hook and a
single-step UC_HOOK_CODE count agree on compiled programs (both ISA variants),
and the region / MMIO counts match counts known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from tests.helpers.vp_programs import ARCHS, PROBE_BASE, build_program, build_syscall_elf

from mlonmcu_lite.vp import Device, SimConfig, SimFault, VirtualPlatform

MODES = ("native", "python", "step")


class Probe(Device):
    """Records the exact instruction count at each access; offset 4 reads 0x1234."""

    name = "probe"
    base = PROBE_BASE

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, int, int]] = []

    def read(self, offset: int, size: int) -> int:
        self.log.append(("r", offset, self.bus.instructions_now()))
        return 0x1234 if offset == 4 else 0

    def write(self, offset: int, size: int, value: int) -> None:
        self.log.append(("w", offset, self.bus.instructions_now()))

    def report(self) -> dict[str, int]:
        return {"accesses": len(self.log)}


def _run(elf, mode, devices=(), **cfg):
    return VirtualPlatform(elf, devices=list(devices), config=SimConfig(counting=mode, **cfg)).run()


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("program", ["hello", "libc_checks"])
def test_counts_equal_single_step(out_root, arch, program):
    elf = build_program(program, out_root, arch)
    results = {mode: _run(elf, mode) for mode in MODES}
    step = results["step"]
    assert step.total_instructions > 2000  # libgcc's 64-bit division made hello shorter
    for mode in ("native", "python"):
        r = results[mode]
        assert r.counting == mode
        assert (r.total_instructions, r.run_instructions, r.exit_code, r.console) == (
            step.total_instructions, step.run_instructions, step.exit_code, step.console)
    expected_exit = 7 if program == "hello" else 0
    assert step.exit_code == expected_exit, step.console
    assert "FAIL" not in step.console


@pytest.mark.parametrize("arch", ARCHS)
def test_region_and_mmio_counts_exact(out_root, arch):
    elf = build_program("region_probe", out_root, arch)
    totals = set()
    for mode in MODES:
        probe = Probe()
        res = _run(elf, mode, devices=[probe])
        assert res.exit_code == 0 and res.console == "probe read 1234\n"
        # li + 50 x (addi, bnez) + c.nop + nop, strictly between the two marker stores
        assert res.run_instructions == 103
        first = probe.log[0][2]
        assert [(k, o, n - first) for k, o, n in probe.log] == [
            ("w", 0, 0), ("r", 4, 4), ("w", 0, 5), ("w", 0, 6)]
        assert res.devices["probe"] == {"accesses": 4}
        region = res.devices["region"]
        assert region["end"] - region["begin"] - 1 == 103
        totals.add((res.total_instructions, first))
    assert len(totals) == 1  # all three counters agree on absolute counts too


@pytest.mark.parametrize("arch", ARCHS)
def test_syscall_elf_foreign_link_address(out_root, arch):
    elf = build_syscall_elf(out_root, arch)
    for mode in MODES:
        res = _run(elf, mode)
        assert res.console == "hi from ecall\n"
        assert res.exit_code == 42
        assert res.total_instructions == 12  # the exiting ecall counts as retired
        assert res.run_instructions is None


@pytest.mark.parametrize("arch", ARCHS)
def test_fault_path_counts_equal_single_step(out_root, arch):
    elf = build_program("faults", out_root, arch, defines={"FAULT_UNMAPPED": None})
    counts = set()
    for mode in MODES:
        with pytest.raises(SimFault) as info:
            _run(elf, mode)
        counts.add((info.value.total_instructions, info.value.pc))
    assert len(counts) == 1


@pytest.mark.parametrize("arch", ARCHS)
def test_noinit_inputs_and_outputs(out_root, arch):
    elf = build_program("noinit_io", out_root, arch, with_main=True)
    data = np.arange(-32, 32, dtype=np.int8)
    vp = VirtualPlatform(elf, config=SimConfig(counting="native"), run_name="io/cpu")
    assert vp.symbol_address("mlml_input_0") >= 0x8000_0000
    vp.write_symbol("mlml_input_0", data.tobytes())
    res = vp.run()
    out = np.frombuffer(vp.read_symbol("mlml_output_0", 128), dtype=np.int16)
    np.testing.assert_array_equal(out, 3 * data.astype(np.int16) + 1)
    assert res.exit_code == 0 and res.run_name == "io/cpu"
    assert res.run_instructions is not None and 0 < res.run_instructions < res.total_instructions
    step = _run(elf, "step")  # inputs not written: same code path, same count
    assert step.run_instructions == res.run_instructions
