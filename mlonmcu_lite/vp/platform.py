"""The RV32 virtual platform: Unicorn + ELF loader + MMIO bus + exact counting.

MMIO windows are mapped with `uc.mmio_map` and then protected to no access:
Unicorn's read callbacks for MMIO see a stale PC, but its protection hooks
run after the CPU state has been restored, so the VP records the exact PC
(and from it the exact instruction count) there, then lets the access go on
to the device's read/write handler.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from unicorn import (UC_ARCH_RISCV, UC_HOOK_INTR, UC_HOOK_MEM_FETCH_PROT, UC_HOOK_MEM_READ_PROT,
                     UC_HOOK_MEM_UNMAPPED, UC_HOOK_MEM_WRITE_PROT, UC_MEM_FETCH_PROT,
                     UC_MEM_FETCH_UNMAPPED, UC_MEM_READ_PROT, UC_MEM_READ_UNMAPPED,
                     UC_MEM_WRITE_PROT, UC_MEM_WRITE_UNMAPPED, UC_MODE_RISCV32, UC_PROT_ALL,
                     UC_PROT_EXEC, UC_PROT_NONE, UC_PROT_READ, UC_PROT_WRITE, Uc, UcError)
from unicorn import unicorn_const as ucc
from unicorn.riscv_const import (UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_A2,
                                 UC_RISCV_REG_A7, UC_RISCV_REG_PC, UC_RISCV_REG_RA,
                                 UC_RISCV_REG_SP)

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.vp import faults
from mlonmcu_lite.vp.counting import CallEvent, make_counter
from mlonmcu_lite.vp.device import Device
from mlonmcu_lite.vp.devices import ExitDevice, RegionMarker, Uart
from mlonmcu_lite.vp.elf import ElfImage
from mlonmcu_lite.vp.event_record import EventRecord
from mlonmcu_lite.vp.memory_map import PAGE, MemoryMap

_UNTIL = 0xFFFF_FFFF  # never a PC (odd): run until a device or a hook stops the CPU
_STACK_SYMBOLS = ("__stack_top", "__stack", "_sp", "__StackTop", "_stack_top", "__stack_end")
_SYS_WRITE, _SYS_EXIT, _SYS_EXIT_GROUP = 64, 93, 94
_ECALL_CAUSES = (8, 9, 11)
_TRAP_NAMES = {0: "instruction address misaligned", 1: "instruction access fault",
               2: "illegal instruction", 3: "breakpoint (ebreak)", 4: "load address misaligned",
               5: "load access fault", 6: "store/AMO address misaligned", 7: "store access fault",
               12: "instruction page fault", 13: "load page fault", 15: "store page fault"}
_TRAP_FAULTS = {0: faults.MisalignedAccess, 2: faults.IllegalInstruction,
                3: faults.IllegalInstruction, 4: faults.MisalignedAccess,
                6: faults.MisalignedAccess}


@dataclass(frozen=True)
class SimConfig:
    """Limits and layout of one emulation.  `None` disables a limit."""

    max_instructions: int | None = 5_000_000_000
    timeout_s: float | None = 600.0
    memory_map: MemoryMap = field(default_factory=MemoryMap)
    counting: str = "auto"  # auto | native | python | step (see counting.py)
    syscalls: bool = True   # honour ecall a7=64 write / a7=93 exit
    # functions whose own code is "glue": every call out of them becomes a call event
    # (per-layer counts; see counting.py).  Missing symbols are ignored.
    glue_functions: tuple[str, ...] = ()
    # core timing profile: a built-in name (vp/cores/) or a profile file (vp/core_timing.py)
    core: str = "ideal"
    # also record profile-independent event counts (vp/event_record.py) so other core
    # profiles can be costed without emulating again; native counter only (else: None)
    record_events: bool = False


@dataclass
class SimResult:
    """One emulation.  total = reset to exit, the exiting instruction included;
    run = instructions strictly between the region-begin and region-end stores
    (None when the firmware marks no region)."""

    run_name: str
    exit_code: int
    total_instructions: int
    run_instructions: int | None
    console: str
    sim_seconds: float
    mips: float
    devices: dict[str, dict[str, int]]
    counting: str
    # call events out of the glue functions that started inside the measured region
    call_events: list[CallEvent] = field(default_factory=list)
    # cycles under the core profile `core` (a model; equal to the instructions for `ideal`)
    core: str = "ideal"
    total_cycles: int | None = None
    run_cycles: int | None = None
    # instructions of the inference region per timing class (rv32_decode.InsnClass name)
    run_classes: dict[str, int] = field(default_factory=dict)
    # with SimConfig.record_events: the run's event counts, costable under any core profile
    events: EventRecord | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class VirtualPlatform:
    """Load an RV32 ELF, attach devices, run it once, read results back."""

    def __init__(self, elf_path: Path | str, devices: Sequence[Device] = (),
                 config: SimConfig = SimConfig(), run_name: str = "") -> None:
        self.config = config
        self.run_name = run_name or Path(elf_path).name
        self.image = ElfImage.load(Path(elf_path))
        self.uart, self.exit_device, self.region = Uart(), ExitDevice(), RegionMarker()
        self.devices: list[Device] = [self.uart, self.exit_device, self.region, *devices]
        self.uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        self._mapped: list[tuple[int, int]] = []
        self._initial_sp = config.memory_map.stack_top
        self._access_count: int | None = None  # exact count during an MMIO access
        self._access_cycles: tuple[int, int] | None = None  # (before, through) that access
        self._access_pc: int | None = None  # PC of the last MMIO access (exact, from _on_prot)
        self._fault: faults.SimFault | None = None
        self._ran = False
        self._map_memory()
        self._load_segments()
        self._map_devices()
        self.counter = make_counter(config.counting, config.core, record=config.record_events)
        self._recording = getattr(self.counter, "recording", False)
        glue = [self.image.symbols[n] for n in config.glue_functions if n in self.image.symbols]
        if glue:
            self.counter.set_glue([(s.address, s.address + max(s.size, 1)) for s in glue])
        self.counter.install(self.uc, config.max_instructions)
        self.uc.hook_add(UC_HOOK_MEM_UNMAPPED, self._on_unmapped)
        self.uc.hook_add(UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_WRITE_PROT | UC_HOOK_MEM_FETCH_PROT,
                         self._on_prot)
        self.uc.hook_add(UC_HOOK_INTR, self._on_trap)

    # --- memory -------------------------------------------------------------------------

    def _map(self, base: int, size: int, perms: int) -> None:
        self.uc.mem_map(base, size, perms)
        self._mapped.append((base, base + size))

    def _is_mapped(self, address: int) -> bool:
        return any(lo <= address < hi for lo, hi in self._mapped)

    def _map_memory(self) -> None:
        mm = self.config.memory_map
        self._map(mm.rom_base, mm.rom_size, UC_PROT_READ | UC_PROT_EXEC)
        self._map(mm.ram_base, mm.ram_size, UC_PROT_ALL)
        self._map(mm.stack_base, mm.stack_size, UC_PROT_READ | UC_PROT_WRITE)
        # foreign ELFs: their segments outside the map, plus a stack below their stack symbol
        for seg in self.image.segments:
            self._map_uncovered(seg.paddr, max(seg.memsz, len(seg.data)), UC_PROT_ALL)
            if seg.flags & 2 and mm.rom_base <= seg.paddr < mm.rom_end:
                lo = seg.paddr // PAGE * PAGE
                self.uc.mem_protect(lo, _page_up(seg.paddr + seg.memsz) - lo, UC_PROT_ALL)
        for name in _STACK_SYMBOLS:
            sym = self.image.symbols.get(name)
            if sym is not None:
                if not self._is_mapped(sym.address - 4):
                    self._map_uncovered(sym.address - mm.stack_size, mm.stack_size, UC_PROT_ALL)
                self._initial_sp = sym.address
                break

    def _map_uncovered(self, address: int, size: int, perms: int) -> None:
        page = address // PAGE * PAGE
        end = _page_up(address + size)
        run_start = None
        for p in range(page, end + PAGE, PAGE):
            free = p < end and not self._is_mapped(p)
            if free and run_start is None:
                run_start = p
            elif not free and run_start is not None:
                self._map(run_start, p - run_start, perms)
                run_start = None

    def _load_segments(self) -> None:
        for seg in self.image.segments:
            if seg.data:
                self.uc.mem_write(seg.paddr, seg.data)

    def _map_devices(self) -> None:
        for dev in sorted(self.devices, key=lambda d: d.base):
            if dev.base % PAGE or dev.size % PAGE or dev.size <= 0:
                raise ValueError(f"device {dev.name}: window {dev.base:#x}+{dev.size:#x} is not "
                                 f"page aligned")
            if any(self._is_mapped(a) for a in (dev.base, dev.base + dev.size - 1)):
                raise ValueError(f"device {dev.name}: window {dev.base:#x} overlaps mapped memory "
                                 f"or another device")
            self.uc.mmio_map(dev.base, dev.size, self._mmio_read, dev, self._mmio_write, dev)
            self.uc.mem_protect(dev.base, dev.size, UC_PROT_NONE)  # -> _on_prot: exact PC
            self._mapped.append((dev.base, dev.base + dev.size))
            dev.attach(self)

    # --- Bus (what devices see) ---------------------------------------------------------

    def mem_read(self, address: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(address, size))

    def mem_write(self, address: int, data: bytes) -> None:
        self.uc.mem_write(address, bytes(data))

    def instructions_now(self) -> int:
        """Exact count up to and including the instruction doing the current MMIO access."""
        return self._access_count if self._access_count is not None else self.counter.total

    def cycles_now(self) -> int:
        """Cycles (core profile) through the instruction doing the current MMIO access."""
        return self._access_cycles[1] if self._access_cycles is not None else self.counter.cycles

    def cycles_before_now(self) -> int:
        """Cycles before the instruction doing the current MMIO access."""
        return self._access_cycles[0] if self._access_cycles is not None else self.counter.cycles

    def events_now(self) -> list[int] | None:
        """The event vector (vp/event_record.py) `cycles_now` costs; None: not recording."""
        return self._access_vectors()[1] if self._recording else None

    def events_before_now(self) -> list[int] | None:
        """The event vector `cycles_before_now` costs; None: not recording."""
        return self._access_vectors()[0] if self._recording else None

    def _access_vectors(self) -> tuple[list[int], list[int]]:
        """(before, through) the current MMIO access's instruction, else the whole run so far
        (read only when asked: the counter's state stays put during an access)."""
        pc = self._access_pc if self._access_cycles is not None else None
        return self.counter.vectors_at(self.uc, pc)

    def class_counts_now(self, inclusive: bool) -> dict[int, int]:
        """Instructions per InsnClass before (or through) the current MMIO access."""
        if self._access_pc is None:
            return {}
        return dict(self.counter.class_counts(self.uc, self._access_pc, inclusive))

    def request_stop(self) -> None:
        self.uc.emu_stop()

    # --- symbols ------------------------------------------------------------------------

    def symbol_address(self, name: str) -> int:
        return self.image.symbol(name).address

    def write_symbol(self, name: str, data: bytes) -> None:
        """Write `data` at symbol `name` (before `run`, e.g. model inputs in .noinit)."""
        sym = self.image.symbol(name)
        if sym.size and len(data) > sym.size:
            raise ValueError(f"{len(data)} bytes do not fit symbol {name!r} ({sym.size} bytes)")
        self.uc.mem_write(sym.address, bytes(data))

    def read_symbol(self, name: str, size: int | None = None) -> bytes:
        sym = self.image.symbol(name)
        return bytes(self.uc.mem_read(sym.address, sym.size if size is None else size))

    # --- hooks --------------------------------------------------------------------------

    def _pc(self) -> int:
        return self.uc.reg_read(UC_RISCV_REG_PC)

    def _caller(self) -> str | None:
        """The function `ra` points into: a faulting leaf's caller (e.g. the layer kernel that
        called memcpy); a function that has made a call itself points into itself."""
        return self.image.function_at(self.uc.reg_read(UC_RISCV_REG_RA))

    def _device_at(self, address: int) -> Device | None:
        for dev in self.devices:
            if dev.base <= address < dev.base + dev.size:
                return dev
        return None

    def _raise(self, cls: type[faults.SimFault], cause: str, pc: int | None,
               address: int | None = None, count: int | None = None) -> bool:
        """Record a fault and stop; returns False so Unicorn treats the access as unhandled."""
        if self._fault is None:
            total = count if count is not None else (
                self.counter.count_at(self.uc, pc) if pc is not None else self.counter.total)
            self._fault = cls(cause, run_name=self.run_name, pc=pc,
                              function=self.image.function_at(pc), address=address,
                              total_instructions=total, run_instructions=self.region.run_instructions,
                              console=self.uart.console, caller=self._caller())
        self.uc.emu_stop()
        return False

    def _on_prot(self, uc: Uc, access: int, address: int, size: int, value: int, _u: object) -> bool:
        pc = self._pc()
        dev = self._device_at(address)
        if dev is not None and access != UC_MEM_FETCH_PROT:
            if address % size:
                what = "read" if access == UC_MEM_READ_PROT else "write"
                return self._raise(faults.MisalignedAccess,
                                   f"{size}-byte {what} of device {dev.name} at misaligned "
                                   f"address 0x{address:08x}", pc, address)
            self._access_count = self.counter.count_at(uc, pc)
            self._access_cycles = self.counter.cycles_at(uc, pc)
            self._access_pc = pc
            return True  # Unicorn now calls _mmio_read / _mmio_write
        what = {UC_MEM_WRITE_PROT: "write to read-only memory",
                UC_MEM_READ_PROT: "read of unreadable memory",
                UC_MEM_FETCH_PROT: "fetch from non-executable memory"}.get(access, "access")
        return self._raise(faults.ProtectionFault, f"{what} at 0x{address:08x}", pc, address)

    def _mmio_read(self, uc: Uc, offset: int, size: int, dev: Device) -> int:
        try:
            return dev.read(offset, size) & ((1 << (8 * size)) - 1)
        except Exception as exc:  # noqa: BLE001 - any error of a device model fails the run here
            self._device_fault(dev, exc)
            return 0
        finally:
            self._access_count = self._access_cycles = None

    def _mmio_write(self, uc: Uc, offset: int, size: int, value: int, dev: Device) -> None:
        try:
            dev.write(offset, size, value)
        except Exception as exc:  # noqa: BLE001
            self._device_fault(dev, exc)
        finally:
            self._access_count = self._access_cycles = None

    def _device_fault(self, dev: Device, exc: Exception) -> None:
        """An exception in a device handler becomes a `DeviceFault` at the accessing PC,
        naming the device, its job and the line of model code that raised."""
        if isinstance(exc, faults.SimFault):
            raise exc
        message = str(exc)
        message = message[len(dev.name) + 2:] if message.startswith(f"{dev.name}: ") else message
        job = dev.job_number()
        cause = (f"device {dev.name}" + (f", job {job}" if job else "")
                 + f": {type(exc).__name__}: {message}")
        self._device_raise(dev, cause, self._access_pc, self._access_count, faults.origin_of(exc))
        if self._fault is not None:
            self._fault.__cause__ = exc

    def _device_raise(self, dev: Device, cause: str, pc: int | None, count: int | None,
                      origin: str | None = None) -> None:
        if self._fault is None:
            self._fault = faults.DeviceFault(
                cause, device=dev.name, job=dev.job_number(), origin=origin, run_name=self.run_name,
                pc=pc, function=self.image.function_at(pc) if pc is not None else None,
                total_instructions=count if count is not None else self.counter.total,
                run_instructions=self.region.run_instructions, console=self.uart.console,
                caller=self._caller())
        self.uc.emu_stop()

    def _on_unmapped(self, uc: Uc, access: int, address: int, size: int, value: int,
                     _u: object) -> bool:
        pc = self._pc()
        what = {UC_MEM_READ_UNMAPPED: "read", UC_MEM_WRITE_UNMAPPED: "write",
                UC_MEM_FETCH_UNMAPPED: "instruction fetch"}.get(access, "access")
        if access == UC_MEM_FETCH_UNMAPPED:
            return self._raise(faults.UnmappedAccess, f"{what} from unmapped address "
                               f"0x{address:08x}", pc, address, count=self.counter.total)
        if self.config.memory_map.in_guard(address):
            mm = self.config.memory_map
            return self._raise(faults.StackOverflow,
                               f"{size}-byte {what} at 0x{address:08x} in the guard page below "
                               f"the stack ({mm.stack_size} bytes at 0x{mm.stack_base:08x})",
                               pc, address)
        return self._raise(faults.UnmappedAccess,
                           f"{size}-byte {what} of unmapped address 0x{address:08x}", pc, address)

    def _on_trap(self, uc: Uc, cause: int, _u: object) -> None:
        # Unicorn advances the RISC-V PC by 4 before calling interrupt hooks (whatever the
        # instruction's length): undo that to name the trapping instruction.
        pc = (self._pc() - 4) & 0xFFFF_FFFF
        if cause in _ECALL_CAUSES and self.config.syscalls:
            self._ecall(uc, pc)
            return
        name = self._illegal_cause(pc) if cause == 2 else _TRAP_NAMES.get(
            cause, f"exception cause {cause}")
        self._raise(_TRAP_FAULTS.get(cause, faults.UnhandledTrap), name, pc)

    def _ecall(self, uc: Uc, pc: int) -> None:
        number = uc.reg_read(UC_RISCV_REG_A7)
        a0, a1, a2 = (uc.reg_read(r) for r in (UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_A2))
        if number == _SYS_WRITE and a0 in (1, 2):
            try:
                self.uart.append(bytes(uc.mem_read(a1, a2)))
            except UcError:
                self._raise(faults.UnmappedAccess, f"ecall write buffer 0x{a1:08x}+{a2} is not "
                            "mapped", pc, a1)
                return
            uc.reg_write(UC_RISCV_REG_A0, a2)
            uc.reg_write(UC_RISCV_REG_PC, pc + 4)  # resume after the ecall
        elif number in (_SYS_EXIT, _SYS_EXIT_GROUP):
            if self.exit_device.exit_code is None:
                self.exit_device.exit_code = a0 - (1 << 32) if a0 & 0x8000_0000 else a0
                self.exit_device.exit_instructions = self.counter.count_at(uc, pc)
                self.exit_device.exit_cycles = self.counter.cycles_at(uc, pc)[1]
                self._access_pc = pc
            uc.emu_stop()
        else:
            self._raise(faults.UnhandledTrap, f"unsupported ecall a7={number} (a0={a0})", pc)

    # --- running ------------------------------------------------------------------------

    def run(self) -> SimResult:
        """Run from the ELF entry to exit; raises a `SimFault` subclass on any fault."""
        if self._ran:
            raise RuntimeError("VirtualPlatform.run() may be called once per instance")
        self._ran = True
        cfg = self.config
        self.uc.reg_write(UC_RISCV_REG_SP, self._initial_sp)
        timeout_us = int(cfg.timeout_s * 1e6) if cfg.timeout_s else 0
        error: UcError | None = None
        start = time.perf_counter()
        try:
            self.uc.emu_start(self.image.entry, _UNTIL, timeout=timeout_us)
        except UcError as exc:
            error = exc
        except faults.SimFault:  # raised inside a device handler
            raise
        seconds = time.perf_counter() - start
        if self._fault is not None:
            raise self._fault
        if self.counter.error is not None:
            error = self.counter.error
            if isinstance(error, UserError):
                raise type(error)(f"{self.run_name}: at PC 0x{self._pc():08x} "
                                  f"({self.image.function_at(self._pc())}): {error}") from error
            raise error
        if error is not None:
            self._raise_uc_error(error)
        if self.exit_device.exit_code is None:
            pc = self._pc()
            if self.counter.limit_hit:
                self._raise(faults.InstructionLimitExceeded,
                            f"more than {cfg.max_instructions} instructions", pc,
                            count=self.counter.retired_at_limit(self.uc, pc))
            elif timeout_us and seconds >= cfg.timeout_s * 0.999:
                self._raise(faults.WallClockTimeout, f"no exit within {cfg.timeout_s} s", pc,
                            count=self.counter.total)
            else:
                self._raise(faults.UnhandledTrap, "the CPU stopped without an exit", pc,
                            count=self.counter.total)
            assert self._fault is not None
            raise self._fault
        total = self.exit_device.exit_instructions or 0
        self._check_devices_at_exit(total)
        reports = {d.name: d.report() for d in self.devices}  # (an accelerator's ends its trace)
        return SimResult(run_name=self.run_name, exit_code=self.exit_device.exit_code,
                         total_instructions=total, run_instructions=self.region.run_instructions,
                         console=self.uart.console, sim_seconds=seconds,
                         mips=total / seconds / 1e6 if seconds > 0 else 0.0,
                         devices=reports, counting=self.counter.mode, call_events=self._region_events(),
                         core=self.counter.profile.name, total_cycles=self.exit_device.exit_cycles,
                         run_cycles=self.region.run_cycles, run_classes=self.region.run_classes,
                         events=self._event_record())

    def _event_record(self) -> EventRecord | None:
        """The recorded event vectors of the run's cycle readings (None: not recording)."""
        if not self._recording:
            return None
        begin, end = self.region.begin, self.region.end
        events = self.counter.events()
        vectors = self.counter.event_vectors()
        region_events = [v for e, v in zip(events, vectors) if begin is not None and end is not None
                         and begin < e.start < end]
        devices = {d.name: d.trace_vectors if d.trace_vectors_complete else None
                   for d in self.devices if getattr(d, "trace_vectors", None)}
        return EventRecord.compact(self.counter.vectors_at(self.uc, None)[1], self.region.vectors,
                                   region_events, devices)

    def _region_events(self) -> list[CallEvent]:
        """Call events inside the measured region (they never straddle its markers, which
        the glue code itself executes)."""
        begin, end = self.region.begin, self.region.end
        if begin is None or end is None:
            return []
        events = [e for e in self.counter.events() if begin < e.start < end]
        for e in events:
            if e.start + e.instructions >= end:
                raise RuntimeError(f"{self.run_name}: call event at 0x{e.target:08x} straddles the "
                                   "region end marker (the marker is not in glue code)")
        return events

    def _check_devices_at_exit(self, total: int) -> None:
        """A device still working when the program ends fails the run (its results were
        never waited for), at the PC of the exiting instruction."""
        for dev in self.devices:
            problem = dev.problem_at_exit()
            if problem:
                self._device_raise(dev, f"device {dev.name}: {problem}", self._access_pc, total)
                assert self._fault is not None
                raise self._fault

    def _raise_uc_error(self, error: UcError) -> None:
        pc = self._pc()
        code = error.errno
        if code == ucc.UC_ERR_INSN_INVALID:
            self._raise(faults.IllegalInstruction, self._illegal_cause(pc), pc)
        elif code in (ucc.UC_ERR_READ_UNALIGNED, ucc.UC_ERR_WRITE_UNALIGNED,
                      ucc.UC_ERR_FETCH_UNALIGNED):
            self._raise(faults.MisalignedAccess, str(error), pc)
        elif code in (ucc.UC_ERR_READ_UNMAPPED, ucc.UC_ERR_WRITE_UNMAPPED,
                      ucc.UC_ERR_FETCH_UNMAPPED):
            self._raise(faults.UnmappedAccess, str(error), pc)
        else:
            self._raise(faults.UnhandledTrap, str(error), pc)
        assert self._fault is not None
        raise self._fault

    def _illegal_cause(self, pc: int) -> str:
        word = self._word_at(pc)
        if word in (0x0010_0073, 0x9002):
            return "ebreak"
        return "illegal instruction" if word is None else f"illegal instruction word 0x{word:08x}"

    def _word_at(self, pc: int) -> int | None:
        try:
            low = int.from_bytes(self.uc.mem_read(pc, 2), "little")
            if low & 3 != 3:
                return low
            return int.from_bytes(self.uc.mem_read(pc, 4), "little")
        except UcError:
            return None


def _page_up(value: int) -> int:
    return (value + PAGE - 1) // PAGE * PAGE
