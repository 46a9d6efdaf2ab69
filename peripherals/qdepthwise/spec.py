"""The QDepthwise declaration: registers, capabilities, settings.  Edit here only.

The VP register file, the C header `qdepthwise_regs.h` and the compiler's
capability check are all derived from `SPEC` and `BINDING`.  One CHANNELS field
holds both `in_c` and `out_c`: the engine computes channel multiplier 1 only.
It sits in the top peripheral window so that `bench peripheral new` keeps handing
the low free windows to new peripherals.
"""

from __future__ import annotations

from pydantic import Field

from mlonmcu_lite.peripheral.accelerator import ERROR_CODES, control_registers
from mlonmcu_lite.peripheral.capabilities import ConvBinding
from mlonmcu_lite.peripheral.conv_engine import (CHANNELS_OFFSET, GEOMETRY_FIELDS,
                                                 WaitModeSettings, conv_engine_registers)
from mlonmcu_lite.peripheral.cost_detailed import CostModelSettings
from mlonmcu_lite.peripheral.depthwise import DepthwiseCapabilities
from mlonmcu_lite.peripheral.requant import BandSettings, RequantSettings
from mlonmcu_lite.peripheral.spec import BitField, PeripheralSpec, Register


class QDepthwiseSettings(CostModelSettings, WaitModeSettings, RequantSettings, BandSettings):
    """A channel-lane engine: `pe_lanes` channels in parallel, `macs_per_cycle / pe_lanes`
    kernel taps per lane per cycle (charged by `cost_model=detailed`; `simple` charges
    `setup + ceil(MACs / macs_per_cycle)`)."""

    pe_lanes: int = Field(16, ge=1, le=65_536, description="detailed: channel lanes; each has "
                          "macs_per_cycle/pe_lanes multipliers for the kernel taps")


SPEC = PeripheralSpec(
    name="qdepthwise",
    base=0x4000_F000,
    doc="int8 depthwise conv2d (multiplier 1) + int32 bias, NHWC input, [C][KH][KW] weights, "
        "int32 NHWC output",
    registers=(
        *control_registers(magic=0x5144),  # "QD"
        *conv_engine_registers(
            Register("CHANNELS", CHANNELS_OFFSET, "channels (input = output)",
                     fields=(BitField("COUNT", 0, 16),)),
            input_layout="[H][W][C]", weight_layout="[C][KH][KW]", bias_layout="[C]",
            output_layout="[OH][OW][C]"),
    ),
    settings=QDepthwiseSettings,
    capabilities=DepthwiseCapabilities(
        kernel_sizes=tuple(range(1, 12)), strides=(1, 2), max_padding=5,
        max_channels=1024, max_spatial=256),
    constants=dict(ERROR_CODES),
)

BINDING = ConvBinding(SPEC, {**GEOMETRY_FIELDS, "in_c": "CHANNELS.COUNT",
                             "out_c": "CHANNELS.COUNT"})
