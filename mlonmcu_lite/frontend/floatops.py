"""Float-only ops TVM 0.27's TFLite importer gets wrong or leaves unlowerable (floatops).

* CUMSUM: TVM imports `relax.cumsum`, which LegalizeOps leaves as a packed call (no C).  Here
  it is one TE kernel: each output sums the inputs up to its position in order (a sequential
  prefix sum, as TFLite's reference loop adds them), out-of-range terms masked to 0.
* FILL: TVM's converter looks the value up as a computed tensor and fails on a constant one.

Quantized models never reach these converters with these ops (tflite_info.FLOAT_ONLY_OPS).
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax, te


def prefix_sum(x: te.Tensor, axis: int, exclusive: bool, reverse: bool) -> te.Tensor:
    """TFLite's CUMSUM as a TE compute (float32; O(n^2) over the axis, n is small on an MCU)."""
    n = int(x.shape[axis])
    k = te.reduce_axis((0, n), name="k")

    def body(*idx):
        i = idx[axis]
        keep = {(False, False): k <= i, (True, False): k < i, (False, True): k >= i, (True, True): k > i}
        src = [*idx[:axis], k, *idx[axis + 1:]]
        return te.sum(tvm.tirx.Select(keep[exclusive, reverse], x(*src), tvm.tirx.const(0, x.dtype)), axis=k)

    return te.compute(x.shape, body, name="cumsum")


class FloatOpConverters:
    """Mixin of `converter.Converter`: CUMSUM and FILL of float graphs."""

    def convert_cumsum(self, op):
        from tflite.CumsumOptions import CumsumOptions

        x, axis_tensor = self.get_input_tensors(op)
        if self.has_expr(axis_tensor.tensor_idx):
            raise tvm.error.OpNotImplemented("CUMSUM with a computed axis")
        rank = len(self.get_tensor_shape(x))
        axis = int(np.asarray(self.get_tensor_value(axis_tensor)).flat[0]) % rank
        opts = CumsumOptions()
        opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        return self.bb.emit_te(prefix_sum, self.get_tensor_expr(x), axis, bool(opts.Exclusive()),
                               bool(opts.Reverse()), primfunc_name_hint="cumsum")

    def convert_fill(self, op):
        dims, value = self.get_input_tensors(op)
        if self.has_expr(dims.tensor_idx):
            raise tvm.error.OpNotImplemented("FILL with computed dims")
        shape = [int(d) for d in np.asarray(self.get_tensor_value(dims)).ravel()]
        fill = self.get_tensor_expr(value)
        return relax.op.full(shape, relax.op.reshape(fill, ()) if len(self.get_tensor_shape(value)) else fill,
                             self.get_tensor_type_str(value.tensor.Type()))
