"""The QVanilla declaration: registers, capabilities, settings.  Edit here only.

The VP register file, the C header `qvanilla_regs.h` and the compiler's
capability check are all derived from `SPEC` and `BINDING`.
"""

from __future__ import annotations

from mlonmcu_lite.peripheral.accelerator import ERROR_CODES, control_registers
from mlonmcu_lite.peripheral.capabilities import ConvBinding, ConvCapabilities
from mlonmcu_lite.peripheral.conv_engine import (CHANNELS_OFFSET, GEOMETRY_FIELDS, WaitModeSettings,
                                                 conv_engine_registers, pair_register)
from mlonmcu_lite.peripheral.cost_detailed import CostModelSettings
from mlonmcu_lite.peripheral.eltwise import ResidualSettings, residual_registers
from mlonmcu_lite.peripheral.requant import BandSettings, RequantSettings
from mlonmcu_lite.peripheral.spec import PeripheralSpec


class QVanillaSettings(CostModelSettings, WaitModeSettings, RequantSettings, BandSettings, ResidualSettings):
    """Busy time: `cost_model=simple` (default, `setup_cycles + ceil(MACs / macs_per_cycle)`)
    or `detailed` (`pe_lanes` output channels x `macs_per_cycle / pe_lanes` taps, bus width
    `dma_bytes_per_cycle` with burst latency, local buffers -> tiling, double buffering: see
    peripheral/cost_detailed.py).  The requantization is pipelined (no extra cycles; the
    detailed model charges its bytes); a fused residual ADD costs `ceil(OH*OW*OC /
    macs_per_cycle)` more cycles in the simple model (its additions at the lane count) and
    its input's bytes in the detailed one (the additions overlap there).  How the driver
    waits (`wait_mode`, default `stall`: see `WaitModeSettings`); whether the engine writes
    requantized int8 (`fused_requant`: see `RequantSettings`; else int32 in row bands of
    `band_scratch_bytes`, see `BandSettings`) and adds a residual input
    (`fused_residual`: see `ResidualSettings`)."""


SPEC = PeripheralSpec(
    name="qvanilla",
    base=0x4000_0000,
    doc="int8 conv2d + int32 bias, NHWC input, OHWI weights, int32 NHWC output (or int8 with "
        "the fused requantization, optionally plus a residual int8 input)",
    registers=(
        *control_registers(magic=0x5156),  # "QV"
        *conv_engine_registers(
            pair_register("CHANNELS", CHANNELS_OFFSET, "input and output channels", "IN", "OUT"),
            input_layout="[H][W][C]", weight_layout="[O][KH][KW][C]", bias_layout="[O]",
            output_layout="[OH][OW][O]"),
        *residual_registers(0x04C),
    ),
    settings=QVanillaSettings,
    capabilities=ConvCapabilities(
        kernel_sizes=tuple(range(1, 12)), strides=(1, 2), max_padding=5, groups=(1,),
        max_channels=512, max_spatial=256),
    constants=dict(ERROR_CODES),
)

BINDING = ConvBinding(SPEC, {**GEOMETRY_FIELDS, "in_c": "CHANNELS.IN", "out_c": "CHANNELS.OUT"})
