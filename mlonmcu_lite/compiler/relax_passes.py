"""Relax-level rewrites run before legalization."""

from __future__ import annotations

from tvm import relax
from tvm.relax.expr_functor import PyExprMutator, mutator

from .patterns import ConvMatch, match_conv
from .te_kernels import conv2d_nhwc


@mutator
class _ConvToTE(PyExprMutator):
    """Replace every NHWC conv2d by our TE kernel, folding a preceding pad into its loads."""

    def visit_call_(self, call):
        call = super().visit_call_(call)
        match = match_conv(call, self.lookup_binding, fold_pad=self.fold_pad)
        if not isinstance(match, ConvMatch):
            return call
        geometry = match.geometry
        return self.builder_.call_te(
            lambda x, w: conv2d_nhwc(x, w, geometry),
            match.data,
            relax.const(match.weight_ohwi),
            primfunc_name_hint="conv2d",
        )


def conv_to_te(mod, fold_pad: bool = True):
    """Rewrite every Relax function of `mod` (in practice: `main`)."""
    rewriter = _ConvToTE(mod)
    rewriter.fold_pad = fold_pad
    for gv, func in mod.functions.items():
        if isinstance(func, relax.Function):
            rewriter.builder_.update_func(gv, rewriter.visit_expr(func))
    return relax.transform.DeadCodeElimination()(rewriter.builder_.get())
