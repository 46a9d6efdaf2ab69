"""The contract between the virtual platform's bus and the devices on it.

A device claims one address window and answers 32-bit-or-smaller loads and
stores inside it (Renode style: the register map is declared once, behaviour
lives in small handlers).  Devices that act as bus masters (accelerators)
read and write shared memory through the `Bus` they are attached to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Bus(Protocol):
    """What a device may do to the rest of the platform."""

    def mem_read(self, address: int, size: int) -> bytes: ...

    def mem_write(self, address: int, data: bytes) -> None: ...

    def instructions_now(self) -> int:
        """Exact retired-instruction count up to and including the current instruction."""
        ...

    def cycles_now(self) -> int:
        """Cycles (core timing profile) through the current instruction."""
        ...

    def cycles_before_now(self) -> int:
        """Cycles before the current instruction."""
        ...

    def request_stop(self) -> None:
        """End the emulation after the current instruction (used by the exit device)."""
        ...


@dataclass
class DeviceStats:
    """Counters every device keeps; reported per run."""

    reads: int = 0
    writes: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Device:
    """Base class for memory-mapped devices.

    Subclasses set `name`, `base`, `size` and implement `read`/`write` on
    offsets relative to `base`.  `attach` is called once by the VP before
    the firmware starts.
    """

    name: str = "device"
    base: int = 0
    size: int = 0x1000

    def __init__(self) -> None:
        self.stats = DeviceStats()
        self.bus: Bus | None = None

    def attach(self, bus: Bus) -> None:
        self.bus = bus

    def read(self, offset: int, size: int) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def write(self, offset: int, size: int, value: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def report(self) -> dict[str, int]:
        """Per-run metrics this device contributes to the result row."""
        return {}

    def job_number(self) -> int | None:
        """The job in progress or last started (accelerators); None for devices without jobs.
        Named in every fault the device causes."""
        return None

    def problem_at_exit(self) -> str | None:
        """Why the program must not end now (e.g. a job still running), or None."""
        return None
