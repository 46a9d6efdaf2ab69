"""A minimal bus for exercising a peripheral model without the CPU.

`RamBus` is a real (if tiny) implementation of `vp.device.Bus`: one RAM window
and an instruction counter the test advances explicitly, so busy/stall timing
can be checked exactly.  `program` writes a job through the device's MMIO
interface using offsets from the declaration, like a driver would.
`reference_conv` is an independent (tap-by-tap) reference of the conv semantics.
"""

from __future__ import annotations

from math import ceil

import numpy as np

from mlonmcu_lite.vp.device import Device

from .backend import ConvRegion
from .capabilities import ConvBinding
from .conv import ConvJob, reference_conv  # noqa: F401 - re-exported for peripheral tests


class RamBus:
    def __init__(self, base: int = 0x8000_0000, size: int = 1 << 20) -> None:
        self.base, self.mem, self.instructions = base, bytearray(size), 0

    def _offset(self, address: int, size: int) -> int:
        off = address - self.base
        if off < 0 or off + size > len(self.mem):
            raise ValueError(f"unmapped access {address:#x}+{size}")
        return off

    def mem_read(self, address: int, size: int) -> bytes:
        off = self._offset(address, size)
        return bytes(self.mem[off:off + size])

    def mem_write(self, address: int, data: bytes) -> None:
        off = self._offset(address, len(data))
        self.mem[off:off + len(data)] = data

    def instructions_now(self) -> int:
        return self.instructions

    def cycles_now(self) -> int:  # an ideal core: one cycle per instruction
        return self.instructions

    def cycles_before_now(self) -> int:
        return self.instructions - 1

    def tick(self, n: int = 1) -> int:
        """Retire `n` instructions; returns the new count."""
        self.instructions += n
        return self.instructions


def write_reg(device: Device, name: str, value: int) -> None:
    """One MMIO store to register `name` (one retired instruction on a RamBus)."""
    if isinstance(device.bus, RamBus):
        device.bus.tick()
    device.write(device.spec.register(name).offset, 4, value & 0xFFFF_FFFF)


def read_reg(device: Device, name: str) -> int:
    if isinstance(device.bus, RamBus):
        device.bus.tick()
    return device.read(device.spec.register(name).offset, 4)


def program(device: Device, binding: ConvBinding, job: ConvJob, addresses: dict[str, int]) -> None:
    """Write operand addresses (register name -> address) and the job's fields."""
    for reg, address in addresses.items():
        write_reg(device, reg, address)
    for reg, value in binding.encode(job).items():
        write_reg(device, reg, value)


def same_pads(size, k, s):
    total = max((ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def make_region(ih, iw, ic, oc, kh, kw, stride, padding, pad_value=0, input_offset=0,
                weight_offset=0):
    if padding == "same":
        (t, b), (l, r) = same_pads(ih, kh, stride[0]), same_pads(iw, kw, stride[1])
    else:
        t = l = b = r = 0
    oh = (ih + t + b - kh) // stride[0] + 1
    ow = (iw + l + r - kw) // stride[1] + 1
    return ConvRegion("conv", (1, ih, iw, ic), (oc, kh, kw, ic), (1, oh, ow, oc), stride,
                      (t, l, b, r), pad_value=pad_value, input_offset=input_offset,
                      weight_offset=weight_offset)
