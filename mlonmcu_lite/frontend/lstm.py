"""int8 UNIDIRECTIONAL_SEQUENCE_LSTM → TFLite's integer LSTM (lstm_eval.cc, 8x8→16), unrolled.

TVM 0.27 refuses a quantized LSTM, so the converter builds the integer graph here, one
time step after the other, exactly as `LstmStepInteger8x8_16` computes it:

    gate  = clamp16(MBQM(W_rec·h + b_rec, s_rec) + clamp16(MBQM(W_in·x + b_in, s_in)))   (Q3.12)
    i,f,o = logistic(gate), g = tanh(gate)                          (gemmlowp int16, fixedpoint16)
    c     = clamp16(RDBP(f·c, 15) + RDBP(i·g, 30 + cell_scale))     (cell state: int16, 2^cell_scale)
    h     = clamp8(MBQM(o · tanh(c), 2^-30 / s_hidden) + zp_hidden)

b_in / b_rec carry the zero points (−zp·Σ_row W, PrecomputeZeroPointTimesWeightWithBias);
the effective scales are float32 products as in Prepare (`PopulateQuantizedLstmParams8x8_16`).
Every inference starts from the reset variables (h = its zero point, c = 0), as the reference
after `reset_all_variables`, so step 0 has no recurrent term and no forget term.  Supported:
full or CIFG gates, cell clip; peephole, projection and layer-norm LSTMs are rejected at import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tvm
from tvm import relax, te, tirx
from tvm.relax import op as R

from . import fixedpoint16 as fx
from .fixedpoint import Multipliers, f32
from .qparams import file_scale_zp

# Input positions of the TFLite op (lstm::full in TFLite).
INPUT, W_IN, W_REC, BIAS = 0, (1, 2, 3, 4), (5, 6, 7, 8), (12, 13, 14, 15)
PEEPHOLE, PROJECTION, OUTPUT_STATE, CELL_STATE, LAYER_NORM = (9, 10, 11), (16, 17), 18, 19, (20, 21, 22, 23)
GATES = ("input", "forget", "cell", "output")
GATE_SCALE = 2.0 ** -12  # Q3.12 gate values without layer norm


@dataclass(frozen=True)
class Gate:
    """One gate's constants: int8 weights [n_cell, n_in] / [n_cell, n_out], the folded biases
    and the effective multipliers of its two matmuls."""

    w_in: np.ndarray
    w_rec: np.ndarray
    bias_in: np.ndarray  # int32: gate bias − zp_x·Σ W_in
    bias_rec: np.ndarray  # int32: −zp_h·Σ W_rec
    scale_in: Multipliers
    scale_rec: Multipliers


@dataclass(frozen=True)
class LSTMParams:
    gates: dict[str, Gate]  # "input" missing for CIFG
    cell_scale: int  # log2 of the cell state's scale
    cell_clip: int  # 0: none
    hidden: Multipliers
    hidden_zp: int
    output_state_zp: int
    time_major: bool


def effective_scale(w_scale: float, x_scale: float, gate_scale: float = GATE_SCALE) -> Multipliers:
    """`weight_scale * input_scale / intermediate_scale` in float32, then QuantizeMultiplier."""
    return Multipliers.of([f32(f32(f32(w_scale) * f32(x_scale)) / f32(gate_scale))])


def hidden_scale(hidden: float) -> Multipliers:
    """`pow(2, -15) / intermediate_scale[4] * pow(2, -15)` in double, stored as float."""
    return Multipliers.of([f32(2.0 ** -15 / f32(hidden) * 2.0 ** -15)])


def cell_scale_log2(scale: float) -> int:
    """CheckedLog2: the int16 cell state's scale must be a power of two."""
    log = math.log2(scale)
    if abs(log - round(log)) > 1e-3:
        raise tvm.error.OpNotImplemented(f"UNIDIRECTIONAL_SEQUENCE_LSTM with a cell state scale {scale} that is "
                                         f"not a power of two (TFLite's integer LSTM requires one)")
    return int(round(log))


def _mbqm(o: fx.TeBackend, x, m: Multipliers):
    """MultiplyByQuantizedMultiplier (double rounding) of an int32 value; an int32 value.

    The identities of requant.py: SaturatingRoundingDoublingHighMul(x·2^left, M) is
    (x·(M << left) + 2^30) >> 31, RoundingDivideByPOT adds 2^(r−1) (− 1 below zero) and shifts.
    """
    mult, shift = m.multiplier[0], m.shift[0]
    left, right = max(shift, 0), max(-shift, 0)

    def i64(v: int):
        return tirx.const(v, "int64")

    high = o.stage(lambda i: (tirx.Cast("int64", o.load(x, i)) * i64(mult << left) + i64(1 << 30)) >> i64(31), "srdhm")
    rounded = high
    if right:
        half = 1 << (right - 1)
        rounded = o.stage(lambda i: (o.load(high, i) + tirx.Select(o.load(high, i) < i64(0), i64(half - 1), i64(half)))
                          >> i64(right), "rdbp")
    return o.stage(lambda i: tirx.Cast("int32", o.load(rounded, i)), "narrow")


def _gate(o: fx.TeBackend, p: LSTMParams, name: str, col: int, acc_in, acc_rec):
    """A gate's Q3.12 pre-activation: the two MatrixBatchVectorMultiplyAccumulate's, each clamped."""
    g = p.gates[name]
    acc = o.stage(lambda i: acc_in[i[0], col + i[1]], "acc_in")
    value = o.clip(_mbqm(o, acc, g.scale_in), fx.INT16_MIN, fx.INT16_MAX)
    if acc_rec is None:  # step 0: h is its zero point, W·(h − zp) = 0
        return value
    rec = o.stage(lambda i: acc_rec[i[0], col + i[1]], "acc_rec")
    return o.clip(o.add(_mbqm(o, rec, g.scale_rec), value), fx.INT16_MIN, fx.INT16_MAX)


def _cell_te(p: LSTMParams, names: list[str], n_cell: int, acc_in, acc_rec=None, c_prev=None):
    """The new cell state (int16): UpdateLstmCellInteger of the input, forget and cell gates."""
    o = fx.TeBackend((int(acc_in.shape[0]), n_cell))
    col = {n: k * n_cell for k, n in enumerate(names)}
    f = fx.logistic(o, _gate(o, p, "forget", col["forget"], acc_in, acc_rec))
    g = fx.tanh(o, _gate(o, p, "cell", col["cell"], acc_in, acc_rec), 3)
    i = fx.logistic(o, _gate(o, p, "input", col["input"], acc_in, acc_rec)) if "input" in col \
        else o.sub(fx.INT16_MAX, f)  # CIFG: 1 − f
    cell = fx.rdbp(o, o.mul(i, g), 30 + p.cell_scale)
    if c_prev is not None:  # step 0: c = 0
        prev = o.stage(lambda k: tirx.Cast("int32", c_prev[k]), "cell_prev")
        cell = o.add(fx.rdbp(o, o.mul(f, prev), 15), cell)
    cell = o.clip(cell, fx.INT16_MIN, fx.INT16_MAX)
    if p.cell_clip > 0:
        cell = o.clip(cell, -p.cell_clip, p.cell_clip)
    return o.stage(lambda k: tirx.Cast("int16", cell[k]), "lstm_cell")


def _hidden_te(p: LSTMParams, names: list[str], n_cell: int, cell, acc_in, acc_rec=None):
    """The new output state (int8): output gate · tanh(cell), requantized (CalculateLstmOutputInteger8x8_16)."""
    o = fx.TeBackend((int(cell.shape[0]), n_cell))
    out_gate = fx.logistic(o, _gate(o, p, "output", names.index("output") * n_cell, acc_in, acc_rec))
    c = o.stage(lambda k: tirx.Cast("int32", cell[k]), "cell")
    product = o.mul(out_gate, fx.tanh(o, c, 15 + p.cell_scale))
    h = o.clip(o.add(_mbqm(o, product, p.hidden), p.hidden_zp), -128, 127)
    return o.stage(lambda k: tirx.Cast("int8", h[k]), "lstm_hidden")


def _stack_gates(p: LSTMParams, names: list[str], part: str) -> tuple[relax.Constant, relax.Constant]:
    """matmul's [K, gates·n_cell] int8 weights and the folded int32 bias of all gates (one ROM copy each)."""
    w = np.concatenate([getattr(p.gates[n], f"w_{part}") for n in names], axis=0)
    bias = np.concatenate([getattr(p.gates[n], f"bias_{part}") for n in names])
    return relax.const(np.ascontiguousarray(w.T).astype(np.int8), "int8"), relax.const(bias.astype(np.int32), "int32")


def integer_lstm(bb: relax.BlockBuilder, x: relax.Expr, shape: tuple[int, int, int], p: LSTMParams) -> relax.Expr:
    """The output sequence [batch, time, n_out] (time-major: [time, batch, n_out]), int8.

    Per step: two matmuls (+ folded bias) in Relax, then one TE kernel for the cell state and
    one for the output state, the gates' requantization and activations inlined in both.
    """
    names = [n for n in GATES if n in p.gates]
    w_in, b_in = _stack_gates(p, names, "in")
    w_rec, b_rec = _stack_gates(p, names, "rec")
    n_cell = int(p.gates["output"].w_in.shape[0])
    steps = shape[0] if p.time_major else shape[1]
    time_axis = 0 if p.time_major else 1
    h, c, outputs = None, None, []
    for t in range(steps):
        x_t = bb.emit(R.squeeze(R.strided_slice(x, axes=[time_axis], begin=[t], end=[t + 1]), axis=[time_axis]))
        acc = [bb.emit(R.add(R.matmul(x_t, w_in, out_dtype="int32"), b_in))]
        if h is not None:
            acc.append(bb.emit(R.add(R.matmul(h, w_rec, out_dtype="int32"), b_rec)))
        cell_args = [*acc, c] if c is not None else acc
        c = bb.emit_te(lambda *a: _cell_te(p, names, n_cell, *a), *cell_args, primfunc_name_hint="lstm_cell")
        h = bb.emit_te(lambda cell, *a: _hidden_te(p, names, n_cell, cell, *a), c, *acc,
                       primfunc_name_hint="lstm_hidden")
        outputs.append(h)
    return R.stack(outputs, axis=time_axis)


def lstm_variant(op, info) -> str | None:
    """What `frontend/support.py` rejects at load (before TVM's import): the LSTM variants not lowered."""
    x = info.tensors[op.inputs[INPUT]]
    if x.dtype != "int8":
        return f"{x.dtype} input (only the int8 8x8->16 integer LSTM is lowered)"
    for what, slots in (("peephole", PEEPHOLE), ("projection", PROJECTION), ("layer-norm", LAYER_NORM)):
        if any(slot < len(op.inputs) and op.inputs[slot] >= 0 for slot in slots):
            return f"{what} weights (not lowered: full or CIFG gates only)"
    if op.options.get("projClip", 0.0) > 0:
        return "a projection clip"
    return None


class LSTMConverter:
    """Mixin of `converter.Converter`: the int8 UNIDIRECTIONAL_SEQUENCE_LSTM (TVM's for float)."""

    def convert_unidirectional_sequence_lstm(self, op):
        if not self.is_quantized(op):
            return super().convert_unidirectional_sequence_lstm(op)
        from tflite.TensorType import TensorType
        from tflite.UnidirectionalSequenceLSTMOptions import UnidirectionalSequenceLSTMOptions

        tensors = self.get_input_tensors(op)
        present = [t.tensor_idx >= 0 for t in tensors]
        x = tensors[INPUT]
        if x.tensor.Type() != TensorType.INT8:
            raise tvm.error.OpNotImplemented("UNIDIRECTIONAL_SEQUENCE_LSTM with a non-int8 input (16x8 LSTM)")
        for what, idx in (("peephole", PEEPHOLE), ("projection", PROJECTION), ("layer-norm", LAYER_NORM)):
            if any(present[i] for i in idx if i < len(present)):
                raise tvm.error.OpNotImplemented(f"UNIDIRECTIONAL_SEQUENCE_LSTM with {what} weights")
        options = UnidirectionalSequenceLSTMOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        if options.ProjClip() > 0:
            raise tvm.error.OpNotImplemented("UNIDIRECTIONAL_SEQUENCE_LSTM with a projection clip")
        x_scale, x_zp = file_scale_zp(x)
        h_scale, h_zp = file_scale_zp(tensors[OUTPUT_STATE])
        c_scale, _ = file_scale_zp(tensors[CELL_STATE])
        hidden = self.get_tensors([op.Intermediates(4)])[0] if op.IntermediatesLength() == 5 else None
        if hidden is None:
            raise tvm.error.OpNotImplemented("UNIDIRECTIONAL_SEQUENCE_LSTM without its 5 intermediate tensors "
                                             "(TFLite's integer LSTM needs them)")
        hid_scale, hid_zp = file_scale_zp(hidden)
        gates = {}
        for name, wi, wr, b in zip(GATES, W_IN, W_REC, BIAS):
            if not present[wi]:
                continue
            w_in = self.get_tensor_value(tensors[wi]).astype(np.int64)
            w_rec = self.get_tensor_value(tensors[wr]).astype(np.int64)
            bias = self.get_tensor_value(tensors[b]).astype(np.int64) if present[b] else 0
            gates[name] = Gate(
                w_in=w_in.astype(np.int8), w_rec=w_rec.astype(np.int8),
                bias_in=(bias - x_zp * w_in.sum(axis=1)).astype(np.int32),
                bias_rec=(-h_zp * w_rec.sum(axis=1)).astype(np.int32),
                scale_in=effective_scale(file_scale_zp(tensors[wi])[0], x_scale),
                scale_rec=effective_scale(file_scale_zp(tensors[wr])[0], h_scale))
        cell_clip = options.CellClip()
        params = LSTMParams(
            gates=gates, cell_scale=cell_scale_log2(c_scale),
            cell_clip=int(np.trunc(np.clip(f32(cell_clip / f32(c_scale)), -32768, 32767))) if cell_clip > 0 else 0,
            hidden=hidden_scale(hid_scale), hidden_zp=hid_zp, output_state_zp=h_zp,
            time_major=bool(options.TimeMajor()))
        shape = tuple(int(d) for d in self.get_tensor_shape(x))
        return integer_lstm(self.bb, self.get_expr(x.tensor_idx), shape, params)

