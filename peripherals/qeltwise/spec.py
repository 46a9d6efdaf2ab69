"""The QEltwise declaration: registers, capabilities, settings.  Edit here only.

The VP register file, the C header `qeltwise_regs.h` (with the generated
`qeltwise_eltwise_params_t` / `qeltwise_pool_params_t` and their program functions) and the
compiler's capability checks are all derived from `SPEC`, `ELTWISE` and `POOL`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mlonmcu_lite.peripheral.accelerator import ERROR_CODES, control_registers
from mlonmcu_lite.peripheral.capabilities import JobBinding
from mlonmcu_lite.peripheral.conv_engine import (WaitModeSettings, address_register, padding_register,
                                                 pair_register, window_register)
from mlonmcu_lite.peripheral.eltwise import ADD_FIELDS, EltwiseJob, PoolJob, add_registers
from mlonmcu_lite.peripheral.settings import CODEGEN, CostSettings
from mlonmcu_lite.peripheral.spec import BitField, PeripheralSpec, Register


class QEltwiseSettings(WaitModeSettings, CostSettings):
    """`cycles = setup_cycles + ceil(ops / macs_per_cycle)` where an op is one output element
    of ADD/MUL or one window tap of a pool (a modelled figure: `macs_per_cycle` counts element
    lanes here); `eltwise` / `pool` switch the two pattern families on or off."""

    macs_per_cycle: int = Field(4, ge=1, le=65_536, description="element lanes: ops per cycle")
    eltwise: bool = Field(True, description="take element-wise ADD/MUL", json_schema_extra=CODEGEN)
    pool: bool = Field(True, description="take average/max pooling", json_schema_extra=CODEGEN)


class QEltwiseCapabilities(BaseModel):
    """What the engine runs (further limited by the register fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_count: int = Field(ge=1)
    max_spatial: int = Field(ge=1)
    max_channels: int = Field(ge=1)
    max_pool_size: int = Field(ge=1)

    def job_problem(self, job: EltwiseJob | PoolJob) -> str | None:
        if isinstance(job, EltwiseJob):
            return f"{job.count} elements exceed {self.max_count}" if job.count > self.max_count else None
        spatial = max(job.in_h, job.in_w, job.out_h, job.out_w)
        if spatial > self.max_spatial:
            return f"spatial size {spatial} exceeds {self.max_spatial}"
        if job.channels > self.max_channels:
            return f"{job.channels} channels exceed {self.max_channels}"
        if max(job.k_h, job.k_w) > self.max_pool_size:
            return f"pool {job.k_h}x{job.k_w} exceeds {self.max_pool_size}"
        return None


SPEC = PeripheralSpec(
    name="qeltwise",
    base=0x4000_D000,
    doc="int8 element-wise ADD/MUL (TFLite's rescales) of two tensors, and average/max pooling "
        "(NHWC), int8 output",
    registers=(
        *control_registers(magic=0x5145),  # "QE"
        address_register("A_ADDR", 0x010, "int8 input a (a pool's input [H][W][C])"),
        address_register("B_ADDR", 0x014, "int8 input b (element-wise ops)"),
        address_register("OUTPUT_ADDR", 0x018, "int8 output (may be input a or b)"),
        Register("OP", 0x01C, "the operation", fields=(
            BitField("CODE", 0, 2, "0 ADD, 1 MUL, 2 AVERAGE_POOL, 3 MAX_POOL"),)),
        Register("COUNT", 0x020, "elements of an element-wise op", fields=(BitField("VALUE", 0, 24),)),
        *add_registers(0x024),
        pair_register("POOL_INPUT", 0x040, "pool input height and width", "HEIGHT", "WIDTH"),
        pair_register("POOL_OUTPUT", 0x044, "pool output height and width", "HEIGHT", "WIDTH"),
        Register("POOL_CHANNELS", 0x048, "pool channels", fields=(BitField("COUNT", 0, 16),)),
        window_register("POOL_KERNEL", 0x04C, "pool window and strides"),
        padding_register("POOL_PADDING", 0x050, "padding (padded taps are skipped)"),
        Register("POOL_CLAMP", 0x054, "activation clamp of the pool output", fields=(
            BitField("LO", 0, 8, signed=True), BitField("HI", 8, 8, signed=True))),
    ),
    settings=QEltwiseSettings,
    capabilities=QEltwiseCapabilities(max_count=1 << 20, max_spatial=256, max_channels=1024,
                                      max_pool_size=64),
    constants=dict(ERROR_CODES),
)

ELTWISE = JobBinding(SPEC, {"op": "OP.CODE", "count": "COUNT.VALUE", **ADD_FIELDS}, job=EltwiseJob)
POOL = JobBinding(SPEC, {
    "op": "OP.CODE", "in_h": "POOL_INPUT.HEIGHT", "in_w": "POOL_INPUT.WIDTH",
    "channels": "POOL_CHANNELS.COUNT", "out_h": "POOL_OUTPUT.HEIGHT", "out_w": "POOL_OUTPUT.WIDTH",
    "k_h": "POOL_KERNEL.HEIGHT", "k_w": "POOL_KERNEL.WIDTH",
    "stride_h": "POOL_KERNEL.STRIDE_H", "stride_w": "POOL_KERNEL.STRIDE_W",
    "pad_top": "POOL_PADDING.TOP", "pad_left": "POOL_PADDING.LEFT",
    "pad_bottom": "POOL_PADDING.BOTTOM", "pad_right": "POOL_PADDING.RIGHT",
    "lo": "POOL_CLAMP.LO", "hi": "POOL_CLAMP.HI"}, job=PoolJob)
