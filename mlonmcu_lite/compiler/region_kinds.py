"""The offloadable region kinds, as data: a relax.dpl pattern per kind and how a match
becomes the typed region (`peripheral.backend.ConvRegion`, `DenseRegion`, `EltwiseRegion`,
`PoolRegion`) a backend sees.

Every kind is rooted at the frontend's canonical accumulator chain (docs/ARCHITECTURE.md):
`anchor(x int8, w const int8) -> add(., bias_i32 const)`; the optional tail that follows it
(frontend/requant.py's int64 rescale, zero point, clamp, int8; `requant_of`, read by the CPU
kernels' matcher) a backend pattern declaring `requant=True` takes too.  The compiler's partition step
(`offload.py`) walks `main` once and, for each binding of a kind's anchor op, asks
`KIND.region(...)`; adding a kind is one more `RegionKindSpec` in `KINDS`.

Kinds without weights (`OP_KINDS`: element-wise ADD/MUL, average/max pooling) are rooted at
the op's int8 result instead: an `OpKindSpec` matches there and returns the region with the
activations the device reads.  ADD and MUL are read with the same matchers as the CPU
kernels use (`requant_match.match_add` / `match_mul`), pooling with relax.dpl patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax.dpl import DFPattern, is_const, is_op, wildcard

from mlonmcu_lite.peripheral.backend import (AddParams, ConvRegion, DenseRegion, EltwiseRegion, PoolRegion,
                                             Region, Requant)

from .patterns import ConvMatch, constant, match_conv, op_name, prim_int
from .requant_match import AddMatch, MulMatch, match_add, match_mul, match_requant

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

def requant_of(root: relax.Var, acc: relax.Var, var2val: Var2Val, uses) -> Requant | None:
    """The `Requant` if `root` (bound to an astype to int8) requantizes exactly `acc`, else
    None: the CPU kernels' matcher (`requant_match.match_requant`), one for the whole house."""
    m = match_requant(root, var2val.get, uses)
    if m is None or not m.acc.same_as(acc) or m.lo > m.hi:
        return None
    return m.requant


# -- kinds without weights, rooted at the op's int8 result --------------------------------------

Uses = Callable[[relax.Var], int]


@dataclass(frozen=True)
class OpMatch:
    """A matched op region and the activations the device reads, in the call's order."""

    region: Region
    inputs: tuple[relax.Expr, ...]


@dataclass(frozen=True)
class OpKindSpec:
    """One weightless region kind: `match(layer, root var, var2val, uses)` at a binding of
    `anchor_op` returns the region, or None when the binding is not this kind."""

    name: str  # EltwiseRegion.kind / PoolRegion.kind
    anchor_op: str
    match: Callable[[str, relax.Var, Var2Val, Uses], "OpMatch | None"]


def add_params(m: AddMatch) -> AddParams:
    """The ADD's parameters as a device takes them (offsets = minus the zero points)."""
    return AddParams((-m.zero_points[0], -m.zero_points[1]), m.left_shift, m.inputs, m.output,
                     m.zero_point, m.lo, m.hi)


def _eltwise(layer: str, root: relax.Var, var2val: Var2Val, uses: Uses) -> OpMatch | None:
    shape = _shape(root)
    add = match_add(root, var2val.get, uses)
    if add is not None:
        return OpMatch(EltwiseRegion(layer, shape, "add", add_params(add)), (add.a, add.b))
    mul: MulMatch | None = match_mul(root, var2val.get, uses)
    if mul is None:
        return None
    params = AddParams((-mul.zero_points[0], -mul.zero_points[1]), 0, ((0, 0), (0, 0)), mul.output,
                       mul.zero_point, mul.lo, mul.hi)
    return OpMatch(EltwiseRegion(layer, shape, "mul", params), (mul.a, mul.b))


def _avg_pool_pattern():
    acc, half, count = wildcard(), is_const(), is_const()
    quotient = is_op("relax.floor_divide")(is_op("relax.add")(is_op("relax.abs")(acc), half), count)
    mean = is_op("relax.where")(is_op("relax.less")(acc, is_const()), is_op("relax.negative")(quotient), quotient)
    clip = is_op("relax.clip")(mean, wildcard(), wildcard())
    return is_op("relax.astype")(clip), acc, half, count, clip


_AVG_ROOT, _AVG_ACC, _AVG_HALF, _AVG_COUNT, _AVG_CLIP = _avg_pool_pattern()


def _window(acc: relax.Expr, var2val: Var2Val):
    """(input, pool size, strides, padding) of frontend/pool.py's window sum: a global int32
    `sum` over H, W, or a depthwise conv with all-ones weights over the zero-padded input."""
    call = var2val.get(acc) if isinstance(acc, relax.Var) else acc
    if op_name(call) == "relax.sum":
        cast = var2val.get(call.args[0]) if isinstance(call.args[0], relax.Var) else call.args[0]
        axes = sorted(int(a) for a in call.attrs.axis) if call.attrs.axis is not None else []
        if op_name(cast) != "relax.astype" or axes != [1, 2] or not bool(call.attrs.keepdims):
            return None
        x = cast.args[0]
        _, h, w, _ = _shape(x)
        return x, (h, w), (1, 1), (0, 0, 0, 0)
    match = match_conv(call, var2val.get)
    if not isinstance(match, ConvMatch):
        return None
    g = match.geometry
    c = match.input_shape[3]
    if g.groups != c or g.pad_value != 0 or g.dilation != (1, 1) or match.weight_ohwi.shape[3] != 1 \
            or not np.all(match.weight_ohwi == 1):
        return None
    return match.data, tuple(match.weight_ohwi.shape[1:3]), g.strides, g.padding


def _avg_pool(layer: str, root: relax.Var, var2val: Var2Val, uses: Uses) -> OpMatch | None:
    from mlonmcu_lite.frontend.pool import tap_counts
    value = var2val.get(root)
    if str(value.ty.dtype) != "int8":
        return None
    m = _AVG_ROOT.extract_matched_expr(value, var2val)
    window = _window(m[_AVG_ACC], var2val) if m is not None else None
    if window is None:
        return None
    x, (kh, kw), (sh, sw), padding = window
    if str(x.ty.dtype) != "int8":
        return None
    _, h, w, c = _shape(x)
    _, oh, ow, _ = _shape(root)
    counts = np.outer(tap_counts(h, kh, sh, padding[0], oh), tap_counts(w, kw, sw, padding[1], ow))
    count, half = constant(m[_AVG_COUNT]), constant(m[_AVG_HALF])
    if count is None or half is None or count.size != counts.size or half.size != counts.size \
            or np.any(count.reshape(oh, ow) != counts) or np.any(half.reshape(oh, ow) != counts // 2):
        return None
    clip = m[_AVG_CLIP]
    lo, hi = prim_int(clip.args[1]), prim_int(clip.args[2])
    if lo is None or hi is None or not -128 <= lo <= hi <= 127:
        return None
    region = PoolRegion(layer, (1, h, w, c), (1, oh, ow, c), (kh, kw), (sh, sw), padding, "avg", lo, hi)
    return OpMatch(region, (x,))


def _max_pool(layer: str, root: relax.Var, var2val: Var2Val, uses: Uses) -> OpMatch | None:
    call = var2val.get(root)
    attrs = call.attrs
    x = call.args[0]
    if str(attrs.layout) != "NHWC" or str(attrs.out_layout) != "NHWC" or bool(attrs.ceil_mode) \
            or any(int(d) != 1 for d in attrs.dilation) or str(x.ty.dtype) != "int8" \
            or str(call.ty.dtype) != "int8":
        return None
    n, h, w, c = _shape(x)
    _, oh, ow, _ = _shape(call)
    pad = tuple(int(p) for p in attrs.padding)
    if n != 1 or len(pad) != 4:
        return None
    region = PoolRegion(layer, (1, h, w, c), (1, oh, ow, c), tuple(int(k) for k in attrs.pool_size),
                        tuple(int(s) for s in attrs.strides), pad, "max")
    return OpMatch(region, (x,))


OP_KINDS: tuple[OpKindSpec, ...] = (
    OpKindSpec("eltwise", "relax.astype", _eltwise),
    OpKindSpec("pool", "relax.astype", _avg_pool),
    OpKindSpec("pool", "relax.nn.max_pool2d", _max_pool),
)


# -- qmath: a legacy uint8 layer's weight zero point as the device's weight offset ---------------

@dataclass(frozen=True)
class WeightZeroPoint:
    """frontend/conv.py's correction of a per-tensor weight zero point (legacy uint8 models):
    `acc = subtract(biased, multiply(window, w_zp))`, `window` the all-ones conv of the same
    padded input (a fully connected layer: the input's row sum).  The device computes it as
    Σ x_pad·(w + weight_offset) with weight_offset = −w_zp."""

    acc: relax.Var  # the corrected accumulator: the requantization (or the int32 result) reads it
    window: relax.Var  # the all-ones conv (row sum) the weight offset replaces
    weight_offset: int


def _only_user(var, users: dict):
    uses = users.get(var, []) if isinstance(var, relax.Var) else []
    return uses[0] if len(uses) == 1 else None


def weight_zero_point_of(biased: relax.Var, anchor: Anchor, var2val: Var2Val,
                         users: dict) -> WeightZeroPoint | None:
    """The weight zero-point correction applied to `biased` (the conv's or fully connected
    layer's bias add), else None."""
    sub_var = _only_user(biased, users)
    sub = var2val.get(sub_var) if sub_var is not None else None
    if op_name(sub) != "relax.subtract" or not sub.args[0].same_as(biased) or _only_user(sub.args[1], users) is None:
        return None
    mul = var2val.get(sub.args[1])
    w_zp = constant(mul.args[1]) if op_name(mul) == "relax.multiply" else None
    if w_zp is None or w_zp.size != 1 or _only_user(mul.args[0], users) is None:
        return None
    window_var = mul.args[0]
    if not _is_window(var2val.get(window_var), anchor, var2val):
        return None
    return WeightZeroPoint(sub_var, window_var, -int(w_zp.reshape(-1)[0]))


def _is_window(value, anchor: Anchor, var2val: Var2Val) -> bool:
    """`value` is Σ_window x of the anchor's input: a conv's all-ones conv (same geometry) or a
    fully connected layer's row sum `sum(astype(x, int32), axis=-1, keepdims)` (frontend/dense.py)."""
    region, w = anchor.region, anchor.weight
    if isinstance(region, DenseRegion):
        cast = var2val.get(value.args[0]) if op_name(value) == "relax.sum" and isinstance(value.args[0], relax.Var) \
            else None
        axes = [int(a) for a in value.attrs.axis] if cast is not None and value.attrs.axis is not None else []
        return op_name(cast) == "relax.astype" and cast.args[0].same_as(anchor.data) and axes in ([-1], [1]) \
            and bool(value.attrs.keepdims) and str(value.ty.dtype) == "int32"
    window = match_conv(value, var2val.get)
    if not isinstance(window, ConvMatch) or not isinstance(region, ConvRegion) \
            or not window.data.same_as(anchor.data) or np.any(window.weight_ohwi != 1):
        return False
    g = window.geometry
    return (g.strides, g.padding, g.dilation, g.groups, g.pad_value, g.out_dtype) == \
        (region.strides, region.padding, region.dilation, region.groups, region.pad_value, "int32") \
        and window.weight_ohwi.shape == (1 if region.groups == 1 else w.shape[0], *w.shape[1:])
