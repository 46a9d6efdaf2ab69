"""Busy-time bookkeeping of an accelerator that runs beside the CPU.

Time is the CPU's cycle count under the run's core timing profile (vp/core_timing.py;
with the default `ideal` core, 1 cycle per retired instruction).  A job started by the
instruction that ends at cycle `t0` keeps the device busy for the `cycles` after it: a
status read by an instruction ending at cycle `n` sees BUSY while `n <= t0 + cycles`.  A polling CPU therefore overlaps the busy time with its
polling instructions (counted as `wait_instructions`); a blocking wait, or the
end of the program, stalls the CPU for the rest (`stall_cycles`), which an
estimated total adds to the instruction count.

The device's clock is the instruction count plus the stall cycles it has
charged so far: while the CPU is stalled no instruction retires, but time
passes, so a job started after a blocking wait must not look "still busy".
(Drivers are synchronous, so each device's own stalls are all that matter.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BusyTimer:
    jobs: int = 0
    busy_cycles: int = 0
    stall_cycles: int = 0
    wait_instructions: int = 0
    started_at: int = 0
    last_busy: int = -1  # instruction number of the last busy cycle
    _pending: bool = False  # a job whose completion nobody has observed yet

    def clock(self, now: int) -> int:
        """Cycles elapsed when instruction `now` retires (instructions + stalls)."""
        return now + self.stall_cycles

    def busy(self, now: int) -> bool:
        return self.clock(now) <= self.last_busy

    def start(self, now: int, cycles: int) -> None:
        self.jobs += 1
        self.busy_cycles += cycles
        self.started_at = self.clock(now)
        self.last_busy = self.started_at + cycles
        self._pending = True

    def poll(self, now: int) -> bool:
        """A non-blocking status read at instruction `now`; True while busy."""
        if self.busy(now):
            return True
        self._observe(now)
        return False

    def wait(self, now: int) -> int:
        """A blocking read at `now`: stalls until done; returns the stall."""
        stall = max(0, self.last_busy + 1 - self.clock(now))
        self._observe(now)
        self.stall_cycles += stall
        return stall

    def finish(self, now: int) -> None:
        """The program ended with instruction `now`: a job still running stalls the end
        (instructions up to `now` overlapped it, unlike a blocking read at `now`)."""
        if self._pending:
            self.stall_cycles += max(0, self.last_busy - self.clock(now))
            self._pending = False

    def _observe(self, now: int) -> None:
        if self._pending:
            self.wait_instructions += self.clock(now) - self.started_at
            self._pending = False
