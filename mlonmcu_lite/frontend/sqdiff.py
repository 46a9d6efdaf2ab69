"""SQUARED_DIFFERENCE (8-bit) imported as TFLite's integer kernel (squared_difference.cc).

Both inputs are centred, shifted left by 7 and rescaled onto twice the larger input scale;
the difference is squared in int32 (at most 32640², no overflow) and rescaled to the output:
real multipliers s_i / (2·max s) and (2·max s)² / (2^14·s_out) in double, every rescale
MultiplyByQuantizedMultiplierSmallerThanOneExp (double rounding).  TVM 0.27 imports it as a
float subtract and multiply, which no QDQ rewrite could make bit-exact.
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R

from .fixedpoint import Multipliers, dtype_range
from .qparams import tensor_scale_zp
from .requant import Rounding, const, rescale, to_dtype

LEFT_SHIFT = 7


def squared_difference(a: relax.Expr, b: relax.Expr, a_q: tuple[float, int], b_q: tuple[float, int],
                       out_q: tuple[float, int], dtype: str = "int8") -> relax.Expr:
    """The integer SQUARED_DIFFERENCE of two quantized tensors (broadcasting as Relax does)."""
    twice_max = 2.0 * max(a_q[0], b_q[0])

    def scaled(x: relax.Expr, scale: float, zp: int) -> relax.Expr:
        centred = R.subtract(R.astype(x, "int64"), const(zp, "int64"))
        shifted = R.multiply(centred, const(1 << LEFT_SHIFT, "int64"))
        return rescale(shifted, Multipliers.of([scale / twice_max]), Rounding.DOUBLE)

    diff = R.subtract(scaled(a, *a_q), scaled(b, *b_q))
    out_real = twice_max * twice_max / float(np.float32(1 << (2 * LEFT_SHIFT)) * np.float32(out_q[0]))
    value = rescale(R.multiply(diff, diff), Multipliers.of([out_real]), Rounding.DOUBLE)
    return to_dtype(value, out_q[1], *dtype_range(dtype), dtype)


class SquaredDifferenceConverter:
    """Mixin of `converter.Converter`: quantized SQUARED_DIFFERENCE (TVM's converter for float)."""

    def convert_squared_difference(self, op):
        if not self.is_quantized(op):
            return super().convert_squared_difference(op)
        a, b = self.get_input_tensors(op)
        (out,) = self.get_output_tensors(op)
        return squared_difference(self.get_tensor_expr(a), self.get_tensor_expr(b), tensor_scale_zp(a),
                                  tensor_scale_zp(b), tensor_scale_zp(out), self.get_tensor_type_str(out.tensor.Type()))
