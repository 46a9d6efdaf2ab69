"""The control protocol every accelerator shares, declared once and modelled once.

Registers 0x000-0x00C of an accelerator's window (`control_registers`):
ID (magic + version), CTRL (START, CLEAR), STATUS (BUSY, ERROR, ERR_CODE) and
WAIT (a blocking read of STATUS: the CPU stalls until the job is done).
`AcceleratorDevice` implements them on top of the spec-driven register file:
START runs `execute()` (the peripheral's maths: decode, compute, write back; it returns
the job, which has `.macs`) and keeps BUSY set for `job_timing(job)` cycles: by default
`setup + ceil(MACs / macs_per_cycle)`, `CostedAcceleratorDevice` the job's modelled cost.
One protocol for every device: this `_start` is the only one.
Bad programming latches STATUS.ERROR with a code and raises a clear error.

The protocol is also checked from the CPU's side, whatever a model's hooks do: a WAIT
that answers while the job is still busy (the driver would go on with unfinished
results), a STATUS that stays BUSY for `HUNG_POLLS` reads after the job's modelled time
has run out (a hung device under a polling driver), and a job still running when the
program exits are each a device error naming the job (the VP adds the PC).
"""

from __future__ import annotations

from array import array

import numpy as np

from .errors import PeripheralDeviceError
from .regfile import RegisterFileDevice
from .settings import CostSettings
from .spec import BitField, PeripheralSpec, Register
from .timing import BusyTimer

ERROR_CODES = {"ERR_NONE": 0, "ERR_BUSY": 1, "ERR_CONFIG": 2, "ERR_ADDRESS": 3}
# BUSY status reads after the modelled busy time ended before the device counts as hung
# (a correct model answers "done" at the first read after it; polling is ~4 instructions).
HUNG_POLLS = 1000
# event vectors kept per device (a polling driver reads STATUS for every few instructions of
# busy time; past this, re-costing another core profile simulates instead)
MAX_TRACE_VECTORS = 10_000


def control_registers(magic: int, version: int = 1) -> tuple[Register, ...]:
    """The standard ID/CTRL/STATUS/WAIT registers; a spec puts its own from 0x010 on."""
    ident = (magic << 16) | version
    return (
        Register("ID", 0x000, "identification: magic and version", access="ro", reset=ident,
                 fields=(BitField("VERSION", 0, 16, "declaration version"),
                         BitField("MAGIC", 16, 16, "peripheral magic"))),
        Register("CTRL", 0x004, "control; bits act on write and read back as 0", access="wo",
                 fields=(BitField("START", 0, 1, "start a job with the programmed registers"),
                         BitField("CLEAR", 1, 1, "clear STATUS.ERROR and ERR_CODE"))),
        Register("STATUS", 0x008, "status (non-blocking)", access="ro",
                 fields=(BitField("BUSY", 0, 1, "a job is running"),
                         BitField("ERROR", 1, 1, "the last command was rejected"),
                         BitField("ERR_CODE", 8, 8, "why: one of the ERR_* constants"))),
        Register("WAIT", 0x00C, "blocking read of STATUS: returns when not busy", access="ro"),
    )


class AcceleratorDevice(RegisterFileDevice):
    """A bus-master accelerator.  Subclasses implement `execute() -> job` (job.macs)."""

    # what a job's `.macs` counts: "macs" (multiply-accumulates) or "ops" (the element
    # operations of an element-wise / pooling engine); reports and rows keep the two apart
    work_unit: str = "macs"

    def __init__(self, spec: PeripheralSpec, settings: CostSettings) -> None:
        super().__init__(spec)
        self.settings = settings
        self.timer = BusyTimer()
        self.macs = 0
        # one record per job, for per-layer figures: the instruction that started it, its
        # MACs, busy and stall cycles, bytes moved (when the cost model knows them)
        self.job_log: list[dict[str, int]] = []
        self._stall_logged = 0
        self.job = 0  # the job in progress or last started (1-based)
        self.check_results = False  # `check_peripherals`: compare each job with `reference_job()`
        self.checked_jobs = 0
        self._overwritten: list[tuple[int, bytes]] = []  # check mode: (address, bytes before the job)
        self._stuck_polls = 0
        # every timing event, in order, at its cycle: ("start", cycle, (job, instruction)),
        # ("poll", cycle, busy answer), ("wait", cycle, None), ("finish", cycle, None): enough to
        # re-cost the run under other cost settings without re-simulating (harness.recost)
        self.trace: list[tuple[str, int, object]] = []
        # with a bus recording event vectors (vp/event_record.py), each trace event's vector:
        # its cycle under any core profile (harness.recost re-costs core profiles with them)
        self.trace_vectors: list[array] = []
        self.trace_vectors_complete = True
        self.read_hooks.update(STATUS=self._status, WAIT=self._wait)
        self.write_hooks.update(CTRL=self._ctrl)
        self.check_hooks()

    # -- protocol -----------------------------------------------------------------
    def now(self) -> int:
        """The retired-instruction count (a job's `start`, which layer attribution uses)."""
        if self.bus is None:
            raise PeripheralDeviceError(f"{self.name}: not attached to a bus")
        return self.bus.instructions_now()

    def clock(self) -> int:
        """The CPU's cycle count under the core profile: the time base of `timer`."""
        if self.bus is None:
            raise PeripheralDeviceError(f"{self.name}: not attached to a bus")
        return self.bus.cycles_now()

    def _trace(self, kind: str, now: int, payload: object) -> None:
        """One timing event at cycle `now` (a live one: the cycle the bus reads now)."""
        self.trace.append((kind, now, payload))
        if len(self.trace_vectors) >= MAX_TRACE_VECTORS:
            self.trace_vectors_complete = False
            return
        vector = getattr(self.bus, "events_now", lambda: None)()
        if vector is not None:
            self.trace_vectors.append(array("Q", vector))

    def _status_value(self, busy: bool) -> int:
        return self.spec.field("STATUS.BUSY")[1].insert(self.regs["STATUS"], int(busy))

    def _status(self) -> int:
        now = self.clock()
        busy = self.timer.poll(now)
        self._trace("poll", now, busy)
        return self._status_value(busy)

    def _wait(self) -> int:
        self.wait_at(self.clock())
        return self._status_value(False)

    def wait_at(self, now: int) -> None:
        """A blocking WAIT read at cycle `now` (also replayed by `harness.recost`)."""
        self._trace("wait", now, None)
        self.timer.wait(now)
        self._log_stall()

    def _log_job(self, now: int, macs: int, cycles: int, nbytes: int | None = None) -> None:
        self._log_stall()
        self.job_log.append({"start": now, self.work_unit: macs, "cycles": cycles, "stall_cycles": 0,
                             **({"bytes": nbytes} if nbytes is not None else {})})

    def _log_stall(self) -> None:
        """Charge the stall cycles not yet logged to the job they waited for (the last one)."""
        if self.job_log and self.timer.stall_cycles > self._stall_logged:
            self.job_log[-1]["stall_cycles"] += self.timer.stall_cycles - self._stall_logged
        self._stall_logged = self.timer.stall_cycles

    def _ctrl(self, value: int) -> None:
        _, start = self.spec.field("CTRL.START")
        _, clear = self.spec.field("CTRL.CLEAR")
        if clear.extract(value):
            self.set_field("STATUS.ERROR", 0)
            self.set_field("STATUS.ERR_CODE", 0)
        if start.extract(value):
            self._start()

    def _start(self) -> None:
        now = self.clock()
        if self.timer.busy(now):
            self.fail(f"START while busy (job {self.timer.jobs} started at cycle "
                      f"{self.timer.started_at}, busy through {self.timer.last_busy}, now {now})",
                      "ERR_BUSY")
        self.job = self.timer.jobs + 1
        self._overwritten = []
        job = self.execute()
        if self.check_results:
            self._check_result()
        self.account(now, job, self.now())

    def account(self, now: int, job, instruction: int) -> None:
        """Charge a job started at cycle `now` by instruction number `instruction` (its cost
        under the settings, the busy timer, the job log) and record it in `trace`
        (replayed by `harness.recost`)."""
        self._trace("start", now, (job, instruction))
        cycles, nbytes = self.job_timing(job)
        self.macs += job.macs
        self.timer.start(now, cycles)
        self._log_job(instruction, job.macs, cycles, nbytes)

    def job_timing(self, job) -> tuple[int, int | None]:
        """(busy cycles, bytes moved or None) of a job just executed."""
        return self.settings.job_cycles(job.macs), None

    def reference_job(self) -> tuple[str, np.ndarray] | None:
        """(output address register, expected raw result) of the job just run, computed
        independently of `execute` from the operands in memory (as they were when the job
        started, even when it wrote in place); None: no reference."""
        return None

    def _check_result(self) -> None:
        """`check_peripherals`: the raw result in memory must equal the reference (a wrong
        int32 accumulator can hide behind the CPU's requantization end to end).  The reference
        reads the memory the job started from: what the job overwrote (an output written in
        place over an input) is put back while it runs, then the job's writes again."""
        written = [(address, self.bus.mem_read(address, len(old))) for address, old in self._overwritten]
        for address, old in reversed(self._overwritten):
            self.bus.mem_write(address, old)
        try:
            reference = self.reference_job()
        finally:
            for address, new in written:
                self.bus.mem_write(address, new)
        if reference is None:
            self.fail("check_peripherals: this peripheral defines no reference_job()")
        register, want = reference
        want = np.asarray(want)
        got = self.load(register, want.size, want.dtype.newbyteorder("<").str).reshape(want.shape)
        bad = np.argwhere(got != want)
        if len(bad):
            first = tuple(int(i) for i in bad[0])
            self.fail(f"job {self.job}: raw result at {register} differs from the reference "
                      f"computation in {len(bad)} of {want.size} values (first at {first}: "
                      f"device {got[first]}, reference {want[first]})")
        self.checked_jobs += 1

    def job_number(self) -> int | None:
        return self.job

    # -- protocol checks from the CPU's side ----------------------------------------
    def read(self, offset: int, size: int) -> int:
        value = super().read(offset, size)
        reg = self._at.get(offset)
        if reg is not None and offset == reg.offset and reg.name in ("STATUS", "WAIT"):
            self._check_progress(reg.name, self.spec.field("STATUS.BUSY")[1].extract(value))
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        self._stuck_polls = 0  # the CPU changed something: not a no-progress poll loop
        super().write(offset, size, value)

    def _check_progress(self, register: str, busy: int) -> None:
        now = self.clock()
        running = self.timer.busy(now)
        if register == "WAIT" and (busy or running):
            self.fail(f"job {self.job} not finished when WAIT answered (modelled busy through "
                      f"cycle {self.timer.last_busy}, now cycle {self.timer.clock(now)}): the "
                      "firmware would go on with unfinished results")
        if register == "STATUS" and busy and not running:
            self._stuck_polls += 1
            if self._stuck_polls >= HUNG_POLLS:
                self.fail(f"hung: job {self.job} makes no progress: STATUS read BUSY "
                          f"{self._stuck_polls} times with no state change after its modelled "
                          f"busy time ended (cycle {self.timer.last_busy})")
        elif register == "STATUS":
            self._stuck_polls = 0

    def problem_at_exit(self) -> str | None:
        if self.bus is not None and self.timer.busy(self.clock()):
            return (f"job {self.job} still busy at exit (modelled busy through cycle "
                    f"{self.timer.last_busy}, program ended at cycle {self.timer.clock(self.clock())}): "
                    "its results were never waited for")
        return None

    def execute(self):  # pragma: no cover - interface
        """Decode the registers, compute, write back; return the job (with `.macs`)."""
        raise NotImplementedError

    def fail(self, message: str, code: str = "ERR_CONFIG") -> None:
        """Latch STATUS.ERROR/ERR_CODE, then raise."""
        self.set_field("STATUS.ERROR", 1)
        self.set_field("STATUS.ERR_CODE", ERROR_CODES[code])
        raise PeripheralDeviceError(f"{self.name}: {message}")

    # -- shared memory ------------------------------------------------------------
    def _span(self, addr_reg: str, nbytes: int) -> int:
        address = self.regs[addr_reg]
        if address == 0 or address + nbytes > 1 << 32:
            self.fail(f"{addr_reg}={address:#x} (+{nbytes} bytes) is not a valid buffer",
                      "ERR_ADDRESS")
        return address

    def load(self, addr_reg: str, count: int, dtype: str) -> np.ndarray:
        """`count` elements of `dtype` from the address in register `addr_reg`."""
        nbytes = count * np.dtype(dtype).itemsize
        address = self._span(addr_reg, nbytes)
        try:
            data = self.bus.mem_read(address, nbytes)
        except Exception as exc:  # the bus says why (unmapped, ROM...)
            self.fail(f"reading {nbytes} bytes at {addr_reg}={address:#x} failed: {exc}",
                      "ERR_ADDRESS")
        return np.frombuffer(bytes(data), dtype=dtype, count=count)

    def store(self, addr_reg: str, values: np.ndarray) -> None:
        data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes()
        address = self._span(addr_reg, len(data))
        try:
            if self.check_results:  # what the reference must not see overwritten (_check_result)
                self._overwritten.append((address, self.bus.mem_read(address, len(data))))
            self.bus.mem_write(address, data)
        except Exception as exc:
            self.fail(f"writing {len(data)} bytes at {addr_reg}={address:#x} failed: {exc}",
                      "ERR_ADDRESS")

    def result_of(self, out: np.ndarray) -> np.ndarray:
        """What the device writes for the int32 result `out` [..., C]: `out` itself, or, when
        the spec has the fused requantization registers and REQUANT.ENABLE is set, its int8
        requantization (peripheral.requant) with the multipliers/shifts from memory, plus,
        with RESIDUAL.ENABLE, TFLite's ADD of the int8 tensor at RES_ADDR (peripheral.eltwise)."""
        if "REQUANT" not in self.regs or not self.field("REQUANT.ENABLE"):
            return np.asarray(out).astype("<i4")
        from .requant import requant_binding, requantize
        rq = requant_binding(self.spec).decode(lambda reg: self.regs[reg])
        if rq.rq_lo > rq.rq_hi:
            self.fail(f"requantization clamp [{rq.rq_lo}, {rq.rq_hi}] is empty")
        channels = out.shape[-1]
        mult = self.load("MULT_ADDR", channels, "<i4")
        shift = self.load("SHIFT_ADDR", channels, "<i4")
        result = requantize(out, mult, shift, rq)
        if "RESIDUAL" in self.regs and self.field("RESIDUAL.ENABLE"):  # peripheral.eltwise
            from .eltwise import add_int8, residual_binding
            job = residual_binding(self.spec).decode(lambda reg: self.regs[reg])
            if job.out_lo > job.out_hi:
                self.fail(f"residual clamp [{job.out_lo}, {job.out_hi}] is empty")
            other = self.load("RES_ADDR", result.size, "i1").reshape(result.shape)
            result = add_int8(result, other, job)
        return result

    def store_result(self, addr_reg: str, out: np.ndarray) -> bool:
        """Store `result_of(out)`; True if it was requantized."""
        result = self.result_of(out)
        self.store(addr_reg, result)
        return result.dtype == np.int8

    # -- per-run metrics ----------------------------------------------------------
    def finish_at(self, now: int) -> None:
        """The program ended at cycle `now` (a job still running stalls the end)."""
        self._trace("finish", now, None)
        self.timer.finish(now)
        self._log_stall()

    def report(self) -> dict:
        if self.bus is not None and not (self.trace and self.trace[-1][0] == "finish"):
            self.finish_at(self.clock())
        return {"jobs": self.timer.jobs, self.work_unit: self.macs, "job_log": [dict(j) for j in self.job_log],
                "busy_cycles": self.timer.busy_cycles, "stall_cycles": self.timer.stall_cycles,
                "wait_instructions": self.timer.wait_instructions, "checked_jobs": self.checked_jobs,
                "trace": list(self.trace),
                "mmio_reads": self.stats.reads, "mmio_writes": self.stats.writes}
