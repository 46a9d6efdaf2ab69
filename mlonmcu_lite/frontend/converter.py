"""TVM's TFLite operator converter, with the quantized ops it refuses or mishandles fixed.

TVM 0.27 refuses every quantized op outside its `_SUPPORTED_QUANTIZED_OPS` (its data-movement
converters would be right: TFLite's int8 kernels of these ops copy bytes and never rescale),
turns an int8 CONCATENATION into float, breaks on EXPAND_DIMS, gives SPLIT/SPLIT_V/UNPACK
tuple-valued results (one strided_slice per output here, so the compiler plans tensors only), emits TVM's own coordinate rounding for
RESIZE_NEAREST_NEIGHBOR, and multiplies an N-D FULLY_CONNECTED input with a 2-D weight as is.  `Converter` is passed to `from_tflite` as its
`op_converter`; everything else is TVM's.

* PRELU: TVM 0.27 rejects a quantized PRELU; it is imported in the usual QDQ form,
  where(x ≥ 0, x, x·alpha) on the dequantized input and alpha, which `prelu.py` rewrites.
* SVDF: refused when quantized, and without a QDQ form (int16 state and time weights), so
  it is imported directly as integer Relax (`svdf.integer_svdf`).
"""

from __future__ import annotations

import functools

import numpy as np
import tvm
from tvm import relax
from tvm.relax.frontend.tflite.tflite_frontend import OperatorConverter, get_tensor_name

from .elementwise import lookup
from .errors import at_operator
from .lstm import LSTMConverter
from .logic import LOGIC_QUANTIZED_OPS, LogicConverters
from .lut_ops import TABLE_OPS, TableConverters
from .qmath import QMATH_OPS, QMathConverters
from .qparams import file_scale_zp as _file_scale_zp
from .qparams import tensor_scale_zp
from .sqdiff import SquaredDifferenceConverter
from .floatops import FloatOpConverters  # floatops
from .movement import MovementConverters
from .svdf import SVDFParams, integer_svdf

# int8 kernels that move bytes (same quantization in and out, checked in `support`).
MOVEMENT_OPS = frozenset({"SPLIT", "SPLIT_V", "PACK", "UNPACK", "SLICE", "STRIDED_SLICE", "PAD", "PADV2",
                          "TRANSPOSE", "RESIZE_NEAREST_NEIGHBOR", "SQUEEZE", "EXPAND_DIMS", "GATHER",
                          "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "BROADCAST_TO",
                          "TILE", "MIRROR_PAD", "REVERSE_V2", "GATHER_ND"})


def nearest_indices(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> np.ndarray:
    """Source index of each output position: TFLite's GetNearestNeighbor, in float32 as there."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    pos = (np.arange(out_size, dtype=f32) + offset) * scale
    idx = np.floor(pos)
    if align_corners:  # TfLiteRound: half away from zero (pos >= 0; pos − floor(pos) is exact)
        idx = idx + (pos - idx >= f32(0.5))
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    return np.maximum(idx, 0).astype(np.int32)




def _round_half_away(v: np.ndarray) -> np.ndarray:
    """std::round of float32 values, exactly (v − trunc(v) is exact in float32)."""
    whole = np.trunc(v)
    return whole + np.sign(v) * (np.abs(v - whole) >= np.float32(0.5))


def concat_rescale_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """reference_ops::ConcatenationWithScaling (uint8) for every input value, in float32 as there.

    Zero points are those of the int8-normalized tensors (uint8 − 128); the table is indexed by
    the int8 value + 128 and holds int8 values.
    """
    f32 = np.float32
    scale = f32(in_scale) * (f32(1.0) / f32(out_scale))
    bias = f32(-(in_zp + 128)) * scale
    u = np.arange(256, dtype=f32)
    value = _round_half_away(u * scale + bias).astype(np.int64) + (out_zp + 128)
    return (np.clip(value, 0, 255) - 128).astype(np.int8)


class Converter(QMathConverters,  # qmath
                FloatOpConverters,  # floatops
                LSTMConverter,  # seq
                LogicConverters,  # qlogic
                TableConverters, MovementConverters, SquaredDifferenceConverter, OperatorConverter):
    """`OperatorConverter` that imports the int8 data-movement ops the way TFLite computes them."""

    _SUPPORTED_QUANTIZED_OPS = (OperatorConverter._SUPPORTED_QUANTIZED_OPS | MOVEMENT_OPS
                                | {"PRELU", "SVDF", "ARG_MAX", "ARG_MIN"} | TABLE_OPS
                                | QMATH_OPS  # qmath: frontend/qmath.py
                                | {"UNIDIRECTIONAL_SEQUENCE_LSTM"}  # seq: frontend/lstm.py
                                | LOGIC_QUANTIZED_OPS)  # qlogic

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._op_index: dict[int, int] | None = None
        self.convert_map = {name: functools.partial(self._convert_named, name=name, convert=convert)
                            for name, convert in self.convert_map.items()}

    def _convert_named(self, op, name: str, convert):
        """One operator's conversion: any failure becomes a FrontendError naming the op and its
        index (the caller adds the model), with TVM's C++ backtrace reduced to its gist."""
        try:
            out = convert(op=op)
            return None if out is None else self.bb.normalize(out)  # TVM's shape checks fail here
        except Exception as err:  # noqa: BLE001 - every failure names its operator
            raise at_operator(err, name, self._index_of(op)) from err

    def _index_of(self, op) -> int | None:
        if self._op_index is None:
            self._op_index = {self.subgraph.Operators(i)._tab.Pos: i for i in range(self.subgraph.OperatorsLength())}
        return self._op_index.get(op._tab.Pos)

    def _convert_arg_min_max(self, op, relax_op):
        """ARG_MAX / ARG_MIN compare the raw integers (as TFLite's kernel; the first index wins a tie),
        giving the output tensor's index type (TVM leaves Relax's int64)."""
        (out,) = self.get_output_tensors(op)
        return relax.op.astype(super()._convert_arg_min_max(op, relax_op),
                               self.get_tensor_type_str(out.tensor.Type()))

    def convert_concatenation(self, op):
        """A plain integer concat (TVM would dequantize to float, concatenate, quantize again).

        An input quantized unlike the output (legal only for uint8, normalized to int8 before
        import) goes through ConcatenationWithScaling's float formula, tabulated per input.
        """
        from tflite.ConcatenationOptions import ConcatenationOptions

        inputs, (output,) = self.get_input_tensors(op), self.get_output_tensors(op)
        if output.qnn_params is None:
            return super().convert_concatenation(op)
        options = ConcatenationOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        out_scale, out_zp = tensor_scale_zp(output)
        parts = []
        for t in inputs:
            expr = self.get_tensor_expr(t)
            if not self.has_same_qnn_params(t, output):
                expr = lookup(expr, concat_rescale_table(*tensor_scale_zp(t), out_scale, out_zp))
            parts.append(expr)
        return relax.op.concat(parts, axis=int(options.Axis()))

    def _slices(self, x, axis: int, sizes: list[int]) -> list:
        """One strided_slice per part: no tuple-valued kernel (the compiler plans tensors only)."""
        begins = np.cumsum([0, *sizes[:-1]])
        return [self.bb.normalize(relax.op.strided_slice(x, axes=[axis], begin=[int(b)], end=[int(b + n)]))
                for b, n in zip(begins, sizes)]

    def _axis_and_size(self, x_tensor, axis_tensor) -> tuple[int, int]:
        shape = [int(d) for d in self.get_tensor_shape(x_tensor)]
        axis = int(np.asarray(self.get_tensor_value(axis_tensor)).reshape(-1)[0]) % len(shape)
        return axis, shape[axis]

    def convert_split(self, op):
        axis_tensor, x_tensor = self.get_input_tensors(op)
        axis, size = self._axis_and_size(x_tensor, axis_tensor)
        parts = len(self.get_output_tensors(op))
        return relax.Tuple(self._slices(self.get_tensor_expr(x_tensor), axis, [size // parts] * parts))

    def convert_split_v(self, op):
        x_tensor, sizes_tensor, axis_tensor = self.get_input_tensors(op)
        if self.has_expr(sizes_tensor.tensor_idx):  # sizes computed at run time: TVM's way
            return super().convert_split_v(op)
        axis, size = self._axis_and_size(x_tensor, axis_tensor)
        sizes = [int(v) for v in self.get_tensor_value(sizes_tensor)]
        sizes = [size - (sum(sizes) + 1) if v == -1 else v for v in sizes]  # one -1: the rest
        return relax.Tuple(self._slices(self.get_tensor_expr(x_tensor), axis, sizes))

    def convert_unpack(self, op):
        from tflite.UnpackOptions import UnpackOptions

        (x_tensor,) = self.get_input_tensors(op)
        options = UnpackOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        rank = len(self.get_tensor_shape(x_tensor))
        axis = int(options.Axis()) % rank
        parts = self._slices(self.get_tensor_expr(x_tensor), axis, [1] * int(options.Num()))
        return relax.Tuple([relax.op.squeeze(p, axis=[axis]) for p in parts])

    def convert_expand_dims(self, op):
        """TVM 0.27 calls relax's expand_dims with a stray third argument."""
        x_tensor, axis_tensor = self.get_input_tensors(op)
        axis = int(np.asarray(self.get_tensor_value(axis_tensor)).reshape(-1)[0])
        return relax.op.expand_dims(self.get_tensor_expr(x_tensor), axis)

    def convert_resize_nearest_neighbor(self, op):
        """Two gathers with compile-time index tables (no float coordinates at run time)."""
        from tflite.ResizeNearestNeighborOptions import ResizeNearestNeighborOptions

        x_tensor, size_tensor = self.get_input_tensors(op)
        options = ResizeNearestNeighborOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        _, h, w, _ = (int(d) for d in self.get_tensor_shape(x_tensor))
        out_h, out_w = (int(v) for v in self.get_tensor_value(size_tensor))
        align, half = bool(options.AlignCorners()), bool(options.HalfPixelCenters())
        out = self.get_tensor_expr(x_tensor)
        for axis, (size, out_size) in ((1, (h, out_h)), (2, (w, out_w))):
            rows = nearest_indices(size, out_size, align, half)
            if not np.array_equal(rows, np.arange(size)):
                out = relax.op.take(out, relax.const(rows, "int32"), axis=axis)
        return out

    def convert_fully_connected(self, op):
        """An N-D input is read as rows of K values (TFLite); the result gets the output tensor's shape."""
        x_tensor, w_tensor = self.get_input_tensors(op)[:2]
        x_shape = [int(d) for d in self.get_tensor_shape(x_tensor)]
        if len(x_shape) == 2:
            return super().convert_fully_connected(op)
        k = int(self.get_tensor_shape(w_tensor)[1])
        name = get_tensor_name(self.subgraph, x_tensor.tensor_idx)
        original = self.exp_tab.get_expr(name)
        rows = self.bb.normalize(relax.op.reshape(original, (int(np.prod(x_shape)) // k, k)))
        self.exp_tab.set_expr(name, rows, force_override=True)
        try:
            out = super().convert_fully_connected(op)
        finally:
            self.exp_tab.set_expr(name, original, force_override=True)
        out_shape = [int(d) for d in self.get_tensor_shape(self.get_output_tensors(op)[0])]
        return relax.op.reshape(out, out_shape)

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
            rank=options.Rank(), input_scale=_file_scale_zp(x)[0], input_zero_point=_file_scale_zp(x)[1],
            feature_scale=_file_scale_zp(wf)[0], time_scale=_file_scale_zp(wt)[0], state_scale=_file_scale_zp(state)[0],
            output_scale=_file_scale_zp(out)[0], output_zero_point=_file_scale_zp(out)[1])
        batch = int(self.get_tensor_shape(x)[0])
        return integer_svdf(self.get_expr(x.tensor_idx), batch, params)
