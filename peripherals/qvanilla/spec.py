"""The QVanilla declaration: registers, capabilities, settings.  Edit here only.

The VP register file, the C header `qvanilla_regs.h` and the compiler's
capability check are all derived from `SPEC` and `BINDING`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlonmcu_lite.peripheral.accelerator import ERROR_CODES, control_registers
from mlonmcu_lite.peripheral.capabilities import ConvBinding, ConvCapabilities
from mlonmcu_lite.peripheral.settings import CODEGEN, CostSettings
from mlonmcu_lite.peripheral.spec import BitField, PeripheralSpec, Register


class QVanillaSettings(CostSettings):
    """`cycles = setup_cycles + ceil(MACs / macs_per_cycle)`; how the driver waits.

    Default `stall`: the driver's read of WAIT blocks the bus until the job is done
    (like WFI), so CPU instructions count only real CPU work (the reference study's
    "zero-cycle accelerator" table) and the busy time is charged as stall cycles in
    `est_cycles`.  `poll` spins on STATUS: the wait is then paid in instructions.
    """

    wait_mode: Literal["poll", "stall"] = Field(
        "stall", description="driver blocks on WAIT (stall) or polls STATUS (poll)",
        json_schema_extra=CODEGEN)


def _addr(name: str, offset: int, what: str) -> Register:
    return Register(name, offset, f"address of the {what} in shared memory")


def _pair(name: str, offset: int, doc: str, lo: str, hi: str, signed: bool = False) -> Register:
    return Register(name, offset, doc, fields=(BitField(lo, 0, 16, signed=signed),
                                               BitField(hi, 16, 16, signed=signed)))


SPEC = PeripheralSpec(
    name="qvanilla",
    base=0x4000_0000,
    doc="int8 conv2d + int32 bias, NHWC input, OHWI weights, int32 NHWC output",
    registers=(
        *control_registers(magic=0x5156),  # "QV"
        _addr("INPUT_ADDR", 0x010, "int8 input [H][W][C]"),
        _addr("WEIGHT_ADDR", 0x014, "int8 weights [O][KH][KW][C]"),
        _addr("BIAS_ADDR", 0x018, "int32 bias [O]"),
        _addr("OUTPUT_ADDR", 0x01C, "int32 output [OH][OW][O]"),
        _pair("INPUT_SHAPE", 0x020, "input height and width", "HEIGHT", "WIDTH"),
        _pair("OUTPUT_SHAPE", 0x024, "output height and width", "HEIGHT", "WIDTH"),
        _pair("CHANNELS", 0x028, "input and output channels", "IN", "OUT"),
        Register("KERNEL", 0x02C, "kernel size and strides", fields=(
            BitField("HEIGHT", 0, 8), BitField("WIDTH", 8, 8),
            BitField("STRIDE_H", 16, 4), BitField("STRIDE_W", 20, 4))),
        Register("PADDING", 0x030, "zero-copy padding (positions hold PAD_VALUE)", fields=(
            BitField("TOP", 0, 8), BitField("LEFT", 8, 8),
            BitField("BOTTOM", 16, 8), BitField("RIGHT", 24, 8))),
        _pair("OFFSETS", 0x034, "added to every input / weight value", "INPUT", "WEIGHT",
              signed=True),
        Register("PAD_VALUE", 0x038, "int8 value of padded input positions",
                 fields=(BitField("VALUE", 0, 8, signed=True),)),
    ),
    settings=QVanillaSettings,
    capabilities=ConvCapabilities(
        kernel_sizes=tuple(range(1, 12)), strides=(1, 2), max_padding=5, groups=(1,),
        max_channels=512, max_spatial=256),
    constants=dict(ERROR_CODES),
)

BINDING = ConvBinding(SPEC, {
    "in_h": "INPUT_SHAPE.HEIGHT", "in_w": "INPUT_SHAPE.WIDTH", "in_c": "CHANNELS.IN",
    "out_h": "OUTPUT_SHAPE.HEIGHT", "out_w": "OUTPUT_SHAPE.WIDTH", "out_c": "CHANNELS.OUT",
    "k_h": "KERNEL.HEIGHT", "k_w": "KERNEL.WIDTH",
    "stride_h": "KERNEL.STRIDE_H", "stride_w": "KERNEL.STRIDE_W",
    "pad_top": "PADDING.TOP", "pad_left": "PADDING.LEFT",
    "pad_bottom": "PADDING.BOTTOM", "pad_right": "PADDING.RIGHT",
    "pad_value": "PAD_VALUE.VALUE",
    "input_offset": "OFFSETS.INPUT", "weight_offset": "OFFSETS.WEIGHT",
})
