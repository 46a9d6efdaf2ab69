"""The QDepthwise declaration: registers, capabilities, settings.  Edit here only.

The VP register file, the C header `qdepthwise_regs.h` and the compiler's
capability check are all derived from `SPEC` and `BINDING`.  One CHANNELS field
holds both `in_c` and `out_c`: the engine computes channel multiplier 1 only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlonmcu_lite.peripheral.accelerator import ERROR_CODES, control_registers
from mlonmcu_lite.peripheral.capabilities import ConvBinding
from mlonmcu_lite.peripheral.cost_detailed import CostModelSettings
from mlonmcu_lite.peripheral.depthwise import DepthwiseCapabilities
from mlonmcu_lite.peripheral.settings import CODEGEN
from mlonmcu_lite.peripheral.spec import BitField, PeripheralSpec, Register


class QDepthwiseSettings(CostModelSettings):
    """A channel-lane engine: `pe_lanes` channels in parallel, `macs_per_cycle / pe_lanes`
    kernel taps per lane per cycle (used by `cost_model=detailed`; `simple` charges
    `setup + ceil(MACs / macs_per_cycle)`).  The driver blocks on WAIT (`stall`, default)
    or polls STATUS (`poll`)."""

    pe_lanes: int = Field(16, ge=1, le=65_536, description="detailed: channel lanes; each has "
                          "macs_per_cycle/pe_lanes multipliers for the kernel taps")
    wait_mode: Literal["poll", "stall"] = Field(
        "stall", description="driver blocks on WAIT (stall) or polls STATUS (poll)",
        json_schema_extra=CODEGEN)


def _addr(name: str, offset: int, what: str) -> Register:
    return Register(name, offset, f"address of the {what} in shared memory")


def _pair(name: str, offset: int, doc: str, lo: str, hi: str, signed: bool = False) -> Register:
    return Register(name, offset, doc, fields=(BitField(lo, 0, 16, signed=signed),
                                               BitField(hi, 16, 16, signed=signed)))


SPEC = PeripheralSpec(
    name="qdepthwise",
    base=0x4000_1000,
    doc="int8 depthwise conv2d (multiplier 1) + int32 bias, NHWC input, [C][KH][KW] weights, "
        "int32 NHWC output",
    registers=(
        *control_registers(magic=0x5144),  # "QD"
        _addr("INPUT_ADDR", 0x010, "int8 input [H][W][C]"),
        _addr("WEIGHT_ADDR", 0x014, "int8 weights [C][KH][KW]"),
        _addr("BIAS_ADDR", 0x018, "int32 bias [C]"),
        _addr("OUTPUT_ADDR", 0x01C, "int32 output [OH][OW][C]"),
        _pair("INPUT_SHAPE", 0x020, "input height and width", "HEIGHT", "WIDTH"),
        _pair("OUTPUT_SHAPE", 0x024, "output height and width", "HEIGHT", "WIDTH"),
        Register("CHANNELS", 0x028, "channels (input = output)",
                 fields=(BitField("COUNT", 0, 16),)),
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
    settings=QDepthwiseSettings,
    capabilities=DepthwiseCapabilities(
        kernel_sizes=tuple(range(1, 12)), strides=(1, 2), max_padding=5,
        max_channels=1024, max_spatial=256),
    constants=dict(ERROR_CODES),
)

BINDING = ConvBinding(SPEC, {
    "in_h": "INPUT_SHAPE.HEIGHT", "in_w": "INPUT_SHAPE.WIDTH",
    "in_c": "CHANNELS.COUNT", "out_c": "CHANNELS.COUNT",
    "out_h": "OUTPUT_SHAPE.HEIGHT", "out_w": "OUTPUT_SHAPE.WIDTH",
    "k_h": "KERNEL.HEIGHT", "k_w": "KERNEL.WIDTH",
    "stride_h": "KERNEL.STRIDE_H", "stride_w": "KERNEL.STRIDE_W",
    "pad_top": "PADDING.TOP", "pad_left": "PADDING.LEFT",
    "pad_bottom": "PADDING.BOTTOM", "pad_right": "PADDING.RIGHT",
    "pad_value": "PAD_VALUE.VALUE",
    "input_offset": "OFFSETS.INPUT", "weight_offset": "OFFSETS.WEIGHT",
})
