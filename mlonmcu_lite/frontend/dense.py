"""FULLY_CONNECTED → matmul(x int8, W int8 [K, N], out_dtype=int32) + bias → requantize.

The rescale matches ai-edge-litert 2.3's reference kernel, which rounds once
(`Rounding.SINGLE`); TFLite-Micro's FC rounds twice and would differ by one LSB at ties.
The input zero point is folded into the bias like for conv; a uint8 model's weight zero
point subtracts w_zp·Σ_k x_k; 16x8 models accumulate in int64 where int32 could overflow.
"""

from __future__ import annotations

import numpy as np
from tvm import relax
from tvm.relax import op as R
from tvm.relax.dpl import is_const, is_op

from . import qparams
from .conv import accumulator_dtype, fold_bias, weight_zero_point
from .errors import FrontendError
from .fixedpoint import conv_multipliers, fc_multipliers
from .patterns import Rewrite, dequantize, quantize, with_activation
from .requant import Rounding, const, requantize

_x = dequantize()
_w_const = is_const()
_w_t = is_op("relax.permute_dims")(_w_const)
_w = dequantize(_w_t | _w_const)
_mm = is_op("relax.matmul")(_x.pattern, _w.pattern)
_b = dequantize(is_const(), const_params=False)
_out = quantize(is_op("relax.add")(_mm, _b.pattern) | _mm)


def _weights_kn(m: dict) -> np.ndarray:
    """The weight constant as matmul's [K, N] operand."""
    w = qparams.value(m[_w_const])
    if _w_t in m:
        axes = m[_w_t].attrs.axes
        w = w.transpose([int(a) for a in axes]) if axes is not None else w.T
    return np.ascontiguousarray(w)


def _build(m: dict, act_range: tuple[int, int]) -> relax.Expr:
    x = m[_x.data]
    if len(qparams.shape_of(x)) != 2:
        raise FrontendError(f"FULLY_CONNECTED on a {len(qparams.shape_of(x))}-D input (needs 2-D)")
    x_dtype, out_dtype = _x.dtype(m), _out.dtype(m)
    x_scale, x_zp = _x.scale_zp(m)
    out_scale, out_zp = _out.scale_zp(m)
    w = _weights_kn(m)
    w_scales = qparams.floats(m[_w.scale])
    w_zp = weight_zero_point(qparams.value(m[_w.zero_point]))
    depth, units = w.shape
    bias = qparams.value(m[_b.data]).reshape(-1) if _b.pattern in m else np.zeros(units, np.int32)
    w_ohwi = w.T[:, None, None, :]
    acc_dtype = accumulator_dtype(x_dtype, w_ohwi, bias)
    folded = fold_bias(bias, w_ohwi, x_zp, acc_dtype) + np.asarray(w_zp * x_zp * depth, acc_dtype)
    acc = R.add(R.matmul(x, relax.const(w, "int8"), out_dtype=acc_dtype), const(folded, acc_dtype))
    if w_zp:
        row_sum = R.sum(R.astype(x, acc_dtype), axis=[-1], keepdims=True)
        acc = R.subtract(acc, R.multiply(row_sum, const(w_zp, acc_dtype)))
    # per-channel weights (TF >= 2.15's default for Dense): PopulateConvolutionQuantizationParams
    mult = fc_multipliers(x_scale, w_scales[0], out_scale) if len(w_scales) == 1 else \
        conv_multipliers(x_scale, w_scales, out_scale)
    # ai-edge-litert's FC rounds once for int16 (int64 accumulator) as for int8 (measured).
    return requantize(acc, mult, out_zp, act_range, Rounding.SINGLE, out_dtype)


REWRITES: list[Rewrite] = with_activation("fully_connected", _out, _build)
