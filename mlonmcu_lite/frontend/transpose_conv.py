"""TRANSPOSE_CONV (int8, per-channel weights) → the canonical integer conv chain.

Legacy uint8 models (normalized to int8, see normalize.py) carry a per-tensor weight zero point:
the conv chain's w_zp correction (conv.py) applies unchanged, filler taps included, since
Σ(x − x_zp)(w − w_zp) vanishes wherever x = x_zp; their multiplier is the legacy float32 product.
(int16x8 TRANSPOSE_CONV uses another kernel and is rejected.)

reference_integer_ops::TransposeConv scatters (x − zp)·w into an int32 buffer and rescales
like CONV_2D.  The same sums come from a stride-1 conv over the input dilated by the stride
(zero-point filler between pixels) and padded with the zero point (k − 1 − pad before), with
spatially flipped weights: every filler tap adds (zp − zp)·w = 0 once the zero-point term is
folded into the bias.  So the frontend emits `pad(x_zp) → conv2d → add(bias) → requantize`,
which the CPU schedules and an accelerator (QVanilla) take like any CONV_2D.
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op, wildcard

from . import qparams
from .conv import fold_bias, weight_zero_point
from .errors import FrontendError
from .fixedpoint import conv_multipliers, fc_multipliers
from .normalize import legacy_uint8
from .patterns import Rewrite, dequantize, quantize
from .requant import Rounding, const, requantize

_x = dequantize()
_w = dequantize(is_const(), const_params=False)
_deconv = is_op("relax.nn.conv2d_transpose")(_x.pattern, _w.pattern)
_b = dequantize(is_const(), const_params=False)
_out = quantize(is_op("relax.add")(_deconv, _b.pattern) | _deconv)


def _dilate(x: relax.Expr, shape: tuple[int, ...], stride: tuple[int, int], fill: int) -> relax.Expr:
    """[1, H·sh, W·sw, C]: x at multiples of the stride, `fill` elsewhere."""
    n, h, w, c = shape
    sh, sw = stride
    if (sh, sw) == (1, 1):
        return x
    spread = R.reshape(x, (n, h, 1, w, 1, c))
    spread = R.nn.pad(spread, [0, 0, 0, 0, 0, sh - 1, 0, 0, 0, sw - 1, 0, 0], pad_value=float(fill))
    return R.reshape(spread, (n, h * sh, w * sw, c))


def _build(root: relax.Expr, m: dict) -> relax.Expr:
    deconv = m[_deconv]
    attrs = deconv.attrs
    if (str(attrs.data_layout), str(attrs.kernel_layout)) != ("NHWC", "IOHW") or int(attrs.groups) != 1 or \
            any(int(d) != 1 for d in attrs.dilation) or any(int(p) for p in attrs.output_padding):
        raise FrontendError("TRANSPOSE_CONV variant (layout, groups, dilation or output padding)")
    if _x.dtype(m) != "int8":
        raise FrontendError(f"TRANSPOSE_CONV on {_x.dtype(m)} (int8 and legacy uint8 only)")
    x = m[_x.data]
    x_scale, x_zp = _x.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    iohw = qparams.value(m[_w.data])
    w_zp = weight_zero_point(qparams.value(m[_w.zero_point]))
    if w_zp and not legacy_uint8.get():
        raise FrontendError("TRANSPOSE_CONV int8 weights with a non-zero zero point")
    flipped = np.ascontiguousarray(iohw.transpose(1, 2, 3, 0)[:, ::-1, ::-1, :])  # OHWI, kernel flipped
    channels, kh, kw, _ = flipped.shape
    w_scales = qparams.floats(m[_w.scale])
    w_scales = w_scales * channels if len(w_scales) == 1 else w_scales
    bias = qparams.value(m[_b.data]).reshape(-1) if _b.pattern in m else np.zeros(channels, np.int32)

    shape = qparams.shape_of(x)
    _, out_h, out_w, _ = qparams.shape_of(root)
    stride = tuple(int(s) for s in attrs.strides)
    pad_top, pad_left = (int(p) for p in attrs.padding[:2])
    top, left = kh - 1 - pad_top, kw - 1 - pad_left
    bottom = out_h + kh - 1 - top - shape[1] * stride[0]
    right = out_w + kw - 1 - left - shape[2] * stride[1]
    if min(top, left, bottom, right) < 0:
        raise FrontendError(f"TRANSPOSE_CONV padding beyond the kernel (pads {top}, {left}, {bottom}, {right})")
    data = R.nn.pad(_dilate(x, shape, stride, x_zp), [0, 0, top, bottom, left, right, 0, 0], pad_value=float(x_zp))
    acc = _conv(data, flipped)
    taps = kh * kw * flipped.shape[3]
    acc = R.add(acc, const(fold_bias(bias, flipped, x_zp) + np.int32(w_zp * x_zp * taps), "int32"))
    if w_zp:  # − w_zp·Σ_window x (conv.py's correction for a per-tensor weight zero point)
        acc = R.subtract(acc, R.multiply(_conv(data, np.ones((1, kh, kw, flipped.shape[3]), np.int8)),
                                         const(w_zp, "int32")))
        mult = fc_multipliers(x_scale, w_scales[0], out_scale)  # legacy uint8: float32 product
    else:
        mult = conv_multipliers(x_scale, w_scales, out_scale)
    return requantize(acc, mult, out_zp, (-128, 127), Rounding.DOUBLE)


def _conv(data: relax.Expr, weights_ohwi: np.ndarray) -> relax.Expr:
    return R.nn.conv2d(data, relax.const(weights_ohwi, "int8"), strides=[1, 1], padding=0, data_layout="NHWC",
                       kernel_layout="OHWI", out_dtype="int32")


REWRITES: list[Rewrite] = [Rewrite("transpose_conv", _out.pattern, _build)]
