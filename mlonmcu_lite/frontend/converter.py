"""TVM's TFLite OperatorConverter, extended where it refuses a quantized op the reference runs.

`from_tflite(..., op_converter=QDQConverter)`: every op added here is imported in the same
QDQ form as the ops TVM handles (`quantize(float op(dequantize(x), ...))`), so that the op
family's integer rewrite matches it like any other.

* PRELU: TVM 0.27 rejects a quantized PRELU ("require explicit QDQ lowering"); its float
  form is where(x ≥ 0, x, x·alpha) on the dequantized input and alpha.
"""

from __future__ import annotations

from tvm import relax
from tvm.relax.frontend.tflite.tflite_frontend import OperatorConverter


class QDQConverter(OperatorConverter):
    _SUPPORTED_QUANTIZED_OPS = OperatorConverter._SUPPORTED_QUANTIZED_OPS | frozenset({"PRELU"})

    def convert_prelu(self, op):
        x, alpha = self.get_input_tensors(op)
        (out,) = self.get_output_tensors(op)
        if x.qnn_params is None:
            return super().convert_prelu(op)
        xf = self.dequantize(self.get_tensor_expr(x), x)
        af = self.dequantize(self.get_tensor_expr(alpha), alpha)
        zero = relax.const(0.0, "float32")
        return self.quantize(relax.op.where(relax.op.greater_equal(xf, zero), xf, relax.op.multiply(xf, af)), out)
