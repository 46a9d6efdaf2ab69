"""TIR kernels -> plain C functions (no packed-call unpacking, no DLTensor).

Trick (see shared notes): MakePackedAPI leaves a PrimFunc alone when its `calling_conv`
attribute is non-zero, so each buffer parameter becomes its raw data pointer and the buffer
is re-declared over it inside the body; the C signature is then `void k(int8_t* x, ...)`.
"""

from __future__ import annotations

import re

import tvm
from tvm import s_tir, tirx
from tvm.target import Target

from mlonmcu_lite.errors import ToolError

from .narrow import widen_loads

_C_TARGET = {"kind": "c"}


def _fabs_to_libm(op: tirx.Call) -> tirx.PrimExpr:
    """floatops: TVM 0.27 has no default C lowering of `tirx.fabs` (a float model's ABS)."""
    dtype = str(op.ty.dtype)
    name = {"float32": "fabsf", "float64": "fabs"}.get(dtype)
    return tirx.call_pure_extern(dtype, name, op.args[0]) if name else op


tirx.register_intrin_lowering("tirx.fabs", target="default", f=_fabs_to_libm, level=99)


def plain_signature(func: tirx.PrimFunc, symbol: str) -> tirx.PrimFunc:
    """Pointer parameters plus DeclBuffers; exported under `symbol` with calling_conv=1."""
    pointers = [tirx.Var(param.name, tvm.ir.PointerType(tvm.ir.PrimType(param.dtype), "global"))
                for param in func.params]
    decls = [tirx.DeclBuffer(param, data=ptr) for param, ptr in zip(func.params, pointers)]
    body = tirx.SeqStmt([*decls, func.body])
    new = tirx.PrimFunc(pointers, body, func.ret_type, func.attrs)
    return new.with_attr({"global_symbol": symbol, "calling_conv": 1, "tirx.noalias": True})


def _cpu_pipeline(hoist_bounds: bool) -> tvm.transform.Pass:
    """TVM's s_tir lowering, reduced to what a single-core C target needs, plus our hoisting.

    HoistExpression runs before UnrollLoop: it moves loop-invariant bounds tests (the folded
    pad's `if_then_else`) out of the channel loop, duplicating the loop per branch, which only
    works while the channel loop is still a loop.
    """
    return tvm.transform.Sequential([
        s_tir.transform.CanonicalizeLoop(),
        s_tir.transform.LowerInitBlock(),
        s_tir.transform.PlanAndUpdateBufferAllocationLocation(),
        s_tir.transform.ConvertBlocksToOpaque(),
        s_tir.transform.CompactBufferAllocation(),
        s_tir.transform.LowerMatchBuffer(),
        s_tir.transform.StmtSimplify(),
        s_tir.transform.LowerOpaqueBlock(),
        tirx.transform.FlattenBuffer(),
        tirx.transform.NarrowDataType(32),
        tirx.transform.StmtSimplify(),
        *([s_tir.transform.HoistExpression()] if hoist_bounds else []),
        tirx.transform.UnrollLoop(),
        tirx.transform.StmtSimplify(),
        tirx.transform.RemoveNoOp(),
        s_tir.transform.RewriteUnsafeSelect(),
        tirx.transform.VerifyMemory(),
        tirx.transform.AnnotateEntryFunc(),
        tirx.transform.SplitHostDevice(),
        tirx.transform.MakePackedAPI(),
        tirx.transform.LowerIntrin(),
    ])


def kernels_to_c(kernels: dict[str, tirx.PrimFunc], hoist_bounds: bool = True) -> str:
    """Build all kernels into one C translation unit and return its source text."""
    mod = tvm.IRModule({tvm.ir.GlobalVar(name): plain_signature(f, name) for name, f in kernels.items()})
    target = Target(_C_TARGET)
    # Not LowerTVMBuiltin: it would turn the one-element temporaries into workspace calls;
    # the C backend prints a local AllocBuffer as a plain array on the stack.
    config = {"tirx.disable_assert": True,
              "s_tir.HoistExpression": {"hoisted_conditionals": 7, "hoisted_let_bindings": 1}}
    with tvm.transform.PassContext(opt_level=3, config=config):
        mod = tirx.transform.BindTarget(target.with_host(target))(mod)
        mod = _cpu_pipeline(hoist_bounds)(mod)
        built = _codegen(mod, target)
    return built.inspect_source()


def _codegen(mod: tvm.IRModule, target: Target):
    return tvm.get_global_func("target.build." + target.kind.name)(mod, target)


# `float` is allowed: a float-I/O model's QUANTIZE/DEQUANTIZE kernels and float32 models use
# it (the frontend proves an integer model integer).  Single-precision libm calls (`expf`,
# `tanhf`) are a float model's softmax/logistic/tanh, resolved by the toolchain's math library
# (firmware/toolchain.py `math_library`); double and double-precision libm never appear.
_BANNED = re.compile(r"\b(TVMBackend\w*|TVMFFI\w*|DLTensor|double|exp|log|sqrt|pow|round|floor|ceil|trunc|fabs|"
                     r"nearbyint|tanh|sin|cos|erf|fmod|log1p)\b")


_LIBM = re.compile(r"\b(expf|tanhf|expm1f|logf|sqrtf|powf|roundf|floorf|ceilf|truncf|fabsf|nearbyintf"
                   r"|sinf|cosf|erff|fmodf|log1pf)\(")


def libm_prototypes(definitions: list[str]) -> list[str]:
    """Prototypes of the single-precision libm functions the kernels call (float models)."""
    used = sorted({m.group(1) for d in definitions for m in _LIBM.finditer(d)})
    two = {"powf", "fmodf"}
    return [f"float {f}(float, float);" if f in two else f"float {f}(float);" for f in used]


class CodegenError(ToolError):
    """TVM's C output did not have the shape we rely on."""


def _definition(source: str, name: str) -> tuple[str, str]:
    """(parameter list, body incl. braces) of the definition of `name` in TVM's C output."""
    match = re.search(rf"\bvoid {re.escape(name)}\(([^)]*)\)\s*\{{", source)
    if match is None:
        raise CodegenError(f"kernel {name} not found in generated C")
    depth, pos = 0, match.end() - 1
    for pos in range(match.end() - 1, len(source)):
        depth += {"{": 1, "}": -1}.get(source[pos], 0)
        if depth == 0:
            break
    return match.group(1), source[match.end() - 1:pos + 1]


def plain_c_function(source: str, name: str, n_inputs: int, narrow: frozenset = frozenset()) -> tuple[str, str]:
    """(prototype, definition) with `const ... restrict` inputs and `restrict` outputs.

    Input positions in `narrow` (int64 in TIR) are passed as int32 and widened at each load.
    """
    params, body = _definition(source, name)
    typed = []
    for i, param in enumerate(p.strip() for p in params.split(",")):
        ctype, _, pname = param.rpartition(" ")
        ctype = ctype.replace(" ", "")
        if not ctype.endswith("*"):
            raise CodegenError(f"kernel {name}: non-pointer parameter `{param}`")
        if i in narrow:
            if ctype != "int64_t*":
                raise CodegenError(f"kernel {name}: cannot narrow `{param}`")
            ctype, body = "int32_t*", widen_loads(body, pname)
        qualifier = "const " if i < n_inputs else ""
        typed.append(f"{qualifier}{ctype[:-1]}* restrict {pname}")
    signature = f"void {name}({', '.join(typed)})"
    unused = [t.rpartition(" ")[2] for t in typed if not re.search(rf"\b{t.rpartition(' ')[2]}\b", body)]
    if unused:  # e.g. a constant operand the simplifier folded away
        body = "{\n" + "".join(f"  (void){u};\n" for u in unused) + body[1:].lstrip("\n")
    banned = _BANNED.search(body)
    if banned:
        raise CodegenError(f"kernel {name} uses `{banned.group(0)}`: not plain C (integer, float32, libm float)")
    return signature + ";", signature + " " + body
