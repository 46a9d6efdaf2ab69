"""Recognising the frontend's requantize chain (frontend/requant.py) in Relax `main`.

The frontend states TFLite's rescale in int64 elementwise ops (the semantic spec).  The CPU
kernels compute the same values in 32-bit arithmetic (mul + mulh, TFLite's own int32
formulation); this module reads the chain back into per-channel parameters:

    astype(acc i32, i64) -> multiply(M << left) -> add(2^30) -> right_shift(31)
        [-> add(where(less(., 0), half-1, half)) -> right_shift(right)]     (double rounding)
    astype(acc i32, i64) -> multiply(M) -> add(2^(30-s)) -> right_shift(31-s) (single rounding)
    then [add(zero point)] -> clip(lo, hi) -> astype(int8).

Anything else (another op in between, a value used outside the chain) is not matched and
stays with TVM's generic kernels.  The one matcher of the house: the CPU kernels (cpu_pass.py)
and the offload pass (region_kinds.requant_of: a device's fused requantization) both read the
chain here, into one `Requant` type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from tvm import relax

from mlonmcu_lite.peripheral.backend import Requant

from .patterns import constant, op_name, prim_int

Lookup = Callable[[relax.Var], "relax.Expr | None"]


@dataclass(frozen=True)
class RequantMatch:
    """A requantize chain found in `main`: the int32 value it requantizes, the parameters as
    one `Requant` (peripheral/backend.py: the type the CPU kernels and the devices share) and
    the matched vars.  The array views below are what the CPU kernels' planner reads.
    """

    acc: relax.Expr  # the int32 value requantized
    requant: Requant
    chain: tuple  # the matched Relax vars (each used once, inside the chain)

    @property
    def multiplier(self) -> np.ndarray:  # int32 [C] (or [1]), each in [0, 2^31)
        return np.asarray(self.requant.multiplier, np.int32)

    @property
    def shift(self) -> np.ndarray:  # int32 [C] (or [1]), TFLite's signed shift (left if > 0)
        return np.asarray(self.requant.shift, np.int32)

    @property
    def zero_point(self) -> int:
        return self.requant.zero_point

    @property
    def lo(self) -> int:
        return self.requant.lo

    @property
    def hi(self) -> int:
        return self.requant.hi

    @property
    def single(self) -> bool:  # `(x*M + 2^(30-s)) >> (31-s)`, per tensor or per channel
        return self.requant.rounding == "single"


def _const(expr) -> np.ndarray | None:
    value = constant(expr)
    return None if value is None else np.asarray(value).astype(np.int64)


def _split_left(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """M << left with M in [2^30, 2^31) (or 0) -> (M, left)."""
    bits = np.array([int(v).bit_length() for v in scaled.reshape(-1)], dtype=np.int64)
    left = np.maximum(bits - 31, 0)
    return scaled.reshape(-1) >> left, left


class _Walk:
    def __init__(self, lookup: Lookup, uses: Callable[[relax.Var], int]):
        self.lookup, self.uses, self.chain = lookup, uses, []

    def call(self, expr, name: str, n_uses: int = 1):
        """The call bound to var `expr` if it is op `name`, used exactly `n_uses` times."""
        if not isinstance(expr, relax.Var):
            return None
        value = self.lookup(expr)
        if op_name(value) != name or self.uses(expr) != n_uses:
            return None
        self.chain.append(expr)
        return value

    def binary_const(self, expr, name: str, n_uses: int = 1):
        """(other operand, constant) of `name(other, const)`."""
        call = self.call(expr, name, n_uses)
        if call is None:
            return None, None
        return call.args[0], _const(call.args[1])


@dataclass(frozen=True)
class Rescale:
    """`rescale(inner)` of frontend/requant.py: inner (int64 expr) times M·2^shift."""

    inner: relax.Expr
    multiplier: np.ndarray  # int64 [C] (or [1])
    shift: np.ndarray  # int64 [C] (or [1])
    single: bool


def _rescale(w: _Walk, x) -> Rescale | None:
    """Parse the rescale whose last op is bound to `x` (a right_shift)."""
    right = None
    inner, exponent = w.binary_const(x, "relax.right_shift")
    if exponent is None:
        return None
    added = w.call(inner, "relax.add")
    if added is None:
        return None
    srdhm_var, nudge = added.args
    where = w.call(nudge, "relax.where")
    if where is not None:
        less = w.call(where.args[0], "relax.less")
        if less is None or not less.args[0].same_as(srdhm_var) or _const(less.args[1]) is None:
            return None
        right = exponent
        inner2, exp31 = w.binary_const(srdhm_var, "relax.right_shift", n_uses=2)
        if exp31 is None or exp31.size != 1 or int(exp31) != 31:
            return None
        added2 = w.call(inner2, "relax.add")
        if added2 is None:
            return None
        product_var, rounding = added2.args[0], _const(added2.args[1])
    else:
        product_var, rounding = srdhm_var, _const(nudge)
    if rounding is None:
        return None
    value, scaled = w.binary_const(product_var, "relax.multiply")
    if scaled is None:
        return None
    if right is not None or exponent.size == rounding.size == 1 and int(exponent) == 31 and int(rounding) == 1 << 30:
        # double rounding: M << left, then a rounding divide by 2^right
        mult, left = _split_left(scaled)
        if rounding.size != 1 or int(rounding) != 1 << 30:
            return None
        rshift = np.zeros_like(left) if right is None else right.reshape(-1)
        if right is not None and right.size != 1 and right.size != mult.size and mult.size != 1:
            return None
        n = max(mult.size, rshift.size)
        mult, left, rshift = (np.broadcast_to(a, (n,)) for a in (mult, left, rshift))
        if np.any((left > 0) & (rshift > 0)):
            return None
        shift, single = left - rshift, False
    else:
        # single rounding, per tensor or (a per-channel FULLY_CONNECTED) per channel
        parts = [a.reshape(-1) for a in (exponent, rounding, scaled)]
        n = max(a.size for a in parts)
        if any(a.size not in (1, n) for a in parts):
            return None
        total, nudge, mult = (np.broadcast_to(a, (n,)) for a in parts)
        if np.any(total < 1) or np.any(total > 62) or np.any(nudge != np.int64(1) << (total - 1)):
            return None
        shift, single = 31 - total, True
    if np.any(mult < 0) or np.any(mult >= 1 << 31):
        return None
    return Rescale(value, mult, shift, single)


def _output_stage(w: _Walk, root, lookup: Lookup):
    """(rescale, zero point, lo, hi) of `astype(clip([add(rescale, zp)]), int8)` at `root`."""
    cast = lookup(root)
    if op_name(cast) != "relax.astype" or str(cast.ty.dtype) != "int8":
        return None
    clip = w.call(cast.args[0], "relax.clip")
    if clip is None:
        return None
    lo, hi = prim_int(clip.args[1]), prim_int(clip.args[2])
    if lo is None or hi is None or lo < -128 or hi > 127:
        return None
    x, zp = w.binary_const(clip.args[0], "relax.add")
    if zp is None:
        x, zp = clip.args[0], np.zeros(())
    if zp.size != 1:
        return None
    rescale = _rescale(w, x)
    return None if rescale is None else (rescale, int(zp), lo, hi)


def match_requant(root: relax.Var, lookup: Lookup, uses: Callable[[relax.Var], int]) -> RequantMatch | None:
    """The requantize chain ending in `root = astype(clip(...), int8)`, else None."""
    w = _Walk(lookup, uses)
    stage = _output_stage(w, root, lookup)
    if stage is None:
        return None
    r, zp, lo, hi = stage
    cast_in = w.call(r.inner, "relax.astype")
    if cast_in is None or str(cast_in.args[0].ty.dtype) != "int32":
        return None
    requant = Requant(tuple(int(v) for v in r.multiplier), tuple(int(v) for v in r.shift), zp, lo, hi,
                      "single" if r.single else "double")
    return RequantMatch(cast_in.args[0], requant, tuple(w.chain))


@dataclass(frozen=True)
class AddMatch:
    """TFLite int8 ADD (frontend/add.py) of two same-shape int8 tensors, all per-tensor."""

    a: relax.Expr
    b: relax.Expr
    zero_points: tuple[int, int]
    left_shift: int
    inputs: tuple[tuple[int, int], tuple[int, int]]  # (multiplier, shift) per input
    output: tuple[int, int]
    zero_point: int
    lo: int
    hi: int


def _scalar(r: Rescale) -> tuple[int, int] | None:
    if r.single or r.multiplier.size != 1:
        return None
    return int(r.multiplier[0]), int(r.shift[0])


def _centred_int8(w: _Walk, expr) -> tuple[relax.Expr, int] | None:
    """(int8 tensor, zero point) of `astype(x) - zp` (an operand of TFLite's ADD and MUL).

    The widening `astype(x)` may have other users (TVM merges equal expressions, e.g. with a
    MEAN of the same x in squeeze-excite): it stays for them and joins the chain only when
    this op is its one user."""
    wide, zp = w.binary_const(expr, "relax.subtract")
    if zp is None or zp.size != 1 or not isinstance(wide, relax.Var):
        return None
    cast = w.lookup(wide)
    if op_name(cast) != "relax.astype" or str(cast.args[0].ty.dtype) != "int8":
        return None
    if w.uses(wide) == 1:
        w.chain.append(wide)
    return cast.args[0], int(zp)


def _same_shape(out: relax.Expr, *operands: relax.Expr) -> bool:
    """Element-wise without broadcasting: every operand has the output's shape."""
    shape = [int(d) for d in out.ty.shape]
    return all([int(d) for d in t.ty.shape] == shape for t in operands)


def match_add(root: relax.Var, lookup: Lookup, uses: Callable[[relax.Var], int]) -> AddMatch | None:
    """`to_int8(rescale(shifted(a) + shifted(b)))` ending in `root`, else None."""
    w = _Walk(lookup, uses)
    stage = _output_stage(w, root, lookup)
    if stage is None:
        return None
    r, zp, lo, hi = stage
    raw = w.call(r.inner, "relax.add")
    if raw is None or _scalar(r) is None:
        return None
    sides = []
    for side in raw.args:
        rs = _rescale(w, side)
        if rs is None or _scalar(rs) is None:
            return None
        centred, factor = w.binary_const(rs.inner, "relax.multiply")
        if factor is None or factor.size != 1 or int(factor) <= 0 or int(factor) & (int(factor) - 1):
            return None
        operand = _centred_int8(w, centred)
        if operand is None:
            return None
        sides.append((*operand, int(factor).bit_length() - 1, _scalar(rs)))
    (a, za, la, ra), (b, zb, lb, rb) = sides
    if la != lb or not _same_shape(lookup(root), a, b):
        return None
    return AddMatch(a, b, (za, zb), la, (ra, rb), _scalar(r), zp, lo, hi)


@dataclass(frozen=True)
class MulMatch:
    """TFLite int8 MUL (frontend/mul.py) of two int8 tensors, per-tensor: the same shape, or
    (`match_mul(broadcast=True)`) `b` broadcast along `a`'s leading axes."""

    a: relax.Expr
    b: relax.Expr
    zero_points: tuple[int, int]
    output: tuple[int, int]
    zero_point: int
    lo: int
    hi: int


def _trailing(out: relax.Expr, a: relax.Expr, b: relax.Expr) -> bool:
    """`a` has the output's shape and `b` is 1s then `a`'s trailing dimensions (e.g. [1,1,1,C])."""
    shape, bs = [int(d) for d in out.ty.shape], [int(d) for d in b.ty.shape]
    if [int(d) for d in a.ty.shape] != shape or len(bs) > len(shape):
        return False
    lead = next((i for i, d in enumerate(bs) if d != 1), len(bs))
    return all(d == 1 for d in bs[:lead]) and bs[lead:] == shape[len(shape) - len(bs) + lead:]


def match_mul(root: relax.Var, lookup: Lookup, uses: Callable[[relax.Var], int],
              broadcast: bool = False) -> MulMatch | None:
    """`to_int8(rescale(astype((astype(a) - za) * (astype(b) - zb), i64)))` ending in `root`;
    with `broadcast`, the operands may come in either order (`a` is made the full-shape one)."""
    w = _Walk(lookup, uses)
    stage = _output_stage(w, root, lookup)
    if stage is None:
        return None
    r, zp, lo, hi = stage
    wide = w.call(r.inner, "relax.astype")
    product = w.call(wide.args[0], "relax.multiply") if wide is not None else None
    if product is None or _scalar(r) is None or str(product.ty.dtype) != "int32":
        return None
    sides = []
    for side in product.args:
        operand = _centred_int8(w, side)
        if operand is None:
            return None
        sides.append(operand)
    (a, za), (b, zb) = sides
    out = lookup(root)
    if not _same_shape(out, a, b):
        if not broadcast:
            return None
        if _trailing(out, b, a):
            (a, za), (b, zb) = (b, zb), (a, za)
        elif not _trailing(out, a, b):
            return None
    return MulMatch(a, b, (za, zb), _scalar(r), zp, lo, hi)
