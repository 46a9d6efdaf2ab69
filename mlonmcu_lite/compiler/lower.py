"""Relax pipeline: integer Relax -> fused Relax `main` calling one PrimFunc per kernel.

Same passes as TVM's "zero" pipeline, with our conv kernel substituted first (it folds the
preceding pad) and reshapes turned into views so they cost no copy and no RAM.
"""

from __future__ import annotations

import tvm
from tvm.relax import transform as rt

from .relax_passes import conv_to_te
from .settings import CompilerSettings


def lower_relax(mod: tvm.IRModule, settings: CompilerSettings) -> tvm.IRModule:
    mod = conv_to_te(mod, fold_pad=settings.fold_pad)
    passes = [
        rt.LegalizeOps(),
        rt.AnnotateTIROpPattern(),
        rt.FoldConstant(),
        rt.FuseOps(),
        rt.FuseTIR(),
        rt.RewriteDataflowReshape(),
        rt.DeadCodeElimination(),
    ]
    with tvm.transform.PassContext(opt_level=3):
        return tvm.transform.Sequential(passes)(mod)
