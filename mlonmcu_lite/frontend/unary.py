"""8-bit elementwise unary ops → one 256-entry table lookup.

LOGISTIC, TANH, LEAKY_RELU and HARD_SWISH map each int8 input to one int8 output, so the
reference kernel's whole integer (or float32-tabulated) algorithm is run at compile time
for all 256 inputs (`tables.py`) and the target does `out = table[x + 128]`.  The importer
writes each as `quantize(f(dequantize(x)))` with f = sigmoid, tanh, leakyrelu or
x·clip(x + 3, 0, 6)/6.  uint8 models arrive as int8 (normalize.py) and these kernels
compute on q − zero point, so the same tables serve them; int16 LOGISTIC / TANH run TFLite's
interpolating kernels, int16 LEAKY_RELU its arithmetic per element, int16 HARD_SWISH is rejected.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op, wildcard

from .elementwise import lookup
from .errors import FrontendError
from .fixedpoint import Multipliers, dtype_range
from .patterns import QDQ, Rewrite, dequantize, quantize
from .requant import Rounding, const, rescale, to_dtype
from .tables import (SIGMOID_KNOTS_UINT16, hard_swish_table, int16_sigmoid_params, leaky_relu_params,
                     leaky_relu_table, logistic_table, tanh_table)

Table = Callable[[float, int, float, int], np.ndarray]


def _table_rewrite(name: str, x: QDQ, out: QDQ, table: Callable[[dict], Table]) -> Rewrite:
    def build(root: relax.Expr, m: dict) -> relax.Expr:
        if x.dtype(m) != "int8" or out.dtype(m) != "int8":
            raise FrontendError(f"{name.upper()} on {x.dtype(m)} (8-bit only)")
        try:
            values = table(m)(*x.scale_zp(m), *out.scale_zp(m))
        except ValueError as err:
            raise FrontendError(f"{name.upper()}: {err}") from None
        return lookup(m[x.data], values)

    return Rewrite(name, out.pattern, build)


def _simple(name: str, relax_op: str, table: Table) -> Rewrite:
    x = dequantize()
    return _table_rewrite(name, x, quantize(is_op(relax_op)(x.pattern)), lambda m: table)


def _i32(v) -> relax.Expr:
    return const(v, "int32")


def int16_sigmoid(x: relax.Expr, input_scale: float, tanh: bool) -> relax.Expr:
    """reference_integer_ops::Logistic / Tanh for int16 (output 1/32768, zero points 0):
    rescale the input, interpolate the 256-knot sigmoid table on |x|, mirror for x < 0."""
    multiplier, shift = int16_sigmoid_params(input_scale, tanh)
    scaled = R.add(R.multiply(R.astype(x, "int32"), _i32(multiplier)), _i32((1 << shift) >> 1))
    scaled = R.right_shift(scaled, _i32(shift))
    frac_bits = 8 if tanh else 9
    magnitude = R.abs(scaled)
    knot = R.right_shift(magnitude, _i32(frac_bits))
    index = R.minimum(knot, _i32(254))
    knots = const(SIGMOID_KNOTS_UINT16, "int32")
    lower, upper = R.take(knots, index, axis=0), R.take(knots, R.add(index, _i32(1)), axis=0)
    fraction = R.bitwise_and(magnitude, _i32((1 << frac_bits) - 1))
    value = R.add(R.left_shift(lower, _i32(frac_bits)), R.multiply(fraction, R.subtract(upper, lower)))
    saturated = (0xFFFF << 8) if tanh else (0x7FFF << 10)
    value = R.where(R.greater_equal(knot, _i32(255)), _i32(saturated), value)
    positive = R.greater_equal(scaled, _i32(0))
    if tanh:
        result = R.where(positive, R.add(value, _i32(-(1 << 23) + (1 << 7))), R.add(R.negative(value), _i32((1 << 23) + (1 << 7) - 1)))
        return R.astype(R.right_shift(result, _i32(8)), "int16")
    result = R.where(positive, R.add(value, _i32(1 << 9)), R.add(R.negative(value), _i32((1 << 25) + (1 << 9) - 1)))
    return R.astype(R.right_shift(result, _i32(10)), "int16")


def _sigmoid(name: str, relax_op: str, table: Table) -> Rewrite:
    """LOGISTIC / TANH: the 8-bit table, or for int16 TFLite's interpolating kernel."""
    x = dequantize()
    out = quantize(is_op(relax_op)(x.pattern))
    lut = _table_rewrite(name, x, out, lambda m: table)

    def build(root: relax.Expr, m: dict) -> relax.Expr:
        if x.dtype(m) != "int16":
            return lut.build(root, m)
        if out.dtype(m) != "int16" or x.scale_zp(m)[1] != 0 or out.scale_zp(m) != (1.0 / 32768.0, 0):
            raise FrontendError(f"int16 {name.upper()} needs zero points 0 and output scale 1/32768")
        return int16_sigmoid(m[x.data], x.scale_zp(m)[0], tanh=name == "tanh")

    return Rewrite(name, out.pattern, build)


def int16_leaky_relu(x: relax.Expr, in_scale: float, in_zp: int, out_scale: float, out_zp: int,
                     alpha: float) -> relax.Expr:
    """QuantizeLeakyRelu on int16 per element (a table would have 65536 entries)."""
    id_mult, id_shift, alpha_mult, alpha_shift = leaky_relu_params(in_scale, out_scale, alpha)
    centred = R.subtract(R.astype(x, "int64"), const(in_zp, "int64"))
    identity = rescale(centred, Multipliers((id_mult,), (id_shift,)), Rounding.DOUBLE)
    scaled = rescale(centred, Multipliers((abs(alpha_mult),), (alpha_shift,)), Rounding.DOUBLE)
    negative = R.negative(scaled) if alpha_mult < 0 else scaled
    value = R.where(R.greater_equal(centred, const(0, "int64")), identity, negative)
    return to_dtype(value, out_zp, *dtype_range("int16"), "int16")


def _leaky_relu() -> Rewrite:
    x = dequantize()
    act = is_op("relax.nn.leakyrelu")(x.pattern)
    out = quantize(act)

    def table(m: dict) -> Table:
        alpha = float(m[act].attrs.alpha)
        return lambda *q: leaky_relu_table(*q, alpha)

    lut = _table_rewrite("leaky_relu", x, out, table)

    def build(root: relax.Expr, m: dict) -> relax.Expr:
        if x.dtype(m) != "int16" or out.dtype(m) != "int16":
            return lut.build(root, m)
        return int16_leaky_relu(m[x.data], *x.scale_zp(m), *out.scale_zp(m), float(m[act].attrs.alpha))

    return Rewrite("leaky_relu", out.pattern, build)


def _hard_swish() -> Rewrite:
    """x · clip(x + 3, 0, 6) / 6, the importer's float HARD_SWISH."""
    x = dequantize()
    gate = is_op("relax.clip")(is_op("relax.add")(x.pattern, is_const()), wildcard(), wildcard())
    out = quantize(is_op("relax.divide")(is_op("relax.multiply")(x.pattern, gate), is_const()))
    return _table_rewrite("hard_swish", x, out, lambda m: hard_swish_table)


REWRITES: list[Rewrite] = [
    _sigmoid("logistic", "relax.sigmoid", logistic_table),
    _sigmoid("tanh", "relax.tanh", tanh_table),
    _leaky_relu(),
    _hard_swish(),
]
