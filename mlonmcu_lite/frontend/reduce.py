"""MEAN (int8 / int16) → TFLite's integer mean: int32 sum, zero-point term, one rescale;
REDUCE_MAX / REDUCE_MIN → max / min of the raw integers (reduce.cc's ReduceGeneric never
rescales: the converter gives the output the input's quantization).

reference_ops::QuantizedMeanOrSum: the multiplier of s_in/s_out (double) absorbs 1/n as
M' = (M << k) / n with k = min(floor(log2 n), 32, 31 + shift) and shift' = shift − k, then
out = MultiplyByQuantizedMultiplier(Σx − zp_in·n, M', shift') + zp_out (double rounding).

int8 SUM is imported by qmath.py (its golden comes from the builtin kernel: ai-edge-litert 2.3's
reference SUM reads int8 data as uint8).
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_op

from . import qparams
from .fixedpoint import Multipliers, dtype_range, quantize_multiplier
from .patterns import Rewrite, dequantize, quantize
from .requant import Rounding, const, rescale, to_dtype

_x = dequantize()
_mean = is_op("relax.mean")(_x.pattern)
_out = quantize(_mean)


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> Multipliers:
    """The (multiplier, shift) QuantizedMeanOrSum applies to the zero-point-corrected sum."""
    mult, shift = quantize_multiplier(in_scale / out_scale)
    k = min(count.bit_length() - 1, 32, 31 + shift)
    return Multipliers(((mult << k) // count,), (shift - k,))


def _build(root: relax.Expr, m: dict) -> relax.Expr:
    x = m[_x.data]
    in_scale, in_zp = _x.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    attrs = m[_mean].attrs
    shape = qparams.shape_of(x)
    axes = [int(a) % len(shape) for a in attrs.axis] if attrs.axis is not None else list(range(len(shape)))
    count = int(np.prod([shape[a] for a in axes]))
    total = R.sum(R.astype(x, "int32"), axis=axes, keepdims=bool(attrs.keepdims))
    centred = R.subtract(R.astype(total, "int64"), const(in_zp * count, "int64"))
    dtype = _out.dtype(m)
    scaled = rescale(centred, mean_multiplier(in_scale, out_scale, count), Rounding.DOUBLE)
    return to_dtype(scaled, out_zp, *dtype_range(dtype), dtype)


def _extremum(name: str) -> Rewrite:
    x = dequantize()
    reduced = is_op(f"relax.{name}")(x.pattern)
    out = quantize(reduced)

    def build(root: relax.Expr, m: dict) -> relax.Expr:
        attrs = m[reduced].attrs
        return getattr(R, name)(m[x.data], axis=attrs.axis, keepdims=bool(attrs.keepdims))

    return Rewrite(f"reduce_{name}", out.pattern, build)


REWRITES: list[Rewrite] = [Rewrite("mean", _out.pattern, _build), _extremum("max"), _extremum("min")]
