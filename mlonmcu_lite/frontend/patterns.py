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


def with_activation(name: str, quant: QDQ, build_act: Callable[[dict, tuple[int, int] | None], relax.Expr]
                    ) -> list[Rewrite]:
    """Two rewrites for `quantize(...)`: with the importer's activation clip, then without.

    The clipped form must run first: once the bare `quantize` is rewritten the clip would
    be left behind as a separate op.
    """
    clipped = clip(quant.pattern)
    return [
        Rewrite(f"{name}+act", clipped, lambda root, m: build_act(m, clip_bounds(root))),
        Rewrite(name, quant.pattern, lambda root, m: build_act(m, None)),
    ]


def act_range(bounds: tuple[int, int] | None) -> tuple[int, int]:
    """The clamp range of a requantized int8 output (full range without an activation)."""
    if bounds is None:
        return -128, 127
    return max(-128, bounds[0]), min(127, bounds[1])
