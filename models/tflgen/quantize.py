"""TFLite full-integer quantization conventions applied to a calibrated graph.

int8 activations are asymmetric over a range that includes 0; conv/depthwise
weights are symmetric per output channel, FC weights symmetric per tensor; bias
is int32 with scale = input scale x weight scale; softmax output is (1/256, -128);
pool and reshape outputs keep their input's parameters, as the converter does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibrate import Calibration
from .graph import Graph

SOFTMAX_QPARAMS = (1.0 / 256.0, -128)
FIXED_QPARAMS = {"SOFTMAX": SOFTMAX_QPARAMS, "LOGISTIC": (1.0 / 256.0, -128), "TANH": (1.0 / 128.0, 0)}
SAME_AS_INPUT = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "RESIZE_BILINEAR")
DATA_INPUT = {"TRANSPOSE_CONV": 2}  # index of the activation input where it is not 0


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


def act_qparams(lo: float, hi: float, act: str = "NONE") -> tuple[float, int]:
    """Asymmetric int8 (scale, zero point) for a float range, clipped by the fused activation."""
    if act in ("RELU", "RELU6"):
        lo = 0.0
    if act == "RELU6":
        hi = min(hi, 6.0)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0 / 255.0
    scale = float(np.float32(scale))
    zp = int(np.clip(-128 - np.round(lo / scale), -128, 127))
    return scale, zp


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return np.clip(np.round(np.asarray(x, np.float64) / scale) + zero_point, -128, 127).astype(np.int8)


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


def _bias(name: str, b: np.ndarray, in_scale: float, w_scale: np.ndarray) -> QTensor:
    scale = np.float64(in_scale) * w_scale.astype(np.float64)
    q = np.clip(np.round(b / scale), -(2**31), 2**31 - 1).astype(np.int32)
    return QTensor(name, b.shape, "INT32", _f32(scale), np.zeros(scale.size, np.int64), 0, q)


def quantize(graph: Graph, cal: Calibration, input_ranges: dict[str, tuple[float, float]]) -> dict[str, QTensor]:
    """Quantized tensors of the graph, keyed by name (constants carry their int data)."""
    q: dict[str, QTensor] = {}

    def act(name: str, scale: float, zp: int) -> None:
        q[name] = QTensor(name, graph.shape(name), "INT8", _f32([scale]), np.array([zp], np.int64))

    for name in graph.inputs:
        lo, hi = input_ranges.get(name, cal.ranges[name])
        act(name, *act_qparams(lo, hi))
    for node in graph.nodes:
        for st in (graph.tensors[n] for n in node.inputs):
            if st.kind == "shape":  # shapes, axes, sizes: plain int32 constants
                q[st.name] = QTensor(st.name, st.shape, "INT32", data=st.data.astype(np.int32))
        src = q[node.inputs[DATA_INPUT.get(node.op, 0)]]
        if node.op in FIXED_QPARAMS:
            act(node.output, *FIXED_QPARAMS[node.op])
        elif node.op in SAME_AS_INPUT:
            act(node.output, float(src.scale[0]), int(src.zero_point[0]))
        elif node.op == "QUANTIZE":
            lo, hi = cal.ranges[node.inputs[0]]
            gain, shift = node.attrs["range_gain"], node.attrs["range_shift"]
            act(node.output, *act_qparams(lo * gain + shift, hi * gain + shift))
        else:
            act(node.output, *act_qparams(*cal.ranges[node.output], node.attrs.get("act", "NONE")))
        if node.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
            wt, bt = (graph.tensors[n] for n in node.inputs if graph.tensors[n].kind in ("weight", "bias"))
            q[wt.name] = _weights(wt.name, wt.data, wt.quant_axis)
            q[bt.name] = _bias(bt.name, bt.data, float(src.scale[0]), q[wt.name].scale)
        elif node.op == "SVDF":
            q.update(_svdf_constants(graph, node, cal))
        elif node.op == "PRELU":
            at = graph.tensors[node.inputs[1]]
            scale, zp = act_qparams(float(at.data.min()), float(at.data.max()))
            q[at.name] = QTensor(at.name, at.shape, "INT8", _f32([scale]), np.array([zp], np.int64), 0,
                                 quantize_input(at.data, scale, zp))
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


def to_int16(graph: Graph, q: dict[str, QTensor], cal: Calibration,
               input_ranges: dict[str, tuple[float, float]]) -> dict[str, QTensor]:
    """The 16x8 form of a weightless int8 model: int16 activations, symmetric (zero point 0)
    over the calibrated range; LOGISTIC/TANH output 1/32768; pass-through ops keep their input's."""
    out = dict(q)
    for name in graph.inputs + [node.output for node in graph.nodes]:
        lo, hi = input_ranges.get(name, cal.ranges[name])
        amax = max(abs(lo), abs(hi))
        out[name] = QTensor(name, graph.shape(name), "INT16", _f32([amax / 32767.0 if amax > 0 else 1.0 / 32767.0]),
                            np.zeros(1, np.int64))
    for node in graph.nodes:
        if any(graph.tensors[n].kind == "weight" for n in node.inputs):
            raise ValueError(f"int16 variant of {graph.name}: weighted layers are not generated as int16")
        if node.op in ("LOGISTIC", "TANH"):
            out[node.output] = QTensor(node.output, graph.shape(node.output), "INT16", _f32([1.0 / 32768.0]),
                                       np.zeros(1, np.int64))
        elif node.op in SAME_AS_INPUT:
            src = out[node.inputs[0]]
            out[node.output] = QTensor(node.output, graph.shape(node.output), "INT16", src.scale, src.zero_point)
    return out


def to_uint8(graph: Graph, q: dict[str, QTensor]) -> dict[str, QTensor]:
    """The legacy uint8 form of an int8 model: activations (and PRELU alpha) as uint8 with zero
    point + 128 and data + 128, the same real values.  Weighted layers keep no uint8 form here."""
    out = dict(q)
    for name, t in q.items():
        kind = graph.tensors[name].kind
        if kind == "weight":
            raise ValueError(f"uint8 variant of {graph.name}: weighted layers are not generated as uint8")
        if t.dtype != "INT8" or kind not in ("act", "alpha"):
            continue
        data = None if t.data is None else (t.data.astype(np.int16) + 128).astype(np.uint8)
        out[name] = QTensor(t.name, t.shape, "UINT8", t.scale, t.zero_point + 128, t.axis, data)
    return out
