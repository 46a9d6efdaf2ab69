"""MAXIMUM, MINIMUM and standalone RELU / RELU6 (int8) as TFLite's kernels compute them.

* MAXIMUM / MINIMUM (maximum_minimum.cc) compare the raw int8 values and never rescale
  (the converter gives inputs and output one quantization): an int8 `maximum`/`minimum`.
* RELU / RELU6 (activations.cc, ReluX) requantize: out_zp + M·(x − in_zp) with
  M = s_in/s_out (a float32 quotient), double rounding, clamped to the activation's range
  (zp + round(0/s), zp + round(6/s) as CalculateActivationRangeQuantized).
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_op, wildcard

from .errors import FrontendError
from .fixedpoint import Multipliers, activation_range
from .patterns import Rewrite, clip_bounds, dequantize, quantize
from .requant import Rounding, const, rescale, to_int8

ROUNDING = Rounding.DOUBLE


def _binary(name: str, emit) -> Rewrite:
    a, b = dequantize(), dequantize()
    out = quantize(is_op(f"relax.{name}")(a.pattern, b.pattern))
    return Rewrite(name, out.pattern, lambda root, m: emit(m[a.data], m[b.data]))


_x = dequantize()
_relu = is_op("relax.nn.relu")(_x.pattern)
_clip = is_op("relax.clip")(_x.pattern, wildcard(), wildcard())
_act_out = quantize(_relu | _clip)


def _build_relu(root: relax.Expr, m: dict) -> relax.Expr:
    x_scale, x_zp = _x.scale_zp(m)
    out_scale, out_zp = _act_out.scale_zp(m)
    act = "RELU"
    if _clip in m:
        if clip_bounds(m[_clip]) != (0, 6):
            raise FrontendError(f"a standalone clip {clip_bounds(m[_clip])} (only RELU6's 0..6)")
        act = "RELU6"
    mult = Multipliers.of([float(np.float32(x_scale) / np.float32(out_scale))])
    centred = R.subtract(R.astype(m[_x.data], "int64"), const(x_zp, "int64"))
    return to_int8(rescale(centred, mult, ROUNDING), out_zp, *activation_range(act, out_scale, out_zp))


REWRITES: list[Rewrite] = [_binary("maximum", R.maximum), _binary("minimum", R.minimum),
                           Rewrite("relu", _act_out.pattern, _build_relu)]
