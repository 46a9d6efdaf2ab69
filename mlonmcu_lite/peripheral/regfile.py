"""A generic VP device whose register file comes from a `PeripheralSpec`.

Storage, reset values, access rights, sub-word accesses and MMIO counting are
handled here once; a peripheral model only adds behaviour with `read_hooks`
(registers whose value is computed, e.g. STATUS) and `write_hooks` (registers
whose write acts, e.g. CTRL).  Accesses outside any register, writes to
read-only registers and reads of write-only ones are programming errors and
raise `PeripheralDeviceError`.
"""

from __future__ import annotations

from typing import Callable

from mlonmcu_lite.vp.device import Device

from .errors import PeripheralConfigError, PeripheralDeviceError
from .spec import PeripheralSpec, Register


_BYTE_MAPS: dict[int, tuple[PeripheralSpec, dict[int, Register]]] = {}


def _byte_map(spec: PeripheralSpec) -> dict[int, Register]:
    """Byte offset -> register, built once per spec (re-costing creates a device per point);
    read-only, shared by the devices of that spec."""
    cached = _BYTE_MAPS.get(id(spec))
    if cached is None or cached[0] is not spec:
        mapping = {byte: reg for reg in spec.registers for byte in range(reg.offset, reg.offset + reg.size)}
        cached = _BYTE_MAPS[id(spec)] = (spec, mapping)
    return cached[1]


class RegisterFileDevice(Device):
    spec: PeripheralSpec

    def __init__(self, spec: PeripheralSpec) -> None:
        super().__init__()
        self.spec = spec
        self.name = spec.name
        self.base = spec.base
        self.size = spec.size
        self.regs: dict[str, int] = {r.name: r.reset for r in spec.registers}
        self._at = _byte_map(spec)
        self.read_hooks: dict[str, Callable[[], int]] = {}
        self.write_hooks: dict[str, Callable[[int], None]] = {}

    def check_hooks(self) -> None:
        """Call at the end of a subclass __init__: hooks must name declared registers."""
        for hook_map in (self.read_hooks, self.write_hooks):
            for name in hook_map:
                if name not in self.regs:
                    raise PeripheralConfigError(f"{self.name}: hook for undeclared register {name}")

    # -- field helpers ------------------------------------------------------------
    def field(self, path: str) -> int:
        reg, fld = self.spec.field(path)
        return fld.extract(self.regs[reg.name])

    def set_field(self, path: str, value: int) -> None:
        reg, fld = self.spec.field(path)
        self.regs[reg.name] = fld.insert(self.regs[reg.name], value)

    def fail(self, message: str) -> None:
        """Raise a device error; subclasses override to also latch an error status."""
        raise PeripheralDeviceError(f"{self.name}: {message}")

    # -- bus interface ------------------------------------------------------------
    def _locate(self, offset: int, size: int, kind: str) -> tuple[Register, int]:
        reg = self._at.get(offset)
        if reg is None or offset + size > reg.offset + reg.size:
            self.fail(f"{kind} of {size} byte(s) at offset {offset:#x} "
                      f"(address {self.base + offset:#x}) hits no register")
        return reg, (offset - reg.offset) * 8

    def read(self, offset: int, size: int) -> int:
        self.stats.reads += 1
        reg, shift = self._locate(offset, size, "read")
        if reg.access == "wo":
            self.fail(f"read of write-only register {reg.name}")
        hook = self.read_hooks.get(reg.name)
        value = hook() if hook else self.regs[reg.name]
        return (value >> shift) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        self.stats.writes += 1
        reg, shift = self._locate(offset, size, "write")
        if reg.access == "ro":
            self.fail(f"write to read-only register {reg.name}")
        mask = ((1 << (8 * size)) - 1) << shift
        full = (self.regs[reg.name] & ~mask) | ((value << shift) & mask)
        full &= (1 << reg.width) - 1
        hook = self.write_hooks.get(reg.name)
        if hook:
            hook(full)
        else:
            self.regs[reg.name] = full
