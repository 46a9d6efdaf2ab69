"""Apply every op family's integer rewrite to the imported QDQ module, then prove it integer."""

from __future__ import annotations

import tvm
from tvm import relax, tirx
from tvm.ir.expr import GenericConst
from tvm.relax.dpl import rewrite_call

from . import add, boundary, conv, dense, elementwise, mul, pool, prelu, reduce, resize, softmax, transpose_conv, unary
from .errors import FrontendError, gist
from .patterns import Rewrite

# Order matters only where patterns nest: ops that consume another op's quantize output
# (ADD, SOFTMAX) see already-rewritten int8 producers, which their wildcards accept.
# QUANTIZE int->int (requantize) runs after the ops: their patterns end in a quantize too.
REWRITES: list[Rewrite] = [*conv.REWRITES, *transpose_conv.REWRITES, *dense.REWRITES, *add.REWRITES, *mul.REWRITES,
                           *pool.REWRITES, *softmax.REWRITES, *reduce.REWRITES, *prelu.REWRITES, *resize.REWRITES,
                           *unary.REWRITES, *elementwise.REWRITES, *pool.CLEANUP, *boundary.REQUANTIZE]


def _apply(rewrite: Rewrite, func: relax.Function) -> relax.Function:
    """rewrite_call, with a FrontendError of a callback re-raised as such on this side.

    (TVM's FFI would turn it into a RuntimeError wrapped in C++ frames.)
    """
    errors: list[FrontendError] = []

    def callback(root: relax.Expr, matchings) -> relax.Expr:
        if errors:
            return root
        try:
            return rewrite.build(root, matchings)
        except FrontendError as err:
            errors.append(err)
            return root
        except Exception as err:  # noqa: BLE001 - a defect or a damaged value: name the op family, not C++ frames
            at = f" (output shape {_shape(root)})" if _shape(root) else ""
            errors.append(FrontendError(f"integer rewrite of {rewrite.name}{at} failed: {gist(err)}"))
            return root

    func = rewrite_call(rewrite.pattern, callback, func)
    if errors:
        raise errors[0]
    return func


def _shape(node: relax.Expr) -> list[int] | None:
    try:
        return [int(d) for d in node.ty.shape]
    except (AttributeError, TypeError, ValueError):
        return None


def with_main(mod: tvm.IRModule, main: relax.Function) -> tvm.IRModule:
    """`mod` with another `main`, keeping the TIR kernels the importer emitted (e.g. lstm.py's)."""
    return tvm.IRModule({gv: main if gv.name_hint == "main" else func for gv, func in mod.functions.items()
                         if gv.name_hint == "main" or isinstance(func, tvm.tirx.PrimFunc)})


def integer_rewrite(mod: tvm.IRModule) -> tvm.IRModule:
    """QDQ float graph → integer-only Relax (dead float bindings and the params attr dropped)."""
    func = mod["main"]
    for rewrite in REWRITES:
        func = _apply(rewrite, func)
    func = func.without_attr("params")
    out = with_main(mod, func)
    out = relax.transform.DeadCodeElimination(["main"])(out)
    return relax.transform.Normalize()(out)


def _float_dtype(node) -> str | None:
    """The float dtype a Relax/TIR node carries (tensor, constant or literal), else None."""
    if isinstance(node, GenericConst):
        dtype = str(node.value.dtype)
    elif isinstance(node, tirx.FloatImm):
        dtype = str(node.ty)
    else:
        try:
            dtype = str(getattr(node.ty, "dtype", ""))
        except (AttributeError, ValueError):
            return None
    return dtype if dtype.startswith(("float", "bfloat")) else None


def _describe(node) -> str:
    if isinstance(node, relax.Call):
        return getattr(node.op, "name", "call")
    if isinstance(node, relax.Var):
        return str(node.name)
    return type(node).__name__


def float_leftovers(mod: tvm.IRModule, allowed: frozenset[int] = frozenset()) -> list[str]:
    """Every node in the module (vars, calls, constants, literals) of a float dtype.

    `allowed` holds the handles of float nodes that may stay (the float32 model boundary,
    `boundary.float_boundary_nodes`).
    """
    found: list[str] = []

    def visit(node) -> None:
        dtype = _float_dtype(node)
        if dtype is not None and node.__hash__() not in allowed:
            found.append(f"{_describe(node)} ({dtype})")

    for func in mod.functions.values():
        if isinstance(func, relax.Function):  # the TIR kernels importers emit compute in integers
            relax.analysis.post_order_visit(func, visit)
    return found


def check_integer(mod: tvm.IRModule, model: str, allowed: frozenset[int] = frozenset()) -> None:
    leftovers = float_leftovers(mod, allowed)
    if leftovers:
        raise FrontendError(f"{model}: float computation left after the integer rewrite "
                            f"(an op variant without integer lowering): {'; '.join(leftovers[:5])}")
