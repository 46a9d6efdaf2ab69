"""256-entry lookup tables of TFLite's int8 elementwise kernels, computed at compile time.

Each table maps every int8 input q (index q + 128) to the int8 output the ai-edge-litert
reference kernel computes, by re-running that kernel's own arithmetic here:

* LOGISTIC, TANH: activations.cc Prepare fills a table with `LUTPopulate` — dequantize in
  float32, `1/(1+expf(−x))` / `tanhf(x)` in float32, round half away from zero.  float32
  is reproduced with numpy float32 and the C library's `expf`/`tanhf` (ctypes), the
  functions the interpreter calls.
* LEAKY_RELU: reference_ops::QuantizeLeakyRelu (two quantized multipliers, double rounding).
* HARD_SWISH: reference_ops::HardSwish, gemmlowp int16 fixed point.

So the generated code is one table load per element, and no float reaches the target.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

from .fixedpoint import (f32, multiply_by_quantized_multiplier, quantize_multiplier, round_half_away,
                         rounding_divide_by_pot, srdhm, trunc_div)

INT8_INPUTS = np.arange(-128, 128)

_libm = ctypes.CDLL(ctypes.util.find_library("m"))
for _name in ("expf", "tanhf"):
    getattr(_libm, _name).restype = ctypes.c_float
    getattr(_libm, _name).argtypes = [ctypes.c_float]


def _clamp8(values) -> np.ndarray:
    return np.clip(np.asarray(values, np.int64), -128, 127).astype(np.int8)


def lut_populate(transform, in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """LUTPopulateInt8: float32 dequantize → transform → round(x · (1/out_scale)) + zp."""
    inverse = np.float32(1.0) / np.float32(out_scale)
    out = []
    for q in INT8_INPUTS:
        dequantized = np.float32(in_scale) * np.float32(q - in_zp)
        value = float(np.float32(transform(dequantized)) * inverse)
        if not np.isfinite(value) or abs(value) >= 2.0**31:
            # NaN (LOG of x <= 0), ±inf (EXP overflow): the reference's float -> int32 cast yields
            # x86's "integer indefinite" INT32_MIN, clamped to the lowest code
            out.append(-(1 << 31))
            continue
        out.append(round_half_away(value) + out_zp)
    return _clamp8(out)


def _logistic(x: np.float32) -> np.float32:
    return np.float32(1.0) / (np.float32(1.0) + np.float32(_libm.expf(float(-x))))


def logistic_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    return lut_populate(_logistic, in_scale, in_zp, out_scale, out_zp)


def tanh_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    return lut_populate(lambda x: np.float32(_libm.tanhf(float(x))), in_scale, in_zp, out_scale, out_zp)


def leaky_relu_params(in_scale: float, out_scale: float, alpha: float) -> tuple[int, int, int, int]:
    """(identity multiplier, shift, alpha multiplier, shift) of LeakyReluPrepare (float32 expressions)."""
    alpha_mult, alpha_shift = quantize_multiplier(f32(f32(f32(in_scale) * f32(alpha)) / f32(out_scale)))
    id_mult, id_shift = quantize_multiplier(f32(f32(in_scale) / f32(out_scale)))
    return id_mult, id_shift, alpha_mult, alpha_shift


def leaky_relu_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int, alpha: float) -> np.ndarray:
    """QuantizeLeakyRelu for every int8 input."""
    id_mult, id_shift, alpha_mult, alpha_shift = leaky_relu_params(in_scale, out_scale, alpha)
    out = []
    for q in INT8_INPUTS:
        v = int(q) - in_zp
        if v >= 0:
            out.append(out_zp + multiply_by_quantized_multiplier(v, id_mult, id_shift))
        else:
            scaled = multiply_by_quantized_multiplier(v, abs(alpha_mult), alpha_shift)
            out.append(out_zp + (-scaled if alpha_mult < 0 else scaled))
    return _clamp8(out)


# -- HARD_SWISH: gemmlowp int16 fixed point -------------------------------------------------

_I16_MIN, _I16_MAX = -(1 << 15), (1 << 15) - 1


def _wrap16(x: int) -> int:
    return ((x + (1 << 15)) & 0xFFFF) - (1 << 15)


def srdhm16(a: int, b: int) -> int:
    return srdhm(a, b, bits=16)


def _sdhm16(a: int, b: int) -> int:
    """SaturatingDoublingHighMul (hard_swish.h): truncating, no rounding."""
    if a == b == _I16_MIN:
        return _I16_MAX
    return _wrap16(trunc_div(a * b, 1 << 15))


def _sat_left_shift16(x: int, amount: int) -> int:
    return max(_I16_MIN, min(_I16_MAX, x * (1 << amount)))


def _downscale_to_int16(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier."""
    if multiplier >= (1 << 31) - 1 - (1 << 15):
        return _I16_MAX
    return (multiplier + (1 << 15)) >> 16


def hard_swish_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """reference_ops::HardSwish for every int8 input (HardSwishPrepare's float32 params)."""
    hires_scale = f32(f32(1.0 / 128.0) * f32(in_scale))
    out_mult32, out_exp = quantize_multiplier(f32(hires_scale / f32(out_scale)))
    relu_mult32, relu_exp = quantize_multiplier(f32(hires_scale / f32(3.0 / 32768.0)))
    out_mult, relu_mult = _downscale_to_int16(out_mult32), _downscale_to_int16(relu_mult32)
    if out_exp > 0:
        raise ValueError("HARD_SWISH output multiplier exponent > 0 (TFLite rejects the model)")
    out = []
    for q in INT8_INPUTS:
        hires = _wrap16((int(q) - in_zp) * 128)
        preshift = srdhm16(hires, out_mult)
        reluish = hires
        if relu_exp > 0:
            reluish = _sat_left_shift16(reluish, relu_exp - 1)
        reluish = srdhm16(reluish, relu_mult)
        if relu_exp > 0:
            reluish = _sat_left_shift16(reluish, 1)
        if relu_exp < 0:
            reluish = rounding_divide_by_pot(reluish, -relu_exp)
        reluish = (reluish + (1 << 15)) >> 1
        value = rounding_divide_by_pot(_sdhm16(reluish, preshift), -out_exp)
        out.append(_wrap16(value + out_zp))
    return _clamp8(out)


# -- int16 LOGISTIC / TANH: TFLite's interpolated sigmoid table -----------------------------

# sigmoid(i/24) in unsigned 0.16 fixed point: the 256 interpolation knots both int16 kernels
# share.  They are not a plain rounding of the formula, so they are measured from ai-edge-litert's
# int16 TANH at inputs that land exactly on each knot (tests/frontend/test_frontend_tables.py
# re-measures them).
SIGMOID_KNOTS_UINT16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535
], dtype=np.int64)


def _checked_log2(x: float) -> tuple[bool, int]:
    """CheckedLog2 (float32): (x is a power of two within 1e-3 in log2, rounded log2)."""
    log2 = np.float32(np.log(np.float32(x))) * (np.float32(1.0) / np.float32(np.log(np.float32(2.0))))
    rounded = round_half_away(float(log2))
    return abs(float(np.float32(log2) - np.float32(rounded))) < 1e-3, rounded


def int16_sigmoid_params(input_scale: float, tanh: bool) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) of TanhPrepare / SigmoidPrepare for int16, with the
    power-of-two case folded in as Eval does (multiplier 3 << shift, shift 0)."""
    pot, log2 = _checked_log2(input_scale)
    left_shift = (15 - 3) + log2
    pot = pot and (left_shift in (0, 1) if tanh else left_shift == 0)
    if pot:
        return 3 << left_shift, 0
    multiplier, left_shift = float(np.float32(input_scale)) * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier *= 2.0
    return int(multiplier), left_shift


# -- float32 transforms of the LUTPopulate kernels (exp.cc, elementwise.cc, gelu.cc) ------------

def libm_float(name: str):
    """The C library's float function `name` (float -> float), as the interpreter calls it."""
    fn = getattr(_libm, name)
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


for _name in ("logf", "erfcf"):
    libm_float(_name)
_SQRT1_2 = 0.70710678118654752440  # M_SQRT1_2 (double)
_SQRT_2_PI = np.float32(1.12837916709551257390 * 0.70710678118654752440)  # kSqrt2dPi = M_2_SQRTPI * M_SQRT1_2


def _gelu(x: np.float32) -> np.float32:
    """gelu.cc: 0.5f·x·erfc(x·−M_SQRT1_2), the product with the double constant taken in double."""
    return np.float32(np.float32(0.5) * x * np.float32(_libm.erfcf(float(np.float32(float(x) * -_SQRT1_2)))))


def _gelu_approximate(x: np.float32) -> np.float32:
    """gelu.cc approximate: 0.5f·x·(1 + tanhf(kSqrt2dPi·(0.044715f·x³ + x)))."""
    cube = np.float32(np.float32(np.float32(0.044715) * x) * x) * x
    inner = np.float32(_SQRT_2_PI * np.float32(cube + x))
    return np.float32(np.float32(0.5) * x) * np.float32(np.float32(1.0) + np.float32(_libm.tanhf(float(inner))))


TRANSFORMS = {
    "EXP": lambda x: np.float32(_libm.expf(float(x))),
    "LOG": lambda x: np.float32(_libm.logf(float(x))),
    "GELU": _gelu,
    "GELU_APPROXIMATE": _gelu_approximate,
}


def transform_table(op: str, in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """The int8 table of a LUTPopulate op (`TRANSFORMS`)."""
    return lut_populate(TRANSFORMS[op], in_scale, in_zp, out_scale, out_zp)
