"""MUL (int8 / int16, same or broadcast shapes) → TFLite's integer multiply.

(x1 − zp1)·(x2 − zp2) is rescaled by one quantized multiplier with double rounding
(mul.cc / reference_integer_ops::MulElementwise); Prepare forms the real multiplier
s1·s2/s_out in float32, which `mul_multiplier` reproduces.  int16 (16x8) runs the same
MulElementwise; int16 inputs with an int8 output (a fixed-point variant) are rejected.
"""

from __future__ import annotations

from tvm import relax
from tvm.relax import op as R

from .add import ROUNDING, binary_patterns
from .errors import FrontendError
from .fixedpoint import Multipliers, activation_range, f32
from .patterns import Rewrite
from .requant import const, rescale, to_dtype

_p = binary_patterns("relax.multiply")


def mul_multiplier(s1: float, s2: float, s_out: float) -> Multipliers:
    """mul.cc Prepare: `input1->params.scale * input2->params.scale / output->params.scale` (floats)."""
    return Multipliers.of([f32(f32(s1 * s2) / s_out)])


def _centred(x: relax.Expr, zero_point: int) -> relax.Expr:
    return R.subtract(R.astype(x, "int32"), const(zero_point, "int32"))


def _build(root: relax.Expr, m: dict) -> relax.Expr:
    a_scale, a_zp = _p.a.scale_zp(m)
    b_scale, b_zp = _p.b.scale_zp(m)
    out_scale, out_zp = _p.out.scale_zp(m)
    dtype = _p.out.dtype(m)
    if {_p.a.dtype(m), _p.b.dtype(m)} != {dtype}:
        raise FrontendError(f"MUL {_p.a.dtype(m)} x {_p.b.dtype(m)} -> {dtype}")
    product = R.multiply(_centred(m[_p.a.data], a_zp), _centred(m[_p.b.data], b_zp))
    lo, hi = activation_range(_p.activation(m), out_scale, out_zp, dtype)
    scaled = rescale(R.astype(product, "int64"), mul_multiplier(a_scale, b_scale, out_scale), ROUNDING)
    return to_dtype(scaled, out_zp, lo, hi, dtype)


REWRITES: list[Rewrite] = [Rewrite("mul", _p.out.pattern, _build)]
