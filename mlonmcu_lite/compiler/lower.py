"""Relax pipeline: integer Relax -> fused Relax `main` calling one PrimFunc per kernel.

Same passes as TVM's "zero" pipeline, with our conv kernel substituted first (it folds the
preceding pad) and reshapes turned into views so they cost no copy and no RAM.
"""

from __future__ import annotations

import tvm
from tvm import relax
from tvm.ir.expr import GenericConst
from tvm.relax import transform as rt

from .relax_passes import conv_to_te
from .settings import CompilerSettings
from .te_kernels import take_int32

_DEFAULT_TAKE = tvm.ir.Op.get("relax.take").get_attr("FLegalize")


def _legalize_take(bb: relax.BlockBuilder, call: relax.Call) -> relax.Expr:
    """Gathers (GATHER, resize, int8 lookup tables) with 32-bit addressing; softmax's
    in-range table reads (a constant, mode "fast") stay TVM's."""
    data, indices = call.args
    mode = str(call.attrs.mode)
    if (isinstance(data, GenericConst) and mode == "fast") or mode not in ("fast", "wrap"):
        return _DEFAULT_TAKE(bb, call)
    axis = int(call.attrs.axis) % len(data.ty.shape)
    return bb.call_te(lambda x, k: take_int32(x, k, axis, wrap=mode == "wrap"), data, indices,
                      primfunc_name_hint="take")


def lower_relax(mod: tvm.IRModule, settings: CompilerSettings) -> tvm.IRModule:
    mod = conv_to_te(mod, fold_pad=settings.fold_pad)
    passes = [
        rt.LegalizeOps(customize_legalize_map={"relax.take": _legalize_take}),
        rt.AnnotateTIROpPattern(),
        rt.FoldConstant(),
        rt.FuseOps(),
        rt.FuseTIR(),
        rt.RewriteDataflowReshape(),
        rt.DeadCodeElimination(),
    ]
    with tvm.transform.PassContext(opt_level=3):
        return tvm.transform.Sequential(passes)(mod)
