"""RESIZE_BILINEAR (int8 / int16) → reference_ops::ResizeBilinearInteger, no float anywhere.

TFLite interpolates the raw int8 values with 10-bit fixed-point source coordinates
(scale_10 = round(2^10·in/out), or (in−1)/(out−1) with align_corners; half_pixel_centers
shifts by scale/2 − 2^9) and rounds the 2^20-scaled sum half away from zero.  Every
coordinate, index and weight depends only on the shapes, so they are computed here and the
target gathers two rows, then two columns, with int32 weights (|sum| < 2^29 for int8; int16
sums in int64).  uint8 models are rejected: TFLite's uint8 kernel interpolates in float32.
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_op, wildcard

from . import qparams
from .errors import FrontendError
from .normalize import legacy_uint8
from .patterns import Rewrite, dequantize, quantize
from .requant import const

_x = dequantize()
_resize = is_op("relax.image.resize2d")(_x.pattern, wildcard())
_out = quantize(_resize)


def _c_div(a: np.ndarray, b: int) -> np.ndarray:
    """C integer division (truncation toward zero)."""
    return np.sign(a) * (np.abs(a) // b)


def interpolation(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """ComputeInterpolationValuesInteger per output index: (lower, upper, lower weight, upper weight)."""
    if align_corners and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = ((1 << 10) * in_size + out_size // 2) // out_size
    pos = np.arange(out_size, dtype=np.int64) * scale
    if half_pixel:
        pos = pos + scale // 2 - (1 << 9)
    lower = np.maximum(_c_div(pos, 1 << 10), 0)
    upper = np.minimum(_c_div(pos + (1 << 10) - 1, 1 << 10), in_size - 1)
    frac = pos - (1 << 10) * lower
    return lower, upper, (1 << 10) - frac, frac


def _blend(x: relax.Expr, axis: int, lower, upper, w_lower, w_upper, acc: str) -> relax.Expr:
    shape = [1, 1, 1, 1]
    shape[axis] = -1

    def weighted(index, weight) -> relax.Expr:
        return R.multiply(R.take(x, const(index, "int32"), axis=axis), const(weight.reshape(shape), acc))

    return R.add(weighted(lower, w_lower), weighted(upper, w_upper))


def _build(root: relax.Expr, m: dict) -> relax.Expr:
    attrs = m[_resize].attrs
    mode = str(attrs.coordinate_transformation_mode)
    if str(attrs.method) != "linear" or str(attrs.layout) != "NHWC" or mode not in (
            "asymmetric", "align_corners", "half_pixel"):
        raise FrontendError(f"RESIZE_BILINEAR variant (method {attrs.method}, mode {mode})")
    if legacy_uint8.get():
        raise FrontendError("RESIZE_BILINEAR in a uint8 model (TFLite's uint8 kernel interpolates in float32)")
    x = m[_x.data]
    dtype = _out.dtype(m)
    acc = "int32" if dtype == "int8" else "int64"
    _, in_h, in_w, _ = qparams.shape_of(x)
    _, out_h, out_w, _ = qparams.shape_of(root)
    flags = (mode == "align_corners", mode == "half_pixel")
    total = _blend(_blend(R.astype(x, acc), 1, *interpolation(in_h, out_h, *flags), acc),
                   2, *interpolation(in_w, out_w, *flags), acc)
    half = const(1 << 19, acc)
    up = R.right_shift(R.add(total, half), const(20, acc))
    down = R.negative(R.right_shift(R.add(R.negative(total), half), const(20, acc)))
    return R.astype(R.where(R.greater(total, const(0, acc)), up, down), dtype)


REWRITES: list[Rewrite] = [Rewrite("resize_bilinear", _out.pattern, _build)]
