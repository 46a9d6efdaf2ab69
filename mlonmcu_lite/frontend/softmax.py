"""SOFTMAX int8 → TFLite's reference integer softmax (gemmlowp fixed point), no float.

Per row: d = max − x indexes two 256-entry tables computed at compile time
(`fixedpoint.softmax_table`: exp(−d·β·s_in) in Q0.31 and rescaled to the Q12.19 sum);
the reciprocal of the sum uses gemmlowp's Newton–Raphson (`one_over_one_plus_x_for_x_in_0_1`)
after normalising by its count of leading zeros (a sum of 32 comparisons, since TVM's
`clz` has no C lowering); the output is exp·reciprocal rounded to the fixed 1/256 scale.
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_op

from .errors import FrontendError
from .fixedpoint import (INT32_MAX, INT32_MIN, SOFTMAX_ACCUM_BITS, SOFTMAX_INT16_EXP_LUT,
                         SOFTMAX_INT16_RECIPROCAL_LUT, softmax_int16_multiplier, softmax_table)
from .patterns import Rewrite, dequantize, quantize
from .requant import Rounding, const, rescale, srdhm

_x = dequantize()
_out = quantize(is_op("relax.nn.softmax")(_x.pattern))

OUTPUT_SCALE, OUTPUT_ZERO_POINT = 1.0 / 256.0, -128


def _i64(v: int) -> relax.Expr:
    return const(v, "int64")


def _saturating_shift_left(x: relax.Expr, bits: int) -> relax.Expr:
    return R.clip(R.multiply(x, _i64(1 << bits)), INT32_MIN, INT32_MAX)


def one_over_one_plus_x(a: relax.Expr) -> relax.Expr:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 on int64-held Q0.31 values a ≥ 0."""
    half_denominator = R.right_shift(R.add(a, _i64(1 << 31)), _i64(1))  # RoundingHalfSum(a, 1)
    x = R.add(_i64(1515870810), srdhm(half_denominator, _i64(-1010580540)))  # 48/17 − 32/17·d
    for _ in range(3):
        one_minus = R.subtract(_i64(1 << 29), srdhm(half_denominator, x))
        x = R.add(x, _saturating_shift_left(srdhm(x, one_minus), 2))
    return _saturating_shift_left(x, 1)


def _count_leading_zeros(s: relax.Expr) -> relax.Expr:
    """clz of positive int64-held int32 values: #{k in 0..31 : s < 2^k} (shape [..., 1])."""
    powers = const(np.left_shift(np.int64(1), np.arange(32, dtype=np.int64)), "int64")
    return R.sum(R.astype(R.less(s, powers), "int64"), axis=-1, keepdims=True)


def _build(root: relax.Expr, m: dict) -> relax.Expr:
    if _x.dtype(m) == "int16":
        return _build_int16(m)
    x_scale, _ = _x.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    if abs(out_scale - OUTPUT_SCALE) > 1e-9 or out_zp != OUTPUT_ZERO_POINT:
        raise FrontendError(f"SOFTMAX output quantization ({out_scale}, {out_zp}) is not (1/256, -128)")
    if int(m[_out.data].attrs.axis) not in (-1, len(m[_x.data].ty.shape) - 1):
        raise FrontendError("SOFTMAX over an axis other than the last")
    table = softmax_table(x_scale)
    x = m[_x.data]
    diff = R.subtract(R.astype(R.max(x, axis=-1, keepdims=True), "int32"), R.astype(x, "int32"))
    exp = R.astype(R.take(const(table.exp, "int32"), diff, axis=0), "int64")
    total = R.astype(R.sum(R.take(const(table.exp_q12, "int32"), diff, axis=0), axis=-1, keepdims=True),
                     "int64")
    clz = _count_leading_zeros(total)
    # GetReciprocal: normalise the sum to [1, 2) and invert it.
    reciprocal = one_over_one_plus_x(R.subtract(R.left_shift(total, clz), _i64(1 << 31)))
    exponent = R.add(R.subtract(_i64(SOFTMAX_ACCUM_BITS), clz), _i64(31 - 8))
    product = srdhm(reciprocal, exp)  # ≥ 0, so RoundingDivideByPOT is a plain rounding shift
    rounded = R.right_shift(R.add(product, R.left_shift(_i64(1), R.subtract(exponent, _i64(1)))), exponent)
    return R.astype(R.clip(R.add(rounded, _i64(OUTPUT_ZERO_POINT)), -128, 127), "int8")


def _lut_lookup(value: relax.Expr, lut: tuple[int, ...]) -> relax.Expr:
    """generic_int16_table_lookup: base + ((slope · (v & 127) + 64) >> 7), v an int16 in int32."""
    table = const(lut, "int32")
    index = R.add(R.right_shift(value, const(7, "int32")), const(256, "int32"))
    base = R.take(table, index, axis=0)
    slope = R.subtract(R.take(table, R.add(index, const(1, "int32")), axis=0), base)
    offset = R.bitwise_and(value, const(127, "int32"))
    delta = R.right_shift(R.add(R.multiply(slope, offset), const(64, "int32")), const(7, "int32"))
    return R.add(base, delta)


def _build_int16(m: dict) -> relax.Expr:
    """reference_ops::SoftmaxInt16: exp and 1/(1+x) from TFLite's 513-entry int16 tables."""
    x_scale, _ = _x.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    if abs(out_scale - 1.0 / 32768.0) > 1e-12 or out_zp != 0:
        raise FrontendError(f"int16 SOFTMAX output quantization ({out_scale}, {out_zp}) is not (1/32768, 0)")
    x = R.astype(m[_x.data], "int64")
    diff = R.subtract(x, R.max(x, axis=-1, keepdims=True))
    scaled = rescale(diff, softmax_int16_multiplier(x_scale), Rounding.DOUBLE)
    sym = R.astype(R.clip(R.add(scaled, _i64(32767)), -32768, 32767), "int32")
    exp = _lut_lookup(sym, SOFTMAX_INT16_EXP_LUT)
    total = R.astype(R.sum(exp, axis=-1, keepdims=True), "int64")
    clz = _count_leading_zeros(total)
    shifted = R.right_shift(R.add(R.left_shift(total, R.subtract(clz, _i64(1))), _i64(1 << 13)), _i64(14))
    sym_sum = R.astype(R.clip(R.subtract(shifted, _i64((1 << 15) + (1 << 16))), -32768, 32767), "int32")
    reciprocal = R.astype(_lut_lookup(sym_sum, SOFTMAX_INT16_RECIPROCAL_LUT), "int64")
    right_shift = R.subtract(_i64(31), clz)
    product = R.multiply(R.astype(exp, "int64"), reciprocal)
    rounded = R.right_shift(R.add(product, R.left_shift(_i64(1), R.subtract(right_shift, _i64(1)))), right_shift)
    return R.astype(R.clip(rounded, 0, 32767), "int16")


REWRITES: list[Rewrite] = [Rewrite("softmax", _out.pattern, _build)]
