"""TVM's TFLite OperatorConverter, extended where it refuses a quantized op the reference runs.

`from_tflite(..., op_converter=QDQConverter)`: every op added here is imported in the same
QDQ form as the ops TVM handles (`quantize(float op(dequantize(x), ...))`), so that the op
family's integer rewrite matches it like any other.

* PRELU: TVM 0.27 rejects a quantized PRELU ("require explicit QDQ lowering"); its float
  form is where(x ≥ 0, x, x·alpha) on the dequantized input and alpha.
* SVDF: refused when quantized, and without a QDQ form (int16 state and time weights), so
  it is imported directly as integer Relax (`svdf.integer_svdf`).
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax
from tvm.relax.frontend.tflite.tflite_frontend import OperatorConverter

from .svdf import SVDFParams, integer_svdf


def _scale_zp(tensor) -> tuple[float, int]:
    """Per-tensor (scale, zero point) straight from the flatbuffer (float32 scale)."""
    q = tensor.tensor.Quantization()
    zps = q.ZeroPointAsNumpy()
    return float(q.ScaleAsNumpy()[0]), int(zps[0]) if isinstance(zps, np.ndarray) and zps.size else 0


class QDQConverter(OperatorConverter):
    _SUPPORTED_QUANTIZED_OPS = OperatorConverter._SUPPORTED_QUANTIZED_OPS | frozenset({"PRELU", "SVDF"})

    def convert_prelu(self, op):
        x, alpha = self.get_input_tensors(op)
        (out,) = self.get_output_tensors(op)
        if x.qnn_params is None:
            return super().convert_prelu(op)
        xf = self.dequantize(self.get_tensor_expr(x), x)
        af = self.dequantize(self.get_tensor_expr(alpha), alpha)
        zero = relax.const(0.0, "float32")
        return self.quantize(relax.op.where(relax.op.greater_equal(xf, zero), xf, relax.op.multiply(xf, af)), out)

    def convert_svdf(self, op):
        if not self.is_quantized(op):
            return super().convert_svdf(op)
        from tflite.SVDFOptions import SVDFOptions
        from tflite.TensorType import TensorType

        x, wf, wt, bias, state = self.get_input_tensors(op)
        if x.tensor.Type() != TensorType.INT8:
            raise tvm.error.OpNotImplemented("quantized SVDF with a non-int8 input")
        (out,) = self.get_output_tensors(op)
        options = SVDFOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        weights_feature = self.get_tensor_value(wf)
        units = weights_feature.shape[0] // options.Rank()
        params = SVDFParams(
            weights_feature=weights_feature, weights_time=self.get_tensor_value(wt),
            bias=self.get_tensor_value(bias) if bias.tensor_idx != -1 else np.zeros(units, np.int32),
            rank=options.Rank(), input_scale=_scale_zp(x)[0], input_zero_point=_scale_zp(x)[1],
            feature_scale=_scale_zp(wf)[0], time_scale=_scale_zp(wt)[0], state_scale=_scale_zp(state)[0],
            output_scale=_scale_zp(out)[0], output_zero_point=_scale_zp(out)[1])
        batch = int(self.get_tensor_shape(x)[0])
        return integer_svdf(self.get_expr(x.tensor_idx), batch, params)
