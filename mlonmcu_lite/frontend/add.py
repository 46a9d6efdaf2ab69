"""ADD and SUB (int8, same or broadcast shapes) → TFLite's integer add / subtract.

Both inputs are offset, shifted left by 20 bits and rescaled to twice the larger input
scale, summed (or subtracted), then rescaled to the output (add.cc / sub.cc, whose int8
Prepare and reference kernels share this scheme).  The importer applies the fused
activation in float before `quantize`, so it is read from that float op and turned into
TFLite's quantized activation range (`binary_patterns` / `fused_activation`, also used by MUL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import DFPattern, is_op, wildcard

from .errors import FrontendError
from .fixedpoint import Multipliers, activation_range, add_params
from .patterns import QDQ, Rewrite, clip_bounds, dequantize, quantize
from .requant import Rounding, const, rescale, to_dtype

_CLIP_ACTIVATIONS = {(0, 6): "RELU6"}
ROUNDING = Rounding.DOUBLE


@dataclass(frozen=True)
class BinaryPatterns:
    """`quantize([relu|clip](op(dequantize(a), dequantize(b))))` with handles on each piece."""

    a: QDQ
    b: QDQ
    core: DFPattern
    relu: DFPattern
    clip: DFPattern
    out: QDQ

    def activation(self, m: dict) -> str:
        """The fused activation the importer wrote as a float relu / clip(0, 6)."""
        if self.relu in m:
            return "RELU"
        if self.clip in m:
            bounds = clip_bounds(m[self.clip])
            if bounds not in _CLIP_ACTIVATIONS:
                raise FrontendError(f"{m[self.core].op.name} with a clip activation {bounds}")
            return _CLIP_ACTIVATIONS[bounds]
        return "NONE"


def binary_patterns(relax_op: str) -> BinaryPatterns:
    a, b = dequantize(), dequantize()
    core = is_op(relax_op)(a.pattern, b.pattern)
    relu = is_op("relax.nn.relu")(core)
    clip = is_op("relax.clip")(core, wildcard(), wildcard())
    return BinaryPatterns(a, b, core, relu, clip, quantize(relu | clip | core))


def _shifted(x: relax.Expr, zero_point: int, left_shift: int, m: Multipliers) -> relax.Expr:
    """((x − zp) · 2^left_shift) rescaled by the input's multiplier."""
    centred = R.subtract(R.astype(x, "int64"), const(zero_point, "int64"))
    return rescale(R.multiply(centred, const(1 << left_shift, "int64")), m, ROUNDING)


def _rewrite(name: str, relax_op: str, combine) -> Rewrite:
    p = binary_patterns(relax_op)

    def build(root: relax.Expr, m: dict) -> relax.Expr:
        a_scale, a_zp = p.a.scale_zp(m)
        b_scale, b_zp = p.b.scale_zp(m)
        out_scale, out_zp = p.out.scale_zp(m)
        dtype = p.out.dtype(m)
        if dtype == "int16" and all(math.frexp(sc)[0] == 0.5 for sc in (a_scale, b_scale, out_scale)):
            raise FrontendError(f"int16 {name.upper()} with power-of-two scales (TFLite's shift-only path "
                                "is not reproduced)")
        # int16 with general (non power-of-two) scales: left_shift 15 (the POT path is not taken).
        q = add_params(a_scale, b_scale, out_scale, left_shift=15 if dtype == "int16" else 20)
        raw = combine(_shifted(m[p.a.data], a_zp, q.left_shift, q.input1),
                      _shifted(m[p.b.data], b_zp, q.left_shift, q.input2))
        lo, hi = activation_range(p.activation(m), out_scale, out_zp, dtype)
        return to_dtype(rescale(raw, q.output, ROUNDING), out_zp, lo, hi, dtype)

    return Rewrite(name, p.out.pattern, build)


REWRITES: list[Rewrite] = [_rewrite("add", "relax.add", R.add), _rewrite("sub", "relax.subtract", R.subtract)]
