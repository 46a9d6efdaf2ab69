"""CONV_2D and DEPTHWISE_CONV_2D → the canonical integer conv chain.

    [nn.pad(x, pad_value=x_zp)] → nn.conv2d(x int8, w int8, NHWC/OHWI, out_dtype=int32, groups)
    → add(bias int32) → requantize (double rounding, per channel) → clip → int8

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
from .fixedpoint import conv_multipliers
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


def fold_bias(bias: np.ndarray, weights_ohwi: np.ndarray, x_zp: int) -> np.ndarray:
    """b − x_zp·Σ_{h,w,i} W[o]: the input zero-point term moved into the int32 bias."""
    folded = bias.astype(np.int64) - x_zp * weights_ohwi.astype(np.int64).sum(axis=(1, 2, 3))
    if folded.min() < -(1 << 31) or folded.max() >= (1 << 31):
        raise FrontendError("folded conv bias does not fit int32")
    return folded.astype(np.int32)


def _weights(m: dict, conv: relax.Call) -> np.ndarray:
    w = qparams.value(m[_w.data])
    if _w_reshaped in m:
        w = w.reshape(qparams.shape_of(m[_w_reshaped]))
    return to_ohwi(w, str(conv.attrs.kernel_layout))


def _build(m: dict, act_range: tuple[int, int]) -> relax.Expr:
    conv = m[_conv]
    attrs = conv.attrs
    x = m[_x.data]
    x_scale, x_zp = _x.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    w = _weights(m, conv)
    if np.any(qparams.value(m[_w.zero_point]) != 0):
        raise FrontendError("conv weights with a non-zero zero point")
    channels = w.shape[0]
    w_scales = qparams.floats(m[_w.scale])
    w_scales = w_scales * channels if len(w_scales) == 1 else w_scales
    bias = qparams.value(m[_b.data]).reshape(-1) if _b.pattern in m else np.zeros(channels, np.int32)

    top, left, bottom, right = (int(p) for p in attrs.padding)
    if top or left or bottom or right:
        x = R.nn.pad(x, [0, 0, top, bottom, left, right, 0, 0], pad_value=float(x_zp))
    acc = R.nn.conv2d(x, relax.const(w, "int8"), strides=[int(s) for s in attrs.strides], padding=0,
                      dilation=[int(d) for d in attrs.dilation], groups=int(attrs.groups),
                      data_layout="NHWC", kernel_layout="OHWI", out_dtype="int32")
    acc = R.add(acc, const(fold_bias(bias, w, x_zp), "int32"))
    mult = conv_multipliers(x_scale, w_scales, out_scale)
    return requantize(acc, mult, out_zp, act_range, Rounding.DOUBLE)


REWRITES: list[Rewrite] = with_activation("conv2d", _out, _build)
