"""dpl building blocks for the QDQ graphs that `tvm.relax.frontend.tflite` emits.

The TFLite importer writes every quantized op as `dequantize → float op → quantize`
(plus an int8 `clip` for a fused activation).  These helpers name the pieces so each op
rewrite can read its scales, zero points and constants from the match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tvm import relax
from tvm.relax.dpl import DFPattern, is_const, is_op, wildcard

from . import qparams
from .errors import FrontendError
from .fixedpoint import activation_range, dtype_range


@dataclass(frozen=True)
class QDQ:
    """A (de)quantize call pattern with handles on its data, scale and zero point."""

    pattern: DFPattern
    data: DFPattern
    scale: DFPattern
    zero_point: DFPattern

    def scale_zp(self, m: dict) -> tuple[float, int]:
        """Per-tensor (scale, zero point) of the matched call."""
        return qparams.scalar_float(m[self.scale]), qparams.scalar_int(m[self.zero_point])

    def dtype(self, m: dict) -> str:
        """The integer dtype of the quantized side: a quantize's output, a dequantize's input."""
        call = m[self.pattern]
        return str((call if call.op.name == "relax.quantize" else call.args[0]).ty.dtype)


def dequantize(data: DFPattern | None = None, const_params: bool = True) -> QDQ:
    data = data if data is not None else wildcard()
    scale, zp = (is_const(), is_const()) if const_params else (wildcard(), wildcard())
    return QDQ(is_op("relax.dequantize")(data, scale, zp), data, scale, zp)


def quantize(data: DFPattern) -> QDQ:
    scale, zp = is_const(), is_const()
    return QDQ(is_op("relax.quantize")(data, scale, zp), data, scale, zp)


def clip(data: DFPattern) -> DFPattern:
    return is_op("relax.clip")(data, wildcard(), wildcard())


def clip_bounds(call: relax.Call) -> tuple[int, int]:
    """(lo, hi) of a matched int8 `clip` (the importer's fused-activation range)."""
    return qparams.prim_int(call.args[1]), qparams.prim_int(call.args[2])


@dataclass(frozen=True)
class Rewrite:
    """One op family: a root pattern and the function that builds its integer replacement.

    `build(matched_root, matchings)` returns the new int8 expression.
    """

    name: str
    pattern: DFPattern
    build: Callable[[relax.Expr, dict], relax.Expr]


def _importer_bounds(act: str, scale: float, zero_point: int, dtype: str) -> tuple[int, int]:
    """The clip range TVM's importer emits for a fused activation (Python round, double)."""
    def q(v: float) -> int:
        return round(v / scale) + zero_point

    qmin, qmax = dtype_range(dtype)
    lo, hi = {"NONE": (qmin, qmax), "RELU": (q(0.0), qmax), "RELU6": (q(0.0), q(6.0))}[act]
    return max(qmin, lo), min(qmax, hi)


def tflite_activation_range(bounds: tuple[int, int], scale: float, zero_point: int,
                            dtype: str = "int8") -> tuple[int, int]:
    """TFLite's own range for the activation whose importer clip is `bounds`.

    The importer rounds act/scale half-to-even in double, TFLite half-away-from-zero in
    float32; recomputing keeps even those ties bit-exact.
    """
    for act in ("RELU6", "RELU", "NONE"):  # the activations tflite_info admits
        if _importer_bounds(act, scale, zero_point, dtype) == bounds:
            return activation_range(act, scale, zero_point, dtype)
    raise FrontendError(f"{dtype} clip {bounds} is not a TFLite fused activation")


def with_activation(name: str, quant: QDQ, build: Callable[[dict, tuple[int, int]], relax.Expr]
                    ) -> list[Rewrite]:
    """Two rewrites for `quantize(...)`: with the importer's activation clip, then without.

    `build(matchings, act_range)` gets TFLite's clamp range in the output's dtype (read it
    with `quant.dtype(m)`).  The clipped form must run first: once the bare `quantize` is
    rewritten the clip would be left behind.
    """
    def build_clipped(root: relax.Expr, m: dict) -> relax.Expr:
        return build(m, tflite_activation_range(clip_bounds(root), *quant.scale_zp(m), quant.dtype(m)))

    return [
        Rewrite(f"{name}+act", clip(quant.pattern), build_clipped),
        Rewrite(name, quant.pattern, lambda root, m: build(m, dtype_range(quant.dtype(m)))),
    ]
