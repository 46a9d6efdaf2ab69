"""The platform's built-in devices: UART, exit device, region marker."""

from __future__ import annotations

from mlonmcu_lite.vp.device import Device
from mlonmcu_lite.vp.memory_map import EXIT_BASE, REGION_BASE, REGION_BEGIN, REGION_END, UART_BASE


class Uart(Device):
    """Transmit-only UART: a store to offset 0 sends its low byte; offset 4 reads 1 (ready)."""

    name = "uart"
    base = UART_BASE
    TX, STATUS = 0x0, 0x4

    def __init__(self) -> None:
        super().__init__()
        self._out = bytearray()

    def read(self, offset: int, size: int) -> int:
        self.stats.reads += 1
        return 1 if offset == self.STATUS else 0

    def write(self, offset: int, size: int, value: int) -> None:
        self.stats.writes += 1
        if offset == self.TX:
            self._out.append(value & 0xFF)

    def append(self, data: bytes) -> None:
        """Console output that did not come through the register (ecall write)."""
        self._out += data

    @property
    def console(self) -> str:
        return self._out.decode("utf-8", errors="replace")

    def report(self) -> dict[str, int]:
        return {"bytes": len(self._out)}


class _WriteOnlyDevice(Device):
    """Reads return 0."""

    def read(self, offset: int, size: int) -> int:
        self.stats.reads += 1
        return 0


class ExitDevice(_WriteOnlyDevice):
    """A store to offset 0 ends the run with that exit code; the store counts as retired."""

    name = "exit"
    base = EXIT_BASE

    def __init__(self) -> None:
        super().__init__()
        self.exit_code: int | None = None
        self.exit_instructions: int | None = None
        self.exit_cycles: int | None = None

    def write(self, offset: int, size: int, value: int) -> None:
        self.stats.writes += 1
        if offset == 0 and self.exit_code is None:
            self.exit_code = value - (1 << 32) if value & 0x8000_0000 else value
            assert self.bus is not None
            self.exit_instructions = self.bus.instructions_now()
            self.exit_cycles = self.bus.cycles_now()
            self.bus.request_stop()

    def report(self) -> dict[str, int]:
        return {} if self.exit_code is None else {"code": self.exit_code}


class RegionMarker(_WriteOnlyDevice):
    """Write 1 = begin, 2 = end of the measured region (instruction counts at each store)."""

    name = "region"
    base = REGION_BASE

    def __init__(self) -> None:
        super().__init__()
        self.begin: int | None = None
        self.end: int | None = None
        self._cycles: tuple[int, int] | None = None  # through the begin store, before the end store
        self._classes: tuple[dict, dict] = ({}, {})  # per-class counts at the same two points
        self._vectors: list = [None, None]  # event vectors at the same two points (if recorded)

    def write(self, offset: int, size: int, value: int) -> None:
        self.stats.writes += 1
        assert self.bus is not None
        if value == REGION_BEGIN:
            self.begin, self.end = self.bus.instructions_now(), None
            self._cycles = (self.bus.cycles_now(), 0)
            self._classes = (self._class_counts(True), {})
            self._vectors = [self._events("events_now"), None]
        elif value == REGION_END and self.begin is not None:
            self.end = self.bus.instructions_now()
            self._cycles = (self._cycles[0], self.bus.cycles_before_now())
            self._classes = (self._classes[0], self._class_counts(False))
            self._vectors[1] = self._events("events_before_now")

    @property
    def run_instructions(self) -> int | None:
        """Instructions strictly between the begin store and the end store."""
        if self.begin is None or self.end is None:
            return None
        return self.end - self.begin - 1

    def _events(self, reader: str) -> list[int] | None:
        return getattr(self.bus, reader, lambda: None)()

    @property
    def vectors(self) -> tuple[list[int], list[int]] | None:
        """Event vectors (vp/event_record.py) through the begin store and before the end
        store (what `run_cycles` costs); None when not recorded."""
        begin, end = self._vectors
        return None if begin is None or end is None or self.end is None else (begin, end)

    def _class_counts(self, inclusive: bool) -> dict:
        counts = getattr(self.bus, "class_counts_now", None)
        return counts(inclusive) if counts is not None else {}

    @property
    def run_classes(self) -> dict[str, int]:
        """Instructions per timing class strictly between the two stores (for energy)."""
        from mlonmcu_lite.vp.rv32_decode import InsnClass

        if self.end is None:
            return {}
        begin, end = self._classes
        return {InsnClass(k).name.lower(): end.get(k, 0) - begin.get(k, 0)
                for k in sorted(set(begin) | set(end)) if end.get(k, 0) - begin.get(k, 0)}

    @property
    def run_cycles(self) -> int | None:
        """Cycles (core profile) strictly between the begin store and the end store."""
        if self.end is None or self._cycles is None:
            return None
        return self._cycles[1] - self._cycles[0]

    def report(self) -> dict[str, int]:
        return {k: v for k, v in (("begin", self.begin), ("end", self.end)) if v is not None}
