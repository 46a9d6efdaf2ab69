"""QUANTIZE float32 -> 8 bit without float arithmetic: thresholds on the float's bits.

Why: TFLite's AffineQuantize divides in float32, which rv32imc does with libgcc's soft-float
`__divsf3` (~360 instructions per input value with the rounding steps).  Its result is a
step function of x, so the compiler precomputes where each step starts and the target only
compares integers:

* `key(x)`: the float32 bits as int32, negatives mirrored (`bits ^ 0x7fffffff`), so that the
  keys are ordered as the floats (−0 sits just below +0, NaNs beyond ±inf).
* `reference_quantize`: TFLite's reference kernel as the x86 build of BUILTIN_REF computes
  it, `clamp(int32(round_half_away(x / scale)) + zp)`: float32 division, then
  `static_cast<int32_t>` which yields INT_MIN ("integer indefinite") for NaN, ±inf and
  |x / scale| ≥ 2^31, and a wrapping int32 add of the zero point.  So NaN and out-of-range
  inputs give `clamp(INT_MIN + zp)` (zp < 0: wraps to qmax), as the goldens do.
* `QuantizeTable`: keys [lo, hi) are the well-defined range; inside it the result is
  qmin + #{j : key ≥ thresholds[j]} (255 thresholds, found by bisection over the keys against
  `reference_quantize`, so exact by construction); outside it is the constant `outside`.
  The target runs an 8-step branch-free binary search (`te_quantize`), ~50 instructions.
* With a hardware divider (rv32gc: the C sees `__riscv_fdiv`, kernels.h's `MLML_HARD_FLOAT()`; compiler/driver.py)
  the same kernel divides instead (~20 instructions; the model C is shared by both ISAs and
  clang drops the unused path): inside [lo, hi) the cast is defined, so truncate and add ±1
  where the exact remainder is ≥ 0.5 in magnitude.  The scale rides in thresholds[0], which
  the search never reads (ROM array: TVM would print a float literal with 7 digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tvm import te, tirx

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1

# The C helpers the kernel calls (`tirx.call_extern`), written once: kernels.h declares them
# `static inline` for the firmware (compiler/driver.py), the host's TVM VM links them from a
# small shared library (compiler/host_externs.py).  float <-> int32 bits through a union: TVM's
# `reinterpret` prints a pointer cast, which breaks C's strict aliasing.
C_HELPERS = (
    "int32_t mlml_f32_bits(float x) { union { float f; int32_t i; } u; u.f = x; return u.i; }",
    "float mlml_bits_f32(int32_t x) { union { float f; int32_t i; } u; u.i = x; return u.f; }",
)


def keys_of(x: np.ndarray) -> np.ndarray:
    bits = np.asarray(x, np.float32).view(np.int32)
    return bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))


def floats_of(keys: np.ndarray) -> np.ndarray:
    k = np.asarray(keys, np.int64).astype(np.int32)
    return (k ^ ((k >> 31) & np.int32(0x7FFFFFFF))).view(np.float32)


def _int32_of_ratio(x: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(round_half_away(x / scale) as int64, whether static_cast<int32_t> is defined)."""
    with np.errstate(all="ignore"):
        ratio = (np.asarray(x, np.float32) / np.float32(scale)).astype(np.float64)
        rounded = np.sign(ratio) * np.floor(np.abs(ratio) + 0.5)  # exact: |ratio| < 2^53
        defined = np.isfinite(rounded) & (rounded >= INT32_MIN) & (rounded <= INT32_MAX)
    return np.where(defined, rounded, INT32_MIN).astype(np.int64), defined


def reference_quantize(x: np.ndarray, scale: float, zero_point: int, qmin: int, qmax: int) -> np.ndarray:
    """TFLite's reference AffineQuantize (x86 build, see the module docstring), as int64."""
    whole, _ = _int32_of_ratio(x, scale)
    summed = (whole + zero_point + (1 << 31)) % (1 << 32) - (1 << 31)  # the int32 add wraps
    return np.clip(summed, qmin, qmax)


def _defined(keys: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Keys where the cast is defined and adding zp does not wrap (an interval of keys)."""
    whole, defined = _int32_of_ratio(floats_of(keys), scale)
    return defined & (whole + zero_point >= INT32_MIN) & (whole + zero_point <= INT32_MAX)


def _first_key(pred, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per element, the smallest key in [lo, hi] where the monotone `pred` holds (hi if none)."""
    lo, hi = np.array(lo, np.int64), np.array(hi, np.int64)
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        ok = pred(mid)
        hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid + 1)
    return lo


@dataclass(frozen=True)
class QuantizeTable:
    thresholds: np.ndarray  # int32[256]; [j] = first key giving qmin + j; [0] the scale's bits
    lo: int  # keys below: `outside`
    hi: int  # keys from here on: `outside`
    outside: int
    qmin: int
    qmax: int
    zero_point: int

    @classmethod
    def build(cls, scale: float, zero_point: int, qmin: int, qmax: int) -> QuantizeTable:
        if qmax - qmin != 255:
            raise ValueError("a threshold table is for 8-bit outputs")
        neg_inf, pos_inf = int(keys_of(np.float32(-np.inf))), int(keys_of(np.float32(np.inf)))
        zero = int(keys_of(np.float32(0.0)))
        # the defined keys form one interval around 0: search its ends from 0 outwards
        lo = int(_first_key(lambda k: _defined(k, scale, zero_point), [neg_inf], [zero])[0])
        hi = int(_first_key(lambda k: ~_defined(k, scale, zero_point), [zero], [pos_inf + 1])[0])
        levels = np.arange(qmin + 1, qmax + 1, dtype=np.int64)
        def reaches(k):
            return reference_quantize(floats_of(k), scale, zero_point, qmin, qmax) >= levels
        first = _first_key(reaches, np.full(levels.shape, lo), np.full(levels.shape, hi))
        scale_bits = int(np.float32(scale).view(np.int32))
        thresholds = np.concatenate([[scale_bits], first]).astype(np.int64)
        outside = int(reference_quantize(np.float32(np.nan), scale, zero_point, qmin, qmax))
        return cls(np.clip(thresholds, INT32_MIN, INT32_MAX).astype(np.int32), lo, hi, outside, qmin, qmax,
                   zero_point)

    def evaluate(self, keys: np.ndarray, divide: bool = False) -> np.ndarray:
        """What `te_quantize` computes, in numpy (same steps, same order; `divide`: rv32gc's path)."""
        k = np.asarray(keys, np.int64)
        if divide:
            inside = (k >= self.lo) & (k < self.hi)
            ratio = floats_of(np.where(inside, k, 0)) / self.thresholds[:1].view(np.float32)[0]
            whole = np.trunc(ratio).astype(np.int64)  # the C cast: defined inside [lo, hi)
            frac = ratio - whole.astype(np.float32)
            value = np.clip(whole + (frac >= 0.5) - (frac <= -0.5) + self.zero_point, self.qmin, self.qmax)
        else:
            idx = np.zeros(k.shape, np.int64)
            for step in (128, 64, 32, 16, 8, 4, 2, 1):
                idx += np.where(k >= self.thresholds[idx + step], step, 0)
            value = self.qmin + idx
        return np.where((k < self.lo) | (k >= self.hi), self.outside, value)


def te_quantize(x: te.Tensor, thresholds: te.Tensor, table: QuantizeTable, shift: int, dtype: str) -> te.Tensor:
    """Per element: key, 8 halvings of the index range, then `outside` beyond [lo, hi).
    `shift` maps the result into the graph's dtype (−128: a uint8 tensor normalized to int8).
    One stage per step: the schedule keeps each value read twice in a register (schedule.py)."""
    i32 = "int32"

    def key_of(*i):
        bits = tirx.call_extern(i32, "mlml_f32_bits", x[i])  # kernels.h
        return bits ^ ((bits >> 31) & tirx.const(0x7FFFFFFF, i32))

    def halving(prev, step: int):
        def halve(*i):
            at = tirx.const(step, i32) if prev is None else prev[i] + tirx.const(step, i32)
            probe = thresholds[at & tirx.const(255, i32)]  # in range; the mask lets TIR use int32 addresses
            found = tirx.Select(key[i] >= probe, tirx.const(step, i32), tirx.const(0, i32))
            return found if prev is None else prev[i] + found
        return halve

    key = te.compute(x.shape, key_of, name="key")
    idx = None
    for step in (128, 64, 32, 16, 8, 4, 2, 1):
        idx = te.compute(x.shape, halving(idx, step), name=f"idx{step}")

    def divided(*i):  # the float formula, for keys inside [lo, hi) only
        f32 = "float32"
        ratio = x[i] / tirx.call_extern(f32, "mlml_bits_f32", thresholds[0])
        whole = ratio.astype(i32)
        frac = ratio - whole.astype(f32)
        half = tirx.const(0.5, f32)
        rounded = (whole + tirx.Select(frac >= half, tirx.const(1, i32), tirx.const(0, i32))
                   - tirx.Select(frac <= -half, tirx.const(1, i32), tirx.const(0, i32)) + tirx.const(table.zero_point, i32))
        return tirx.max(tirx.min(rounded, tirx.const(table.qmax, i32)), tirx.const(table.qmin, i32))

    def result(*i):
        outside = tirx.Or(key[i] < tirx.const(table.lo, i32), key[i] >= tirx.const(table.hi, i32))
        inside = tirx.Select(tirx.call_extern(i32, "MLML_HARD_FLOAT") != tirx.const(0, i32), divided(*i),
                             idx[i] + tirx.const(table.qmin, i32))
        value = tirx.Select(outside, tirx.const(table.outside, i32), inside) + tirx.const(shift, i32)
        return value.astype(dtype)

    return te.compute(x.shape, result, name="quantize")
