"""Apply every op family's integer rewrite to the imported QDQ module, then prove it integer."""

from __future__ import annotations

import tvm
from tvm import relax
from tvm.relax.dpl import rewrite_call

from . import add, conv, dense, pool, softmax
from .errors import FrontendError
from .patterns import Rewrite

# Order matters only where patterns nest: ops that consume another op's quantize output
# (ADD, SOFTMAX) see already-rewritten int8 producers, which their wildcards accept.
REWRITES: list[Rewrite] = [*conv.REWRITES, *dense.REWRITES, *add.REWRITES, *pool.REWRITES,
                           *softmax.REWRITES, *pool.CLEANUP]


def _apply(rewrite: Rewrite, func: relax.Function) -> relax.Function:
    def callback(root: relax.Expr, matchings) -> relax.Expr:
        return rewrite.build(root, matchings)

    return rewrite_call(rewrite.pattern, callback, func)


def integer_rewrite(mod: tvm.IRModule) -> tvm.IRModule:
    """QDQ float graph → integer-only Relax (dead float bindings and the params attr dropped)."""
    func = mod["main"]
    for rewrite in REWRITES:
        func = _apply(rewrite, func)
    func = func.without_attr("params")
    out = tvm.IRModule({"main": func})
    out = relax.transform.DeadCodeElimination(["main"])(out)
    return relax.transform.Normalize()(out)


def float_leftovers(mod: tvm.IRModule) -> list[str]:
    """Descriptions of every binding in `main` whose value is not an integer tensor."""
    found: list[str] = []

    def visit(expr) -> None:
        if isinstance(expr, relax.VarBinding):
            ty = expr.var.ty
            dtype = getattr(ty, "dtype", None)
            if dtype is not None and str(dtype).startswith(("float", "bfloat")):
                value = expr.value
                what = value.op.name if isinstance(value, relax.Call) and hasattr(value.op, "name") else \
                    type(value).__name__
                found.append(f"{expr.var.name_hint} = {what} ({dtype})")

    relax.analysis.post_order_visit(mod["main"].body, lambda e: None)
    for block in mod["main"].body.blocks:
        for binding in block.bindings:
            visit(binding)
    return found


def check_integer(mod: tvm.IRModule, model: str) -> None:
    leftovers = float_leftovers(mod)
    if leftovers:
        raise FrontendError(f"{model}: float computation left after the integer rewrite "
                            f"(an op variant without integer lowering): {'; '.join(leftovers[:5])}")
