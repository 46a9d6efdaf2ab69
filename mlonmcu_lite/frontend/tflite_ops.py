"""Read a TFLite flatbuffer's operators (name, options, tensors) for validation and naming.

Only what the frontend needs to decide, before TVM sees the model, whether every op and
op variant has an integer lowering, and to say which one does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tflite

from .errors import FrontendError


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


OP_NAMES = _enum_names(tflite.BuiltinOperator)
TYPE_NAMES = _enum_names(tflite.TensorType)
ACT_NAMES = _enum_names(tflite.ActivationFunctionType)
PADDING_NAMES = _enum_names(tflite.Padding)


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # TFLite type name, e.g. INT8
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    is_const: bool


@dataclass
class Op:
    index: int
    name: str
    inputs: list[Tensor]
    outputs: list[Tensor]
    options: dict = field(default_factory=dict)

    def describe(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.name} (op #{self.index}{', ' + opts if opts else ''})"


@dataclass
class TFLiteGraph:
    ops: list[Op]
    inputs: list[Tensor]
    outputs: list[Tensor]
    model: object  # tflite.Model, handed to TVM's importer


def _tensor(model, subgraph, index: int) -> Tensor | None:
    if index < 0:
        return None
    t = subgraph.Tensors(index)
    q = t.Quantization()
    scales = tuple(float(s) for s in q.ScaleAsNumpy()) if q is not None and q.ScaleLength() else ()
    zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q is not None and q.ZeroPointLength() else ()
    buf = model.Buffers(t.Buffer())
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    return Tensor(t.Name().decode(), shape, TYPE_NAMES.get(t.Type(), str(t.Type())), scales, zps,
                  buf is not None and buf.DataLength() > 0)


_OPTION_CLASSES = {
    "CONV_2D": tflite.Conv2DOptions,
    "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
    "AVERAGE_POOL_2D": tflite.Pool2DOptions,
    "MAX_POOL_2D": tflite.Pool2DOptions,
    "FULLY_CONNECTED": tflite.FullyConnectedOptions,
    "ADD": tflite.AddOptions,
    "SOFTMAX": tflite.SoftmaxOptions,
}

# getter on the options table → (key in Op.options, value formatter)
_FIELDS = {
    "FusedActivationFunction": ("activation", ACT_NAMES.get),
    "Padding": ("padding", PADDING_NAMES.get),
    "StrideH": ("stride_h", int),
    "StrideW": ("stride_w", int),
    "DilationHFactor": ("dilation_h", int),
    "DilationWFactor": ("dilation_w", int),
    "DepthMultiplier": ("depth_multiplier", int),
    "FilterHeight": ("filter_h", int),
    "FilterWidth": ("filter_w", int),
    "KeepNumDims": ("keep_num_dims", bool),
    "WeightsFormat": ("weights_format", int),
    "Beta": ("beta", float),
}


def _options(name: str, op) -> dict:
    cls = _OPTION_CLASSES.get(name)
    table = op.BuiltinOptions()
    if cls is None or table is None:
        return {}
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return {key: fmt(getattr(opts, getter)()) for getter, (key, fmt) in _FIELDS.items()
            if hasattr(opts, getter)}


def read_graph(data: bytes, model_name: str) -> TFLiteGraph:
    """Parse the first subgraph; FrontendError if `data` is not a TFLite flatbuffer."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise FrontendError(f"{model_name} is not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        subgraph = model.Subgraphs(0)
        ops = []
        for i in range(subgraph.OperatorsLength()):
            op = subgraph.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = OP_NAMES.get(builtin, f"BUILTIN_{builtin}")
            if builtin == tflite.BuiltinOperator.CUSTOM:
                name = f"CUSTOM:{code.CustomCode().decode()}"
            ops.append(Op(i, name,
                          [_tensor(model, subgraph, int(j)) for j in op.InputsAsNumpy()],
                          [_tensor(model, subgraph, int(j)) for j in op.OutputsAsNumpy()],
                          _options(name, op)))
        inputs = [_tensor(model, subgraph, int(j)) for j in np.atleast_1d(subgraph.InputsAsNumpy())]
        outputs = [_tensor(model, subgraph, int(j)) for j in np.atleast_1d(subgraph.OutputsAsNumpy())]
    except FrontendError:
        raise
    except Exception as err:  # a corrupt flatbuffer fails anywhere inside the generated reader
        raise FrontendError(f"{model_name} is not a readable TFLite model: {err}") from err
    return TFLiteGraph(ops, inputs, outputs, model)
