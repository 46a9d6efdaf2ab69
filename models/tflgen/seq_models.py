"""Sequence / audio models: int8 UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite's integer 8x8→16 LSTM).

The LSTM op has 24 inputs in fixed slots (optional ones -1), two variable state tensors
(int8 output state with the output's quantization, int16 cell state with a power-of-two
scale) and five intermediate tensors, the fifth holding the hidden state's quantization
(what the TFLite converter writes).  `lstm` adds it to a `Graph`; the writer, the float
forward pass and the quantizer call the hooks below.  `SEQ_OPS`: committed models run end to
end; `SEQ_SINGLE`: generated at test time only.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from ai_edge_litert import schema_py_generated as S

from .graph import Graph, Node, TensorDef
from .spec import ModelSpec
from .tflm_models import _spec

LSTM = "UNIDIRECTIONAL_SEQUENCE_LSTM"
VERSIONS = {LSTM: 1}
GATES = ("input", "forget", "cell", "output")
# Slots of the op's 24 inputs (TFLite's lstm::full): input, W_in ×4, W_rec ×4, biases ×4, states.
_SLOTS = {"x": 0, "w_in": (1, 2, 3, 4), "w_rec": (5, 6, 7, 8), "bias": (12, 13, 14, 15), "h": 18, "c": 19}


def lstm(g: Graph, x: str, name: str, units: int, cifg: bool = False, cell_clip: float = 0.0) -> str:
    """UNIDIRECTIONAL_SEQUENCE_LSTM (batch-major, full sequence out), Glorot-like weights."""
    n, steps, size = g.shape(x)
    gates = GATES[1:] if cifg else GATES
    w_in = [g._add(TensorDef(f"{name}/w_in_{k}", (units, size), "weight", g._he((units, size), size) * 0.7))
            for k in gates]
    w_rec = [g._add(TensorDef(f"{name}/w_rec_{k}", (units, units), "weight", g._he((units, units), units) * 0.5))
             for k in gates]
    bias = [g._add(TensorDef(f"{name}/bias_{k}", (units,), "bias",
                             g.rng.standard_normal(units) * 0.1 + (1.0 if k == "forget" else 0.0))) for k in gates]
    h = g._add(TensorDef(f"{name}/output_state", (n, units), "state"))
    c = g._add(TensorDef(f"{name}/cell_state", (n, units), "state"))
    slots = [_SLOTS["x"], *[s for k, s in zip(GATES, _SLOTS["w_in"]) if k in gates],
             *[s for k, s in zip(GATES, _SLOTS["w_rec"]) if k in gates],
             *[s for k, s in zip(GATES, _SLOTS["bias"]) if k in gates], _SLOTS["h"], _SLOTS["c"]]
    return g._node(LSTM, [x, *w_in, *w_rec, *bias, h, c], name, (n, steps, units), slots=slots,
                   gates=gates, cell_clip=cell_clip)


def _parts(graph: Graph, node: Node) -> dict:
    k = len(node.attrs["gates"])
    ins = node.inputs
    return {"w_in": dict(zip(node.attrs["gates"], ins[1:1 + k])),
            "w_rec": dict(zip(node.attrs["gates"], ins[1 + k:1 + 2 * k])),
            "bias": dict(zip(node.attrs["gates"], ins[1 + 2 * k:1 + 3 * k])), "h": ins[-2], "c": ins[-1]}


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(graph: Graph, node: Node, env: dict[str, np.ndarray]) -> np.ndarray:
    """Float LSTM over the sequence from zero states; records the cell state's values in `env`."""
    x = env[node.inputs[0]]
    p = _parts(graph, node)
    data = {key: {k: graph.tensors[t].data for k, t in p[key].items()} for key in ("w_in", "w_rec", "bias")}
    n, steps, _ = x.shape
    units = graph.shape(node.output)[-1]
    h, c, outs, cells = np.zeros((n, units)), np.zeros((n, units)), [], []
    for t in range(steps):
        z = {k: x[:, t] @ data["w_in"][k].T + h @ data["w_rec"][k].T + data["bias"][k] for k in data["w_in"]}
        f = _sigmoid(z["forget"])
        i = _sigmoid(z["input"]) if "input" in z else 1.0 - f
        c = f * c + i * np.tanh(z["cell"])
        if node.attrs["cell_clip"] > 0:
            c = np.clip(c, -node.attrs["cell_clip"], node.attrs["cell_clip"])
        h = _sigmoid(z["output"]) * np.tanh(c)
        outs.append(h)
        cells.append(c)
    env[p["c"]] = np.stack(cells, axis=1)
    return np.stack(outs, axis=1)


def lstm_constants(graph: Graph, node: Node, cal, q: dict, weights, bias) -> dict:
    """int8 per-tensor weights, int32 biases on the scale input·W_in (the integer kernel adds
    them to the input matmul), an int8 output state quantized as the output, an int16 cell
    state with the power-of-two scale covering its range, and the five intermediates."""
    from .quantize import QTensor, _f32

    x, out = q[node.inputs[0]], q[node.output]
    p = _parts(graph, node)
    tensors: dict = {}
    for k in node.attrs["gates"]:
        for key in ("w_in", "w_rec"):
            t = graph.tensors[p[key][k]]
            tensors[t.name] = weights(t.name, t.data, None)
        b = graph.tensors[p["bias"][k]]
        tensors[b.name] = bias(b.name, b.data, float(x.scale[0]), tensors[p["w_in"][k]].scale)
    h = graph.tensors[p["h"]]
    tensors[h.name] = QTensor(h.name, h.shape, "INT8", out.scale, out.zero_point, variable=True)
    c = graph.tensors[p["c"]]
    c_max = max(abs(v) for v in cal.ranges[c.name])
    log2 = max(math.ceil(math.log2(max(c_max, 1e-3) / 32767.0)), -15)
    tensors[c.name] = QTensor(c.name, c.shape, "INT16", _f32([2.0 ** log2]), np.zeros(1, np.int64), variable=True)
    for i in range(4):  # gate intermediates (read only by layer-norm LSTMs): Q3.12
        tensors[f"{node.output}/intermediate_{i}"] = QTensor(f"{node.output}/intermediate_{i}", (), "INT16",
                                                             _f32([2.0 ** -12]), np.zeros(1, np.int64))
    tensors[f"{node.output}/hidden"] = QTensor(f"{node.output}/hidden", (), "INT8", out.scale, out.zero_point)
    return tensors


def intermediates(node: Node) -> list[str]:
    """Names of the op's intermediate tensors (in `lstm_constants`)."""
    return [f"{node.output}/intermediate_{i}" for i in range(4)] + [f"{node.output}/hidden"]


def operator_inputs(node: Node, index: dict[str, int]) -> list[int]:
    """The op's 24 input slots, -1 where an optional input is absent."""
    slots = [-1] * 24
    for slot, name in zip(node.attrs["slots"], node.inputs):
        slots[slot] = index[name]
    return slots


def options(node: Node) -> tuple[int, object]:
    o = S.UnidirectionalSequenceLSTMOptionsT()
    o.fusedActivationFunction = S.ActivationFunctionType.TANH
    o.cellClip, o.projClip, o.timeMajor = float(node.attrs["cell_clip"]), 0.0, False
    o.asymmetricQuantizeInputs = False
    return S.BuiltinOptions.UnidirectionalSequenceLSTMOptions, o


def write_hook(node: Node, op: S.OperatorT, index: dict[str, int]) -> None:
    """Input slots and intermediates of an LSTM operator (a no-op for other ops)."""
    if node.op == LSTM:
        op.inputs = operator_inputs(node, index)
        op.intermediates = [index[n] for n in intermediates(node)]


# -- models ----------------------------------------------------------------------------------

def _lstm_fc(g: Graph) -> None:
    """A tiny LSTM classifier: [1, 6, 8] -> LSTM 12 -> last step -> FULLY_CONNECTED 4."""
    seq = lstm(g, g.input("input", (1, 6, 8)), "lstm", 12)
    last = g.strided_slice(seq, "last_step", [0, 5, 0], [1, 6, 12], [1, 1, 1], shrink_axis_mask=2)
    g.output(g.fully_connected(last, "fc", 4))


def _kws_lstm(g: Graph) -> None:
    """LSTM keyword spotting (49x10 MFCC frames -> LSTM 64 -> last step -> FC 12 -> SOFTMAX)."""
    seq = lstm(g, g.input("input", (1, 49, 10)), "lstm", 64)
    last = g.strided_slice(seq, "last_step", [0, 48, 0], [1, 49, 64], [1, 1, 1], shrink_axis_mask=2)
    g.output(g.softmax(g.fully_connected(last, "fc", 12), "softmax"))


def _gru_unrolled(g: Graph) -> None:
    """An RNNoise-like GRU unrolled over 3 steps from the int8 ops TFLite Micro has: SPLIT the
    frames, z/r = LOGISTIC(FC(x) + FC(h)), n = TANH(FC(x) + FC(r·h)), h = n + z·(h − n)."""
    frames = g.split(g.input("input", (1, 3, 8)), "frames", 3, 1)
    h = g.unary("TANH", g.fully_connected(g.reshape(frames[0], "x0", (1, 8)), "h0_fc", 8), "h0")
    for t, frame in enumerate(frames[1:], start=1):
        x = g.reshape(frame, f"x{t}", (1, 8))

        def gate(name: str, state: str, act: str) -> str:
            pre = g.add(g.fully_connected(x, f"{name}_x", 8), g.fully_connected(state, f"{name}_h", 8), f"{name}_sum")
            return g.unary(act, pre, name)

        z, r = gate(f"z{t}", h, "LOGISTIC"), gate(f"r{t}", h, "LOGISTIC")
        n = gate(f"n{t}", g.binary("MUL", r, h, f"rh{t}"), "TANH")
        h = g.add(g.binary("MUL", z, g.binary("SUB", h, n, f"hn{t}"), f"zhn{t}"), n, f"h{t}")
    g.output(h)


CHAINS: dict[str, tuple[str, Callable[[Graph], None]]] = {
    "lstm_fc": ("UNIDIRECTIONAL_SEQUENCE_LSTM int8 (6 steps, 12 units) -> STRIDED_SLICE -> FULLY_CONNECTED",
                _lstm_fc),
}
ZOO_CHAINS: dict[str, tuple[str, Callable[[Graph], None]]] = {
    "kws_lstm": ("LSTM keyword spotting: 49x10 MFCC -> UNIDIRECTIONAL_SEQUENCE_LSTM 64 (int8, int16 cell) -> "
                 "FULLY_CONNECTED 12 -> SOFTMAX", _kws_lstm),
}
SINGLE: dict[str, Callable[[Graph], None]] = {
    "lstm_seq": lambda g: g.output(lstm(g, g.input("input", (1, 5, 6)), "lstm", 8)),
    "gru_unrolled": _gru_unrolled,
    "lstm_cifg_clip": lambda g: g.output(lstm(g, g.input("input", (1, 7, 5)), "lstm", 6, cifg=True, cell_clip=1.5)),
}


SEQ_OPS: dict[str, ModelSpec] = {name: _spec(name, d, b) for name, (d, b) in CHAINS.items()}
SEQ_ZOO: dict[str, ModelSpec] = {name: _spec(name, d, b) for name, (d, b) in ZOO_CHAINS.items()}
SEQ_SINGLE: dict[str, ModelSpec] = {name: _spec(name, name, b) for name, b in SINGLE.items()}
