"""Declaration parts every conv-style engine shares, so each spec states only what differs.

`conv_engine_registers` is the operand/geometry register block at 0x010-0x038 (after
`control_registers`), with the engine's own CHANNELS register at 0x028, then the fused
requantization's registers at 0x03C-0x048 (`peripheral.requant`);
`GEOMETRY_FIELDS` binds every `ConvJob` parameter except the channels to it;
`WaitModeSettings` is the driver's choice of blocking on WAIT or polling STATUS
(a codegen setting: it reaches the generated header as `<P>_CFG_WAIT_MODE_<MODE>`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .errors import PeripheralConfigError
from .settings import CODEGEN
from .requant import requant_registers
from .spec import BitField, Register

CHANNELS_OFFSET = 0x028
REQUANT_OFFSET = 0x03C  # REQUANT, CLAMP, MULT_ADDR, SHIFT_ADDR (peripheral.requant)


class WaitModeSettings(BaseModel):
    """Mixin for a peripheral's settings.  `stall` (default): the driver's read of WAIT
    blocks the bus until the job is done (like WFI), so CPU instructions count only CPU
    work and the busy time is charged as stall cycles; `poll` spins on STATUS."""

    wait_mode: Literal["poll", "stall"] = Field(
        "stall", description="driver blocks on WAIT (stall) or polls STATUS (poll)",
        json_schema_extra=CODEGEN)


def address_register(name: str, offset: int, what: str) -> Register:
    return Register(name, offset, f"address of the {what} in shared memory")


def pair_register(name: str, offset: int, doc: str, lo: str, hi: str,
                  signed: bool = False) -> Register:
    """Two 16-bit fields: `lo` in bits 0-15, `hi` in bits 16-31."""
    return Register(name, offset, doc, fields=(BitField(lo, 0, 16, signed=signed),
                                               BitField(hi, 16, 16, signed=signed)))


def window_register(name: str, offset: int, doc: str) -> Register:
    """A window's HEIGHT, WIDTH (8 bits each) and STRIDE_H, STRIDE_W (4 bits each)."""
    return Register(name, offset, doc, fields=(BitField("HEIGHT", 0, 8), BitField("WIDTH", 8, 8),
                                               BitField("STRIDE_H", 16, 4), BitField("STRIDE_W", 20, 4)))


def padding_register(name: str, offset: int, doc: str) -> Register:
    """TOP, LEFT, BOTTOM, RIGHT padding, 8 bits each."""
    return Register(name, offset, doc, fields=(BitField("TOP", 0, 8), BitField("LEFT", 8, 8),
                                               BitField("BOTTOM", 16, 8), BitField("RIGHT", 24, 8)))


def conv_engine_registers(channels: Register, input_layout: str, weight_layout: str,
                          bias_layout: str, output_layout: str) -> tuple[Register, ...]:
    """Operand addresses, shapes, `channels` (at `CHANNELS_OFFSET`), kernel, padding,
    offsets and pad value; the layouts only document the operands."""
    if channels.name != "CHANNELS" or channels.offset != CHANNELS_OFFSET:
        raise PeripheralConfigError(f"the channels register must be CHANNELS at {CHANNELS_OFFSET:#x}")
    return (
        address_register("INPUT_ADDR", 0x010, f"int8 input {input_layout}"),
        address_register("WEIGHT_ADDR", 0x014, f"int8 weights {weight_layout}"),
        address_register("BIAS_ADDR", 0x018, f"int32 bias {bias_layout}"),
        address_register("OUTPUT_ADDR", 0x01C, f"int32 output {output_layout}"),
        pair_register("INPUT_SHAPE", 0x020, "input height and width", "HEIGHT", "WIDTH"),
        pair_register("OUTPUT_SHAPE", 0x024, "output height and width", "HEIGHT", "WIDTH"),
        channels,
        window_register("KERNEL", 0x02C, "kernel size and strides"),
        padding_register("PADDING", 0x030, "zero-copy padding (positions hold PAD_VALUE)"),
        pair_register("OFFSETS", 0x034, "added to every input / weight value", "INPUT",
                      "WEIGHT", signed=True),
        Register("PAD_VALUE", 0x038, "int8 value of padded input positions",
                 fields=(BitField("VALUE", 0, 8, signed=True),)),
        *requant_registers(REQUANT_OFFSET),
    )


# `ConvJob` parameter -> "REG.FIELD" of `conv_engine_registers`, all but in_c/out_c
GEOMETRY_FIELDS: dict[str, str] = {
    "in_h": "INPUT_SHAPE.HEIGHT", "in_w": "INPUT_SHAPE.WIDTH",
    "out_h": "OUTPUT_SHAPE.HEIGHT", "out_w": "OUTPUT_SHAPE.WIDTH",
    "k_h": "KERNEL.HEIGHT", "k_w": "KERNEL.WIDTH",
    "stride_h": "KERNEL.STRIDE_H", "stride_w": "KERNEL.STRIDE_W",
    "pad_top": "PADDING.TOP", "pad_left": "PADDING.LEFT",
    "pad_bottom": "PADDING.BOTTOM", "pad_right": "PADDING.RIGHT",
    "pad_value": "PAD_VALUE.VALUE",
    "input_offset": "OFFSETS.INPUT", "weight_offset": "OFFSETS.WEIGHT",
}
