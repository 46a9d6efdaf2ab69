"""Compile-time fixed-point arithmetic of TFLite / gemmlowp, in exact Python integers.

Everything here runs once per model on the host (multipliers, shifts, the softmax exp
table); nothing here ends up in the generated code as float.  The formulas follow
tensorflow/lite/kernels/internal/quantization_util.cc, kernel_util.cc and gemmlowp's
fixedpoint.h, including where TFLite computes in float32 rather than double (noted per
function), because a different rounding of the real multiplier changes the integer one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def round_half_away(x: float) -> int:
    """TfLiteRound / std::round: ties away from zero (Python's round() ties to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier: real = m · 2^(shift−31), m in [2^30, 2^31) (or 0)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def f32(x: float) -> float:
    """Round to float32 (TFLite keeps scales as float and sometimes multiplies in float)."""
    return float(np.float32(x))


@dataclass(frozen=True)
class Multipliers:
    """Per-channel (or one-element) quantized multipliers and shifts."""

    multiplier: tuple[int, ...]
    shift: tuple[int, ...]

    @classmethod
    def of(cls, reals: list[float]) -> "Multipliers":
        pairs = [quantize_multiplier(r) for r in reals]
        return cls(tuple(m for m, _ in pairs), tuple(s for _, s in pairs))


def conv_multipliers(in_scale: float, w_scales: list[float], out_scale: float) -> Multipliers:
    """PopulateConvolutionQuantizationParams: double(s_in)·double(s_w[c]) / double(s_out)."""
    return Multipliers.of([in_scale * ws / out_scale for ws in w_scales])


def fc_multipliers(in_scale: float, w_scale: float, out_scale: float) -> Multipliers:
    """GetQuantizedConvolutionMultipler: the scale product is taken in float32 first."""
    return Multipliers.of([f32(in_scale * w_scale) / out_scale])


@dataclass(frozen=True)
class AddParams:
    """TFLite int8 ADD: inputs rescaled to 2^20 · common scale, summed, rescaled back."""

    left_shift: int
    input1: Multipliers
    input2: Multipliers
    output: Multipliers


def add_params(s1: float, s2: float, s_out: float, left_shift: int = 20) -> AddParams:
    """add.cc Prepare (left_shift 20 for 8-bit, 15 for int16; (1<<shift)·s_out is a float product)."""
    twice_max = 2.0 * max(s1, s2)
    return AddParams(
        left_shift=left_shift,
        input1=Multipliers.of([s1 / twice_max]),
        input2=Multipliers.of([s2 / twice_max]),
        output=Multipliers.of([twice_max / f32((1 << left_shift) * s_out)]),
    )


QUANTIZED_DTYPES = ("int8", "uint8", "int16")


def dtype_range(dtype: str) -> tuple[int, int]:
    """(min, max) of a quantized integer dtype: int8, uint8 or int16."""
    if dtype not in QUANTIZED_DTYPES:
        raise ValueError(f"{dtype} is not a quantized activation dtype ({', '.join(QUANTIZED_DTYPES)})")
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def activation_range(act: str, scale: float, zero_point: int, dtype: str = "int8") -> tuple[int, int]:
    """CalculateActivationRangeQuantized (act/scale is a float32 division), clamped to `dtype`."""
    qmin, qmax = dtype_range(dtype)

    def q(v: float) -> int:
        return zero_point + round_half_away(f32(v / scale))

    if act == "NONE":
        return qmin, qmax
    if act == "RELU":
        return max(qmin, q(0.0)), qmax
    if act == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    raise ValueError(f"activation {act}")


# ---------------------------------------------------------------------------------------
# gemmlowp fixed point (int32 raw values), used to tabulate softmax's exp at compile time.
# ---------------------------------------------------------------------------------------


def _wrap32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _sat32(x: int) -> int:
    return max(INT32_MIN, min(INT32_MAX, x))


def srdhm(a: int, b: int, bits: int = 32) -> int:
    """SaturatingRoundingDoublingHighMul of `bits`-bit raw values (gemmlowp: 32 or 16)."""
    if a == b == -(1 << (bits - 1)):
        return (1 << (bits - 1)) - 1
    ab = a * b
    nudge = (1 << (bits - 2)) if ab >= 0 else 1 - (1 << (bits - 2))
    return trunc_div(ab + nudge, 1 << (bits - 1))


def trunc_div(a: int, b: int) -> int:
    """C integer division (rounds toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """RoundingDivideByPOT: round half away from zero."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def sat_mul_pot(x: int, exponent: int) -> int:
    """SaturatingRoundingMultiplyByPOT for int32."""
    if exponent > 0:
        return _sat32(x << exponent)
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    return x


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier (double rounding) of an int32 x."""
    high = srdhm(_wrap32(x * (1 << max(shift, 0))), multiplier)
    return rounding_divide_by_pot(high, max(-shift, 0))


def _exp_on_interval_neg_quarter_0(a: int) -> int:
    """exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31 in and out)."""
    constant_term = 1895147668
    constant_1_over_3 = 715827883
    x = _wrap32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = sat_mul_pot(x4, -2)
    inner = _wrap32(srdhm(_wrap32(x4_over_4 + x3), constant_1_over_3) + x2)
    x4_over_24_plus = sat_mul_pot(inner, -1)
    return _wrap32(constant_term + srdhm(constant_term, _wrap32(x + x4_over_24_plus)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """gemmlowp exp_on_negative_values: a is Q(integer_bits).(31−integer_bits), a ≤ 0."""
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod_q_minus_q = _wrap32((a & mask) - one_quarter)
    result = _exp_on_interval_neg_quarter_0(sat_mul_pot(a_mod_q_minus_q, integer_bits))
    remainder = _wrap32(a_mod_q_minus_q - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent and remainder & (1 << (frac_bits + exponent)):
            result = srdhm(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    if a == 0:
        result = INT32_MAX
    return result


@dataclass(frozen=True)
class SoftmaxTable:
    """Per input difference d = max − x (0..255): exp in Q0.31 and its Q12.19 share of the sum.

    `exp[d]` and `exp_q12[d]` are 0 where d exceeds TFLite's diff_min cut-off, which then
    outputs −128.
    """

    exp: tuple[int, ...]
    exp_q12: tuple[int, ...]


SOFTMAX_DIFF_BITS = 5
SOFTMAX_ACCUM_BITS = 12


def softmax_table(input_scale: float, beta: float = 1.0) -> SoftmaxTable:
    """PreprocessSoftmaxScaling + exp_on_negative_values for every int8 difference."""
    real = min(beta * input_scale * (1 << (31 - SOFTMAX_DIFF_BITS)), float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier(real)
    radius = ((1 << SOFTMAX_DIFF_BITS) - 1) * (1 << (31 - SOFTMAX_DIFF_BITS)) / (1 << left_shift)
    diff_min = -int(math.floor(radius))
    exp, exp_q12 = [], []
    for d in range(256):
        diff = -d
        if diff < diff_min:
            exp.append(0)
            exp_q12.append(0)
            continue
        rescaled = srdhm(_wrap32(diff * (1 << left_shift)), mult)
        e = exp_on_negative_values(rescaled, SOFTMAX_DIFF_BITS)
        exp.append(e)
        exp_q12.append(sat_mul_pot(e, -SOFTMAX_ACCUM_BITS))
    return SoftmaxTable(tuple(exp), tuple(exp_q12))


# ---------------------------------------------------------------------------------------
# int16 lookup tables (TFLite's gen_lut<double, int16_t, int16_t>), used by int16 SOFTMAX.
# ---------------------------------------------------------------------------------------


def int16_lut(func, input_min: float, input_max: float, output_min: float, output_max: float) -> tuple[int, ...]:
    """The 513-entry table: 512 samples corrected by half their midpoint interpolation error,
    plus func(input_max) for the last slope; all arithmetic in double as TFLite's Prepare."""
    steps = 512
    step = (input_max - input_min) / steps
    half_step = step / 2
    scaling = 65536.0 / (output_max - output_min)

    def clamp(v: float) -> int:
        return int(min(max(v, -32768.0), 32767.0))

    lut = []
    for i in range(steps):
        val = func(input_min + i * step)
        val_mid = func(input_min + i * step + half_step)
        val_next = func(input_min + (i + 1) * step)
        sample = round_half_away(val * scaling)
        interp = round_half_away((val_next * scaling + round_half_away(val * scaling)) / 2)
        bias = round_half_away((interp - round_half_away(val_mid * scaling)) / 2)
        lut.append(clamp(sample - bias))
    lut.append(clamp(round_half_away(func(input_max) * scaling)))
    return tuple(lut)


SOFTMAX_INT16_EXP_LUT = int16_lut(math.exp, -10.0, 0.0, -1.0, 1.0)
SOFTMAX_INT16_RECIPROCAL_LUT = int16_lut(lambda v: 1.0 / (1.0 + v), 0.0, 1.0, -1.0, 1.0)


def softmax_int16_multiplier(input_scale: float, beta: float = 1.0) -> Multipliers:
    """Input difference rescaled so that [-65535, 0] spans [-10, 0] (softmax.cc Prepare)."""
    return Multipliers.of([input_scale * beta / (10.0 / 65535.0)])
