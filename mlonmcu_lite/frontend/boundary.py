"""QUANTIZE and DEQUANTIZE: float32 model I/O, integer requantize, uint8 I/O on the target.

* float32 input → QUANTIZE (the converter's default wrapper): TFLite's reference
  AffineQuantize, `clamp(round_half_away(x / scale) + zp)`, with the division in float32.
  8-bit outputs: an integer binary search of the float's bits over 255 precomputed
  thresholds (float_quantize.py), exact for every float32 including NaN/inf, ~50
  instructions instead of a soft-float division.  int16 outputs (65,535 thresholds) keep
  the float formula: TVM's own `relax.quantize` legalizes to round-half-to-even, so it is
  written out: truncate, then add ±1 where the exact remainder x/scale − trunc is ≥ 0.5 in
  magnitude (the remainder of a float minus its integer part is exact, so ties are decided
  exactly); no libm, the C uses float division, compares and int↔float casts.
* DEQUANTIZE → float32 output: `float((q − zp) · scale)`; TFLite multiplies in double, but
  q − zp and the float32 scale are exact and the double product rounds to the same float32
  as one float32 multiply.  8-bit: a 256-entry float32 table of exactly those values.
* int → int QUANTIZE (requantize): `MultiplyByQuantizedMultiplier(q − zp_in, in/out) + zp_out`.
* uint8 graph I/O (see normalize.py): the firmware takes and returns uint8; the graph runs
  on int8 = uint8 − 128, converted at the boundary on the target.

Only a QUANTIZE of a graph input and a DEQUANTIZE whose result is a graph output keep float
arithmetic; `float_boundary_nodes` names them so the integer check can allow exactly those.
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op, rewrite_call, wildcard
from tvm.relax.expr_functor import PyExprMutator, mutator

from . import qparams
from .elementwise import lookup
from .errors import FrontendError
from .float_quantize import QuantizeTable, te_quantize
from .fixedpoint import Multipliers, dtype_range
from .patterns import Rewrite, dequantize, quantize
from .requant import Rounding, const, rescale, to_dtype

# -- integer requantize (QUANTIZE int -> int) ------------------------------------------------

_rq_in = dequantize()
_rq_out = quantize(_rq_in.pattern)


def _build_requantize(root: relax.Expr, m: dict) -> relax.Expr:
    in_scale, in_zp = _rq_in.scale_zp(m)
    out_scale, out_zp = _rq_out.scale_zp(m)
    dtype = _rq_out.dtype(m)
    centred = R.subtract(R.astype(m[_rq_in.data], "int64"), const(in_zp, "int64"))
    scaled = rescale(centred, Multipliers.of([in_scale / out_scale]), Rounding.DOUBLE)
    return to_dtype(scaled, out_zp, *dtype_range(dtype), dtype)


REQUANTIZE: list[Rewrite] = [Rewrite("requantize", _rq_out.pattern, _build_requantize)]


# -- float32 boundary ---------------------------------------------------------------------------

def _f32(value: float) -> relax.Constant:
    """A one-element float32 tensor: it reaches the kernel as a ROM array, printed exactly
    (TVM's C codegen would print a scalar literal with 7 significant digits)."""
    return relax.const(np.array([value], np.float32), "float32")


def affine_quantize(x: relax.Expr, scale: float, zero_point: int, dtype: str) -> relax.Expr:
    """TFLite reference AffineQuantize of a float32 tensor (see the module docstring)."""
    qmin, qmax = dtype_range(dtype)
    ratio = R.divide(x, _f32(scale))
    # Clamp first so the int32 cast is defined; values outside saturate either way.
    ratio = R.clip(ratio, float(qmin - zero_point - 1), float(qmax - zero_point + 1))
    whole = R.astype(ratio, "int32")  # C cast: truncation toward zero
    frac = R.subtract(ratio, R.astype(whole, "float32"))
    up = R.astype(R.greater_equal(frac, _f32(0.5)), "int32")
    down = R.astype(R.less_equal(frac, _f32(-0.5)), "int32")
    rounded = R.add(R.subtract(R.add(whole, up), down), const(zero_point, "int32"))
    return R.astype(R.clip(rounded, qmin, qmax), dtype)


def affine_dequantize(q: relax.Expr, scale: float, zero_point: int) -> relax.Expr:
    if str(q.ty.dtype) == "int8":
        levels = np.arange(-128, 128, dtype=np.float64)
        return lookup(q, ((levels - zero_point) * np.float64(np.float32(scale))).astype(np.float32), "float32")
    centred = R.subtract(R.astype(q, "int32"), const(zero_point, "int32"))
    return R.multiply(R.astype(centred, "float32"), _f32(scale))


def _is_float_param(expr, func: relax.Function) -> bool:
    return any(expr.same_as(p) for p in func.params) and str(expr.ty.dtype) == "float32"


def _result_tuple(func: relax.Function) -> relax.Tuple | None:
    """The function's result tuple (returned directly or through a var), if it has several."""
    body = func.body.body
    if isinstance(body, relax.Var):
        body = relax.analysis.get_var2val(func).get(body, body)
    return body if isinstance(body, relax.Tuple) else None


def _outputs(func: relax.Function) -> list[relax.Expr]:
    results = _result_tuple(func)
    return list(results.fields) if results is not None else [func.body.body]


_q_data = wildcard()
_q = is_op("relax.quantize")(_q_data, is_const(), is_const())
_dq_data = wildcard()
_dq = is_op("relax.dequantize")(_dq_data, is_const(), is_const())


def _scale_zp(call: relax.Call) -> tuple[float, int]:
    if int(np.asarray(qparams.value(call.args[1])).size) != 1:
        raise FrontendError(f"per-axis {call.op.name} at the model boundary")
    return qparams.scalar_float(call.args[1]), qparams.scalar_int(call.args[2])


@mutator
class _SearchQuantize(PyExprMutator):
    """QUANTIZE of a float32 param into 8 bits → the threshold search kernel (a call_te)."""

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if getattr(call.op, "name", "") != "relax.quantize" or str(call.ty.dtype) not in ("int8", "uint8"):
            return call
        param = call.args[0]
        if not any(param.same_as(p) for p in self.params) or str(param.ty.dtype) != "float32":
            return call
        scale, zp = _scale_zp(call)
        dtype = str(call.ty.dtype)
        shift = 0
        if dtype == "int8" and self.uint8_params[[p.same_as(param) for p in self.params].index(True)]:
            zp, shift = zp + 128, -128  # TFLite quantized into uint8: its NaN/overflow value is uint8's
        table = QuantizeTable.build(scale, zp, *dtype_range("uint8" if shift else dtype))
        return self.builder_.call_te(lambda x, t: te_quantize(x, t, table, shift, dtype), param,
                                     const(table.thresholds, "int32"), primfunc_name_hint="quantize")


def search_quantize(mod, uint8_params: tuple[bool, ...] = ()) -> object:
    """Rewrite `main`'s float32-input QUANTIZEs into 8 bits (`uint8_params[i]`: param i was
    quantized into a uint8 tensor of the model file, normalized to int8)."""
    gv = mod.get_global_var("main")
    func = mod[gv]
    rewriter = _SearchQuantize(mod)
    rewriter.params = list(func.params)
    rewriter.uint8_params = tuple(uint8_params) + (False,) * (len(func.params) - len(uint8_params))
    rewriter.builder_.update_func(gv, rewriter.visit_expr(func))
    return relax.transform.DeadCodeElimination()(rewriter.builder_.get())


def lower_float_io(func: relax.Function) -> relax.Function:
    """QUANTIZE of a float32 graph input (int16; 8 bits: `search_quantize`) and DEQUANTIZE
    into a graph output → float32 C."""
    outputs = _outputs(func)
    var2val = relax.analysis.get_var2val(func)
    output_calls = [var2val.get(o) if isinstance(o, relax.Var) else o for o in outputs]

    def quantize_input(root: relax.Call, m: dict) -> relax.Expr:
        if not _is_float_param(m[_q_data], func):
            return root
        return affine_quantize(m[_q_data], *_scale_zp(root), str(root.ty.dtype))

    def dequantize_output(root: relax.Call, m: dict) -> relax.Expr:
        if not any(c is not None and root.same_as(c) for c in output_calls):
            return root
        return affine_dequantize(m[_dq_data], *_scale_zp(root))

    func = rewrite_call(_q, quantize_input, func)
    return rewrite_call(_dq, dequantize_output, func)


def float_boundary_nodes(func: relax.Function) -> set[int]:
    """Handles of the nodes allowed to be float before `lower_float_io`: the float32
    params, their QUANTIZE calls' float scales, and the DEQUANTIZE calls that are outputs."""
    allowed: set[int] = set()
    var2val = relax.analysis.get_var2val(func)
    for p in func.params:
        if str(getattr(p.ty, "dtype", "")) == "float32":
            allowed.add(p.__hash__())
    for block in func.body.blocks:
        for b in block.bindings:
            v = b.value
            if isinstance(v, relax.Call) and getattr(v.op, "name", "") == "relax.quantize" and \
                    _is_float_param(v.args[0], func):
                allowed.update(a.__hash__() for a in v.args[1:])
    float_outputs = False
    for out in _outputs(func):
        call = var2val.get(out) if isinstance(out, relax.Var) else out
        if isinstance(call, relax.Call) and getattr(call.op, "name", "") == "relax.dequantize":
            allowed.update(x.__hash__() for x in (out, call, *call.args[1:]))
            float_outputs = True
    if float_outputs:  # the body and the result (tuple) carry the outputs' dtype
        allowed.update(x.__hash__() for x in (func.body, func.body.body))
    return allowed


# -- uint8 graph I/O --------------------------------------------------------------------------------

def restore_uint8_io(func: relax.Function, inputs: tuple[bool, ...], outputs: tuple[bool, ...]) -> relax.Function:
    """main(uint8 ...) → uint8: the normalized int8 graph with −128 / +128 at its edges."""
    if not any(inputs) and not any(outputs):
        return func
    new_params, bindings = [], []
    for param, was_uint8 in zip(func.params, inputs):
        if not was_uint8:
            new_params.append(param)
            continue
        outer = relax.Var(str(param.name), relax.TensorType(param.ty.shape, "uint8"))
        new_params.append(outer)
        shifted = R.astype(R.subtract(R.astype(outer, "int32"), const(128, "int32")), "int8")
        bindings.append(relax.VarBinding(param, shifted))
    body = func.body
    results = _outputs(func)
    if isinstance(body.body, relax.Var) and _result_tuple(func) is not None:  # fields are dataflow vars
        results = [relax.TupleGetItem(body.body, i) for i in range(len(results))]
    fixed = [R.astype(R.add(R.astype(r, "int32"), const(128, "int32")), "uint8") if u else r
             for r, u in zip(results, outputs)]
    types = [relax.TensorType(r.ty.shape, "uint8") if u else r.ty for r, u in zip(results, outputs)]
    if _result_tuple(func) is not None:
        result, ret_ty = relax.Tuple(fixed), relax.TupleType(types)
    else:
        result, ret_ty = fixed[0], types[0]
    blocks = ([relax.BindingBlock(bindings)] if bindings else []) + list(body.blocks)
    return relax.Function(new_params, relax.SeqExpr(blocks, result), ret_ty, attrs=func.attrs)
