"""Relax emitters for TFLite's fixed-point requantization (int64 elementwise ops only).

One function per TFLite rounding scheme, shared by every op that requantizes:

* `multiply_double_rounding` — MultiplyByQuantizedMultiplier with gemmlowp's two roundings
  (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT).  Used by CONV_2D,
  DEPTHWISE_CONV_2D and ADD in ai-edge-litert's reference kernels.
* `multiply_single_rounding` — `(x·M + 2^(30−s)) >> (31−s)`, the single rounding that
  ai-edge-litert 2.3's reference FULLY_CONNECTED uses (TFLite-Micro rounds twice there).

Identities used (exact for every int32 x and multiplier 0 ≤ M < 2^31, checked in tests):
SaturatingRoundingDoublingHighMul(a, M) == (a·M + 2^30) >> 31, and
RoundingDivideByPOT(y, r) == (y + (y < 0 ? c−1 : c)) >> r with c = 2^r >> 1 (r > 0).
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from tvm import relax
from tvm.relax import op as R

from .fixedpoint import Multipliers


def const(values, dtype: str) -> relax.Constant:
    """Relax constant of an explicit dtype (relax.const would narrow int64 to int32)."""
    return relax.const(np.asarray(values, dtype=dtype), dtype)


def _channels(values: tuple[int, ...]) -> np.ndarray:
    """A scalar for per-tensor parameters, else a vector broadcasting along the last axis."""
    arr = np.asarray(values, dtype="int64")
    return arr.reshape(()) if arr.size == 1 else arr


def rounding_divide_by_pot(x: relax.Expr, exponent: np.ndarray) -> relax.Expr:
    """gemmlowp RoundingDivideByPOT for int64 x and constant non-negative exponents."""
    exponent = np.asarray(exponent, dtype="int64")
    half = (np.int64(1) << exponent) >> 1
    half_neg = np.maximum(half - 1, 0)
    nudge = R.where(R.less(x, const(0, "int64")), const(half_neg, "int64"), const(half, "int64"))
    return R.right_shift(R.add(x, nudge), const(exponent, "int64"))


def srdhm(a: relax.Expr, b: relax.Expr) -> relax.Expr:
    """SaturatingRoundingDoublingHighMul of int64-held int32 values (never both INT32_MIN)."""
    return R.right_shift(R.add(R.multiply(a, b), const(1 << 30, "int64")), const(31, "int64"))


def multiply_double_rounding(x: relax.Expr, m: Multipliers) -> relax.Expr:
    """MultiplyByQuantizedMultiplier, double rounding; x is int64 holding int32 values."""
    mult = _channels(m.multiplier)
    shift = _channels(m.shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    # (x << left)·M == x·(M << left): the product stays below 2^62 for any x·2^left in int32.
    high = srdhm(x, const(mult << left, "int64"))
    if not right.any():
        return high
    return rounding_divide_by_pot(high, right)


def multiply_single_rounding(x: relax.Expr, m: Multipliers) -> relax.Expr:
    """MultiplyByQuantizedMultiplier, TFLITE_SINGLE_ROUNDING: (x·M + 2^(30−s)) >> (31−s)."""
    mult = _channels(m.multiplier)
    total_shift = 31 - _channels(m.shift)
    rounding = np.int64(1) << (total_shift - 1)
    scaled = R.add(R.multiply(x, const(mult, "int64")), const(rounding, "int64"))
    return R.right_shift(scaled, const(total_shift, "int64"))


def multiply_int64(x: relax.Expr, m: Multipliers) -> relax.Expr:
    """MultiplyByQuantizedMultiplier(int64 x, ...) of the 16x8 kernels (x within 48 bits).

    The multiplier is reduced to 16 bits, `(M + 2^15) >> 16` (0x7FFF from 0x7FFF0000 up),
    then `(x·m + 2^(14−s)) >> (15−s)`: one rounding, half up.
    """
    mult = np.asarray(m.multiplier, dtype="int64")
    reduced = np.where(mult < 0x7FFF0000, (mult + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - np.asarray(m.shift, dtype="int64")
    reduced = reduced.reshape(()) if reduced.size == 1 else reduced
    total_shift = total_shift.reshape(()) if total_shift.size == 1 else total_shift
    scaled = R.add(R.multiply(x, const(reduced, "int64")), const(np.int64(1) << (total_shift - 1), "int64"))
    return R.right_shift(scaled, const(total_shift, "int64"))


class Rounding(Enum):
    """TFLite rounding scheme of an op's output rescale."""

    DOUBLE = "double"
    SINGLE = "single"
    INT64 = "int64"  # the 16x8 kernels' int64-accumulator multiply


_MULTIPLY = {Rounding.DOUBLE: multiply_double_rounding, Rounding.SINGLE: multiply_single_rounding,
             Rounding.INT64: multiply_int64}


def to_dtype(x: relax.Expr, zero_point: int, lo: int, hi: int, dtype: str = "int8") -> relax.Expr:
    """Add the output zero point to int64 x, clamp to [lo, hi], cast to the output dtype."""
    shifted = R.add(x, const(zero_point, "int64")) if zero_point else x
    return R.astype(R.clip(shifted, lo, hi), dtype)


def to_int8(x: relax.Expr, zero_point: int, lo: int, hi: int) -> relax.Expr:
    """`to_dtype` for int8 outputs."""
    return to_dtype(x, zero_point, lo, hi, "int8")


def rescale(x: relax.Expr, m: Multipliers, rounding: Rounding) -> relax.Expr:
    """int64 x (holding int32 values) times the quantized multiplier, in `rounding`."""
    return _MULTIPLY[rounding](x, m)


def requantize(acc: relax.Expr, m: Multipliers, zero_point: int, act_range: tuple[int, int],
               rounding: Rounding, dtype: str = "int8") -> relax.Expr:
    """int32/int64 accumulator → `dtype`: fixed-point rescale, zero point, activation clamp."""
    return to_dtype(rescale(R.astype(acc, "int64"), m, rounding), zero_point, *act_range, dtype)
