"""8-bit elementwise unary ops → one 256-entry table lookup.

LOGISTIC, TANH, LEAKY_RELU and HARD_SWISH map each int8 input to one int8 output, so the
reference kernel's whole integer (or float32-tabulated) algorithm is run at compile time
for all 256 inputs (`tables.py`) and the target does `out = table[x + 128]`.  The importer
writes each as `quantize(f(dequantize(x)))` with f = sigmoid, tanh, leakyrelu or
x·clip(x + 3, 0, 6)/6.  uint8 models arrive as int8 (normalize.py) and these kernels
compute on q − zero point, so the same tables serve them; int16 inputs are rejected.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op, wildcard

from .errors import FrontendError
from .patterns import QDQ, Rewrite, dequantize, quantize
from .requant import const
from .tables import hard_swish_table, leaky_relu_table, logistic_table, tanh_table

Table = Callable[[float, int, float, int], np.ndarray]


def lookup(x: relax.Expr, table: np.ndarray) -> relax.Expr:
    """table[x + 128] for an int8 tensor x and a 256-entry int8 table."""
    index = R.add(R.astype(x, "int32"), const(128, "int32"))
    return R.take(relax.const(np.asarray(table, np.int8), "int8"), index, axis=0)


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


def _leaky_relu() -> Rewrite:
    x = dequantize()
    act = is_op("relax.nn.leakyrelu")(x.pattern)

    def table(m: dict) -> Table:
        alpha = float(m[act].attrs.alpha)
        return lambda *q: leaky_relu_table(*q, alpha)

    return _table_rewrite("leaky_relu", x, quantize(act), table)


def _hard_swish() -> Rewrite:
    """x · clip(x + 3, 0, 6) / 6, the importer's float HARD_SWISH."""
    x = dequantize()
    gate = is_op("relax.clip")(is_op("relax.add")(x.pattern, is_const()), wildcard(), wildcard())
    out = quantize(is_op("relax.divide")(is_op("relax.multiply")(x.pattern, gate), is_const()))
    return _table_rewrite("hard_swish", x, out, lambda m: hard_swish_table)


REWRITES: list[Rewrite] = [
    _simple("logistic", "relax.sigmoid", logistic_table),
    _simple("tanh", "relax.tanh", tanh_table),
    _leaky_relu(),
    _hard_swish(),
]
