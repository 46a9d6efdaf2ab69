"""Serialize a quantized graph to TFLite flatbuffer bytes (schema object API of
ai-edge-litert), byte-for-byte deterministic for the same inputs.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from . import seq_models
from .graph import Graph, Node
from .quantize import QTensor

# Operator versions the TFLite converter assigns to these ops with int8 tensors.
OP_VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "ADD": 2,
               "AVERAGE_POOL_2D": 2, "MAX_POOL_2D": 2, "RESHAPE": 1, "SOFTMAX": 2,
               "MUL": 2, "SUB": 2, "MEAN": 2, "SUM": 2, "LOGISTIC": 2, "TANH": 2, "HARD_SWISH": 1,
               "LEAKY_RELU": 2, "PRELU": 1, "RESIZE_BILINEAR": 3, "TRANSPOSE_CONV": 3, "SVDF": 3,
               "CONCATENATION": 2, "SPLIT": 2, "SPLIT_V": 2, "PACK": 2, "UNPACK": 2, "SLICE": 2,
               "STRIDED_SLICE": 2, "PAD": 2, "PADV2": 2, "MAXIMUM": 2, "MINIMUM": 2, "RELU": 2, "RELU6": 2,
               "TRANSPOSE": 2, "RESIZE_NEAREST_NEIGHBOR": 2, "SQUEEZE": 1, "EXPAND_DIMS": 1, "GATHER": 2,
               "QUANTIZE": 2, "DEQUANTIZE": 2,
               "DEPTH_TO_SPACE": 1, "SPACE_TO_DEPTH": 2, "SPACE_TO_BATCH_ND": 2, "BATCH_TO_SPACE_ND": 2,
               "BROADCAST_TO": 2, "TILE": 2, "MIRROR_PAD": 2, "REVERSE_V2": 2, "GATHER_ND": 2, "REDUCE_MAX": 2,
               "REDUCE_MIN": 2, "ARG_MAX": 2, "ARG_MIN": 2, "SQUARED_DIFFERENCE": 2, "DIV": 2, "EXP": 2, "ELU": 2,
               "GELU": 2, "LOG": 2, "RSQRT": 2, "ABS": 2, "NEG": 1, "L2_NORMALIZATION": 2, "LOG_SOFTMAX": 2}
OP_VERSIONS.update(seq_models.VERSIONS)  # seq: UNIDIRECTIONAL_SEQUENCE_LSTM
IO_WRAPPERS = ("native", "float", "uint8")  # graph I/O as is, float32 (QUANTIZE/DEQUANTIZE), uint8 in
# Versions of the 16x8 (int16 activation) and uint8 variants, where they differ from int8's.
INT16_VERSIONS = {"CONV_2D": 4, "DEPTHWISE_CONV_2D": 5, "FULLY_CONNECTED": 7, "ADD": 3, "SOFTMAX": 3,
                  "AVERAGE_POOL_2D": 3, "MAX_POOL_2D": 3, "QUANTIZE": 3, "DEQUANTIZE": 4}
# Dynamic-range (hybrid) kernels: per-channel conv / depthwise, per-tensor FC.
HYBRID_VERSIONS = {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 6, "FULLY_CONNECTED": 3}
# Options that need a newer operator version than the int8 one above.
FEATURE_VERSIONS = {("CONV_2D", "dilation"): 2, ("FULLY_CONNECTED", "keep_num_dims"): 5,
                    ("RESIZE_NEAREST_NEIGHBOR", "half_pixel_centers"): 3}
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
        o.dilationHFactor, o.dilationWFactor = a.get("dilation", (1, 1))
        return S.BuiltinOptions.Conv2DOptions, o
    if node.op == "DEPTHWISE_CONV_2D":
        o = S.DepthwiseConv2DOptionsT()
        o.padding, (o.strideH, o.strideW), o.fusedActivationFunction = _enum(S.Padding, a["padding"]), a["stride"], act
        o.depthMultiplier = a["multiplier"]
        o.dilationHFactor, o.dilationWFactor = a.get("dilation", (1, 1))
        return S.BuiltinOptions.DepthwiseConv2DOptions, o
    if node.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = S.Pool2DOptionsT()
        o.padding, (o.strideH, o.strideW), o.fusedActivationFunction = _enum(S.Padding, a["padding"]), a["stride"], act
        o.filterHeight, o.filterWidth = a["size"]
        return S.BuiltinOptions.Pool2DOptions, o
    if node.op == "FULLY_CONNECTED":
        o = S.FullyConnectedOptionsT()
        o.fusedActivationFunction = act
        o.keepNumDims = bool(a.get("keep_num_dims", False))
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
    if node.op in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"):
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
    if node.op == seq_models.LSTM:  # seq
        return seq_models.options(node)
    if node.op == "SVDF":
        o = S.SVDFOptionsT()
        o.rank, o.fusedActivationFunction = a["rank"], act
        return S.BuiltinOptions.SVDFOptions, o
    if node.op in ("LOGISTIC", "TANH", "HARD_SWISH", "PRELU", "ELU", "EXP", "LOG", "RSQRT", "ABS", "NEG"):
        return S.BuiltinOptions.NONE, None
    if node.op in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"):
        o = S.DepthToSpaceOptionsT() if node.op == "DEPTH_TO_SPACE" else S.SpaceToDepthOptionsT()
        o.blockSize = a["block"]
        return getattr(S.BuiltinOptions, type(o).__name__[:-1]), o
    if node.op in ("ARG_MAX", "ARG_MIN"):
        o = S.ArgMaxOptionsT() if node.op == "ARG_MAX" else S.ArgMinOptionsT()
        o.outputType = S.TensorType.INT32
        return getattr(S.BuiltinOptions, type(o).__name__[:-1]), o
    if node.op == "MIRROR_PAD":
        o = S.MirrorPadOptionsT()
        o.mode = getattr(S.MirrorPadMode, a["mode"])
        return S.BuiltinOptions.MirrorPadOptions, o
    if node.op == "GELU":
        o = S.GeluOptionsT()
        o.approximate = bool(a.get("approximate", False))
        return S.BuiltinOptions.GeluOptions, o
    if node.op == "L2_NORMALIZATION":
        return S.BuiltinOptions.L2NormOptions, S.L2NormOptionsT()
    if node.op == "LOG_SOFTMAX":
        return S.BuiltinOptions.LogSoftmaxOptions, S.LogSoftmaxOptionsT()
    if node.op in ("SQUARED_DIFFERENCE", "DIV"):
        o = S.SquaredDifferenceOptionsT() if node.op == "SQUARED_DIFFERENCE" else S.DivOptionsT()
        if node.op == "DIV":
            o.fusedActivationFunction = act
        return getattr(S.BuiltinOptions, type(o).__name__[:-1]), o
    return _movement_options(node)


def _movement_options(node: Node) -> tuple[int, object]:
    """Options of the data-movement and elementwise ops (None where TFLite has none)."""
    a, op = node.attrs, node.op
    if op == "CONCATENATION":
        o = S.ConcatenationOptionsT()
        o.axis = a["axis"]
    elif op in ("SPLIT", "SPLIT_V"):
        o = S.SplitOptionsT() if op == "SPLIT" else S.SplitVOptionsT()
        o.numSplits = len(node.outputs)
    elif op == "PACK":
        o = S.PackOptionsT()
        o.valuesCount, o.axis = a["count"], a["axis"]
    elif op == "UNPACK":
        o = S.UnpackOptionsT()
        o.num, o.axis = a["num"], a["axis"]
    elif op == "STRIDED_SLICE":
        o = S.StridedSliceOptionsT()
        m = a["masks"]
        o.beginMask, o.endMask = m.get("begin_mask", 0), m.get("end_mask", 0)
        o.ellipsisMask, o.shrinkAxisMask = m.get("ellipsis_mask", 0), m.get("shrink_axis_mask", 0)
    elif op == "RESIZE_NEAREST_NEIGHBOR":
        o = S.ResizeNearestNeighborOptionsT()
        o.alignCorners, o.halfPixelCenters = a["align_corners"], a["half_pixel_centers"]
    elif op == "SQUEEZE":
        o = S.SqueezeOptionsT()
        o.squeezeDims = list(a["dims"])
    elif op == "GATHER":
        o = S.GatherOptionsT()
        o.axis = a["axis"]
    else:
        simple = {"SLICE": "SliceOptions", "PAD": "PadOptions", "PADV2": "PadV2Options", "TILE": "TileOptions",
                  "SPACE_TO_BATCH_ND": "SpaceToBatchNDOptions", "BATCH_TO_SPACE_ND": "BatchToSpaceNDOptions",
                  "BROADCAST_TO": "BroadcastToOptions", "REVERSE_V2": "ReverseV2Options", "GATHER_ND": "GatherNdOptions",
                  "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
                  "TRANSPOSE": "TransposeOptions", "EXPAND_DIMS": "ExpandDimsOptions"}
        if op in ("RELU", "RELU6", "QUANTIZE", "DEQUANTIZE"):
            return S.BuiltinOptions.NONE, None
        if op not in simple:
            raise NotImplementedError(op)
        return getattr(S.BuiltinOptions, simple[op]), getattr(S, simple[op] + "T")()
    name = type(o).__name__[:-1]
    return getattr(S.BuiltinOptions, name), o


def _version(node: Node, qtensors: dict[str, QTensor]) -> int:
    features = [f for (op, f) in FEATURE_VERSIONS if op == node.op]
    used = [f for f in features if node.attrs.get(f)]
    base = OP_VERSIONS[node.op]
    dtypes = {qtensors[t].dtype for t in [*node.outputs, node.inputs[0]]}
    if dtypes == {"FLOAT32"}:  # float kernels: version 1, hybrid (int8 weights) ones their own
        weights = qtensors[node.inputs[1]].dtype if len(node.inputs) > 1 else "FLOAT32"
        base = HYBRID_VERSIONS.get(node.op, 1) if weights == "INT8" else 1
    elif "INT16" in dtypes:
        base = INT16_VERSIONS.get(node.op, base)
    elif "UINT8" in dtypes:
        base = 2 if node.op == "QUANTIZE" else 1
    return max([base, *(FEATURE_VERSIONS[(node.op, f)] for f in used)])


def _wrap_io(graph: Graph, qtensors: dict[str, QTensor], io: str) -> tuple[list[Node], list[Node], list[str],
                                                                           list[str]]:
    """Boundary tensors and ops of an I/O wrapper (what the TFLite converter emits).

    "float": float32 input -> QUANTIZE -> graph -> DEQUANTIZE -> float32 output;
    "uint8": uint8 input (zero point + 128, same scale) -> QUANTIZE (requantize) -> graph.
    Adds the boundary tensors to `qtensors`; returns the ops before and after the graph
    and the subgraph's input and output tensor names.
    """
    if io not in IO_WRAPPERS:
        raise ValueError(f"unknown I/O wrapper {io!r}")
    before, after, inputs, outputs = [], [], list(graph.inputs), list(graph.outputs)
    if io == "native":
        return before, after, inputs, outputs
    for k, name in enumerate(graph.inputs):
        t = qtensors[name]
        outer = f"{name}_{io}"
        if io == "float":
            qtensors[outer] = QTensor(outer, t.shape, "FLOAT32")
        else:
            qtensors[outer] = QTensor(outer, t.shape, "UINT8", t.scale, t.zero_point + 128)
        before.append(Node("QUANTIZE", [outer], name))
        inputs[k] = outer
    if io == "float":
        for k, name in enumerate(graph.outputs):
            outer = f"{name}_float"
            qtensors[outer] = QTensor(outer, qtensors[name].shape, "FLOAT32")
            after.append(Node("DEQUANTIZE", [name], outer))
            outputs[k] = outer
    return before, after, inputs, outputs


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


def operator_codes(versions: dict[str, int]) -> list[S.OperatorCodeT]:
    """The model's operator code table: one entry per op name (in the given order) with its version."""
    codes = []
    for name, version in versions.items():
        code = S.OperatorCodeT()
        code.builtinCode = _enum(S.BuiltinOperator, name)
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
        code.version = version
        codes.append(code)
    return codes


def write_model(graph: Graph, qtensors: dict[str, QTensor], io: str = "native") -> bytes:
    qtensors = dict(qtensors)
    before, after, graph_inputs, graph_outputs = _wrap_io(graph, qtensors, io)
    names = list(graph.tensors) + [n for n in qtensors if n not in graph.tensors]
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
    versions: dict[str, int] = {}
    operators = []
    for node in [*before, *graph.nodes, *after]:
        if node.op not in opcodes:
            opcodes.append(node.op)
        versions[node.op] = max(versions.get(node.op, 0), _version(node, qtensors))
        op = S.OperatorT()
        op.opcodeIndex = opcodes.index(node.op)
        op.inputs = [index[n] for n in node.inputs]
        op.outputs = [index[n] for n in node.outputs]
        op.builtinOptionsType, op.builtinOptions = _options(node)
        seq_models.write_hook(node, op, index)  # seq: LSTM input slots and intermediates
        operators.append(op)

    sub = S.SubGraphT()
    sub.tensors, sub.operators, sub.name = tensors, operators, "main"
    sub.inputs = [index[n] for n in graph_inputs]
    sub.outputs = [index[n] for n in graph_outputs]

    return pack_model(sub, buffers, opcodes, versions)


def pack_model(sub: S.SubGraphT, buffers: list, opcodes: list[str], versions: dict[str, int]) -> bytes:
    """The one-subgraph model's bytes: operator codes (with their versions) in first-use order."""
    model = S.ModelT()
    model.version = 3
    model.description = DESCRIPTION
    model.subgraphs = [sub]
    model.buffers = buffers
    model.operatorCodes = operator_codes({name: versions[name] for name in opcodes})

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
