"""The offloadable region kinds, as data: a relax.dpl pattern per kind and how a match
becomes the typed region (`peripheral.backend.ConvRegion`, `DenseRegion`) a backend sees.

Every kind is rooted at the frontend's canonical accumulator chain (docs/ARCHITECTURE.md):
`anchor(x int8, w const int8) -> add(., bias_i32 const)`; `REQUANT` is the optional tail
that follows it (frontend/requant.py's int64 rescale, zero point, clamp, int8), which a
backend pattern declaring `requant=True` takes too.  The compiler's partition step
(`offload.py`) walks `main` once and, for each binding of a kind's anchor op, asks
`KIND.region(...)`; adding a kind is one more `RegionKindSpec` in `KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax.dpl import DFPattern, is_const, is_op, wildcard

from mlonmcu_lite.peripheral.backend import ConvRegion, DenseRegion, Region, Requant

from .patterns import ConvMatch, constant, match_conv, op_name, prim_int

Var2Val = dict  # relax.Var -> bound value, from relax.analysis.get_var2val


def _shape(expr) -> tuple[int, ...]:
    return tuple(int(d) for d in expr.ty.shape)


@dataclass(frozen=True)
class Anchor:
    """What the kind found at an anchor binding: the region without bias/requant, the
    data operand and the weights as the device reads them."""

    region: Region
    data: relax.Expr
    weight: np.ndarray
    dtypes: tuple[str, str]


@dataclass(frozen=True)
class RegionKindSpec:
    """One region kind.  `pattern` matches `add(anchor(data, w), bias)` at the bias add;
    `anchor_info` reads the anchor call (a reason string when it is not supported)."""

    name: str  # ConvRegion.kind / DenseRegion.kind, LayerOffload.kind
    anchor_op: str
    pattern: DFPattern
    anchor: DFPattern
    bias: DFPattern
    anchor_info: Callable[[str, relax.Call, Var2Val], "Anchor | str"]
    macs: Callable[[relax.Call], int]
    always_eligible: bool = False  # counted as eligible without a backend for it (conv2d)
    no_backend_reason: str = ""


def _conv_anchor(layer: str, call: relax.Call, var2val: Var2Val) -> Anchor | str:
    match = match_conv(call, var2val.get)
    if not isinstance(match, ConvMatch):
        return f"unsupported conv: {match}"
    g = match.geometry
    region = ConvRegion(layer=layer, input_shape=match.input_shape,
                        weight_shape=tuple(int(d) for d in match.weight_ohwi.shape),
                        output_shape=match.output_shape, strides=g.strides, padding=g.padding,
                        dilation=g.dilation, groups=g.groups, pad_value=g.pad_value)
    dtypes = (str(match.data.ty.dtype), str(match.weight_ohwi.dtype))
    return Anchor(region, match.data, match.weight_ohwi, dtypes)


def _dense_anchor(layer: str, call: relax.Call, var2val: Var2Val) -> Anchor | str:
    x, w = call.args
    kn = constant(w)
    if kn is None or kn.ndim != 2:
        return "fully connected weights are not a 2-D constant"
    if len(_shape(x)) != 2:
        return f"fully connected on a {len(_shape(x))}-D input"
    (m, k), n = _shape(x), kn.shape[1]
    region = DenseRegion(layer=layer, input_shape=(m, k), weight_shape=(n, k), output_shape=(m, n))
    return Anchor(region, x, np.ascontiguousarray(kn.T), (str(x.ty.dtype), str(kn.dtype)))


def _dense_macs(call: relax.Call) -> int:
    a, b = (_shape(arg) for arg in call.args)
    return int(np.prod(a[:-1])) * a[-1] * b[-1]


def _kind(name: str, anchor_op: str, anchor_info, macs, **kw) -> RegionKindSpec:
    anchor = is_op(anchor_op)(wildcard(), wildcard())
    bias = is_const()
    return RegionKindSpec(name, anchor_op, is_op("relax.add")(anchor, bias), anchor, bias,
                          anchor_info, macs, **kw)


KINDS: tuple[RegionKindSpec, ...] = (
    _kind("conv2d", "relax.nn.conv2d", _conv_anchor, lambda call: 0, always_eligible=True),
    _kind("dense", "relax.matmul", _dense_anchor, _dense_macs,
          no_backend_reason="fully connected: no accelerator pattern"),
)


def bias_of(kind: RegionKindSpec, add: relax.Call, anchor_call: relax.Call, var2val: Var2Val,
            channels: int) -> np.ndarray | None:
    """The int32 bias if `add` is `kind`'s bias add of exactly `anchor_call`."""
    m = kind.pattern.extract_matched_expr(add, var2val)
    if m is None or not m[kind.anchor].same_as(anchor_call):
        return None
    value = constant(m[kind.bias])
    if value is None or value.dtype != np.int32 or value.size != channels:
        return None
    if value.ndim > 1 and value.shape[-1] != channels:
        return None
    return value.reshape(channels)


# -- the requantization tail ------------------------------------------------------------------

@dataclass(frozen=True)
class _RequantPattern:
    root: DFPattern
    acc: DFPattern
    mult: DFPattern
    rounding: DFPattern
    shift31: DFPattern
    divide: DFPattern
    exponent: DFPattern
    zero_point: DFPattern
    clip: DFPattern


def _requant_pattern() -> _RequantPattern:
    """frontend/requant.py's int8 rescale: `(astype(acc, i64)·M + R) >> S`, optionally a
    rounding divide by 2^e (`+ where(. < 0, h-1, h) >> e`), `+ zp`, clip, astype(int8)."""
    acc = wildcard()
    mult, rounding, shift31, exponent, zero_point = (is_const() for _ in range(5))
    high = is_op("relax.right_shift")(
        is_op("relax.add")(is_op("relax.multiply")(is_op("relax.astype")(acc), mult), rounding), shift31)
    nudge = is_op("relax.where")(is_op("relax.less")(high, is_const()), is_const(), is_const())
    divide = is_op("relax.right_shift")(is_op("relax.add")(high, nudge), exponent)
    scaled = divide | high
    clip = is_op("relax.clip")(is_op("relax.add")(scaled, zero_point) | scaled, wildcard(), wildcard())
    return _RequantPattern(is_op("relax.astype")(clip), acc, mult, rounding, shift31, divide,
                           exponent, zero_point, clip)


REQUANT = _requant_pattern()


def _ints(expr) -> np.ndarray:
    return np.asarray(constant(expr)).astype(np.int64).reshape(-1)


def requant_of(root: relax.Call, acc: relax.Var, var2val: Var2Val) -> Requant | None:
    """The `Requant` if `root` (an astype to int8) requantizes exactly `acc`, else None."""
    if op_name(root) != "relax.astype" or str(root.ty.dtype) != "int8":
        return None
    m = REQUANT.root.extract_matched_expr(root, var2val)
    matched = m[REQUANT.acc] if m is not None else None  # dpl sees through vars: the bound value
    if matched is None or not (matched.same_as(acc) or matched.same_as(var2val.get(acc))) \
            or str(acc.ty.dtype) != "int32":
        return None
    clip = m[REQUANT.clip]
    lo, hi = prim_int(clip.args[1]), prim_int(clip.args[2])
    if lo is None or hi is None or not -128 <= lo <= hi <= 127:
        return None
    zp = _ints(m[REQUANT.zero_point]) if REQUANT.zero_point in m else np.zeros(1, np.int64)
    scaled, rounding, total = (_ints(m[p]) for p in (REQUANT.mult, REQUANT.rounding, REQUANT.shift31))
    right = _ints(m[REQUANT.exponent]) if REQUANT.divide in m else np.zeros(1, np.int64)
    if zp.size != 1 or rounding.size != 1 or total.size != 1:
        return None
    if int(total[0]) == 31 and int(rounding[0]) == 1 << 30:  # double rounding, M << left
        left = np.maximum(np.array([int(v).bit_length() for v in scaled]) - 31, 0)
        mult = scaled >> left
        n = max(mult.size, right.size)
        mult, left, right = (np.broadcast_to(a, (n,)) for a in (mult, left, right))
        if np.any((left > 0) & (right > 0)):
            return None
        shift, kind = left - right, "double"
    elif REQUANT.divide not in m and int(rounding[0]) == 1 << (int(total[0]) - 1):
        mult, shift, kind = scaled, np.full(scaled.shape, 31 - int(total[0])), "single"
    else:
        return None
    if np.any(mult < 0) or np.any(mult >= 1 << 31):
        return None
    return Requant(tuple(int(v) for v in mult), tuple(int(v) for v in shift), int(zp[0]), lo, hi, kind)

