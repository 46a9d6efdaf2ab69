"""The one declaration of a peripheral: registers, fields, constants, capabilities, settings.

Everything else is derived from a `PeripheralSpec`: the VP register file
(`regfile.RegisterFileDevice`), the C register header (`header.render_header`)
and the compiler's capability check.  So no register offset, field position or
constant is ever written twice.  The spec validates itself on construction so a
typo in a declaration fails at import, not deep inside a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel

from mlonmcu_lite.vp.memory_map import PERIPHERAL_BASE as PERIPHERAL_REGION_BASE
from mlonmcu_lite.vp.memory_map import PERIPHERAL_STRIDE as PERIPHERAL_WINDOW

from .errors import PeripheralConfigError

PERIPHERAL_SLOTS = 16  # windows 0x4000_0000 .. 0x4000_F000

Access = Literal["rw", "ro", "wo"]
_C_UPPER = re.compile(r"^[A-Z][A-Z0-9_]*$")
_C_LOWER = re.compile(r"^[a-z][a-z0-9_]*$")


def _fail(msg: str) -> None:
    raise PeripheralConfigError(msg)


@dataclass(frozen=True)
class BitField:
    """Bits [lsb, lsb+width) of a register; `signed` fields are two's complement."""

    name: str
    lsb: int
    width: int = 1
    doc: str = ""
    signed: bool = False

    def __post_init__(self) -> None:
        if not _C_UPPER.match(self.name):
            _fail(f"field name {self.name!r} must be an upper-case C identifier")
        if self.lsb < 0 or self.width < 1:
            _fail(f"field {self.name}: lsb must be >= 0 and width >= 1")

    @property
    def msb(self) -> int:
        return self.lsb + self.width - 1

    @property
    def mask(self) -> int:
        """Mask of the field in place (already shifted)."""
        return ((1 << self.width) - 1) << self.lsb

    @property
    def min_value(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_value(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def fits(self, value: int) -> bool:
        return self.min_value <= value <= self.max_value

    def extract(self, reg_value: int) -> int:
        raw = (reg_value & self.mask) >> self.lsb
        if self.signed and raw >> (self.width - 1):
            raw -= 1 << self.width
        return raw

    def insert(self, reg_value: int, value: int) -> int:
        if not self.fits(value):
            _fail(f"field {self.name}: {value} outside [{self.min_value}, {self.max_value}]")
        return (reg_value & ~self.mask) | ((value << self.lsb) & self.mask)


@dataclass(frozen=True)
class Register:
    """One memory-mapped register; `fields` may be empty for a plain value (address)."""

    name: str
    offset: int
    doc: str
    access: Access = "rw"
    reset: int = 0
    fields: tuple[BitField, ...] = ()
    width: int = 32

    def __post_init__(self) -> None:
        if not _C_UPPER.match(self.name):
            _fail(f"register name {self.name!r} must be an upper-case C identifier")
        if self.width not in (8, 16, 32):
            _fail(f"register {self.name}: width {self.width} not in 8/16/32")
        if self.offset < 0 or self.offset % (self.width // 8):
            _fail(f"register {self.name}: offset {self.offset:#x} not aligned to its width")
        if self.access not in ("rw", "ro", "wo"):
            _fail(f"register {self.name}: access {self.access!r} not in rw/ro/wo")
        if not 0 <= self.reset < (1 << self.width):
            _fail(f"register {self.name}: reset {self.reset:#x} does not fit {self.width} bits")
        used = 0
        names = set()
        for f in self.fields:
            if f.msb >= self.width:
                _fail(f"register {self.name}: field {f.name} [{f.msb}:{f.lsb}] exceeds width")
            if used & f.mask:
                _fail(f"register {self.name}: field {f.name} overlaps another field")
            if f.name in names:
                _fail(f"register {self.name}: duplicate field {f.name}")
            used |= f.mask
            names.add(f.name)

    @property
    def size(self) -> int:
        return self.width // 8

    def field(self, name: str) -> BitField:
        for f in self.fields:
            if f.name == name:
                return f
        _fail(f"register {self.name} has no field {name!r}; fields: "
              f"{', '.join(f.name for f in self.fields) or '(none)'}")
        raise AssertionError  # unreachable


@dataclass(frozen=True)
class PeripheralSpec:
    """A whole peripheral.  `capabilities` is the pattern-specific capability model,
    `settings` the pydantic class of user-overridable parameters (cost model...)."""

    name: str
    base: int
    doc: str
    registers: tuple[Register, ...]
    settings: type[BaseModel]
    capabilities: Any = None
    constants: dict[str, int] = field(default_factory=dict)
    size: int = PERIPHERAL_WINDOW

    def __post_init__(self) -> None:
        if not _C_LOWER.match(self.name):
            _fail(f"peripheral name {self.name!r} must be a lower-case C identifier")
        slot, rem = divmod(self.base - PERIPHERAL_REGION_BASE, PERIPHERAL_WINDOW)
        if rem or not 0 <= slot < PERIPHERAL_SLOTS or self.size != PERIPHERAL_WINDOW:
            _fail(f"{self.name}: base {self.base:#x} must be 0x4000_0000 + k*0x1000 "
                  f"(k < {PERIPHERAL_SLOTS}) with a {PERIPHERAL_WINDOW:#x}-byte window")
        taken: dict[int, str] = {}
        for reg in self.registers:
            if reg.offset + reg.size > self.size:
                _fail(f"{self.name}: register {reg.name} lies outside the window")
            for byte in range(reg.offset, reg.offset + reg.size):
                if byte in taken:
                    _fail(f"{self.name}: registers {taken[byte]} and {reg.name} overlap")
                taken[byte] = reg.name
        names = [r.name for r in self.registers]
        if len(set(names)) != len(names):
            _fail(f"{self.name}: duplicate register names")
        for const in self.constants:
            if not _C_UPPER.match(const):
                _fail(f"{self.name}: constant {const!r} must be an upper-case C identifier")

    @property
    def prefix(self) -> str:
        """C macro prefix, e.g. QVANILLA."""
        return self.name.upper()

    @cached_property
    def _by_name(self) -> dict[str, Register]:
        return {r.name: r for r in self.registers}

    def register(self, name: str) -> Register:
        try:
            return self._by_name[name]
        except KeyError:
            _fail(f"{self.name} has no register {name!r}; registers: {', '.join(self._by_name)}")
            raise

    def field(self, path: str) -> tuple[Register, BitField]:
        """`"REG.FIELD"` -> (register, field)."""
        reg_name, _, field_name = path.partition(".")
        reg = self.register(reg_name)
        return reg, reg.field(field_name)
