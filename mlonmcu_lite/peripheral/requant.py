"""Fused requantization, declared once for every engine that writes int8 outputs.

An engine with it takes a region's `Requant` (backend.py) as registers: REQUANT (ENABLE,
SINGLE rounding, ZERO_POINT), CLAMP (LO, HI) and the addresses of the per-channel int32
multipliers and shifts (`requant_registers`); `REQUANT_FIELDS` binds a `RequantJob` to them.
`requantize` is the device's maths, TFLite's MultiplyByQuantizedMultiplier exactly as the
frontend states it (frontend/requant.py: double rounding for conv, single for FC), so a
fused run stays bit-exact with the CPU's.  `RequantSettings.fused_requant` is a codegen
setting: it reaches the header as `<P>_CFG_FUSED_REQUANT` and the backend's pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from .backend import Requant
from .settings import CODEGEN
from .spec import BitField, PeripheralSpec, Register


class RequantSettings(BaseModel):
    """Mixin: whether the engine takes the requantization that follows a layer.  On by
    default (measured: vww with QVanilla 211,970 -> 82,946 B RAM, as CPU-only, and 10.4M -> 6.9M
    CPU instructions; docs/ARCHITECTURE.md); `fused_requant=false` models an int32-output engine."""

    fused_requant: bool = Field(
        True, description="the device also requantizes (TFLite rounding) and writes int8; "
        "else it writes int32 and the CPU requantizes", json_schema_extra=CODEGEN)


class BandSettings(BaseModel):
    """Mixin for an int32-output engine (`fused_requant=false`): the driver tiles a job into
    bands of output rows, each written by the device into one int32 scratch buffer of
    `band_scratch_bytes` and requantized by the CPU into the int8 output, so a layer's whole
    int32 result never sits in RAM.  A layer whose one output row does not fit keeps the
    untiled int32 path (its int32 tensor in the arena)."""

    band_scratch_bytes: int = Field(
        4096, ge=0, multiple_of=4, description="bytes of the int32 band scratch with "
        "fused_requant=false (0: no tiling, the whole int32 result in the arena)",
        json_schema_extra=CODEGEN)

    def effective_settings(self) -> dict[str, Any]:
        """Without effect when the engine writes int8 (`fused_requant`): left out of the label
        (`bench compare` keys), so the default rows keep theirs."""
        other = getattr(super(), "effective_settings", None)
        values = other() if callable(other) else self.model_dump(mode="json")
        if getattr(self, "fused_requant", False):
            values.pop("band_scratch_bytes", None)
        return values


def requant_registers(offset: int) -> tuple[Register, ...]:
    """Four registers from `offset` on."""
    return (
        Register("REQUANT", offset, "fused requantization: enable, rounding, output zero point",
                 fields=(BitField("ENABLE", 0, 1, "write int8 requantized outputs"),
                         BitField("SINGLE", 1, 1, "single rounding (FC) instead of double"),
                         BitField("ZERO_POINT", 8, 8, "output zero point", signed=True))),
        Register("CLAMP", offset + 4, "activation clamp of the int8 output", fields=(
            BitField("LO", 0, 8, signed=True), BitField("HI", 8, 8, signed=True))),
        Register("MULT_ADDR", offset + 8, "address of the int32 multipliers [C]"),
        Register("SHIFT_ADDR", offset + 12, "address of the int32 shifts [C] (> 0: left)"),
    )


@dataclass(frozen=True)
class RequantJob:
    rq_enable: int = 0
    rq_single: int = 0
    rq_zero_point: int = 0
    rq_lo: int = -128
    rq_hi: int = 127

    @classmethod
    def of(cls, requant: Requant | None) -> "RequantJob":
        if requant is None:
            return cls()
        return cls(1, int(requant.rounding == "single"), requant.zero_point, requant.lo, requant.hi)


REQUANT_FIELDS = {"rq_enable": "REQUANT.ENABLE", "rq_single": "REQUANT.SINGLE",
                  "rq_zero_point": "REQUANT.ZERO_POINT", "rq_lo": "CLAMP.LO", "rq_hi": "CLAMP.HI"}


def requant_binding(spec: PeripheralSpec):
    """The `RequantJob` binding of a spec with `requant_registers`."""
    from .capabilities import JobBinding
    return JobBinding(spec, REQUANT_FIELDS, job=RequantJob)


@dataclass(frozen=True)
class Requantized:
    """A job's cost-model view when its output is written requantized: int8 output bytes,
    the per-channel multipliers and shifts loaded with the bias, and with a fused residual
    ADD (`residual`) the int8 residual tensor read as a further input."""

    job: Any
    residual: bool = False

    def __getattr__(self, name: str):
        # only for attributes the view does not define; `job` itself is missing while pickle
        # rebuilds the object (a worker's result), and must not recurse
        if name == "job" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.job, name)

    @property
    def input_bytes(self) -> int:
        return self.job.input_bytes + (self.output_bytes if self.residual else 0)

    @property
    def output_bytes(self) -> int:
        return self.job.output_bytes // 4

    @property
    def bias_bytes(self) -> int:
        return self.job.bias_bytes + 8 * self.job.out_c


def multiply_by_quantized_multiplier(x, multiplier, shift, single: bool = False) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier of int32 values (held in int64), elementwise with
    broadcasting: double rounding (gemmlowp) or the single rounding of ai-edge-litert's FC."""
    x = np.asarray(x).astype(np.int64)
    mult = np.asarray(multiplier).astype(np.int64)
    shift = np.asarray(shift).astype(np.int64)
    if single:
        total = 31 - shift
        return (x * mult + (np.int64(1) << (total - 1))) >> total
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    y = (x * (mult << left) + (1 << 30)) >> 31
    half = (np.int64(1) << right) >> 1
    return (y + np.where(y < 0, np.maximum(half - 1, 0), half)) >> right


def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray, job: RequantJob) -> np.ndarray:
    """int32 acc [..., C] -> int8, per channel (last axis)."""
    y = multiply_by_quantized_multiplier(acc, multiplier, shift, bool(job.rq_single))
    return np.clip(y + job.rq_zero_point, job.rq_lo, job.rq_hi).astype(np.int8)
