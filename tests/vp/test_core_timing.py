"""Core timing profiles: the native block hook's cycles equal an independent single-step
model applying the same profile, instruction by instruction, on compiled VP test programs,
for every built-in profile; known sequences cost what the profiles' documentation says."""

from __future__ import annotations

import pytest
from tests.helpers.vp_programs import ARCHS, PROBE_BASE, build_program

from mlonmcu_lite.harness.settings import SettingsError, build_settings
from mlonmcu_lite.vp import Device, SimConfig, VirtualPlatform
from mlonmcu_lite.vp.core_timing import (CoreProfileError, EventCounts, UnsupportedInstruction,
                                         block_events, block_timing, builtin_cores, cost_events,
                                         load_profile)
from mlonmcu_lite.vp.counting import StepTiming
from mlonmcu_lite.vp.rv32_decode import InsnClass as C
from mlonmcu_lite.vp.rv32_decode import decode_block

MODES = ("native", "python", "step")
CORES = builtin_cores()

# clang-14 -march=rv32gc, one instruction each (see the expected list below)
CODE = bytes.fromhex(
    "832505003386b5003305b5023335b5023375b5026300b500ef000000678000007325003073251000"
    "730000005375b5025375b5185325b5a2073681002722c500b756341288412e952e8501c18280029502"
    "903ec288250d45")
EXPECTED = [  # (class, rd, registers read) ; f registers are 32 + n
    ("lw a1,0(a0)", C.LOAD, 11, {10}), ("add a2,a1,a1", C.ALU, 12, {11}),
    ("mul", C.MUL, 10, {10, 11}), ("mulhu", C.MULH, 10, {10, 11}), ("remu", C.DIV, 10, {10, 11}),
    ("beq a0,a1", C.BRANCH, 0, {10, 11}), ("jal ra", C.JUMP, 1, set()),
    ("ret", C.JUMP, 0, {1}), ("csrr a0,mstatus", C.CSR_M, 10, set()),
    ("csrr a0,fflags", C.CSR, 10, set()), ("ecall", C.SYSTEM, 0, set()),
    ("fadd.d fa0,fa0,fa1", C.FPU, 42, {42, 43}), ("fdiv.s", C.FPU_DIV, 42, {42, 43}),
    ("feq.d a0,fa0,fa1", C.FPU, 10, {42, 43}), ("fld fa2,8(sp)", C.LOAD, 44, {2}),
    ("fsw fa2,4(a0)", C.STORE, 0, {10, 44}), ("lui a3", C.ALU, 13, set()),
    ("c.lw a0,0(a1)", C.LOAD, 10, {11}), ("c.add a0,a1", C.ALU, 10, {10, 11}),
    ("c.mv a0,a1", C.ALU, 10, {11}), ("c.beqz a0", C.BRANCH, 0, {10}), ("c.jr ra", C.JUMP, 0, {1}),
    ("c.jalr a0", C.JUMP, 1, {10}), ("c.ebreak", C.SYSTEM, 0, set()),
    ("c.swsp a5,4(sp)", C.STORE, 0, {2, 15}), ("c.fld fa0,8(a1)", C.LOAD, 42, {11}),
    ("c.li a0,3", C.ALU, 10, set()),
]


def test_decoder_classes_registers_and_lengths():
    insns = decode_block(CODE)
    assert len(insns) == len(EXPECTED)
    for insn, (text, cls, rd, reads) in zip(insns, EXPECTED):
        got_reads = {r for r in range(64) if insn.reads >> r & 1}
        assert (insn.cls, insn.rd, got_reads) == (cls, rd, reads), text
    assert [i.size for i in insns] == [4] * 17 + [2] * 10


class Probe(Device):
    """Records (instructions, cycles) at each access; offset 4 reads 0x1234."""

    name = "probe"
    base = PROBE_BASE

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[int, int]] = []

    def read(self, offset: int, size: int) -> int:
        self.log.append((self.bus.instructions_now(), self.bus.cycles_now()))
        return 0x1234 if offset == 4 else 0

    def write(self, offset: int, size: int, value: int) -> None:
        self.log.append((self.bus.instructions_now(), self.bus.cycles_now()))

    def report(self) -> dict[str, int]:
        return {"accesses": len(self.log)}


def _run(elf, mode, core, devices=()):
    vp = VirtualPlatform(elf, devices=list(devices),
                         config=SimConfig(counting=mode, core=core, glue_functions=("main",)))
    result = vp.run()
    return result, [(e.target, e.instructions, e.cycles) for e in vp.counter.events()]


@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize(("program", "arch"), [("hello", "rv32imc"), ("hello", "rv32gc"),
                                               ("libc_checks", "rv32gc")])
def test_cycles_equal_single_step_model(out_root, core, arch, program):
    elf = build_program(program, out_root, arch)
    runs = {mode: _run(elf, mode, core) for mode in MODES}
    step, step_events = runs["step"]
    assert step.core == core and len(step_events) >= 2  # calls out of main: per-call cycles
    for mode in ("native", "python"):
        result, events = runs[mode]
        assert (result.total_instructions, result.total_cycles) == (step.total_instructions,
                                                                    step.total_cycles), mode
        # the last event holds the exiting store: block counters count its whole block
        assert events[:-1] == step_events[:-1], mode
    if core == "ideal":
        assert step.total_cycles == step.total_instructions
    else:
        assert step.total_cycles > step.total_instructions * 1.2


@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize("arch", ARCHS)
def test_region_and_mmio_cycles_by_construction(out_root, core, arch):
    """The region holds li + 50 x (addi, bnez) + c.nop + nop: 53 ALU instructions, 49 taken
    and 1 not-taken branch.  The probe sees a store, 3 ALU instructions, a load, then two
    stores of the loaded value (the first one a load-use hazard)."""
    elf = build_program("region_probe", out_root, arch)
    p = load_profile(core)
    alu, load, store = (p.cycles[k] for k in ("alu", "load", "store"))
    use = p.hazard_matrix[C.LOAD][C.STORE]
    for mode in MODES:
        probe = Probe()
        result, _ = _run(elf, mode, core, [probe])
        assert result.run_instructions == 103
        assert result.run_classes == {"alu": 53, "branch": 50}, mode  # for energy per class
        assert result.run_cycles == 53 * alu + 49 * p.branch_taken + p.branch_not_taken, mode
        first = probe.log[0][1]
        assert [c - first for _, c in probe.log] == [
            0, 3 * alu + load, 3 * alu + load + store + use, 3 * alu + load + 2 * store + use], mode


def test_cv32e40p_costs_hazards_and_misaligned_targets():
    p = load_profile("cv32e40p")
    # lw a1,0(a0); add a2,a1,a1: a load-use hazard inside the block
    timing = block_timing(p, CODE[:8])
    assert timing.cycles == p.cycles["load"] + 1 + p.cycles["alu"]
    assert timing.at(4) == (1, 3)  # the add stalls one cycle behind the load
    # a jump onto a 32-bit instruction at an address = 2 (mod 4) costs one more cycle
    step = StepTiming(p)
    jal = int.from_bytes(CODE[24:28], "little")
    lw = int.from_bytes(CODE[0:4], "little")
    assert step.step(0x100, jal) == (0, 2)
    assert step.step(0x202, lw) == (1, 1)


def test_event_counts_cost_linearly_under_every_profile():
    """The pure re-costing function: a block's static events cost what BlockTiming says."""
    block = CODE[:20] + CODE[32:44] + CODE[64:68]  # lw add mul mulhu remu csrr csrr ecall lui
    counts = block_events(block)
    assert counts.instructions == 9 and counts.hazards[(C.LOAD, C.ALU)] == 1
    for core in ("ideal", "cv32e40p", "ibex-small"):
        p = load_profile(core)
        assert cost_events(p, counts) == block_timing(p, block).cycles
    twice = EventCounts()
    twice.add(counts, times=2)
    twice.taken, twice.not_taken = 3, 1
    p = load_profile("ibex-small")
    assert twice.cycles(p) == 2 * counts.cycles(p) + 3 * 3 + 1


def test_a_core_without_fpu_refuses_fpu_instructions():
    with pytest.raises(UnsupportedInstruction, match="ibex-small.*fpu"):
        block_timing(load_profile("ibex-small"), CODE[44:48])


def test_user_profile_file_and_clear_errors(tmp_path):
    text = (load_profile("ibex-small").model_dump_json())
    good = tmp_path / "mycore.toml"
    good.write_text('name = "mycore"\nbranch_taken = 4\nbranch_not_taken = 2\n[cycles]\n'
                    + "".join(f"{k} = 2\n" for k in load_profile("ideal").cycles))
    assert load_profile(str(good)).branch_taken == 4
    assert build_settings([f"core={good}"]).core == str(good)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nbranch_taken = 1\nbranch_not_taken = 1\n[cycles]\nalu = 1\n')
    with pytest.raises(CoreProfileError, match="missing classes"):
        load_profile(str(bad))
    with pytest.raises(SettingsError, match="ibex-small"):  # lists the built-in cores
        build_settings(["core=nosuchcore"])
    assert "ibex-small" in text


class VectorProbe(Probe):
    """A Probe that also logs the event vector each access's cycle count costs."""

    def __init__(self) -> None:
        super().__init__()
        self.vectors: list[list[int]] = []

    def read(self, offset: int, size: int) -> int:
        self.vectors.append(self.bus.events_now())
        return super().read(offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        self.vectors.append(self.bus.events_now())
        super().write(offset, size, value)


@pytest.mark.parametrize(("program", "arch"), [("region_probe", "rv32imc"), ("region_probe", "rv32gc"),
                                               ("libc_checks", "rv32gc"), ("hello", "rv32imc"),
                                               ("long_block", "rv32imc")])
def test_recorded_event_vectors_cost_as_every_profile_simulates(out_root, tmp_path, program, arch):
    """One recording run (cv32e40p) costs, under every shipped profile and a user file, the
    whole run, every call event, the region and each MMIO access's cycle exactly as a
    native simulation with that profile counts them."""
    from tests.harness.test_recost import CUSTOM_CORE

    from mlonmcu_lite.vp.event_record import EventRecord

    custom = tmp_path / "lumpy.toml"
    custom.write_text(CUSTOM_CORE)
    elf = build_program(program, out_root, arch)

    def run(core, record):
        probe = VectorProbe()
        vp = VirtualPlatform(elf, devices=[probe], config=SimConfig(counting="native", core=core, record_events=record,
                                                                    glue_functions=("main",)))
        return vp, vp.run(), probe

    vp, recorded, probe = run("cv32e40p", True)
    events = [v for v in vp.counter.event_vectors() if v is not None]
    assert events or program == "long_block"  # (no calls out of main)
    record = EventRecord.compact(vp.counter.vectors_at(vp.uc, None)[1], None, events, {"probe": probe.vectors})
    for core in [*CORES, str(custom)]:
        sim_vp, sim, sim_probe = run(core, False)
        costed = record.cost(load_profile(core))
        w = record.weights(load_profile(core))
        assert sum(a * b for a, b in zip(w, record.final)) == sim_vp.counter.cycles, core
        assert costed.call_events == [e.cycles for e in sim_vp.counter.events()][:len(events)], core
        assert costed.devices["probe"] == [c for _, c in sim_probe.log], core
    if program == "region_probe":
        assert recorded.events is not None and recorded.events.cost(load_profile("cv32e40p")).run_cycles == recorded.run_cycles
