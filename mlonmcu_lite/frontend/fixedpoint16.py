"""gemmlowp's 16-bit fixed-point logistic and tanh, as the integer LSTM computes its gates.

TFLite's integer LSTM (lstm_eval.cc, `tensor_utils::ApplySigmoid` / `ApplyTanh`) evaluates
`gemmlowp::logistic` on Q3.12 gate values and `gemmlowp::tanh` on Q3.12 gates and on the
cell state (Q(15+cell_scale)), all on int16 raw values.  A 65536-entry table per function
would cost 128 KB of ROM each, so the arithmetic itself is emitted: every step below is an
int16 gemmlowp primitive (SaturatingRoundingDoublingHighMul, RoundingDivideByPOT, saturating
shifts, masks), written once against a small backend so the same code runs in numpy (to
check it on all 65536 inputs) and as TE stages (the firmware's kernels).  int16 products fit in
int32, so nothing here needs 64-bit arithmetic on RV32.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np
from tvm import te, tirx

INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1


class Backend(Protocol):
    """Elementwise int32 operations on values holding int16 raw fixed-point numbers."""

    def add(self, a: Any, b: Any) -> Any: ...
    def sub(self, a: Any, b: Any) -> Any: ...
    def mul(self, a: Any, b: Any) -> Any: ...
    def shr(self, a: Any, bits: int) -> Any: ...
    def band(self, a: Any, mask: int) -> Any: ...
    def where(self, cond: Any, a: Any, b: Any) -> Any: ...
    def less(self, a: Any, b: Any) -> Any: ...
    def greater(self, a: Any, b: Any) -> Any: ...
    def equal(self, a: Any, b: int) -> Any: ...
    def clip(self, a: Any, lo: int, hi: int) -> Any: ...


class NumpyBackend:
    """int32 numpy arrays (the host check)."""

    @staticmethod
    def _v(x):
        return np.int32(x) if isinstance(x, int) else x

    def add(self, a, b): return (a + self._v(b)).astype(np.int32)
    def sub(self, a, b): return (self._v(a) - self._v(b)).astype(np.int32)
    def mul(self, a, b): return (a * self._v(b)).astype(np.int32)
    def shr(self, a, bits): return (a >> np.int32(bits)).astype(np.int32)
    def band(self, a, mask): return (a & np.int32(mask)).astype(np.int32)
    def where(self, cond, a, b): return np.where(cond, self._v(a), self._v(b)).astype(np.int32)
    def less(self, a, b): return a < self._v(b)
    def greater(self, a, b): return a > self._v(b)
    def equal(self, a, b): return a == b
    def clip(self, a, lo, hi): return np.clip(a, lo, hi).astype(np.int32)


class TeBackend:
    """Elementwise TE over one shape: every operation is its own `te.compute` stage.

    Constants are immediates.  The compiler's schedule inlines a stage read once and computes
    one read several times once per element into a register, so the kernel is one loop and the
    C stays linear in the number of steps.  (Composing expressions here instead made TVM's
    simplifier take minutes on some nestings: one stage per operation is the robust form.)
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    @staticmethod
    def load(x, index):
        return tirx.const(x, "int32") if isinstance(x, int) else x[index]

    def stage(self, fn: Callable, name: str = "fx") -> te.Tensor:
        """A new stage computed elementwise by `fn(index)` (reading others through `load`)."""
        return te.compute(self.shape, lambda *i: fn(i), name=name)

    def _binary(self, a, b, op, name):
        return self.stage(lambda i: op(self.load(a, i), self.load(b, i)), name)

    def add(self, a, b): return self._binary(a, b, lambda x, y: x + y, "add")
    def sub(self, a, b): return self._binary(a, b, lambda x, y: x - y, "sub")
    def mul(self, a, b): return self._binary(a, b, lambda x, y: x * y, "mul")
    def shr(self, a, bits): return self._binary(a, bits, lambda x, y: x >> y, "shr")
    def band(self, a, mask): return self._binary(a, mask, lambda x, y: x & y, "and")
    def less(self, a, b): return self._binary(a, b, tirx.LT, "lt")
    def greater(self, a, b): return self._binary(a, b, tirx.GT, "gt")
    def equal(self, a, b): return self._binary(a, b, tirx.EQ, "eq")

    def where(self, cond, a, b):
        return self.stage(lambda i: tirx.Select(self.load(cond, i), self.load(a, i), self.load(b, i)), "select")

    def clip(self, a, lo, hi):
        return self.stage(lambda i: tirx.max(tirx.min(self.load(a, i), self.load(hi, i)), self.load(lo, i)), "clip")


def _rdbp_int(x: int, exponent: int) -> int:
    """RoundingDivideByPOT of a Python int (constants)."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def constant16(int32_value: int) -> int:
    """GEMMLOWP_CHECKED_FIXEDPOINT_CONSTANT for int16: the int32 raw rounding-shifted by 16."""
    return _rdbp_int(int32_value, 16)


def srdhm(o: Backend, a, b):
    """SaturatingRoundingDoublingHighMul<int16>: (a·b + nudge) / 2^15, truncating division.

    `b` may be a Python int constant; the one overflow case (both −32768) is only possible
    when `b` is −32768 or a tensor.
    """
    ab = o.mul(a, b)
    nudge = o.where(o.less(ab, 0), 1 - (1 << 14), 1 << 14)
    s = o.add(ab, nudge)
    q = o.shr(o.add(s, o.where(o.less(s, 0), (1 << 15) - 1, 0)), 15)  # C division: towards zero
    if isinstance(b, int) and b != INT16_MIN:
        return q
    return o.where(o.equal(o.add(a, b), 2 * INT16_MIN), INT16_MAX, q)  # a + b = −65536: both −32768


def rdbp(o: Backend, x, exponent: int):
    """RoundingDivideByPOT: round half away from zero."""
    if exponent == 0:
        return x
    mask = (1 << exponent) - 1
    threshold = o.where(o.less(x, 0), (mask >> 1) + 1, mask >> 1)
    up = o.where(o.greater(o.band(x, mask), threshold), 1, 0)
    return o.add(o.shr(x, exponent), up)


def mul_pot(o: Backend, x, exponent: int):
    """SaturatingRoundingMultiplyByPOT<exponent> on int16."""
    if exponent < 0:
        return rdbp(o, x, -exponent)
    if exponent == 0:
        return x
    threshold = (1 << (15 - exponent)) - 1
    shifted = o.clip(o.mul(x, 1 << exponent), INT16_MIN, INT16_MAX)
    return o.where(o.less(x, -threshold), INT16_MIN, o.where(o.greater(x, threshold), INT16_MAX, shifted))


def neg16(o: Backend, x):
    """int16 negation, wrapping −32768 to itself as the C++ cast does."""
    return o.where(o.equal(x, INT16_MIN), INT16_MIN, o.sub(0, x))


def _exp_quarter(o: Backend, a):
    """exp on [−1/4, 0) (F0 in, F0 out)."""
    constant_term = constant16(1895147668)
    one_third = constant16(715827883)
    x = o.add(a, 1 << 12)
    x2 = srdhm(o, x, x)
    x3 = srdhm(o, x2, x)
    x4 = srdhm(o, x2, x2)
    inner = o.add(srdhm(o, o.add(mul_pot(o, x4, -2), x3), one_third), x2)
    poly = mul_pot(o, inner, -1)
    return o.clip(o.add(srdhm(o, o.add(x, poly), constant_term), constant_term), INT16_MIN, INT16_MAX)


_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(o: Backend, a, integer_bits: int):
    """exp(a) for a ≤ 0 in Q(integer_bits), result in Q0.15."""
    frac = 15 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = o.sub(o.band(a, quarter - 1), quarter)
    result = _exp_quarter(o, mul_pot(o, a_mod, integer_bits))
    remainder = o.sub(a_mod, a)
    for exponent, multiplier in _BARREL:
        if integer_bits > exponent:
            bit = o.greater(o.band(remainder, 1 << (frac + exponent)), 0)
            result = o.where(bit, srdhm(o, result, constant16(multiplier)), result)
    if integer_bits > 5:
        result = o.where(o.less(a, constant16(-(1 << (36 - integer_bits)))), 0, result)
    return o.where(o.equal(a, 0), INT16_MAX, result)


def _newton_reciprocal(o: Backend, a):
    """The Newton-Raphson part shared by 1/(1+x) and (1−x)/(1+x): x ≈ 1/half_denominator in Q2.13."""
    half_den = o.shr(o.add(o.add(a, INT16_MAX), 1), 1)  # RoundingHalfSum(a, One): a + One > 0 here
    x = o.add(srdhm(o, half_den, constant16(-1010580540)), constant16(1515870810))
    for _ in range(3):
        one_minus = o.sub(1 << 13, srdhm(o, half_den, x))
        x = o.add(x, mul_pot(o, srdhm(o, x, one_minus), 2))
    return x


def logistic(o: Backend, a, integer_bits: int = 3):
    """gemmlowp::logistic: Q(integer_bits) in, Q0.15 out."""
    positive = o.greater(a, 0)
    abs_input = o.where(positive, a, neg16(o, a))
    e = exp_on_negative_values(o, neg16(o, abs_input), integer_bits)
    if_positive = mul_pot(o, _newton_reciprocal(o, e), 1)  # Rescale<0>(ExactMulByPot<-1>(x))
    if_negative = o.sub(INT16_MAX, if_positive)
    return o.where(o.equal(a, 0), 1 << 14, o.where(positive, if_positive, if_negative))


def tanh(o: Backend, a, integer_bits: int):
    """gemmlowp::tanh: Q(integer_bits) in, Q0.15 out."""
    negative = o.less(a, 0)
    n = o.where(negative, a, neg16(o, a))
    e = exp_on_negative_values(o, n, integer_bits + 1)  # ExactMulByPot<1>: the same raw, one more bit
    t = mul_pot(o, o.sub(_newton_reciprocal(o, e), 1 << 13), 2)
    return o.where(o.equal(a, 0), 0, o.where(negative, neg16(o, t), t))
