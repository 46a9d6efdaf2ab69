"""ADD (int8, same or broadcast shapes) → TFLite's integer add.

Both inputs are offset, shifted left by 20 bits and rescaled to twice the larger input
scale, summed, then rescaled to the output (add.cc / reference_integer_ops::Add).  The
importer applies the fused activation in float before `quantize`, so it is read from
that float op and turned into TFLite's quantized activation range.
"""

from __future__ import annotations

import math

from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_op, wildcard

from .errors import FrontendError
from .fixedpoint import Multipliers, activation_range, add_params
from .patterns import Rewrite, clip_bounds, dequantize, quantize
from .requant import Rounding, const, rescale, to_dtype

_a = dequantize()
_b = dequantize()
_sum = is_op("relax.add")(_a.pattern, _b.pattern)
_relu = is_op("relax.nn.relu")(_sum)
_clip = is_op("relax.clip")(_sum, wildcard(), wildcard())
_out = quantize(_relu | _clip | _sum)

_CLIP_ACTIVATIONS = {(0, 6): "RELU6"}
ROUNDING = Rounding.DOUBLE


def _activation(m: dict) -> str:
    if _relu in m:
        return "RELU"
    if _clip in m:
        bounds = clip_bounds(m[_clip])
        if bounds not in _CLIP_ACTIVATIONS:
            raise FrontendError(f"ADD with a clip activation {bounds}")
        return _CLIP_ACTIVATIONS[bounds]
    return "NONE"


def _shifted(x: relax.Expr, zero_point: int, left_shift: int, m: Multipliers) -> relax.Expr:
    """((x − zp) · 2^left_shift) rescaled by the input's multiplier."""
    centred = R.subtract(R.astype(x, "int64"), const(zero_point, "int64"))
    return rescale(R.multiply(centred, const(1 << left_shift, "int64")), m, ROUNDING)


def _build(root: relax.Expr, m: dict) -> relax.Expr:
    a_scale, a_zp = _a.scale_zp(m)
    b_scale, b_zp = _b.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    dtype = _out.dtype(m)
    if dtype == "int16" and all(math.frexp(sc)[0] == 0.5 for sc in (a_scale, b_scale, out_scale)):
        raise FrontendError("int16 ADD with power-of-two scales (TFLite's shift-only path is not reproduced)")
    # int16 with general (non power-of-two) scales: left_shift 15 (the POT path is not taken).
    p = add_params(a_scale, b_scale, out_scale, left_shift=15 if dtype == "int16" else 20)
    raw = R.add(_shifted(m[_a.data], a_zp, p.left_shift, p.input1),
                _shifted(m[_b.data], b_zp, p.left_shift, p.input2))
    lo, hi = activation_range(_activation(m), out_scale, out_zp, dtype)
    return to_dtype(rescale(raw, p.output, ROUNDING), out_zp, lo, hi, dtype)


REWRITES: list[Rewrite] = [Rewrite("add", _out.pattern, _build)]
