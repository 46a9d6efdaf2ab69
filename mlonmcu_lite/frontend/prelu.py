"""PRELU (int8 / int16 input, constant int8 alpha, broadcast) → reference_ops::Prelu / BroadcastPrelu4DSlow.

in = x − zp_x;  out = zp_out + (in ≥ 0 ? MBQM(in, M1) : MBQM(in·(alpha − zp_alpha), M2)),
both double rounding, with PreluPrepare's float32 real multipliers s_x/s_out and
s_x·s_alpha/s_out.  Imported in QDQ form by `converter.QDQConverter`.
"""

from __future__ import annotations

from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op

from .fixedpoint import Multipliers, dtype_range, f32
from .patterns import Rewrite, dequantize, quantize
from .requant import Rounding, const, rescale, to_dtype

_x = dequantize()
_alpha = dequantize(is_const())
_scaled = is_op("relax.multiply")(_x.pattern, _alpha.pattern)
_out = quantize(is_op("relax.where")(is_op("relax.greater_equal")(_x.pattern, is_const()), _x.pattern, _scaled))


def _build(root: relax.Expr, m: dict) -> relax.Expr:
    x_scale, x_zp = _x.scale_zp(m)
    a_scale, a_zp = _alpha.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    centred = R.subtract(R.astype(m[_x.data], "int32"), const(x_zp, "int32"))
    alpha = R.subtract(R.astype(m[_alpha.data], "int32"), const(a_zp, "int32"))
    wide = R.astype(centred, "int64")
    positive = rescale(wide, Multipliers.of([f32(f32(x_scale) / f32(out_scale))]), Rounding.DOUBLE)
    negative = rescale(R.astype(R.multiply(centred, alpha), "int64"),
                       Multipliers.of([f32(f32(f32(x_scale) * f32(a_scale)) / f32(out_scale))]), Rounding.DOUBLE)
    chosen = R.where(R.greater_equal(wide, const(0, "int64")), positive, negative)
    dtype = _out.dtype(m)
    return to_dtype(chosen, out_zp, *dtype_range(dtype), dtype)


REWRITES: list[Rewrite] = [Rewrite("prelu", _out.pattern, _build)]
