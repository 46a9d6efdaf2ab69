"""TFLite / gemmlowp fixed-point routines written once, over an integer backend.

Some kernels compute a fixed-point function of a value known only at run time (L2
normalisation's inverse square root of a row's sum of squares, LOG_SOFTMAX's log of a row's
sum of exps, DIV's reciprocal of the divisor); others of a value with 256 possible inputs,
which is tabulated at compile time (RSQRT).  Each routine here is written once against `Ops`
and runs on either backend: `NUMPY` (int64 arrays, compile-time tables) or `RELAX` (int64
Relax expressions, the generated code).  Values are int32 quantities held in int64, so
products of two never overflow; `wrap32` marks where gemmlowp's int32 arithmetic wraps.

Sources (read, not copied): tensorflow/lite/kernels/internal/common.h
(GetInvSqrtQuantizedMultiplierExp, GetReciprocal, CountLeadingSignBits,
log_x_for_x_greater_than_or_equal_to_1_impl) and gemmlowp's fixedpoint.h.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tvm import relax
from tvm.relax import op as R

from .requant import const

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
_POWERS = np.left_shift(np.int64(1), np.arange(32, dtype=np.int64))

Value = Any  # an int64 numpy array or an int64 Relax expression


class Ops:
    """The integer operations the routines use (element-wise, broadcasting)."""

    def c(self, v) -> Value: ...
    def add(self, a, b) -> Value: ...
    def sub(self, a, b) -> Value: ...
    def mul(self, a, b) -> Value: ...
    def shr(self, a, b) -> Value: ...  # arithmetic
    def shl(self, a, b) -> Value: ...
    def band(self, a, b) -> Value: ...
    def where(self, cond, a, b) -> Value: ...
    def lt(self, a, b) -> Value: ...
    def maximum(self, a, b) -> Value: ...
    def minimum(self, a, b) -> Value: ...
    def clz32(self, a) -> Value: ...  # CountLeadingZeros of a non-negative int32 (32 for 0)


class NumpyOps(Ops):
    def c(self, v):
        return np.asarray(v, np.int64)

    add, sub, mul = staticmethod(np.add), staticmethod(np.subtract), staticmethod(np.multiply)
    shr, shl, band = staticmethod(np.right_shift), staticmethod(np.left_shift), staticmethod(np.bitwise_and)
    where, lt = staticmethod(np.where), staticmethod(np.less)
    maximum, minimum = staticmethod(np.maximum), staticmethod(np.minimum)

    def clz32(self, a):
        return np.sum(np.asarray(a, np.int64)[..., None] < _POWERS, axis=-1).astype(np.int64)


class RelaxOps(Ops):
    def c(self, v):
        return v if isinstance(v, relax.Expr) else const(v, "int64")

    def _two(name: str):  # noqa: N805 - builds the binary methods below
        fn = getattr(R, name)
        return lambda self, a, b: fn(self.c(a), self.c(b))

    add, sub, mul = _two("add"), _two("subtract"), _two("multiply")
    shr, shl, band = _two("right_shift"), _two("left_shift"), _two("bitwise_and")
    lt, maximum, minimum = _two("less"), _two("maximum"), _two("minimum")

    def where(self, cond, a, b):
        return R.where(cond, self.c(a), self.c(b))

    def clz32(self, a):
        """#{k in 0..31 : a < 2^k}: TVM's clz has no C lowering (as softmax.py)."""
        smaller = R.less(R.expand_dims(self.c(a), -1), const(_POWERS, "int64"))
        return R.sum(R.astype(smaller, "int64"), axis=-1)


NUMPY, RELAX = NumpyOps(), RelaxOps()


def wrap32(o: Ops, x: Value) -> Value:
    """int32 two's-complement wrap of an int64-held value."""
    return o.sub(o.band(o.add(x, 1 << 31), 0xFFFFFFFF), 1 << 31)


def clip32(o: Ops, x: Value) -> Value:
    return o.minimum(o.maximum(x, INT32_MIN), INT32_MAX)


def srdhm(o: Ops, a: Value, b: Value) -> Value:
    """SaturatingRoundingDoublingHighMul: (a·b + 2^30) >> 31 equals gemmlowp's nudged,
    truncating division for every pair except INT32_MIN² (which these routines never form)."""
    return o.shr(o.add(o.mul(a, b), 1 << 30), 31)


def rounding_divide_by_pot(o: Ops, x: Value, exponent: Value) -> Value:
    """RoundingDivideByPOT, exponent ≥ 0 (a constant or a value): round half away from zero."""
    half = o.shr(o.shl(1, exponent), 1)
    nudge = o.where(o.lt(x, 0), o.maximum(o.sub(half, 1), 0), half)
    return o.shr(o.add(x, nudge), exponent)


def rounding_divide_by_pot_unchecked(o: Ops, x: Value, exponent: Value) -> Value:
    """RoundingDivideByPOT as compiled, for exponents the kernel does not bound (DIV's total
    shift reaches 32 and more where TFLite's DCHECK ≤ 31 is compiled out): the mask is the
    low 32 bits of the 64-bit (1 << e) − 1 and the int32 shift count is taken mod 32, as x86
    (the reference) and RV32's `sra` do.  Equal to `rounding_divide_by_pot` for e ≤ 31."""
    mask = wrap32(o, o.sub(o.shl(1, o.band(exponent, 63)), 1))
    threshold = o.add(o.shr(mask, 1), o.where(o.lt(x, 0), 1, 0))
    above = o.lt(threshold, o.band(x, mask))
    return o.add(o.shr(x, o.band(exponent, 31)), o.where(above, 1, 0))


def sat_mul_pot(o: Ops, x: Value, exponent: Value) -> Value:
    """SaturatingRoundingMultiplyByPOT(Param): saturating left shift or rounding right shift."""
    if isinstance(exponent, int):
        if exponent >= 0:
            return clip32(o, o.shl(x, exponent)) if exponent else x
        return rounding_divide_by_pot(o, x, -exponent)
    left = clip32(o, o.shl(x, o.maximum(exponent, 0)))
    return o.where(o.lt(exponent, 0), rounding_divide_by_pot(o, x, o.maximum(o.sub(0, exponent), 0)), left)


def multiply_by_quantized_multiplier(o: Ops, x: Value, multiplier: Value, shift: Value) -> Value:
    """MultiplyByQuantizedMultiplier, double rounding (x·2^left must fit int32, as in TFLite)."""
    if isinstance(shift, int):
        left, right = max(shift, 0), max(-shift, 0)
    else:
        left, right = o.maximum(shift, 0), o.maximum(o.sub(0, shift), 0)
    return rounding_divide_by_pot(o, srdhm(o, wrap32(o, o.shl(x, left)), multiplier), right)


def count_leading_sign_bits(o: Ops, x: Value) -> Value:
    """CountLeadingSignBits of an int32 (common.h, the clang branch): 31 for 0 and -1."""
    negative = o.clz32(o.sub(o.mul(o.maximum(o.sub(0, x), 0), 2), 1))
    return o.where(o.lt(x, 0), negative, o.sub(o.clz32(o.maximum(x, 0)), 1))


def one_over_one_plus_x(o: Ops, a: Value) -> Value:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 on Q0.31 values a ≥ 0 (result Q0.31)."""
    # RoundingHalfSum(a, One): (a + INT32_MAX ± 1) / 2 truncated; −1 for a = INT32_MIN
    half_denominator = o.where(o.lt(a, INT32_MIN + 1), -1, o.shr(o.add(a, 1 << 31), 1))
    x = o.add(1515870810, srdhm(o, half_denominator, -1010580540))  # 48/17 − 32/17·d (Q2.29)
    for _ in range(3):
        one_minus = o.sub(1 << 29, srdhm(o, half_denominator, x))
        x = o.add(x, sat_mul_pot(o, srdhm(o, x, one_minus), 2))
    return sat_mul_pot(o, x, 1)


def reciprocal(o: Ops, x: Value, integer_digits: int) -> tuple[Value, Value]:
    """GetReciprocal(x ≥ 0): (Q0.31 reciprocal of the normalised x, num_bits_over_unit).

    x = 0 (a divisor at its zero point, which TFLite only DCHECKs) is computed as compiled:
    clz 32, the shift count taken mod 32."""
    headroom_plus_one = o.clz32(x)
    shifted_minus_one = o.sub(o.band(o.shl(x, o.band(headroom_plus_one, 31)), 0xFFFFFFFF), 1 << 31)
    return one_over_one_plus_x(o, shifted_minus_one), o.sub(integer_digits, headroom_plus_one)


def inv_sqrt_multiplier_exp(o: Ops, value: Value, max_value: int) -> tuple[Value, Value]:
    """GetInvSqrtQuantizedMultiplierExp(value ≥ 0, kReverseShift): (multiplier, left shift).

    `max_value` bounds `value` so the divide-by-4 loop is unrolled just as often as needed.
    """
    small = o.lt(value, 2)
    x = o.maximum(value, 2)
    shift = o.c(11)
    for _ in range(max(0, (int(max_value).bit_length() - 28) // 2)):
        big = o.lt((1 << 29) - 1, x)
        x = o.where(big, o.shr(x, 2), x)
        shift = o.add(shift, o.where(big, 1, 0))
    pairs = o.sub(o.shr(o.sub(o.clz32(x), 1), 1), 1)
    shift = o.sub(shift, pairs)
    x = o.shl(x, o.mul(pairs, 2))
    half_input = rounding_divide_by_pot(o, o.shr(x, 1), 1)  # F3 raw, times 1/2
    y = o.c(1 << 28)  # F3 one
    for _ in range(5):
        cube = sat_mul_pot(o, srdhm(o, srdhm(o, y, y), y), 6)  # Rescale<3>(F9)
        y = sat_mul_pot(o, o.sub(srdhm(o, (1 << 28) + (1 << 27), y), srdhm(o, half_input, cube)), 3)
    y = srdhm(o, y, 1518500250)  # · sqrt(2)/2 (Q0.31)
    negative = o.lt(shift, 0)
    y = o.where(negative, o.shl(y, o.maximum(o.sub(0, shift), 0)), y)
    shift = o.where(negative, 0, shift)
    return o.where(small, INT32_MAX, y), o.where(small, 0, o.sub(0, shift))


# log_x_for_x_greater_than_or_equal_to_1_impl constants (Q0.31)
_LOG_2, _SQRT_SQRT_HALF, _SQRT_HALF, _ONE_QUARTER = 1488522236, 1805811301, 1518500250, 536870912
_ALPHA_N, _ALPHA_D, _ALPHA_I, _ALPHA_F = 117049297, 127690142, 1057819769, 638450708


def log_x_ge_1(o: Ops, raw: Value, input_bits: int, output_bits: int) -> Value:
    """log_x_for_x_greater_than_or_equal_to_1<output_bits>(F<input_bits>::FromRaw(raw)), raw > 0."""
    accum_bits = output_bits + 1
    shifted_quarter = _ONE_QUARTER >> accum_bits  # Rescale<accum>(one quarter)
    z_a_headroom_plus_1 = o.clz32(raw)
    r_a_tmp = sat_mul_pot(o, raw, o.sub(z_a_headroom_plus_1, 1))
    r_a = sat_mul_pot(o, srdhm(o, r_a_tmp, _SQRT_HALF), 1)
    z_a_pow_2_adj = clip32(o, o.add(sat_mul_pot(o, o.sub(input_bits, z_a_headroom_plus_1), 31 - accum_bits),
                                    shifted_quarter))
    z_b = srdhm(o, raw, _SQRT_HALF)
    z_b_headroom = o.sub(o.clz32(z_b), 1)
    r_b = sat_mul_pot(o, raw, z_b_headroom)
    z_b_pow_2_adj = clip32(o, o.sub(sat_mul_pot(o, o.sub(input_bits, z_b_headroom), 31 - accum_bits),
                                    shifted_quarter))
    r = o.minimum(r_a, r_b)
    z_pow_2_adj = o.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    total = o.add(r, _SQRT_SQRT_HALF)  # RoundingHalfSum(r, sqrt_sqrt_half)
    p = o.where(o.lt(total, 0), o.sub(0, o.shr(o.sub(1, total), 1)), o.shr(o.add(total, 1), 1))  # (sum ± 1) / 2
    q = wrap32(o, o.mul(wrap32(o, o.sub(r, _SQRT_SQRT_HALF)), 2))
    common_sq = srdhm(o, q, q)
    num = wrap32(o, o.add(srdhm(o, q, r), srdhm(o, srdhm(o, q, common_sq), _ALPHA_N)))
    denom_minus_one = wrap32(o, o.add(srdhm(o, p, wrap32(o, o.add(o.add(_ALPHA_I, q), srdhm(o, _ALPHA_D, common_sq)))),
                                      srdhm(o, _ALPHA_F, q)))
    recip_denom = one_over_one_plus_x(o, denom_minus_one)
    num_scaled = sat_mul_pot(o, num, -accum_bits)  # Rescale<accum>(F0)
    value = wrap32(o, o.add(srdhm(o, z_pow_2_adj, _LOG_2), srdhm(o, num_scaled, recip_denom)))
    return sat_mul_pot(o, value, accum_bits - output_bits)  # Rescale<output>(F<accum>)
