"""Quantized math ops imported straight as TFLite's integer kernels (no QDQ float detour).

TVM 0.27 imports these as float ops between dequantize/quantize (or refuses them); the
reference kernels compute in integers, so each is emitted here as that integer algorithm:

* ABS, NEG, RSQRT (int8): one input byte -> one output byte, so the kernel's arithmetic is
  run at compile time for all 256 inputs (`intops` on numpy) and the target does one table
  lookup.  int16 ABS runs the same arithmetic per element.  (elementwise.cc, neg.cc)
* L2_NORMALIZATION (int8): per row Σ(x−zp)², GetInvSqrtQuantizedMultiplierExp of it at run
  time, then one rescale per element (reference_integer_ops::L2Normalization).
* LOG_SOFTMAX (int8): exp of each difference to the row maximum from a 256-entry table, the
  row's sum through gemmlowp's fixed-point log at run time (reference_ops::LogSoftmaxQuantized).
* DIV (int8): per element GetReciprocal of the divisor, CountLeadingSignBits of the dividend
  and two rescales (reference_ops::DivElementwise).
* ELU (int8): EluPrepare's LUTPopulate table of x < 0 ? expm1f(x) : x (tables.lut_populate);
  ai-edge-litert has no reference ELU, so its golden comes from the builtin kernel (as SUM).
* SUM (int8): ai-edge-litert 2.3's reference SUM reads int8 data as uint8, so its golden comes
  from the builtin kernel (zoo/reference.py says so in the run's validation detail), whose
  QuantizedMeanOrSum computes round(Σq·(s_in/s_out) − zp_in·(s_in/s_out)·n) in float32.  That
  is a monotone step function of the integer sum Σq, tabulated at compile time as the sums at
  which the output steps up: the target binary-searches them (8 probes), no float.
  int16 SUM (the builtin kernel; the reference one returns garbage) adds the raw values,
  saturating, and requires the input's quantization on the output (support.py).

uint8 models arrive as int8 (normalize.py); `support.VERIFIED_OPS` lists which of their
variants are checked.  Every formula reads its float parameters as TFLite does (float32
products and quotients where the kernel computes in float).
"""

from __future__ import annotations

import functools

import numpy as np
from tvm import relax
from tvm.ir.expr import GenericConst
from tvm.relax import op as R

from . import intops as fx
from .elementwise import lookup
from .errors import FrontendError
from .fixedpoint import activation_range, dtype_range, f32, multiply_by_quantized_multiplier, quantize_multiplier
from .fixedpoint import softmax_table
from .tables import libm_float, lut_populate
from . import qparams
from .qparams import tensor_scale_zp
from .requant import const

QMATH_OPS = frozenset({"ABS", "NEG", "RSQRT", "L2_NORMALIZATION", "LOG_SOFTMAX", "DIV", "SUM", "ELU"})
INT8_CODES = np.arange(-128, 128, dtype=np.int64)


def _clamp(o: fx.Ops, x, lo: int, hi: int):
    return o.minimum(o.maximum(x, lo), hi)


def abs_values(o: fx.Ops, q, in_q: tuple[float, int], out_q: tuple[float, int], dtype: str):
    """AbsEvalQuantized: |q − zp_in|, rescaled by s_in/s_out (float32) when the scales differ."""
    value = o.maximum(o.sub(q, in_q[1]), o.sub(in_q[1], q))
    if in_q[0] != out_q[0]:
        value = fx.multiply_by_quantized_multiplier(o, value, *quantize_multiplier(f32(f32(in_q[0]) / f32(out_q[0]))))
    return _clamp(o, o.add(value, out_q[1]), *dtype_range(dtype))


def rsqrt_values(o: fx.Ops, q, in_q: tuple[float, int], out_q: tuple[float, int]):
    """RsqrtEvalQuantizedInt8: 1/sqrt(q − zp_in) through GetInvSqrtQuantizedMultiplierExp, 127 at 0.

    The reference refuses inputs below the zero point; here they give 127, as the zero point does.
    """
    mult, shift = quantize_multiplier(1.0 / float(np.float32(np.sqrt(np.float32(in_q[0])) * np.float32(out_q[0]))))
    value = o.sub(q, in_q[1])
    inv, inv_shift = fx.inv_sqrt_multiplier_exp(o, value, 255)
    data = fx.multiply_by_quantized_multiplier(o, o.c(1), inv, o.add(inv_shift, 20))
    out = o.add(fx.multiply_by_quantized_multiplier(o, data, mult, shift - 20), out_q[1])
    return o.where(o.lt(0, value), _clamp(o, out, -128, 127), 127)


def l2_normalization(x: relax.Expr, zp: int, depth: int) -> relax.Expr:
    """reference_integer_ops::L2Normalization over the last axis (output 1/128, zero point 0)."""
    o = fx.RELAX
    centred = R.subtract(R.astype(x, "int64"), const(zp, "int64"))
    acc = R.sum(R.multiply(centred, centred), axis=-1, keepdims=True)
    inv, shift = fx.inv_sqrt_multiplier_exp(o, acc, depth * 255 * 255)
    out = fx.multiply_by_quantized_multiplier(o, centred, inv, o.add(shift, 7))
    return R.astype(R.clip(out, -128, 127), "int8")


def log_softmax(x: relax.Expr, input_scale: float) -> relax.Expr:
    """reference_ops::LogSoftmaxQuantized (int8, output 16/256 with zero point 127), last axis."""
    o = fx.RELAX
    table = softmax_table(input_scale)  # the same PreprocessSoftmaxScaling and exp as SOFTMAX
    mult, left_shift = quantize_multiplier(min(input_scale * (1 << (31 - 5)), float((1 << 31) - 1)))
    diff_min = -int(np.floor(((1 << 5) - 1) * (1 << (31 - 5)) / (1 << left_shift)))
    reverse_mult, reverse_shift = quantize_multiplier((1 << (31 - left_shift)) / mult)
    diff_q5 = np.array([multiply_by_quantized_multiplier(-d, mult, left_shift) for d in range(256)], np.int64)
    diff = R.subtract(R.astype(R.max(x, axis=-1, keepdims=True), "int32"), R.astype(x, "int32"))  # max − x ≥ 0
    total = R.sum(R.astype(R.take(const(table.exp_q12, "int32"), diff, axis=0), "int64"), axis=-1, keepdims=True)
    log_sum = fx.log_x_ge_1(o, total, input_bits=12, output_bits=5)
    floor = fx.multiply_by_quantized_multiplier(o, o.add(log_sum, fx.INT32_MIN), reverse_mult, reverse_shift)
    adjusted_diff_min = o.maximum(floor, diff_min - 1)
    value = fx.rounding_divide_by_pot(o, fx.wrap32(o, o.sub(R.take(const(diff_q5, "int64"), diff, axis=0), log_sum)),
                                     31 - 5 - 4)
    out = R.clip(o.add(value, 127), -128, 127)
    keep = o.lt(adjusted_diff_min, o.sub(0, R.astype(diff, "int64")))  # input_diff > adjusted_diff_min
    return R.astype(R.where(keep, out, const(-128, "int64")), "int8")


def divide(a: relax.Expr, b: relax.Expr, a_q: tuple[float, int], b_q: tuple[float, int],
           out_q: tuple[float, int], act_range: tuple[int, int]) -> relax.Expr:
    """reference_ops::DivElementwise (broadcasting as Relax does), including what its compiled
    form computes where TFLite only DCHECKs (total shifts of 32 and more: a small dividend).
    The reference refuses a divisor at its zero point; here it gives what GetReciprocal(0) does."""
    o = fx.RELAX
    mult, shift = quantize_multiplier(f32(f32(a_q[0]) / f32(f32(b_q[0]) * f32(out_q[0]))))
    num = R.subtract(R.astype(a, "int64"), const(a_q[1], "int64"))
    if isinstance(b, GenericConst):  # x / c: the divisor's sign and reciprocal at compile time
        den = qparams.value(b).astype(np.int64) - b_q[1]
        num = R.multiply(num, const(np.where(den < 0, -1, 1), "int64"))
        inv, recip_shift = (const(v, "int64") for v in fx.reciprocal(fx.NUMPY, np.abs(den), 31))
    else:  # |divisor| ≤ 255: its reciprocal from two 256-entry tables
        den = R.subtract(R.astype(b, "int64"), const(b_q[1], "int64"))
        negative = o.lt(den, 0)
        num = o.where(negative, o.sub(0, num), num)
        index = R.astype(o.where(negative, o.sub(0, den), den), "int32")
        inv, recip_shift = (R.take(const(v, "int64"), index, axis=0)
                            for v in fx.reciprocal(fx.NUMPY, np.arange(256, dtype=np.int64), 31))
    # |dividend| ≤ 255: its CountLeadingSignBits from a 511-entry table
    clsb = fx.count_leading_sign_bits(fx.NUMPY, np.arange(-255, 256, dtype=np.int64))
    headroom = R.take(const(clsb, "int64"), R.astype(R.add(num, const(255, "int64")), "int32"), axis=0)
    unscaled = fx.srdhm(o, fx.wrap32(o, o.shl(num, headroom)), inv)
    total_shift = o.sub(o.sub(shift, recip_shift), headroom)
    value = fx.rounding_divide_by_pot_unchecked(o, fx.srdhm(o, unscaled, mult), o.maximum(o.sub(0, total_shift), 0))
    return R.astype(R.clip(o.add(value, out_q[1]), *act_range), "int8")


def sum_steps(n: int, in_q: tuple[float, int], out_q: tuple[float, int]) -> tuple[int, np.ndarray]:
    """optimized_ops::QuantizedMeanOrSum (compute_sum) for every integer sum of n int8 values, as
    (output at the smallest sum, the sums at which the output steps up by one, repeated per step)."""
    total = np.arange(-128 * n, 127 * n + 1, dtype=np.int64)
    scale = np.float32(np.float32(in_q[0]) / np.float32(out_q[0]))
    bias = np.float32(np.float32(np.float32(-in_q[1]) * scale) * np.float32(n))
    value = (total.astype(np.float32) * scale + bias).astype(np.float64)  # float32 products and sum
    rounded = np.where(value >= 0, np.floor(value + 0.5), -np.floor(-value + 0.5))  # TfLiteRound, exact
    out = np.clip(rounded.astype(np.int64) + out_q[1], -128, 127)
    steps = np.diff(out)
    if (steps < 0).any():
        raise FrontendError("SUM: output not monotone in the input sum (negative scale)")
    return int(out[0]), np.repeat(total[1:], steps)


def reduce_sum(x: relax.Expr, axes: list[int], keep_dims: bool, n: int, in_q: tuple[float, int],
               out_q: tuple[float, int]) -> relax.Expr:
    """The int8 SUM `sum_steps` tabulates: first output plus the number of steps at or below the sum
    (at most 255 steps: the output spans int8)."""
    base, steps = sum_steps(n, in_q, out_q)
    total = R.sum(R.astype(x, "int32"), axis=axes, keepdims=keep_dims)
    if steps.size == 0:
        return R.astype(R.full_like(total, const(base, "int32")), "int8")
    # count of steps ≤ total by binary search (8 probes of the sorted steps, padded to 256)
    padded = const(np.concatenate([steps, np.full(256 - steps.size, np.iinfo(np.int32).max)]).astype(np.int32), "int32")
    count = R.full_like(total, const(0, "int32"))
    for bit in (128, 64, 32, 16, 8, 4, 2, 1):
        probe = R.add(count, const(bit, "int32"))
        below = R.less_equal(R.take(padded, R.subtract(probe, const(1, "int32")), axis=0), total)
        count = R.where(below, probe, count)
    return R.astype(R.add(count, const(base, "int32")), "int8")


class QMathConverters:
    """Mixin of `converter.Converter`: the quantized ops above (TVM's converters for float)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in QMATH_OPS:
            self.convert_map[name] = functools.partial(self._convert_qmath, name=name,
                                                       fallback=self.convert_map[name])

    def _convert_qmath(self, op, name: str, fallback):
        inputs, (out,) = self.get_input_tensors(op), self.get_output_tensors(op)
        if inputs[0].qnn_params is None:
            return fallback(op=op)  # TVM calls converters with op= (its reduce partials take relax_op first)
        x = self.get_tensor_expr(inputs[0])
        in_q, out_q = tensor_scale_zp(inputs[0]), tensor_scale_zp(out)
        dtype = self.get_tensor_type_str(out.tensor.Type())
        if name == "DIV":
            act = self._fused_activation(op)
            return divide(x, self.get_tensor_expr(inputs[1]), in_q, tensor_scale_zp(inputs[1]), out_q,
                          activation_range(act, *out_q))
        if name == "SUM" and dtype == "int16":  # the builtin kernel: the raw sum, saturated (support: same quantization)
            axes = self._axes(inputs[1], len(self.get_tensor_shape(inputs[0])))
            total = R.sum(R.astype(x, "int32"), axis=axes, keepdims=self._keep_dims(op))
            return R.astype(R.clip(total, -32768, 32767), "int16")
        if name == "ABS" and dtype == "int16":
            return R.astype(abs_values(fx.RELAX, R.astype(x, "int64"), in_q, out_q, dtype), dtype)
        if dtype != "int8":
            raise FrontendError(f"{name} on {dtype} tensors (int8 only)")
        if name == "ABS":
            return lookup(x, abs_values(fx.NUMPY, INT8_CODES, in_q, out_q, dtype).astype(np.int8))
        if name == "NEG":  # reference_ops::Negate on the raw int8 values (−(−128) wraps to −128)
            return lookup(x, ((-INT8_CODES + 128) % 256 - 128).astype(np.int8))
        if name == "ELU":
            expm1f = libm_float("expm1f")
            table = lut_populate(lambda v: np.float32(expm1f(float(v))) if v < 0 else v, *in_q, *out_q)
            return lookup(x, table)
        if name == "RSQRT":
            return lookup(x, rsqrt_values(fx.NUMPY, INT8_CODES, in_q, out_q).astype(np.int8))
        shape = [int(d) for d in self.get_tensor_shape(inputs[0])]
        if name == "SUM":
            axes = self._axes(inputs[1], len(shape))
            return reduce_sum(x, axes, self._keep_dims(op), int(np.prod([shape[a] for a in axes])), in_q, out_q)
        depth = shape[-1]
        if name == "L2_NORMALIZATION":
            if out_q != (1.0 / 128.0, 0):
                raise FrontendError(f"int8 L2_NORMALIZATION output quantization {out_q} is not (1/128, 0)")
            return l2_normalization(x, in_q[1], depth)
        if out_q != (16.0 / 256.0, 127):
            raise FrontendError(f"int8 LOG_SOFTMAX output quantization {out_q} is not (16/256, 127)")
        return log_softmax(x, in_q[0])

    def _axes(self, axis_tensor, rank: int) -> list[int]:
        return sorted({int(a) % rank for a in np.asarray(self.get_tensor_value(axis_tensor)).reshape(-1)})

    def _keep_dims(self, op) -> bool:
        from tflite.ReducerOptions import ReducerOptions

        if not op.BuiltinOptionsType():
            return False
        options = ReducerOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        return bool(options.KeepDims())

    def _fused_activation(self, op) -> str:
        from tflite.DivOptions import DivOptions

        options = DivOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        return {0: "NONE", 1: "RELU", 3: "RELU6"}.get(options.FusedActivationFunction(), "UNSUPPORTED")
