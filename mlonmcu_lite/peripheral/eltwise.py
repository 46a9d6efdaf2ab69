"""Element-wise ADD / MUL and pooling jobs: the parameters an engine is programmed with, and
their maths, declared once for every engine that has them.

`add_registers` is the register block of TFLite's int8 ADD parameters (`AddParams`);
`ADD_FIELDS` binds an `AddJob` to it.  A conv engine's residual stage (`residual_registers`,
`ResidualJob`: the conv's int8 output is input a, a second activation b, written in place)
and the element-wise engine (`EltwiseJob`: ADD or MUL of `count` elements) both use it.
`PoolJob` is an AVERAGE_POOL_2D / MAX_POOL_2D job.  `add_int8`, `mul_int8` and `pool_int8`
are the device maths, TFLite's integer kernels (add.cc, mul.cc, pooling.cc) exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from .backend import AddParams, EltwiseRegion, PoolRegion
from .requant import multiply_by_quantized_multiplier as mbqm
from .settings import CODEGEN
from .spec import BitField, Register

OP_ADD, OP_MUL, OP_AVG_POOL, OP_MAX_POOL = 0, 1, 2, 3


def _value(name: str, offset: int, doc: str) -> Register:
    return Register(name, offset, doc, fields=(BitField("VALUE", 0, 31, "in [0, 2^31)"),))


def add_registers(offset: int) -> tuple[Register, ...]:
    """Six registers from `offset` on: TFLite's ADD (and MUL) parameters."""
    return (
        Register("ADD_SHIFTS", offset, "left shift of both inputs, and each rescale's shift "
                 "(> 0: left)", fields=(BitField("LEFT", 0, 5), BitField("A", 8, 8, signed=True),
                                        BitField("B", 16, 8, signed=True),
                                        BitField("OUT", 24, 8, signed=True))),
        Register("ADD_OFFSETS", offset + 4, "added to input a / b (minus their zero points)",
                 fields=(BitField("A", 0, 16, signed=True), BitField("B", 16, 16, signed=True))),
        _value("ADD_A_MULT", offset + 8, "quantized multiplier of input a"),
        _value("ADD_B_MULT", offset + 12, "quantized multiplier of input b"),
        _value("ADD_OUT_MULT", offset + 16, "quantized multiplier of the output"),
        Register("ADD_OUTPUT", offset + 20, "output zero point and activation clamp", fields=(
            BitField("ZERO_POINT", 0, 8, signed=True), BitField("LO", 8, 8, signed=True),
            BitField("HI", 16, 8, signed=True))),
    )


@dataclass(frozen=True)
class AddJob:
    """`AddParams` flat, as registers hold it (MUL: offsets and out_* only, the rest 0)."""

    left_shift: int = 0
    a_offset: int = 0
    b_offset: int = 0
    a_mult: int = 0
    a_shift: int = 0
    b_mult: int = 0
    b_shift: int = 0
    out_mult: int = 0
    out_shift: int = 0
    out_zero_point: int = 0
    out_lo: int = -128
    out_hi: int = 127

    @classmethod
    def of(cls, p: AddParams) -> "AddJob":
        (am, ash), (bm, bsh) = p.inputs
        return cls(p.left_shift, *p.offsets, am, ash, bm, bsh, *p.output, p.zero_point, p.lo, p.hi)

    def problem(self) -> str | None:
        if self.out_lo > self.out_hi:
            return f"clamp [{self.out_lo}, {self.out_hi}] is empty"
        return None


ADD_FIELDS = {"left_shift": "ADD_SHIFTS.LEFT", "a_offset": "ADD_OFFSETS.A", "b_offset": "ADD_OFFSETS.B",
              "a_mult": "ADD_A_MULT.VALUE", "a_shift": "ADD_SHIFTS.A", "b_mult": "ADD_B_MULT.VALUE",
              "b_shift": "ADD_SHIFTS.B", "out_mult": "ADD_OUT_MULT.VALUE", "out_shift": "ADD_SHIFTS.OUT",
              "out_zero_point": "ADD_OUTPUT.ZERO_POINT", "out_lo": "ADD_OUTPUT.LO", "out_hi": "ADD_OUTPUT.HI"}


def add_int8(a: np.ndarray, b: np.ndarray, job: AddJob) -> np.ndarray:
    """TFLite's int8 ADD (reference_integer_ops::AddElementwise), int64-exact."""
    sa = mbqm((a.astype(np.int64) + job.a_offset) << job.left_shift, job.a_mult, job.a_shift)
    sb = mbqm((b.astype(np.int64) + job.b_offset) << job.left_shift, job.b_mult, job.b_shift)
    out = mbqm(sa + sb, job.out_mult, job.out_shift) + job.out_zero_point
    return np.clip(out, job.out_lo, job.out_hi).astype(np.int8)


def mul_int8(a: np.ndarray, b: np.ndarray, job: AddJob) -> np.ndarray:
    """TFLite's int8 MUL (reference_integer_ops::MulElementwise)."""
    product = (a.astype(np.int64) + job.a_offset) * (b.astype(np.int64) + job.b_offset)
    out = mbqm(product, job.out_mult, job.out_shift) + job.out_zero_point
    return np.clip(out, job.out_lo, job.out_hi).astype(np.int8)


# -- a conv engine's residual stage ---------------------------------------------------------

def residual_registers(offset: int) -> tuple[Register, ...]:
    """RESIDUAL (ENABLE), RES_ADDR, then `add_registers`: eight registers from `offset` on."""
    return (Register("RESIDUAL", offset, "residual ADD after the requantization", fields=(
                BitField("ENABLE", 0, 1, "add the int8 tensor at RES_ADDR to the int8 output"),)),
            Register("RES_ADDR", offset + 4, "address of the int8 residual input (same shape as "
                     "the output; the output may overwrite it)"),
            *add_registers(offset + 8))


@dataclass(frozen=True)
class ResidualJob(AddJob):
    res_enable: int = 0

    @classmethod
    def of(cls, p: AddParams | None) -> "ResidualJob":
        return cls() if p is None else cls(**vars(AddJob.of(p)), res_enable=1)


RESIDUAL_FIELDS = {"res_enable": "RESIDUAL.ENABLE", **ADD_FIELDS}


def residual_binding(spec):
    """The `ResidualJob` binding of a spec with `residual_registers`."""
    from .capabilities import JobBinding
    return JobBinding(spec, RESIDUAL_FIELDS, job=ResidualJob)


# -- the element-wise engine's jobs -------------------------------------------------------

@dataclass(frozen=True)
class EltwiseJob(AddJob):
    op: int = OP_ADD
    count: int = 1

    @classmethod
    def from_region(cls, region: EltwiseRegion) -> "EltwiseJob":
        return cls(**vars(AddJob.of(region.params)), op=OP_ADD if region.op == "add" else OP_MUL,
                   count=region.count)

    @property
    def macs(self) -> int:
        """Element operations (one per output element): the lanes' work."""
        return self.count

    def problem(self) -> str | None:
        if self.op not in (OP_ADD, OP_MUL):
            return f"op={self.op} is not an element-wise op"
        if self.count < 1:
            return f"count={self.count} must be >= 1"
        return super().problem()


@dataclass(frozen=True)
class PoolJob:
    op: int
    in_h: int
    in_w: int
    channels: int
    out_h: int
    out_w: int
    k_h: int
    k_w: int
    stride_h: int = 1
    stride_w: int = 1
    pad_top: int = 0
    pad_left: int = 0
    pad_bottom: int = 0
    pad_right: int = 0
    lo: int = -128
    hi: int = 127

    @classmethod
    def from_region(cls, region: PoolRegion) -> "PoolJob":
        _, ih, iw, c = region.input_shape
        _, oh, ow, _ = region.output_shape
        return cls(OP_AVG_POOL if region.mode == "avg" else OP_MAX_POOL, ih, iw, c, oh, ow,
                   *region.pool_size, *region.strides, *region.padding, region.lo, region.hi)

    @property
    def macs(self) -> int:
        """Element operations: every tap of every output element (padded taps included)."""
        return self.out_h * self.out_w * self.channels * self.k_h * self.k_w

    @property
    def input_count(self) -> int:
        return self.in_h * self.in_w * self.channels

    @property
    def output_count(self) -> int:
        return self.out_h * self.out_w * self.channels

    def problem(self) -> str | None:
        if self.op not in (OP_AVG_POOL, OP_MAX_POOL):
            return f"op={self.op} is not a pooling op"
        dims = dict(in_h=self.in_h, in_w=self.in_w, channels=self.channels, out_h=self.out_h,
                    out_w=self.out_w, k_h=self.k_h, k_w=self.k_w, stride_h=self.stride_h, stride_w=self.stride_w)
        for name, value in dims.items():
            if value < 1:
                return f"{name}={value} must be >= 1"
        for size, k, s, before, after, out, axis in (
                (self.in_h, self.k_h, self.stride_h, self.pad_top, self.pad_bottom, self.out_h, "height"),
                (self.in_w, self.k_w, self.stride_w, self.pad_left, self.pad_right, self.out_w, "width")):
            if (size + before + after - k) // s + 1 != out or before >= k or after >= k:
                return f"{axis}: input {size}, kernel {k}, stride {s}, padding {before}/{after} " \
                       f"inconsistent with output {out}"
        if self.lo > self.hi:
            return f"clamp [{self.lo}, {self.hi}] is empty"
        return None


def pool_int8(x: np.ndarray, job: PoolJob) -> np.ndarray:
    """x int8 [H, W, C] -> int8 [OH, OW, C]: over each window's valid taps, the sum divided by
    their count rounding half away from zero (AVERAGE_POOL_2D), or their max (MAX_POOL_2D)."""
    total = np.zeros((job.out_h, job.out_w, job.channels), np.int64)
    count = np.zeros((job.out_h, job.out_w, 1), np.int64)
    best = np.full(total.shape, -(1 << 40), np.int64)
    rows = np.arange(job.out_h) * job.stride_h - job.pad_top
    cols = np.arange(job.out_w) * job.stride_w - job.pad_left
    for dy in range(job.k_h):
        for dx in range(job.k_w):
            r, c = rows + dy, cols + dx
            valid = ((r >= 0) & (r < job.in_h))[:, None] & ((c >= 0) & (c < job.in_w))[None, :]
            taps = x[np.clip(r, 0, job.in_h - 1)][:, np.clip(c, 0, job.in_w - 1)].astype(np.int64)
            total += np.where(valid[..., None], taps, 0)
            best = np.where(valid[..., None], np.maximum(best, taps), best)
            count += valid[..., None]
    if job.op == OP_MAX_POOL:
        out = best
    else:
        quotient = (np.abs(total) + count // 2) // count
        out = np.where(total < 0, -quotient, quotient)
    return np.clip(out, job.lo, job.hi).astype(np.int8)


class ResidualSettings(BaseModel):
    """Mixin of a conv engine with `residual_registers`: whether it also takes the residual ADD
    that follows a layer (only with `fused_requant`).  On by default: resnet with QVanilla keeps
    no separate buffer for the conv's output, as the CPU path's fused conv+ADD kernel
    (docs/ARCHITECTURE.md has the figures)."""

    fused_residual: bool = Field(
        True, description="with fused_requant: the device also adds the residual input (TFLite "
        "ADD) and writes the sum, in place over that input when it dies there",
        json_schema_extra=CODEGEN)
