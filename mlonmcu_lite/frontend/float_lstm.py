"""Float UNIDIRECTIONAL_SEQUENCE_LSTM unrolled into Relax (TFLite's float kernel, lstm_eval.cc).

TVM 0.27 imports only the coupled input-forget (CIFG) variant; a Keras LSTM has all four
gates.  Per time step, with the zero initial state (TFLite's variable tensors, reset before
every inference as on the VP):

    i, f, o = sigmoid(x_t·W_{i,f,o}ᵀ + h·R_{i,f,o}ᵀ + b (+ c·peephole))   (CIFG: i = 1 − f)
    g = act(x_t·W_cᵀ + h·R_cᵀ + b_c);  c = clip(f·c + i·g);  h = o·act(c)  (+ projection, clip)

Each step is two matmuls (input, recurrent) with every weight one shared constant: the
firmware stores the weights once and keeps only one step's gates live (as TFLite's kernel).
Layer-normalized LSTMs are rejected (not lowered).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tvm
from tvm import relax
from tvm.relax import op as R

from .lstm import BIAS, INPUT, LAYER_NORM, PEEPHOLE, PROJECTION, W_IN, W_REC

GATES = "ifco"  # TFLite's order of the input / recurrent weights and biases


@dataclass(frozen=True)
class LSTMWeights:
    """float32 constants of one LSTM; `None` for an absent optional tensor."""

    input_w: dict[str, np.ndarray | None]  # gate -> [units, features]
    recurrent_w: dict[str, np.ndarray | None]  # gate -> [units, out]
    peephole: dict[str, np.ndarray | None]  # "i", "f", "o" -> [units]
    bias: dict[str, np.ndarray | None]  # gate -> [units]
    projection_w: np.ndarray | None  # [out, units]
    projection_b: np.ndarray | None
    cell_clip: float
    proj_clip: float


def _transposed(w: np.ndarray) -> relax.Constant:
    return relax.const(np.ascontiguousarray(w.T, np.float32))


def _gates(all_w: dict[str, np.ndarray | None], gates: str) -> np.ndarray:
    return np.concatenate([all_w[g] for g in gates], axis=0)


def unrolled_lstm(x: relax.Expr, shape: tuple[int, int, int], time_major: bool, w: LSTMWeights,
                  act) -> relax.Expr:
    """The LSTM's output sequence ([batch, time, out] or time-major) from the zero state."""
    cifg = w.input_w["i"] is None
    gates = GATES[1:] if cifg else GATES
    units = w.input_w["f"].shape[0]
    steps, batch = (shape[0], shape[1]) if time_major else (shape[1], shape[0])
    features = shape[2]
    bias = np.concatenate([w.bias[g] if w.bias[g] is not None else np.zeros(units, np.float32) for g in gates])
    inputs = _transposed(_gates(w.input_w, gates))
    gate_bias = relax.const(bias.astype(np.float32))
    # One constant object per weight, shared by every step (the firmware stores it once).
    recurrent = _transposed(_gates(w.recurrent_w, gates))
    peepholes = {g: relax.const(p.astype(np.float32)) for g, p in w.peephole.items() if p is not None}
    projection = _transposed(w.projection_w) if w.projection_w is not None else None
    projection_b = relax.const(w.projection_b.astype(np.float32)) if w.projection_b is not None else None
    h = c = None
    outputs = []
    for t in range(steps):
        x_t = R.reshape(R.strided_slice(x, axes=[0 if time_major else 1], begin=[t], end=[t + 1]), (batch, features))
        z = R.add(R.matmul(x_t, inputs), gate_bias)
        if h is not None:
            z = R.add(z, R.matmul(h, recurrent))
        part = {g: R.strided_slice(z, axes=[1], begin=[k * units], end=[(k + 1) * units]) for k, g in enumerate(gates)}

        def peep(gate: str, cell: relax.Expr | None, pre: relax.Expr) -> relax.Expr:
            if cell is None or gate not in peepholes:
                return pre
            return R.add(pre, R.multiply(cell, peepholes[gate]))

        f = R.sigmoid(peep("f", c, part["f"]))
        i = R.subtract(relax.const(np.float32(1.0)), f) if cifg else R.sigmoid(peep("i", c, part["i"]))
        g = act(part["c"])
        c = R.multiply(i, g) if c is None else R.add(R.multiply(f, c), R.multiply(i, g))
        if w.cell_clip > 0:
            c = R.clip(c, -w.cell_clip, w.cell_clip)
        o = R.sigmoid(peep("o", c, part["o"]))
        h = R.multiply(o, act(c))
        if projection is not None:
            h = R.matmul(h, projection)
            if projection_b is not None:
                h = R.add(h, projection_b)
            if w.proj_clip > 0:
                h = R.clip(h, -w.proj_clip, w.proj_clip)
        outputs.append(R.expand_dims(h, axis=0 if time_major else 1))
    return R.concat(outputs, axis=0 if time_major else 1)


class FloatLSTMConverter:
    """Mixin of `converter.Converter`: float UNIDIRECTIONAL_SEQUENCE_LSTM (TVM's converter: CIFG only)."""

    def convert_unidirectional_sequence_lstm(self, op):
        from tflite.UnidirectionalSequenceLSTMOptions import UnidirectionalSequenceLSTMOptions

        if self.get_output_tensors(op)[0].qnn_params is not None:
            return super().convert_unidirectional_sequence_lstm(op)
        t = self.get_input_tensors(op)
        if len(t) < 24 or any(t[k].tensor_idx != -1 for k in LAYER_NORM):
            raise tvm.error.OpNotImplemented("layer-normalized UNIDIRECTIONAL_SEQUENCE_LSTM")

        def value(k: int) -> np.ndarray | None:
            if t[k].tensor_idx == -1:
                return None
            if self.has_expr(t[k].tensor_idx):
                raise tvm.error.OpNotImplemented("UNIDIRECTIONAL_SEQUENCE_LSTM with computed weights")
            return np.asarray(self.get_tensor_value(t[k]), np.float32)

        opts = UnidirectionalSequenceLSTMOptions()
        opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        weights = LSTMWeights(
            input_w={g: value(k) for g, k in zip(GATES, W_IN)},
            recurrent_w={g: value(k) for g, k in zip(GATES, W_REC)},
            peephole={g: value(k) for g, k in zip("ifo", PEEPHOLE)},
            bias={g: value(k) for g, k in zip(GATES, BIAS)},
            projection_w=value(PROJECTION[0]), projection_b=value(PROJECTION[1]),
            cell_clip=float(opts.CellClip()), proj_clip=float(opts.ProjClip()))
        shape = tuple(int(d) for d in self.get_tensor_shape(t[INPUT]))
        activation = opts.FusedActivationFunction()

        def act(expr: relax.Expr) -> relax.Expr:
            return self.convert_fused_activation_function(expr, activation)

        return unrolled_lstm(self.get_tensor_expr(t[INPUT]), shape, bool(opts.TimeMajor()), weights, act)
