"""Comparisons, logic, SELECT, CAST, SHAPE, EMBEDDING_LOOKUP: the structure ops of quantized graphs.

TFLite's kernels of these ops read raw integers and write bool / int32 / the input's values:

* EQUAL / NOT_EQUAL / LESS / LESS_EQUAL / GREATER / GREATER_EQUAL (comparisons.cc): int8 (and
  uint8, normalized to int8) inputs, and int16 ones of EQUAL / NOT_EQUAL (ai-edge-litert 2.3,
  measured), are compared after ComparisonWithScaling — each input
  centred, shifted left by 8 and multiplied by its own scale as a quantized multiplier
  (MultiplyByQuantizedMultiplierSmallerThanOneExp, double rounding), so two inputs of different
  quantization compare in one domain (and values closer than the rounding compare equal, as
  there).  The other int16 and the int32 / int64 / bool inputs compare raw.  TVM 0.27 dequantizes
  to float.
* CUMSUM (int32 / int64: the reference has no 8-bit kernel): floatops.py's prefix-sum kernel.
* FLOOR_DIV / FLOOR_MOD: int32 as TVM's; 8/16-bit ones on the raw integers (the reference ignores
  their quantization), TVM 0.27 dequantizes.
* SELECT / SELECT_V2, CAST, LOGICAL_*: raw values (no rescale), TVM's converters, admitted when
  quantized.  The converter's mask idiom CAST(bool -> float32) -> QUANTIZE becomes a select of the
  two quantized values (tflite_info admits that float32 tensor as an inner boundary).  SHAPE: a constant (shapes are static).
* EMBEDDING_LOOKUP: `take(value, ids)`; TVM 0.27 reads its two inputs the wrong way round
  (TFLite's input 0 is the ids, input 1 the table).
"""

from __future__ import annotations

import functools

import numpy as np
from tvm import relax
from tvm.relax import op as R

from .errors import FrontendError
from .elementwise import lookup
from .fixedpoint import (Multipliers, dtype_range, multiply_by_quantized_multiplier, quantize_multiplier,
                         round_half_away)
from .qparams import tensor_scale_zp
from .requant import Rounding, const, rescale

COMPARISONS = {"EQUAL": R.equal, "NOT_EQUAL": R.not_equal, "LESS": R.less, "LESS_EQUAL": R.less_equal,
               "GREATER": R.greater, "GREATER_EQUAL": R.greater_equal}
# Quantized ops TVM's importer refuses that these converters (or TVM's own, on raw values) take.
LOGIC_QUANTIZED_OPS = frozenset({"SELECT", "SELECT_V2", "CAST", "SHAPE", "EMBEDDING_LOOKUP", "ZEROS_LIKE", "FILL"})
COMPARISON_LEFT_SHIFT = 8


def comparison_table(scale: float, zero_point: int) -> np.ndarray:
    """ComparisonWithScaling's value of every int8 input (index x + 128), in TFLite's integer arithmetic."""
    multiplier, shift = quantize_multiplier(scale)
    return np.array([multiply_by_quantized_multiplier((x - zero_point) << COMPARISON_LEFT_SHIFT, multiplier, shift)
                     for x in range(-128, 128)], np.int32)


def scaled_for_comparison(x: relax.Expr, scale: float, zero_point: int, dtype: str = "int8") -> relax.Expr:
    """ComparisonWithScaling's per-input value: ((x − zp) << 8) times the scale's multiplier: an int8
    input looks it up in a 256-entry int32 table (one load), an int16 one computes it (int64)."""
    if scale >= 1.0:  # QuantizeMultiplierGreaterThanOne: the reference shifts by a negative exponent
        raise FrontendError(f"an 8-bit comparison input with scale {scale} >= 1 (TFLite's kernel is undefined there)")
    if dtype == "int8":
        return lookup(x, comparison_table(scale, zero_point), "int32")
    centred = R.subtract(R.astype(x, "int64"), const(zero_point, "int64"))
    shifted = R.multiply(centred, const(1 << COMPARISON_LEFT_SHIFT, "int64"))
    return rescale(shifted, Multipliers.of([scale]), Rounding.DOUBLE)


def affine_quantize(value: float, scale: float, zero_point: int, dtype: str) -> int:
    """TFLite's QUANTIZE of one float32 value: round(value / scale) (float32, ties away) + zp, clamped."""
    lo, hi = dtype_range(dtype)
    return int(min(hi, max(lo, round_half_away(float(np.float32(value) / np.float32(scale))) + zero_point)))


class LogicConverters:
    """Mixin of `converter.Converter`: the ops above (TVM's converters for float and plain ints)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, compare in COMPARISONS.items():
            self.convert_map[name] = functools.partial(self._convert_comparison, compare=compare)
        for name, relax_op in (("FLOOR_DIV", R.floor_divide), ("FLOOR_MOD", R.floor_mod)):
            self.convert_map[name] = functools.partial(self._convert_raw_binary, relax_op=relax_op,
                                                       fallback=self.convert_map[name])
        self.convert_map["EMBEDDING_LOOKUP"] = self._convert_embedding_lookup
        self.convert_map["SHAPE"] = self._convert_static_shape

    def _convert_comparison(self, op, compare):
        a, b = self.get_input_tensors(op)
        x, y = self.get_tensor_expr(a), self.get_tensor_expr(b)
        dtype = self.get_tensor_type_str(a.tensor.Type())
        rescaled = dtype in ("int8", "uint8") or (dtype == "int16" and compare in (R.equal, R.not_equal))
        if rescaled and a.qnn_params is not None and b.qnn_params is not None:
            x = scaled_for_comparison(x, *tensor_scale_zp(a), "int8" if dtype != "int16" else dtype)
            y = scaled_for_comparison(y, *tensor_scale_zp(b), "int8" if dtype != "int16" else dtype)
        elif dtype == "float32" or (a.qnn_params is not None and dtype not in ("int16", "int32", "int64")):
            return self._convert_elemwise(op, compare, comparison_op=True)
        return compare(x, y)  # int16 (raw, as TFLite's kernel), int32 / int64 / bool

    def convert_cast(self, op):
        """A bool -> float32 CAST (the converter's mask idiom, read by a QUANTIZE) is remembered: the
        QUANTIZE selects between its two quantized values; the float CAST is then dead."""
        (x,) = self.get_input_tensors(op)
        (out,) = self.get_output_tensors(op)
        result = super().convert_cast(op)
        if self.get_tensor_type_str(x.tensor.Type()) == "bool" and self.get_tensor_type_str(out.tensor.Type()) == "float32":
            self._bool_casts = {**getattr(self, "_bool_casts", {}), out.tensor_idx: self.get_tensor_expr(x)}
        return result

    def convert_quantize(self, op):
        (x,) = self.get_input_tensors(op)
        mask = getattr(self, "_bool_casts", {}).get(x.tensor_idx)
        if mask is None:
            return super().convert_quantize(op)
        (out,) = self.get_output_tensors(op)
        dtype = self.get_tensor_type_str(out.tensor.Type())
        scale, zero_point = tensor_scale_zp(out)
        one, zero = (affine_quantize(v, scale, zero_point, dtype) for v in (1.0, 0.0))
        return R.where(mask, const(one, dtype), const(zero, dtype))

    def _convert_raw_binary(self, op, relax_op, fallback):
        """FLOOR_DIV / FLOOR_MOD of 8/16-bit tensors: the reference divides the raw integers (its
        quantization ignored, measured on ai-edge-litert 2.3); TVM would dequantize."""
        a, b = self.get_input_tensors(op)
        if a.qnn_params is None:
            return fallback(op)
        return relax_op(self.get_tensor_expr(a), self.get_tensor_expr(b))

    def _convert_embedding_lookup(self, op):
        ids, table = self.get_input_tensors(op)
        return relax.op.take(self.get_tensor_expr(table), self.get_tensor_expr(ids), axis=0)

    def _convert_static_shape(self, op):
        from tflite.ShapeOptions import ShapeOptions

        (x,) = self.get_input_tensors(op)
        options = ShapeOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        dtype = "int64" if self.get_tensor_type_str(options.OutType()) == "int64" else "int32"
        return relax.const(np.array([int(d) for d in self.get_tensor_shape(x)], dtype), dtype)


# Input types ai-edge-litert's reference kernels take in a quantized graph (none 8/16-bit: no golden output).
REFERENCE_DTYPES = {"CUMSUM": ("int32", "int64"), "ZEROS_LIKE": ("int32", "int64")}


def reference_dtypes(op, info) -> str | None:
    """support check: an input type the reference kernel has no kernel for."""
    dtype = info.tensors[op.inputs[0]].dtype
    allowed = REFERENCE_DTYPES[op.op]
    return None if dtype in allowed else f"{dtype} input (TFLite's reference {op.op} has {'/'.join(allowed)} only)"


def cast_input(op, info) -> str | None:
    """support check: a uint8 CAST would read the int8-normalized value (uint8 − 128, normalize.py)."""
    dtype = info.tensors[op.inputs[0]].dtype
    return f"{dtype} input (uint8 is computed as int8 − 128 here; CAST is not shift-invariant)" \
        if dtype == "uint8" else None
