"""RESIZE_BILINEAR (int8 / int16) → reference_ops::ResizeBilinearInteger, no float anywhere.

TFLite interpolates the raw int8 values with 10-bit fixed-point source coordinates
(scale_10 = round(2^10·in/out), or (in−1)/(out−1) with align_corners; half_pixel_centers
shifts by scale/2 − 2^9) and rounds the 2^20-scaled sum half away from zero.  Every
coordinate, index and weight depends only on the shapes, so they are computed here and the
target gathers two rows, then two columns, with int32 weights (|sum| < 2^29 for int8; int16
sums in int64).

Legacy uint8 models run TFLite's templated `reference_ops::ResizeBilinear<uint8_t>`, which
interpolates in float32: `v·(1−dy)·(1−dx) + v·dy·(1−dx) + ... + 0.5f` left to right, then
truncates.
The coefficients depend only on the shapes (computed here in float32 exactly as the kernel
does), so the target runs a float island of the same multiplies and adds in the same order
(`float_island_nodes` lets exactly these float nodes through the integer check).
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.ir.expr import GenericConst
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
    x = m[_x.data]
    if legacy_uint8.get():
        return _legacy_uint8(x, qparams.shape_of(x), qparams.shape_of(root), mode)
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


def float_interpolation(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """reference_ops::ComputeInterpolationValues (float) per output index, in float32:
    (lower, upper, 1 − frac, frac)."""
    f32 = np.float32
    scale = f32(in_size) / f32(out_size)
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    pos = np.arange(out_size).astype(f32)
    pos = (pos + f32(0.5)) * scale - f32(0.5) if half_pixel else pos * scale
    lower = np.maximum(np.floor(pos).astype(np.int32), 0)
    upper = np.minimum(np.ceil(pos).astype(np.int32), in_size - 1)
    frac = (pos - lower.astype(f32)).astype(f32)
    return lower, upper, (f32(1) - frac).astype(f32), frac


def _legacy_uint8(x: relax.Expr, in_shape, out_shape, mode: str) -> relax.Expr:
    """ResizeBilinear<uint8_t>: float32 terms v·wy·wx summed left to right, + 0.5f, truncated."""
    flags = (mode == "align_corners", mode == "half_pixel")
    y0, y1, wy0, wy1 = float_interpolation(in_shape[1], out_shape[1], *flags)
    x0, x1, wx0, wx1 = float_interpolation(in_shape[2], out_shape[2], *flags)
    values = R.astype(R.add(R.astype(x, "int32"), const(128, "int32")), "float32")  # the uint8 values

    def rows(index, weight):
        return R.multiply(R.take(values, const(index, "int32"), axis=1), relax.const(weight.reshape(1, -1, 1, 1)))

    def term(row, index, weight):
        return R.multiply(R.take(row, const(index, "int32"), axis=2), relax.const(weight.reshape(1, 1, -1, 1)))

    low, high = rows(y0, wy0), rows(y1, wy1)
    total = R.add(R.add(R.add(term(low, x0, wx0), term(high, x0, wx0)), term(low, x1, wx1)), term(high, x1, wx1))
    total = R.add(total, relax.const(np.float32(0.5)))  # the kernel's rounding_offset, then truncation
    return R.astype(R.subtract(R.astype(total, "int32"), const(128, "int32")), "int8")


ISLAND_OPS = frozenset({"relax.astype", "relax.multiply", "relax.add", "relax.take"})


def float_island_nodes(func: relax.Function) -> set[int]:
    """Handles of the float nodes of `_legacy_uint8` islands: float32 bindings computed only by
    astype / multiply / add / take from integers, float constants and each other."""
    allowed: set[int] = set()
    for block in func.body.blocks:
        for b in block.bindings:
            v = b.value
            if str(getattr(b.var.ty, "dtype", "")) != "float32" or not isinstance(v, relax.Call) or \
                    getattr(v.op, "name", "") not in ISLAND_OPS:
                continue
            consts = [a for a in v.args if isinstance(a, GenericConst)]
            inputs = [a for a in v.args if not isinstance(a, GenericConst)]
            floats = [a for a in inputs if str(getattr(a.ty, "dtype", "")).startswith("float")]
            if v.op.name == "relax.astype" and not floats or floats and all(a.__hash__() in allowed for a in floats):
                allowed.update({b.var.__hash__(), v.__hash__(), *(c.__hash__() for c in consts)})
    return allowed


REWRITES: list[Rewrite] = [Rewrite("resize_bilinear", _out.pattern, _build)]
