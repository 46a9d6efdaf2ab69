"""MAXIMUM, MINIMUM and standalone RELU / RELU6 (int8) as TFLite's kernels compute them.

* MAXIMUM / MINIMUM (maximum_minimum.cc) compare the raw int8 values and never rescale
  (the converter gives inputs and output one quantization): an int8 `maximum`/`minimum`.
* RELU / RELU6 (activations.cc, ReluX) requantize: out_zp + M·(x − in_zp) with
  M = s_in/s_out (a float32 quotient), double rounding, clamped to the activation's range
  (zp + round(0/s), zp + round(6/s) as CalculateActivationRangeQuantized).  An int8 input has
  256 values, so the whole op is a compile-time table: one load per element (int16: arithmetic).
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_op, wildcard

from .errors import FrontendError
from .fixedpoint import Multipliers, activation_range, multiply_by_quantized_multiplier, quantize_multiplier
from .patterns import Rewrite, clip_bounds, dequantize, quantize
from .requant import Rounding, const, rescale, to_dtype


def _binary(name: str, emit) -> Rewrite:
    a, b = dequantize(), dequantize()
    out = quantize(is_op(f"relax.{name}")(a.pattern, b.pattern))
    return Rewrite(name, out.pattern, lambda root, m: emit(m[a.data], m[b.data]))


_x = dequantize()
_relu = is_op("relax.nn.relu")(_x.pattern)
_clip = is_op("relax.clip")(_x.pattern, wildcard(), wildcard())
_act_out = quantize(_relu | _clip)


def relu_table(x_scale: float, x_zp: int, out_scale: float, out_zp: int, act: str) -> np.ndarray:
    """ReluX's output for every int8 input (index x + 128), in TFLite's integer arithmetic."""
    m, shift = quantize_multiplier(float(np.float32(x_scale) / np.float32(out_scale)))
    lo, hi = activation_range(act, out_scale, out_zp)
    return np.array([min(hi, max(lo, out_zp + multiply_by_quantized_multiplier(x - x_zp, m, shift)))
                     for x in range(-128, 128)], np.int8)


def lookup(x: relax.Expr, table: np.ndarray, dtype: str = "int8") -> relax.Expr:
    """table[x + 128] for an int8 x: one load from a 256-entry constant (of `dtype`) per element.

    Indexed by x itself in "wrap" mode (x mod 256), with the table rotated to that order, so
    the lookup is a single kernel reading x as an unsigned byte.
    """
    return R.take(const(np.roll(table, -128), dtype), x, axis=0, mode="wrap")


def _build_relu(root: relax.Expr, m: dict) -> relax.Expr:
    act = "RELU"
    if _clip in m:
        if clip_bounds(m[_clip]) != (0, 6):
            raise FrontendError(f"a standalone clip {clip_bounds(m[_clip])} (only RELU6's 0..6)")
        act = "RELU6"
    (x_scale, x_zp), (out_scale, out_zp) = _x.scale_zp(m), _act_out.scale_zp(m)
    dtype = _act_out.dtype(m)
    if dtype == "int8":
        return lookup(m[_x.data], relu_table(x_scale, x_zp, out_scale, out_zp, act))
    # int16: the same ReluX arithmetic per element (a table would have 65536 entries)
    mult = Multipliers.of([float(np.float32(x_scale) / np.float32(out_scale))])
    centred = R.subtract(R.astype(m[_x.data], "int64"), const(x_zp, "int64"))
    lo, hi = activation_range(act, out_scale, out_zp, dtype)
    return to_dtype(rescale(centred, mult, Rounding.DOUBLE), out_zp, lo, hi, dtype)


REWRITES: list[Rewrite] = [_binary("maximum", R.maximum), _binary("minimum", R.minimum),
                           Rewrite("relu", _act_out.pattern, _build_relu)]
