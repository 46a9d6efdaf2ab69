"""int8 elementwise unary ops → one 256-entry table lookup; QUANTIZE (int8 → int8) → requantize.

LOGISTIC, TANH, LEAKY_RELU and HARD_SWISH map each int8 input to one int8 output, so the
reference kernel's whole integer (or float32-tabulated) algorithm is run at compile time
for all 256 inputs (`tables.py`) and the target does `out = table[x + 128]`.  The importer
writes each as `quantize(f(dequantize(x)))` with f = sigmoid, tanh, leakyrelu or
x·clip(x + 3, 0, 6)/6.

QUANTIZE between two int8 tensors is `quantize(dequantize(x))` after import:
reference_ops::Requantize, (x − zp_in)·M (double rounding) + zp_out with M = s_in/s_out.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op, wildcard

from .errors import FrontendError
from .fixedpoint import Multipliers
from .patterns import QDQ, Rewrite, dequantize, quantize
from .requant import Rounding, const, rescale, to_int8
from .tables import hard_swish_table, leaky_relu_table, logistic_table, tanh_table

Table = Callable[[float, int, float, int], np.ndarray]


def lookup(x: relax.Expr, table: np.ndarray) -> relax.Expr:
    """table[x + 128] for an int8 tensor x and a 256-entry int8 table."""
    index = R.add(R.astype(x, "int32"), const(128, "int32"))
    return R.take(relax.const(np.asarray(table, np.int8), "int8"), index, axis=0)


def _table_rewrite(name: str, x: QDQ, out: QDQ, table: Callable[[dict], Table]) -> Rewrite:
    def build(root: relax.Expr, m: dict) -> relax.Expr:
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


_rq_x = dequantize()
_rq_out = quantize(_rq_x.pattern)


def _build_requantize(root: relax.Expr, m: dict) -> relax.Expr:
    """reference_ops::Requantize (QuantizeMultiplier of double(s_in)/double(s_out))."""
    in_scale, in_zp = _rq_x.scale_zp(m)
    out_scale, out_zp = _rq_out.scale_zp(m)
    if str(m[_rq_x.data].ty.dtype) != "int8" or str(root.ty.dtype) != "int8":
        raise FrontendError(f"QUANTIZE {m[_rq_x.data].ty.dtype} -> {root.ty.dtype} (int8 -> int8 only)")
    centred = R.subtract(R.astype(m[_rq_x.data], "int64"), const(in_zp, "int64"))
    return to_int8(rescale(centred, Multipliers.of([in_scale / out_scale]), Rounding.DOUBLE), out_zp, -128, 127)


REWRITES: list[Rewrite] = [
    _simple("logistic", "relax.sigmoid", logistic_table),
    _simple("tanh", "relax.tanh", tanh_table),
    _leaky_relu(),
    _hard_swish(),
]
# After every other op family: only a bare quantize(dequantize(x)) is left to match.
REQUANTIZE: list[Rewrite] = [Rewrite("requantize", _rq_out.pattern, _build_requantize)]
