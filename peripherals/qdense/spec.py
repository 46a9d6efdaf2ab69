"""The QDense declaration: registers, capabilities, settings.  Edit here only.

The VP register file, the C header `qdense_regs.h` (with the generated `qdense_fc_params_t`
and `qdense_program_fc()`) and the compiler's capability check are all derived from `SPEC`
and `BINDING`.
"""

from __future__ import annotations

from mlonmcu_lite.peripheral.accelerator import ERROR_CODES, control_registers
from mlonmcu_lite.peripheral.capabilities import JobBinding
from mlonmcu_lite.peripheral.conv_engine import WaitModeSettings, address_register, pair_register
from mlonmcu_lite.peripheral.cost_detailed import CostModelSettings
from mlonmcu_lite.peripheral.dense import DenseCapabilities, DenseJob
from mlonmcu_lite.peripheral.requant import REQUANT_FIELDS, RequantSettings, requant_registers
from mlonmcu_lite.peripheral.spec import BitField, PeripheralSpec, Register


class QDenseSettings(CostModelSettings, WaitModeSettings, RequantSettings):
    """`macs_per_cycle` multipliers in `pe_lanes` lanes (one output unit each); the detailed
    cost model charges DMA of the weights, which dominate a fully connected layer;
    `fused_requant` (default on) applies TFLite's single-rounding FC rescale on the device."""


SPEC = PeripheralSpec(
    name="qdense",
    base=0x4000_E000,
    doc="int8 fully connected: x [M][K] x w [N][K] + int32 bias [N] -> int32 or requantized int8 [M][N]",
    registers=(
        *control_registers(magic=0x5146),  # "QF"
        address_register("INPUT_ADDR", 0x010, "int8 input [M][K]"),
        address_register("WEIGHT_ADDR", 0x014, "int8 weights [N][K]"),
        address_register("BIAS_ADDR", 0x018, "int32 bias [N]"),
        address_register("OUTPUT_ADDR", 0x01C, "int32 (or int8 with REQUANT.ENABLE) output [M][N]"),
        Register("ROWS", 0x020, "rows M of the input", fields=(BitField("COUNT", 0, 16),)),
        pair_register("DIMS", 0x024, "depth K and units N", "DEPTH", "UNITS"),
        pair_register("OFFSETS", 0x028, "added to every input / weight value", "INPUT", "WEIGHT",
                      signed=True),
        *requant_registers(0x02C),
    ),
    settings=QDenseSettings,
    capabilities=DenseCapabilities(max_rows=64, max_depth=8192, max_units=4096),
    constants=dict(ERROR_CODES),
)

BINDING = JobBinding(SPEC, {"rows": "ROWS.COUNT", "depth": "DIMS.DEPTH", "units": "DIMS.UNITS",
                            "input_offset": "OFFSETS.INPUT", "weight_offset": "OFFSETS.WEIGHT",
                            **REQUANT_FIELDS}, job=DenseJob)
