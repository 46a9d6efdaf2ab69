"""TFLite full-integer quantization conventions applied to a calibrated graph.

int8 activations are asymmetric over a range that includes 0; conv/depthwise
weights are symmetric per output channel, FC weights symmetric per tensor; bias
is int32 with scale = input scale x weight scale; softmax output is (1/256, -128);
pool and reshape outputs keep their input's parameters, as the converter does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import seq_models
from .calibrate import Calibration
from .graph import Graph

SOFTMAX_QPARAMS = {"INT8": (1.0 / 256.0, -128), "UINT8": (1.0 / 256.0, 0), "INT16": (1.0 / 32768.0, 0)}
# Ops whose output quantization TFLite fixes, per activation type.
FIXED_QPARAMS = {
    "SOFTMAX": SOFTMAX_QPARAMS,
    "LOGISTIC": SOFTMAX_QPARAMS,
    "TANH": {"INT8": (1.0 / 128.0, 0), "UINT8": (1.0 / 128.0, 128), "INT16": (1.0 / 32768.0, 0)},
    "L2_NORMALIZATION": {"INT8": (1.0 / 128.0, 0), "UINT8": (1.0 / 128.0, 128)},
    "LOG_SOFTMAX": {"INT8": (16.0 / 256.0, 127), "UINT8": (16.0 / 256.0, 255)},
}
# Ops whose int8 kernels move or compare values without rescaling: TFLite requires (or the
# converter writes) the data input's quantization on every output.
SAME_AS_INPUT = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "CONCATENATION", "SPLIT", "SPLIT_V", "PACK",
                 "UNPACK", "SLICE", "STRIDED_SLICE", "PAD", "PADV2", "TRANSPOSE", "RESIZE_NEAREST_NEIGHBOR",
                 "SQUEEZE", "EXPAND_DIMS", "GATHER", "MAXIMUM", "MINIMUM", "RESIZE_BILINEAR",
                 "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "BROADCAST_TO", "TILE",
                 "MIRROR_PAD", "REVERSE_V2", "GATHER_ND", "REDUCE_MAX", "REDUCE_MIN")
INDEX_OUTPUTS = ("ARG_MAX", "ARG_MIN")  # int32 indices, not quantized
DATA_INPUT = {"SPLIT": 1, "TRANSPOSE_CONV": 2}  # index of the data operand where it is not the first


@dataclass(frozen=True)
class Scheme:
    """The tensor types of a quantization scheme (TFLite's three integer flavours)."""

    act: str  # activations
    weight: str
    bias: str
    per_channel: bool  # conv / depthwise weights per output channel


SCHEMES = {
    "int8": Scheme("INT8", "INT8", "INT32", True),
    "uint8": Scheme("UINT8", "UINT8", "INT32", False),  # legacy asymmetric, per-tensor weights
    "int16": Scheme("INT16", "INT8", "INT64", True),  # 16x8: symmetric int16 activations
}
QRANGE = {"INT8": (-128, 127), "UINT8": (0, 255), "INT16": (-32768, 32767)}


@dataclass
class QTensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # INT8 | INT32
    scale: np.ndarray | None = None  # float32, one per channel (or one)
    zero_point: np.ndarray | None = None  # int64
    axis: int = 0
    data: np.ndarray | None = None  # int8 / int32 constant data
    variable: bool = False  # a variable tensor (SVDF state), zero at start


def _f32(values) -> np.ndarray:
    return np.asarray(values, np.float64).astype(np.float32)


def act_qparams(lo: float, hi: float, act: str = "NONE", dtype: str = "INT8") -> tuple[float, int]:
    """(scale, zero point) for a float range, clipped by the fused activation.

    int8/uint8 are asymmetric over 256 levels; int16 is symmetric (zero point 0).
    """
    if act in ("RELU", "RELU6"):
        lo = 0.0
    if act == "RELU6":
        hi = min(hi, 6.0)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    qmin, qmax = QRANGE[dtype]
    if dtype == "INT16":
        amax = max(-lo, hi)
        return float(np.float32(amax / qmax if amax > 0 else 1.0 / qmax)), 0
    scale = (hi - lo) / 255.0 if hi > lo else 1.0 / 255.0
    scale = float(np.float32(scale))
    zp = int(np.clip(qmin - np.round(lo / scale), qmin, qmax))
    return scale, zp


def quantize_input(x: np.ndarray, scale: float, zero_point: int, dtype: str = "INT8") -> np.ndarray:
    qmin, qmax = QRANGE[dtype]
    q = np.clip(np.round(np.asarray(x, np.float64) / scale) + zero_point, qmin, qmax)
    return q.astype(np.dtype(dtype.lower()))


def _asymmetric_weights(name: str, w: np.ndarray) -> QTensor:
    """Legacy uint8 weights: one asymmetric (scale, zero point) for the whole tensor."""
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale, zp = act_qparams(lo, hi, dtype="UINT8")
    data = np.clip(np.round(w / scale) + zp, 0, 255).astype(np.uint8)
    return QTensor(name, w.shape, "UINT8", _f32([scale]), np.array([zp], np.int64), 0, data)


def _weights(name: str, w: np.ndarray, axis: int | None) -> QTensor:
    if axis is None:
        amax = np.array([np.abs(w).max()])
        scale = _f32(np.where(amax > 0, amax / 127.0, 1.0))
        q = np.round(w / np.float64(scale[0]))
        axis = 0
    else:
        reduce = tuple(i for i in range(w.ndim) if i != axis)
        amax = np.abs(w).max(axis=reduce)
        scale = _f32(np.where(amax > 0, amax / 127.0, 1.0))
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.round(w / scale.astype(np.float64).reshape(shape))
    data = np.clip(q, -127, 127).astype(np.int8)
    return QTensor(name, w.shape, "INT8", scale, np.zeros(scale.size, np.int64), axis, data)


def _bias(name: str, b: np.ndarray, in_scale: float, w_scale: np.ndarray, dtype: str = "INT32") -> QTensor:
    scale = np.float64(in_scale) * w_scale.astype(np.float64)
    bits = 32 if dtype == "INT32" else 48  # int64 bias of 16x8: TFLite keeps it within 48 bits
    q = np.clip(np.round(b / scale), -(2**(bits - 1)), 2**(bits - 1) - 1).astype(dtype.lower())
    return QTensor(name, b.shape, dtype, _f32(scale), np.zeros(scale.size, np.int64), 0, q)


def quantize(graph: Graph, cal: Calibration, input_ranges: dict[str, tuple[float, float]],
             scheme: str = "int8") -> dict[str, QTensor]:
    """Quantized tensors of the graph, keyed by name (constants carry their int data)."""
    q: dict[str, QTensor] = {}
    sch = SCHEMES[scheme]

    def act(name: str, scale: float, zp: int) -> None:
        q[name] = QTensor(name, graph.shape(name), sch.act, _f32([scale]), np.array([zp], np.int64))

    for name in graph.inputs:
        lo, hi = input_ranges.get(name, cal.ranges[name])
        act(name, *act_qparams(lo, hi, dtype=sch.act))
    for node in graph.nodes:
        src = q[node.inputs[DATA_INPUT.get(node.op, 0)]]
        for out in node.outputs:
            if node.op in INDEX_OUTPUTS:
                q[out] = QTensor(out, graph.shape(out), "INT32")
            elif node.op in FIXED_QPARAMS:
                act(out, *FIXED_QPARAMS[node.op][sch.act])
            elif node.op in SAME_AS_INPUT:
                act(out, float(src.scale[0]), int(src.zero_point[0]))
            elif node.op == "QUANTIZE":  # requantize onto a wider, shifted range
                lo, hi = cal.ranges[node.inputs[0]]
                gain, shift = node.attrs["range_gain"], node.attrs["range_shift"]
                act(out, *act_qparams(lo * gain + shift, hi * gain + shift, dtype=sch.act))
            else:
                standalone = node.op if node.op in ("RELU", "RELU6") else "NONE"
                act(out, *act_qparams(*cal.ranges[out], node.attrs.get("act", standalone), sch.act))
        for name in node.inputs:
            t = graph.tensors[name]
            if t.kind in ("shape", "indices") and name not in q:
                q[name] = QTensor(name, t.shape, "INT32", data=t.data.astype(np.int32))
            elif t.kind == "same_as_input":  # PADV2's constant: quantized like the data
                value = quantize_input(t.data, float(src.scale[0]), int(src.zero_point[0]), sch.act)
                q[name] = QTensor(name, t.shape, sch.act, src.scale, src.zero_point, data=value.reshape(t.shape))
        if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            wt, bt = (graph.tensors[n] for n in node.inputs[1:])
            if sch.weight == "UINT8":
                q[wt.name] = _asymmetric_weights(wt.name, wt.data)
            else:
                axis = wt.quant_axis if sch.per_channel or wt.quant_axis is None else None
                q[wt.name] = _weights(wt.name, wt.data, axis)
            q[bt.name] = _bias(bt.name, bt.data, float(src.scale[0]), q[wt.name].scale, sch.bias)
        elif node.op == "TRANSPOSE_CONV":
            if sch.act != "INT8":
                raise ValueError(f"{graph.name}: TRANSPOSE_CONV is generated as int8 only")
            wt, bt = (graph.tensors[n] for n in node.inputs[1:4:2])
            q[wt.name] = _weights(wt.name, wt.data, wt.quant_axis)
            q[bt.name] = _bias(bt.name, bt.data, float(src.scale[0]), q[wt.name].scale)
        elif node.op == "SVDF":
            if sch.act != "INT8":
                raise ValueError(f"{graph.name}: SVDF is generated as int8 only")
            q.update(_svdf_constants(graph, node, cal))
        elif node.op == seq_models.LSTM:  # seq: weights, biases, states, intermediates
            q.update(seq_models.lstm_constants(graph, node, cal, q, _weights, _bias))
        elif node.op == "PRELU":  # alpha: asymmetric, in the scheme's weight type
            at = graph.tensors[node.inputs[1]]
            scale, zp = act_qparams(float(at.data.min()), float(at.data.max()), dtype=sch.weight)
            q[at.name] = QTensor(at.name, at.shape, sch.weight, _f32([scale]), np.array([zp], np.int64), 0,
                                 quantize_input(at.data, scale, zp, sch.weight))
    return q


def _symmetric16(name: str, shape: tuple[int, ...], amax: float, values: np.ndarray | None) -> QTensor:
    scale = _f32([amax / 32767.0 if amax > 0 else 1.0])
    data = None if values is None else np.clip(np.round(values / np.float64(scale[0])), -32767, 32767).astype(np.int16)
    return QTensor(name, shape, "INT16", scale, np.zeros(1, np.int64), 0, data, variable=values is None)


def _svdf_constants(graph: Graph, node, cal: Calibration) -> dict[str, QTensor]:
    """int8 feature weights (per tensor), int16 time weights and state (symmetric), int32 bias
    on the scale state·time weights (the integer kernel adds it there)."""
    wf, wt, b, st = (graph.tensors[n] for n in node.inputs[1:5])
    feature = _weights(wf.name, wf.data, None)
    time = _symmetric16(wt.name, wt.shape, float(np.abs(wt.data).max()), wt.data)
    state = _symmetric16(st.name, st.shape, float(max(abs(v) for v in cal.ranges[st.name])), None)
    bias_scale = np.float64(state.scale[0]) * np.float64(time.scale[0])
    bias = QTensor(b.name, b.shape, "INT32", _f32([bias_scale]), np.zeros(1, np.int64), 0,
                   np.clip(np.round(b.data / bias_scale), -(2**31), 2**31 - 1).astype(np.int32))
    return {t.name: t for t in (feature, time, state, bias)}


# -- float32 and dynamic-range (hybrid) models ----------------------------------------------------

FLOAT_SCHEMES = ("float32", "hybrid")
HYBRID_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def float_tensors(graph: Graph, scheme: str = "float32") -> dict[str, QTensor]:
    """Tensors of an unquantized model: float32 activations and constants, int32 shapes.

    `hybrid` is the converter's dynamic-range quantization: the weights of CONV_2D,
    DEPTHWISE_CONV_2D and FULLY_CONNECTED int8 symmetric (per channel for the convs, per tensor
    for FC), everything else float32.
    """
    if scheme not in FLOAT_SCHEMES:
        raise ValueError(f"unknown float scheme {scheme!r}")
    q: dict[str, QTensor] = {}
    for name, t in graph.tensors.items():
        if t.kind in ("shape", "indices"):
            q[name] = QTensor(name, t.shape, "INT32", data=t.data.astype(np.int32))
        elif t.kind in ("state", "weight16"):
            raise ValueError(f"{graph.name}: {t.kind} tensors are generated as integers only")
        else:
            data = None if t.data is None else np.asarray(t.data, np.float64).astype(np.float32).reshape(t.shape)
            q[name] = QTensor(name, t.shape, "FLOAT32", data=data)
    if scheme == "hybrid":
        for node in graph.nodes:
            if node.op in HYBRID_OPS:
                wt = graph.tensors[node.inputs[1]]
                q[wt.name] = _weights(wt.name, wt.data, wt.quant_axis if node.op != "FULLY_CONNECTED" else None)
    return q
