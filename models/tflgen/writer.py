"""Serialize a quantized graph to TFLite flatbuffer bytes (schema object API of
ai-edge-litert), byte-for-byte deterministic for the same inputs.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from .graph import Graph, Node
from .quantize import QTensor

# Operator versions the TFLite converter assigns to these ops with int8 tensors.
OP_VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "ADD": 2,
               "AVERAGE_POOL_2D": 2, "MAX_POOL_2D": 2, "RESHAPE": 1, "SOFTMAX": 2,
               "MUL": 2, "SUB": 2, "MEAN": 2, "SUM": 2, "LOGISTIC": 2, "TANH": 2, "HARD_SWISH": 1,
               "LEAKY_RELU": 2, "PRELU": 1, "RESIZE_BILINEAR": 3, "TRANSPOSE_CONV": 3, "QUANTIZE": 2, "SVDF": 3}
BUFFER_ALIGNMENT = 16
DESCRIPTION = "mlonmcu-lite TF-free int8 generator"


class _AlignedBufferT(S.BufferT):
    """BufferT whose data vector is 16-byte aligned (int32 bias read in place)."""

    def Pack(self, builder: flatbuffers.Builder) -> int:
        data = None
        if self.data is not None:
            raw = self.data.tobytes()
            builder.StartVector(1, len(raw), BUFFER_ALIGNMENT)
            builder.head -= len(raw)
            builder.Bytes[builder.head:builder.head + len(raw)] = raw
            data = builder.EndVector()
        S.BufferStart(builder)
        if data is not None:
            S.BufferAddData(builder, data)
        return S.BufferEnd(builder)


def _enum(enum_cls, name: str) -> int:
    return getattr(enum_cls, name)


def _options(node: Node) -> tuple[int, object]:
    a = node.attrs
    act = _enum(S.ActivationFunctionType, a.get("act", "NONE"))
    if node.op == "CONV_2D":
        o = S.Conv2DOptionsT()
        o.padding, (o.strideH, o.strideW), o.fusedActivationFunction = _enum(S.Padding, a["padding"]), a["stride"], act
        return S.BuiltinOptions.Conv2DOptions, o
    if node.op == "DEPTHWISE_CONV_2D":
        o = S.DepthwiseConv2DOptionsT()
        o.padding, (o.strideH, o.strideW), o.fusedActivationFunction = _enum(S.Padding, a["padding"]), a["stride"], act
        o.depthMultiplier = a["multiplier"]
        return S.BuiltinOptions.DepthwiseConv2DOptions, o
    if node.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = S.Pool2DOptionsT()
        o.padding, (o.strideH, o.strideW), o.fusedActivationFunction = _enum(S.Padding, a["padding"]), a["stride"], act
        o.filterHeight, o.filterWidth = a["size"]
        return S.BuiltinOptions.Pool2DOptions, o
    if node.op == "FULLY_CONNECTED":
        o = S.FullyConnectedOptionsT()
        o.fusedActivationFunction = act
        return S.BuiltinOptions.FullyConnectedOptions, o
    if node.op == "ADD":
        o = S.AddOptionsT()
        o.fusedActivationFunction = act
        return S.BuiltinOptions.AddOptions, o
    if node.op == "RESHAPE":
        o = S.ReshapeOptionsT()
        o.newShape = list(a["new_shape"])
        return S.BuiltinOptions.ReshapeOptions, o
    if node.op == "SOFTMAX":
        o = S.SoftmaxOptionsT()
        o.beta = a["beta"]
        return S.BuiltinOptions.SoftmaxOptions, o
    if node.op in ("MUL", "SUB"):
        o = S.MulOptionsT() if node.op == "MUL" else S.SubOptionsT()
        o.fusedActivationFunction = act
        return getattr(S.BuiltinOptions, f"{node.op.title()}Options"), o
    if node.op in ("MEAN", "SUM"):
        o = S.ReducerOptionsT()
        o.keepDims = a["keep_dims"]
        return S.BuiltinOptions.ReducerOptions, o
    if node.op == "LEAKY_RELU":
        o = S.LeakyReluOptionsT()
        o.alpha = a["alpha"]
        return S.BuiltinOptions.LeakyReluOptions, o
    if node.op == "RESIZE_BILINEAR":
        o = S.ResizeBilinearOptionsT()
        o.alignCorners, o.halfPixelCenters = a["align_corners"], a["half_pixel_centers"]
        return S.BuiltinOptions.ResizeBilinearOptions, o
    if node.op == "TRANSPOSE_CONV":
        o = S.TransposeConvOptionsT()
        o.padding, (o.strideH, o.strideW) = _enum(S.Padding, a["padding"]), a["stride"]
        return S.BuiltinOptions.TransposeConvOptions, o
    if node.op == "SVDF":
        o = S.SVDFOptionsT()
        o.rank, o.fusedActivationFunction = a["rank"], act
        return S.BuiltinOptions.SVDFOptions, o
    if node.op in ("LOGISTIC", "TANH", "HARD_SWISH", "PRELU", "QUANTIZE"):
        return S.BuiltinOptions.NONE, None
    raise NotImplementedError(node.op)


def _tensor(t: QTensor, buffer: int) -> S.TensorT:
    out = S.TensorT()
    out.shape = list(t.shape)
    out.type = _enum(S.TensorType, t.dtype)
    out.buffer = buffer
    out.name = t.name
    out.isVariable = t.variable
    if t.scale is not None:
        qp = S.QuantizationParametersT()
        qp.scale = [float(s) for s in t.scale]
        qp.zeroPoint = [int(z) for z in t.zero_point]
        qp.quantizedDimension = t.axis
        out.quantization = qp
    return out


def write_model(graph: Graph, qtensors: dict[str, QTensor]) -> bytes:
    names = list(graph.tensors)
    index = {n: i for i, n in enumerate(names)}
    buffers = [_AlignedBufferT()]  # buffer 0: the empty sentinel
    tensors = []
    for name in names:
        t = qtensors[name]
        buf = _AlignedBufferT()
        buf.data = t.data.reshape(-1) if t.data is not None else None
        buffers.append(buf)
        tensors.append(_tensor(t, len(buffers) - 1))

    opcodes: list[str] = []
    operators = []
    for node in graph.nodes:
        if node.op not in opcodes:
            opcodes.append(node.op)
        op = S.OperatorT()
        op.opcodeIndex = opcodes.index(node.op)
        op.inputs = [index[n] for n in node.inputs]
        op.outputs = [index[node.output]]
        op.builtinOptionsType, op.builtinOptions = _options(node)
        operators.append(op)

    sub = S.SubGraphT()
    sub.tensors, sub.operators, sub.name = tensors, operators, "main"
    sub.inputs = [index[n] for n in graph.inputs]
    sub.outputs = [index[n] for n in graph.outputs]

    model = S.ModelT()
    model.version = 3
    model.description = DESCRIPTION
    model.subgraphs = [sub]
    model.buffers = buffers
    model.operatorCodes = []
    for name in opcodes:
        code = S.OperatorCodeT()
        code.builtinCode = _enum(S.BuiltinOperator, name)
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
        code.version = OP_VERSIONS[name]
        model.operatorCodes.append(code)

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
