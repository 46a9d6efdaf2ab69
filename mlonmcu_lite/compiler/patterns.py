"""Recognising the frontend's canonical integer conv chain in a Relax dataflow block.

Canonical form (docs/ARCHITECTURE.md): `[nn.pad(x, pad_value=x_zp)] -> nn.conv2d(int8, int8
const, out_dtype=int32) -> add(., bias_i32 const)`.  Both the offload pass and the pad-folding
pass need the same facts (geometry, weights in OHWI, bias), so they live here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from tvm import relax

from .te_kernels import ConvGeometry

Lookup = Callable[[relax.Var], "relax.Expr | None"]


def op_name(expr) -> str | None:
    """`relax.nn.conv2d` etc. for a call of a Relax operator, else None."""
    if isinstance(expr, relax.Call) and hasattr(expr.op, "name"):
        return str(expr.op.name)
    return None


def prim_int(expr) -> int | None:
    """The int held by a Relax PrimValue / scalar literal (a clip bound, a shift), else None."""
    value = getattr(expr, "value", None)
    try:
        return int(value.value if hasattr(value, "value") else value)
    except (TypeError, ValueError):
        return None


def constant(expr) -> np.ndarray | None:
    """The numpy value of a Relax constant, else None."""
    value = getattr(expr, "value", None)
    if type(expr).__name__ == "GenericConst" and value is not None:
        return value.numpy()
    return None


@dataclass(frozen=True)
class PadInfo:
    source: relax.Expr  # the unpadded input
    padding: tuple[int, int, int, int]  # top, left, bottom, right
    pad_value: int


def spatial_pad(expr, lookup: Lookup) -> PadInfo | None:
    """If `expr` is bound to a constant NHWC pad of H and W only, describe it."""
    call = lookup(expr) if isinstance(expr, relax.Var) else None
    if op_name(call) != "relax.nn.pad":
        return None
    attrs = call.attrs
    if str(attrs.pad_mode) != "constant":
        return None
    width = [int(v) for v in attrs.pad_width]
    if len(width) != 8 or any(width[i] for i in (0, 1, 6, 7)):
        return None
    value = float(attrs.pad_value)
    if value != int(value):
        return None
    return PadInfo(call.args[0], (width[2], width[4], width[3], width[5]), int(value))


@dataclass(frozen=True)
class ConvMatch:
    """A conv2d call with its input (pad folded in) and its constant weights in OHWI."""

    call: relax.Call
    data: relax.Expr
    weight_ohwi: np.ndarray
    geometry: ConvGeometry
    input_shape: tuple[int, int, int, int]
    output_shape: tuple[int, int, int, int]


def _shape(expr) -> tuple[int, ...]:
    return tuple(int(d) for d in expr.ty.shape)


def _out_dtype(attrs, call) -> str:
    """The conv's accumulator dtype; a float conv leaves `out_dtype` unset (void)."""
    dtype = str(attrs.out_dtype)
    return dtype if dtype and dtype not in ("void", "None") else str(call.ty.dtype)


def match_conv(call, lookup: Lookup, fold_pad: bool = True) -> ConvMatch | str | None:
    """Describe an integer NHWC conv2d with constant weights; a reason string if unsupported.

    Returns None when `call` is not a conv2d at all.
    """
    if op_name(call) != "relax.nn.conv2d":
        return None
    attrs = call.attrs
    if str(attrs.data_layout) != "NHWC" or str(attrs.out_layout) != "NHWC":
        return f"data layout {attrs.data_layout} (only NHWC)"
    layout = str(attrs.kernel_layout)
    if sorted(layout) != sorted("OHWI"):
        return f"kernel layout {layout}"
    weight = constant(call.args[1])
    if weight is None:
        return "weights are not a constant"
    data = call.args[0]
    padding = tuple(int(p) for p in attrs.padding)
    pad_value = 0
    pad = spatial_pad(data, lookup) if fold_pad else None
    if pad is not None and not any(padding):
        data, padding, pad_value = pad.source, pad.padding, pad.pad_value
    ohwi = np.ascontiguousarray(np.transpose(weight, [layout.index(a) for a in "OHWI"]))
    geometry = ConvGeometry(
        strides=tuple(int(s) for s in attrs.strides),
        padding=padding,
        dilation=tuple(int(d) for d in attrs.dilation),
        groups=int(attrs.groups),
        pad_value=pad_value,
        kernel_layout="OHWI",
        out_dtype=_out_dtype(attrs, call),
    )
    return ConvMatch(call, data, ohwi, geometry, _shape(data), _shape(call))
