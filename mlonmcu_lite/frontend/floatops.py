"""Float-only ops TVM 0.27's TFLite importer gets wrong or leaves unlowerable (floatops).

* CUMSUM: TVM imports `relax.cumsum`, which LegalizeOps leaves as a packed call (no C).  Here
  it is one TE kernel: each output sums the inputs up to its position in order (a sequential
  prefix sum, as TFLite's reference loop adds them), out-of-range terms masked to 0.
* FILL: TVM's converter looks the value up as a computed tensor and fails on a constant one.
* SHAPE: of a static tensor, a constant (so a FILL / RESHAPE reading it stays static).
* SVDF: TVM's float SVDF filters the state *before* the new feature column enters it (TFLite's
  kernel shifts first), so from the zero state it returns the bias only.  Here, as the int8
  path (svdf.py): one step from the zero state, only the newest memory slot is non-zero.
* GELU: TVM ignores `approximate` (always the erf form); TFLite's approximate GELU is the tanh form.
* BATCH_MATMUL: TVM's converter fails on a constant operand and on adj_x; here both operands are
  expressions (constants inline), adj_x / adj_y transpose the last two axes, batch axes broadcast.
* TRANSPOSE_CONV: TVM 0.27 cannot legalize a float NHWC conv2d_transpose; it becomes a
  stride-1 conv over the input dilated by the stride and padded (k - 1 - pad before), with
  spatially flipped OHWI weights, as the int8 path does (transpose_conv.py).

Quantized models never reach these converters with these ops (tflite_info.FLOAT_ONLY_OPS).
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax, te
from tvm.ir.expr import GenericConst
from tvm.relax import op as R
from tvm.relax.frontend.tflite.tflite_frontend import get_tensor_name

from . import qparams
from .float_lstm import FloatLSTMConverter
from .transpose_conv import _dilate


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


def float_op(converter, op) -> bool:
    """An op of a float graph: its output carries no quantization.  (TVM's `is_quantized` reads the
    first input, which for TRANSPOSE_CONV is the int32 output shape.)"""
    return all(t.qnn_params is None for t in converter.get_output_tensors(op))


def _same_pad(size_in: int, size_out: int, kernel: int, stride: int, padding: int) -> int:
    """TFLite's leading pad of a TRANSPOSE_CONV (padding 0 = SAME, 1 = VALID)."""
    return max(0, (size_in - 1) * stride + kernel - size_out) // 2 if padding == 0 else 0


class FloatOpConverters(FloatLSTMConverter):
    """Mixin of `converter.Converter`: float CUMSUM, FILL, SVDF, TRANSPOSE_CONV (and LSTM, float_lstm.py)."""

    def convert_gelu(self, op):
        from tflite.GeluOptions import GeluOptions

        if not float_op(self, op):
            return super().convert_gelu(op)
        opts = GeluOptions()
        if op.BuiltinOptions() is not None:
            opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        if op.BuiltinOptions() is None or not opts.Approximate():
            return super().convert_gelu(op)
        x = self.get_tensor_expr(self.get_input_tensors(op)[0])

        def c(v: float) -> relax.Expr:
            return relax.const(np.float32(v))

        cube = R.multiply(R.multiply(R.multiply(x, x), x), c(0.044715))
        inner = R.multiply(R.add(x, cube), c(np.sqrt(2.0 / np.pi)))
        return R.multiply(R.multiply(x, c(0.5)), R.add(c(1.0), R.tanh(inner)))

    def convert_batch_matmul(self, op):
        from tflite.BatchMatMulOptions import BatchMatMulOptions

        if not float_op(self, op):
            return super().convert_batch_matmul(op)
        a, b = self.get_input_tensors(op)[:2]
        opts = BatchMatMulOptions()
        opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)

        def operand(t, adjoint: bool) -> relax.Expr:
            expr = self.get_tensor_expr(t)
            rank = len(self.get_tensor_shape(t))
            return R.permute_dims(expr, [*range(rank - 2), rank - 1, rank - 2]) if adjoint else expr

        return R.matmul(operand(a, opts.AdjX()), operand(b, opts.AdjY()))

    def convert_svdf(self, op):
        from tflite.SVDFOptions import SVDFOptions

        if not float_op(self, op):
            return super().convert_svdf(op)
        x, wf, wt, bias, _state = self.get_input_tensors(op)
        opts = SVDFOptions()
        opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        rank = opts.Rank()
        weights_feature = np.asarray(self.get_tensor_value(wf), np.float32)
        newest = np.asarray(self.get_tensor_value(wt), np.float32)[:, -1]
        filters = weights_feature.shape[0]
        batch = int(self.get_tensor_shape(x)[0])
        feature = R.matmul(self.get_tensor_expr(x), relax.const(np.ascontiguousarray(weights_feature.T)))
        time = R.multiply(feature, relax.const(newest))
        out = R.sum(R.reshape(time, (batch, filters // rank, rank)), axis=-1)
        if bias.tensor_idx != -1:
            out = R.add(out, self.get_tensor_expr(bias))
        return self.convert_fused_activation_function(out, opts.FusedActivationFunction())

    def convert_transpose_conv(self, op):
        from tflite.TransposeConvOptions import TransposeConvOptions

        if not float_op(self, op):
            return super().convert_transpose_conv(op)
        tensors = self.get_input_tensors(op)
        _shape, weights, x = tensors[:3]
        bias = tensors[3] if len(tensors) > 3 and tensors[3].tensor_idx != -1 else None
        opts = TransposeConvOptions()
        opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        ohwi = np.asarray(self.get_tensor_value(weights), np.float32)
        flipped = np.ascontiguousarray(ohwi[:, ::-1, ::-1, :])
        _, kh, kw, _ = ohwi.shape
        shape = tuple(int(d) for d in self.get_tensor_shape(x))
        (out,) = self.get_output_tensors(op)
        _, out_h, out_w, _ = (int(d) for d in self.get_tensor_shape(out))
        stride = (opts.StrideH(), opts.StrideW())
        top = kh - 1 - _same_pad(shape[1], out_h, kh, stride[0], opts.Padding())
        left = kw - 1 - _same_pad(shape[2], out_w, kw, stride[1], opts.Padding())
        bottom = out_h + kh - 1 - top - shape[1] * stride[0]
        right = out_w + kw - 1 - left - shape[2] * stride[1]
        if min(top, left) < 0:
            raise tvm.error.OpNotImplemented(f"TRANSPOSE_CONV padding beyond the kernel ({top}, {left})")
        data = _dilate(self.get_tensor_expr(x), shape, stride, 0)
        data = R.nn.pad(data, [0, 0, top, max(bottom, 0), left, max(right, 0), 0, 0], pad_value=0.0)
        if min(bottom, right) < 0:  # output smaller than the dilated input covers: crop
            data = R.strided_slice(data, axes=[1, 2], begin=[0, 0], end=[out_h + kh - 1, out_w + kw - 1])
        result = R.nn.conv2d(data, relax.const(flipped), strides=[1, 1], padding=0, data_layout="NHWC",
                             kernel_layout="OHWI", out_dtype="float32")
        if bias is not None:
            result = R.add(result, self.get_tensor_expr(bias))
        return self.convert_fused_activation_function(result, opts.FusedActivationFunction())

    def convert_cumsum(self, op):
        from tflite.CumsumOptions import CumsumOptions

        x, axis_tensor = self.get_input_tensors(op)
        rank = len(self.get_tensor_shape(x))
        axis = int(self._static(axis_tensor).flat[0]) % rank
        opts = CumsumOptions()
        opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        return self.bb.emit_te(prefix_sum, self.get_tensor_expr(x), axis, bool(opts.Exclusive()),
                               bool(opts.Reverse()), primfunc_name_hint="cumsum")

    def _static(self, tensor) -> np.ndarray:
        """A constant tensor's value: from the file, or a constant expression (e.g. SHAPE's)."""
        if not self.has_expr(tensor.tensor_idx):
            return np.asarray(self.get_tensor_value(tensor))
        expr = self.get_expr(tensor.tensor_idx)
        if isinstance(expr, GenericConst):
            return qparams.value(expr)
        raise tvm.error.OpNotImplemented(f"a computed {get_tensor_name(self.subgraph, tensor.tensor_idx)!r} "
                                         f"where a constant is needed")

    def convert_shape(self, op):
        from tflite.ShapeOptions import ShapeOptions

        (x,) = self.get_input_tensors(op)
        opts = ShapeOptions()
        if op.BuiltinOptions() is not None:
            opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        dtype = "int64" if op.BuiltinOptions() is not None and opts.OutType() == 4 else "int32"
        return relax.const(np.array([int(d) for d in self.get_tensor_shape(x)], dtype))

    def convert_fill(self, op):
        dims, value = self.get_input_tensors(op)
        shape = [int(d) for d in self._static(dims).ravel()]
        fill = self.get_tensor_expr(value)
        return relax.op.full(shape, relax.op.reshape(fill, ()) if len(self.get_tensor_shape(value)) else fill,
                             self.get_tensor_type_str(value.tensor.Type()))
