"""Each fault kind raises its typed exception naming run, PC, function and cause;
nothing hangs; counts so far are kept and agree with a single-step count."""

from __future__ import annotations

import re

import pytest
from tests.helpers.vp_programs import build_program

from mlonmcu_lite.vp import (IllegalInstruction, InstructionLimitExceeded, MisalignedAccess,
                             ProtectionFault, SimConfig, SimFault, StackOverflow, UnmappedAccess,
                             VirtualPlatform, WallClockTimeout)

CASES = [
    # define, exception, function in the message, cause fragment
    ("FAULT_UNMAPPED", UnmappedAccess, "main", "4-byte read of unmapped address 0x20000000"),
    ("FAULT_UNMAPPED_WRITE", UnmappedAccess, "main", "write of unmapped address 0x30000010"),
    ("FAULT_JUMP", UnmappedAccess, None, "instruction fetch from unmapped address 0x30000000"),
    ("FAULT_ILLEGAL", IllegalInstruction, "main", "illegal instruction word 0xffffffff"),
    ("FAULT_MISALIGNED", MisalignedAccess, "main", "read of device uart at misaligned address"),
    ("FAULT_STACK", StackOverflow, "recurse", "in the guard page below the stack"),
    ("FAULT_ROM_WRITE", ProtectionFault, "main", "write to read-only memory at 0x00000100"),
]


def _fault(elf, mode="native", **cfg) -> SimFault:
    vp = VirtualPlatform(elf, config=SimConfig(counting=mode, **cfg), run_name="faulty/cpu")
    with pytest.raises(SimFault) as info:
        vp.run()
    return info.value


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
@pytest.mark.parametrize("define,exc,function,cause", CASES, ids=[c[0] for c in CASES])
def test_fault_kinds(out_root, arch, define, exc, function, cause):
    elf = build_program("faults", out_root, arch, defines={define: None})
    fault = _fault(elf)
    assert type(fault) is exc
    msg = str(fault)
    assert msg.startswith("[faulty/cpu] ")
    assert cause in msg
    assert re.search(r"pc=0x[0-9a-f]{8}", msg)
    if function is not None:
        assert f" in {function}" in msg and fault.function.startswith(function)
    assert fault.console == "before the fault\n"
    assert fault.total_instructions > 200
    step = _fault(elf, "step")
    assert (type(step), step.pc, step.total_instructions) == (exc, fault.pc, fault.total_instructions)


def test_misaligned_atomic_rv32gc(out_root):
    elf = build_program("faults", out_root, "rv32gc", defines={"FAULT_AMO": None})
    fault = _fault(elf)
    assert isinstance(fault, MisalignedAccess) and "address misaligned" in str(fault)
    assert VirtualPlatform(elf).mem_read(fault.pc, 4)[0] & 0x7F == 0x2F  # the AMO opcode


def test_illegal_instruction_pc_is_the_bad_word(out_root):
    elf = build_program("faults", out_root, "rv32imc", defines={"FAULT_ILLEGAL": None})
    fault = _fault(elf)
    vp = VirtualPlatform(elf)
    assert vp.mem_read(fault.pc, 4) == b"\xff\xff\xff\xff"


def test_instruction_limit(out_root):
    elf = build_program("faults", out_root, "rv32imc", defines={"FAULT_LOOP": None})
    fault = _fault(elf, max_instructions=100_000, timeout_s=30)
    assert isinstance(fault, InstructionLimitExceeded)
    assert "more than 100000 instructions" in str(fault) and "in main" in str(fault)


@pytest.mark.parametrize("mode", ["native", "python", "step"])
@pytest.mark.parametrize("limit", [100_000, 100_003, 100_007])
def test_instruction_limit_count_is_exact(out_root, mode, limit):
    """The count at a limit fault is what retired, never the unexecuted rest of a block:
    a single-step run limited to exactly that count stops at the same PC with the same count."""
    elf = build_program("faults", out_root, "rv32imc", defines={"FAULT_LOOP": None})
    fault = _fault(elf, mode, max_instructions=limit, timeout_s=30)
    assert limit - 16 < fault.total_instructions <= limit
    step = _fault(elf, "step", max_instructions=fault.total_instructions, timeout_s=30)
    assert (step.pc, step.total_instructions) == (fault.pc, fault.total_instructions)


def test_wall_clock_timeout(out_root):
    import time

    elf = build_program("faults", out_root, "rv32imc", defines={"FAULT_LOOP": None})
    start = time.perf_counter()
    fault = _fault(elf, max_instructions=None, timeout_s=0.3)
    assert time.perf_counter() - start < 5
    assert isinstance(fault, WallClockTimeout)
    assert "no exit within 0.3 s" in str(fault) and fault.total_instructions > 1000
