"""CONV_2D and DEPTHWISE_CONV_2D → the canonical integer conv chain.

    [nn.pad(x, pad_value=x_zp)] → nn.conv2d(x int8, w int8, NHWC/OHWI, out_dtype=int32, groups)
    → add(bias int32) → requantize (double rounding, per channel) → clip → int8

Other schemes reuse the chain: uint8 models arrive shifted to int8 (normalize.py) with a
per-tensor weight zero point w_zp, handled by subtracting w_zp·Σ_window(x − x_zp) (a conv with
all-ones weights) after the bias add, and with the legacy float32 multiplier product; 16x8
models (int16 x, zero point 0) accumulate in int32 when Σ|w|·2^15 + |b| fits, else int64, and
rescale with the int64 MultiplyByQuantizedMultiplier (`Rounding.INT64`).

Weights are OHWI (for depthwise: O = C·multiplier, I = 1, groups = C).  The input zero
point is folded into the bias (b − x_zp·Σw) so that the accelerator contract
(`mlonmcu_lite/peripheral/backend.py`) holds with input_offset = 0; padding uses x_zp as
pad value, which contributes (x_zp − x_zp)·w = 0 exactly as TFLite's skipped taps do.
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op, wildcard

from . import qparams
from .errors import FrontendError
from .fixedpoint import conv_multipliers, fc_multipliers
from .normalize import legacy_uint8
from .patterns import Rewrite, dequantize, quantize, with_activation
from .requant import Rounding, const, requantize

_x = dequantize()
_w = dequantize(is_const())
_w_reshaped = is_op("relax.reshape")(_w.pattern, wildcard())
_conv = is_op("relax.nn.conv2d")(_x.pattern, _w.pattern | _w_reshaped)
_b = dequantize(is_const(), const_params=False)
_biased = is_op("relax.add")(_conv, _b.pattern)
_out = quantize(_biased | _conv)


def to_ohwi(w: np.ndarray, layout: str) -> np.ndarray:
    """Permute a kernel from the importer's layout (HWIO, HWOI) to OHWI."""
    return np.ascontiguousarray(w.transpose([layout.index(c) for c in "OHWI"]))


def fold_bias(bias: np.ndarray, weights_ohwi: np.ndarray, x_zp: int, dtype: str = "int32") -> np.ndarray:
    """b − x_zp·Σ_{h,w,i} W[o]: the input zero-point term moved into the bias (int32 or int64)."""
    folded = bias.astype(np.int64) - x_zp * weights_ohwi.astype(np.int64).sum(axis=(1, 2, 3))
    if dtype == "int32" and (folded.min() < -(1 << 31) or folded.max() >= (1 << 31)):
        raise FrontendError("folded conv bias does not fit int32")
    return folded.astype(dtype)


def accumulator_dtype(x_dtype: str, weights_ohwi: np.ndarray, bias: np.ndarray) -> str:
    """int32 unless an int16 input could overflow it (TFLite accumulates 16x8 in int64)."""
    if x_dtype in ("int8", "uint8"):
        return "int32"
    bound = np.abs(weights_ohwi.astype(np.int64)).sum(axis=(1, 2, 3)) * (1 << 15) + np.abs(bias.astype(np.int64))
    return "int32" if bound.max(initial=0) < (1 << 31) else "int64"


def weight_zero_point(m_zero_point: np.ndarray) -> int:
    """The per-tensor weight zero point (uint8 legacy models); per-channel ones must be 0."""
    zps = np.asarray(m_zero_point).reshape(-1)
    if zps.size > 1 and np.any(zps != 0):
        raise FrontendError("per-channel weights with non-zero zero points")
    return int(zps[0]) if zps.size else 0


def _weights(m: dict, conv: relax.Call) -> np.ndarray:
    w = qparams.value(m[_w.data])
    if _w_reshaped in m:
        w = w.reshape(qparams.shape_of(m[_w_reshaped]))
    return to_ohwi(w, str(conv.attrs.kernel_layout))


def _conv2d(x: relax.Expr, w: np.ndarray, attrs, acc_dtype: str) -> relax.Expr:
    return R.nn.conv2d(x, relax.const(w, "int8"), strides=[int(s) for s in attrs.strides], padding=0,
                       dilation=[int(d) for d in attrs.dilation], groups=int(attrs.groups),
                       data_layout="NHWC", kernel_layout="OHWI", out_dtype=acc_dtype)


def _build(m: dict, act_range: tuple[int, int]) -> relax.Expr:
    conv = m[_conv]
    attrs = conv.attrs
    x = m[_x.data]
    x_dtype, out_dtype = _x.dtype(m), _out.dtype(m)
    x_scale, x_zp = _x.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    w = _weights(m, conv)
    w_zp = weight_zero_point(qparams.value(m[_w.zero_point]))
    channels = w.shape[0]
    w_scales = qparams.floats(m[_w.scale])
    w_scales = w_scales * channels if len(w_scales) == 1 else w_scales
    bias = qparams.value(m[_b.data]).reshape(-1) if _b.pattern in m else np.zeros(channels, np.int32)
    acc_dtype = accumulator_dtype(x_dtype, w, bias)

    top, left, bottom, right = (int(p) for p in attrs.padding)
    if top or left or bottom or right:
        x = R.nn.pad(x, [0, 0, top, bottom, left, right, 0, 0], pad_value=float(x_zp))
    taps = int(np.prod(w.shape[1:]))
    # With w_zp: Σ(x−x_zp)(w−w_zp) = [conv(x, w) + b − x_zp·Σw + w_zp·x_zp·taps] − w_zp·conv(x, 1).
    folded = fold_bias(bias, w, x_zp, acc_dtype) + np.asarray(w_zp * x_zp * taps, acc_dtype)
    acc = R.add(_conv2d(x, w, attrs, acc_dtype), const(folded, acc_dtype))
    if w_zp:
        window = _conv2d(x, np.ones((channels if int(attrs.groups) > 1 else 1, *w.shape[1:]), np.int8),
                       attrs, acc_dtype)
        acc = R.subtract(acc, R.multiply(window, const(w_zp, acc_dtype)))
    if x_dtype == "int16":
        mult, rounding = conv_multipliers(x_scale, w_scales, out_scale), Rounding.INT64
    elif legacy_uint8.get():  # uint8 kernels: GetQuantizedConvolutionMultipler (float32 product)
        mult, rounding = fc_multipliers(x_scale, w_scales[0], out_scale), Rounding.DOUBLE
    else:
        mult, rounding = conv_multipliers(x_scale, w_scales, out_scale), Rounding.DOUBLE
    return requantize(acc, mult, out_zp, act_range, rounding, out_dtype)


REWRITES: list[Rewrite] = with_activation("conv2d", _out, _build)
