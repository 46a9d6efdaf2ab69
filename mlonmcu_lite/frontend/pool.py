"""AVERAGE_POOL_2D with TFLite's rounding; integer clip bounds for the importer's clips.

TVM's int avg_pool2d divides with truncation; TFLite sums the window's valid taps and
divides by their count rounding half away from zero.  Here the sum is an int32 `sum` (a
global pool) or a depthwise conv with all-ones weights over the zero-padded input (padded
taps add 0), and the per-position tap count is a constant.  MAX_POOL_2D needs no rewrite:
the importer already emits an int8 max_pool2d, whose padding (dtype minimum) never wins
over a valid tap, as TFLite's skipped taps never do.
"""

from __future__ import annotations

import numpy as np
from tvm import relax, tirx
from tvm.relax import op as R
from tvm.relax.dpl import is_op, wildcard

from . import qparams
from .errors import FrontendError
from .fixedpoint import dtype_range
from .normalize import legacy_uint8
from .patterns import Rewrite
from .requant import const

_x = wildcard()
_pool = is_op("relax.nn.avg_pool2d")(is_op("relax.astype")(_x))
_out = is_op("relax.astype")(_pool)


def tap_counts(size: int, kernel: int, stride: int, pad_before: int, out: int) -> np.ndarray:
    """Number of in-bounds taps of each output position along one axis."""
    origin = np.arange(out) * stride - pad_before
    return np.minimum(kernel, size - origin) - np.maximum(0, -origin)


def _window_sum(x: relax.Expr, shape: tuple[int, ...], attrs, out_hw: tuple[int, int]) -> relax.Expr:
    _, h, w, c = shape
    kh, kw = (int(k) for k in attrs.pool_size)
    top, left, bottom, right = (int(p) for p in attrs.padding)
    if (kh, kw) == (h, w) and out_hw == (1, 1) and not (top or left or bottom or right):
        return R.sum(R.astype(x, "int32"), axis=[1, 2], keepdims=True)
    if top or left or bottom or right:
        x = R.nn.pad(x, [0, 0, top, bottom, left, right, 0, 0], pad_value=0.0)
    ones = relax.const(np.ones((c, kh, kw, 1), np.int8), "int8")
    return R.nn.conv2d(x, ones, strides=[int(s) for s in attrs.strides], padding=0, groups=c,
                       data_layout="NHWC", kernel_layout="OHWI", out_dtype="int32")


def _rounded_mean(acc: relax.Expr, count: relax.Expr, half: relax.Expr) -> relax.Expr:
    """TFLite's division of a window sum by its tap count.

    int8/int16 kernels round half away from zero; the legacy uint8 kernel computes
    (sum + count/2) / count on non-negative sums, which on the int8-shifted values of a
    normalized uint8 model (normalize.py) is a floor division of sum + count/2.
    """
    if legacy_uint8.get():
        return R.floor_divide(R.add(acc, half), count)
    quotient = R.floor_divide(R.add(R.abs(acc), half), count)
    return R.where(R.less(acc, const(0, "int32")), R.negative(quotient), quotient)


def _build_avg(root: relax.Expr, m: dict) -> relax.Expr:
    pool = m[_pool]
    attrs = pool.attrs
    if str(attrs.layout) != "NHWC" or bool(attrs.ceil_mode) or any(int(d) != 1 for d in attrs.dilation):
        raise FrontendError("AVERAGE_POOL_2D variant (layout/ceil mode/dilation)")
    x = m[_x]
    shape = qparams.shape_of(x)
    _, oh, ow, _ = qparams.shape_of(pool)
    kh, kw = (int(k) for k in attrs.pool_size)
    sh, sw = (int(s) for s in attrs.strides)
    top, left, _, _ = (int(p) for p in attrs.padding)
    counts = np.outer(tap_counts(shape[1], kh, sh, top, oh), tap_counts(shape[2], kw, sw, left, ow))
    count = const(counts.reshape(1, oh, ow, 1), "int32")
    half = const((counts // 2).reshape(1, oh, ow, 1), "int32")
    acc = _window_sum(x, shape, attrs, (oh, ow))
    dtype = str(root.ty.dtype)
    return R.astype(R.clip(_rounded_mean(acc, count, half), *dtype_range(dtype)), dtype)


_clip_x = wildcard()
_clip = is_op("relax.clip")(_clip_x, wildcard(), wildcard())


def _build_int_clip(root: relax.Call, m: dict) -> relax.Expr:
    """The importer's int8 clips carry float64 bounds: give them integer ones."""
    lo, hi = root.args[1], root.args[2]
    if not isinstance(lo, tirx.FloatImm) and not isinstance(hi, tirx.FloatImm):
        return root
    return R.clip(m[_clip_x], qparams.prim_int(lo), qparams.prim_int(hi))


REWRITES: list[Rewrite] = [Rewrite("avg_pool2d", _out, _build_avg)]
CLEANUP: list[Rewrite] = [Rewrite("int_clip", _clip, _build_int_clip)]
