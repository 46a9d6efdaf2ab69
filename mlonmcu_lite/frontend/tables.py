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

from .fixedpoint import f32, quantize_multiplier, round_half_away, rounding_divide_by_pot, srdhm, trunc_div

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
        rescaled = round_half_away(float(np.float32(transform(dequantized)) * inverse))
        out.append(rescaled + out_zp)
    return _clamp8(out)


def _logistic(x: np.float32) -> np.float32:
    return np.float32(1.0) / (np.float32(1.0) + np.float32(_libm.expf(float(-x))))


def logistic_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    return lut_populate(_logistic, in_scale, in_zp, out_scale, out_zp)


def tanh_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    return lut_populate(lambda x: np.float32(_libm.tanhf(float(x))), in_scale, in_zp, out_scale, out_zp)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier (double rounding) on Python ints."""
    left, right = max(shift, 0), max(-shift, 0)
    return rounding_divide_by_pot(srdhm(x * (1 << left), multiplier), right)


def leaky_relu_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int, alpha: float) -> np.ndarray:
    """QuantizeLeakyRelu; Prepare's multipliers are float32 expressions of the float params."""
    alpha_mult, alpha_shift = quantize_multiplier(f32(f32(f32(in_scale) * f32(alpha)) / f32(out_scale)))
    id_mult, id_shift = quantize_multiplier(f32(f32(in_scale) / f32(out_scale)))
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
