"""SVDF (int8 input, int16 time weights and state) → reference_ops::EvalIntegerSVDF, one step.

TVM 0.27 refuses a quantized SVDF, and its float SVDF has no QDQ form to rewrite, so
`converter.QDQConverter` builds the integer graph here directly:

    feature = clamp16(MBQM(Σ_i wf[f,i]·(x[i] − zp_x), s_x·s_wf/s_state))       (new state column)
    out     = clamp8(MBQM(Σ_r feature[u·rank+r]·wt[u·rank+r, M−1] + bias[u], s_state·s_wt/s_out) + zp_out)

Each inference starts from the initial (zero) state, as the reference does after
`reset_all_variables` and as each emulation on the VP does, so only the newest memory slot
is non-zero.  The firmware keeps no state between inferences (no streaming).  The int8
kernel ignores its (mandatory) fused RELU beyond the output clamp, and so does this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tvm import relax
from tvm.relax import op as R

from .fixedpoint import Multipliers, f32
from .requant import Rounding, const, rescale, to_int8


@dataclass(frozen=True)
class SVDFParams:
    """Constants and quantization of one int8 SVDF (scales as the file stores them: float32)."""

    weights_feature: np.ndarray  # int8 [filters, input]
    weights_time: np.ndarray  # int16 [filters, memory]
    bias: np.ndarray  # int32 [units]
    rank: int
    input_scale: float
    input_zero_point: int
    feature_scale: float
    time_scale: float
    state_scale: float
    output_scale: float
    output_zero_point: int


def integer_svdf(x: relax.Expr, batch: int, p: SVDFParams) -> relax.Expr:
    filters = p.weights_feature.shape[0]
    units = filters // p.rank
    wf = p.weights_feature.astype(np.int64)
    acc = R.matmul(x, relax.const(np.ascontiguousarray(p.weights_feature.T), "int8"), out_dtype="int32")
    acc = R.add(acc, const(-p.input_zero_point * wf.sum(axis=1), "int32"))
    scale_1 = Multipliers.of([f32(f32(f32(p.input_scale) * f32(p.feature_scale)) / f32(p.state_scale))])
    feature = R.clip(rescale(R.astype(acc, "int64"), scale_1, Rounding.DOUBLE), -(1 << 15), (1 << 15) - 1)
    time = R.multiply(feature, const(p.weights_time[:, -1], "int64"))
    total = R.add(R.sum(R.reshape(time, (batch, units, p.rank)), axis=-1), const(p.bias, "int64"))
    scale_2 = Multipliers.of([f32(f32(f32(p.state_scale) * f32(p.time_scale)) / f32(p.output_scale))])
    return to_int8(rescale(total, scale_2, Rounding.DOUBLE), p.output_zero_point, -128, 127)
