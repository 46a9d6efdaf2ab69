"""Models of the ops TFLite Micro registers as float32 kernels only (floatops).

`FLOAT_ONLY`: committed chain models (models/float/<name>.tflite), several ops each, run end to
end on both ISAs by tests/harness/test_float_models.py.  Every model has float32 inputs and
outputs; masks (BOOL) and integer results (CAST) stay inside the graph.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .float_net import FloatNet, options
from .pipeline import GeneratedModel

SAMPLES = 3
# Weight inputs the converter's dynamic-range quantization makes int8 (LSTM: input, recurrent, projection).
HYBRID_INPUTS: dict[str, tuple[int, ...]] = {"UNIDIRECTIONAL_SEQUENCE_LSTM": (1, 2, 3, 4, 5, 6, 7, 8, 16),
                                             "SVDF": (1, 2), "FULLY_CONNECTED": (1,)}
Inputs = dict[str, tuple[tuple[int, ...], str]]  # name -> (shape, distribution: normal | positive | wide)


def _draw(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> np.ndarray:
    if kind == "positive":  # SQRT / RSQRT / LOG read positive values
        return rng.uniform(0.05, 4.0, shape)
    if kind == "nonzero":  # divisors: |b| in [0.5, 3], either sign
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 3.0, shape)
    if kind == "wide":  # ROUND / FLOOR / FLOOR_DIV: values spanning several integers, halves included
        return np.round(rng.uniform(-6.0, 6.0, shape) * 4.0) / 4.0
    return rng.standard_normal(shape)


@dataclass(frozen=True)
class FloatOnlySpec:
    """A float-only model: inputs with their distributions, and a body appending ops to a FloatNet."""

    name: str
    description: str
    inputs: Inputs
    body: Callable[[FloatNet, list[int], np.random.Generator], None]
    hybrid: bool = False  # dynamic-range: int8 weights of the ops in HYBRID_INPUTS

    @property
    def seed(self) -> int:
        return zlib.crc32(self.name.encode())

    def net(self) -> FloatNet:
        net = FloatNet()
        ins = [net.input(n, shape) for n, (shape, _) in self.inputs.items()]
        self.body(net, ins, np.random.default_rng(self.seed))
        if self.hybrid:
            net.quantize_weights(HYBRID_INPUTS)
        return net

    def tflite(self) -> bytes:
        return self.net().tflite()

    def generate(self) -> GeneratedModel:
        """The model, its metadata (as pipeline.generate writes it) and float32 samples."""
        net = self.net()
        raw = net.tflite()  # fills in the computed shapes

        def spec(i: int) -> dict:
            t = net.tensors[i]
            return {"name": t.name.decode(), "shape": list(t.shape), "dtype": "float32"}

        metadata = {"name": self.name, "description": self.description,
                    "inputs": [spec(i) for i in net.inputs], "outputs": [spec(i) for i in net.outputs],
                    "macs": _macs(raw), "ops": [op for op, *_ in net.operators],
                    "weight_bytes": int(sum(b.nbytes for b in net.buffers if b is not None)),
                    "samples": f"{self.name}.samples.npz", "goldens": f"{self.name}.golden.npz"}
        return GeneratedModel(self.name, raw, metadata, self.samples())

    def samples(self) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed + 1000)
        return [_draw(rng, (SAMPLES, *shape), kind).astype(np.float32) for shape, kind in self.inputs.values()]


def _macs(raw: bytes) -> int:
    """The model's MACs as the harness counts them (tflite_info), so metadata and `bench models` agree."""
    import tempfile

    from mlonmcu_lite.zoo.tflite_info import read_tflite

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(raw)
        return read_tflite(path).macs


def _w(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float32)


def _one(value: float):
    return np.array([value], np.float32)


def _chain_arith(net, ins, rng):
    """DIV, SQUARED_DIFFERENCE, SQUARE, NEG, ADD_N, ABS, SQRT, RSQRT; FLOOR_DIV, FLOOR_MOD, FLOOR (float)."""
    a, b = ins
    q = net.op("DIV", [a, b], "div", opts=options("DivOptions"))
    n = net.op("ADD_N", [net.op("SQUARED_DIFFERENCE", [q, a], "squared_difference"), net.op("SQUARE", [a], "square"),
                         net.op("NEG", [q], "neg")], "add_n")
    m = net.op("ABS", [n], "abs")
    root = net.op("SQRT", [m], "sqrt")
    inv = net.op("RSQRT", [net.op("ADD", [m, net.const("one", _one(1.0))], "add_one", opts=options("AddOptions"))],
                 "rsqrt")
    out = net.op("MUL", [root, inv], "mul", opts=options("MulOptions"))
    fl = net.op("ADD_N", [net.op("FLOOR_DIV", [a, b], "floor_div"), net.op("FLOOR_MOD", [a, b], "floor_mod"),
                          net.op("FLOOR", [q], "floor")], "add_n_floor")
    net.output(out, fl)


def _chain_transcendental(net, ins, rng):
    """EXP -> LOG, SIN, COS, GELU (exact, approximate), HARD_SWISH, LOG_SOFTMAX, L2_NORMALIZATION, L2_POOL_2D
    (libm: expf, logf, sinf, cosf, erff, tanhf, sqrtf)."""
    (x,) = ins
    wave = net.op("ADD", [net.op("SIN", [x], "sin"), net.op("COS", [x], "cos")], "add_wave",
                  opts=options("AddOptions"))
    y = net.op("LOG", [net.op("EXP", [wave], "exp")], "log")
    g = net.op("HARD_SWISH", [net.op("GELU", [y], "gelu", opts=options("GeluOptions"))], "hard_swish")
    g = net.op("GELU", [g], "gelu_approximate", opts=options("GeluOptions", approximate=True))
    pooled = net.op("L2_POOL_2D", [g], "l2_pool_2d", opts=options("Pool2DOptions", padding=1, strideH=2, strideW=2,
                                                                   filterHeight=2, filterWidth=2))
    net.output(net.op("LOG_SOFTMAX", [pooled], "log_softmax", opts=options("LogSoftmaxOptions")),
               net.op("L2_NORMALIZATION", [g], "l2_normalization", opts=options("L2NormOptions")))


def _chain_logic(net, ins, rng):
    """GREATER / LESS / EQUAL / NOT_EQUAL / GREATER_EQUAL / LESS_EQUAL -> LOGICAL_AND / OR / NOT -> SELECT_V2,
    SELECT and CAST (bool -> float32, float32 -> int32 -> float32)."""
    a, b = ins
    zero = net.const("zero", _one(0.0))
    inside = net.op("LOGICAL_AND", [net.op("GREATER", [a, b], "greater", dtype="BOOL"),
                                    net.op("LESS_EQUAL", [a, net.const("two", _one(2.0))], "less_equal", dtype="BOOL")],
                    "logical_and", dtype="BOOL")
    edge = net.op("LOGICAL_OR", [net.op("EQUAL", [a, b], "equal", dtype="BOOL"),
                                 net.op("LESS", [a, zero], "less", dtype="BOOL")], "logical_or", dtype="BOOL")
    keep = net.op("LOGICAL_NOT", [net.op("NOT_EQUAL", [b, zero], "not_equal", dtype="BOOL")], "logical_not",
                  dtype="BOOL")
    pick = net.op("SELECT_V2", [inside, a, b], "select_v2")
    both = net.op("LOGICAL_OR", [keep, net.op("GREATER_EQUAL", [b, a], "greater_equal", dtype="BOOL")], "either",
                  dtype="BOOL")
    chosen = net.op("SELECT", [both, pick, net.op("NEG", [pick], "neg")], "select")
    mask = net.op("CAST", [edge], "cast_mask", opts=options("CastOptions", inDataType=6, outDataType=0))
    whole = net.op("CAST", [net.op("CAST", [a], "cast_int", dtype="INT32",
                                   opts=options("CastOptions", inDataType=0, outDataType=2))], "cast_float",
                   opts=options("CastOptions", inDataType=2, outDataType=0))
    net.output(net.op("ADD_N", [chosen, mask, whole], "add_n"))


def _chain_reduce(net, ins, rng):
    """BATCH_MATMUL (adj_y) -> CUMSUM (+ FILL of SHAPE, ZEROS_LIKE) -> BATCH_MATMUL (adj_x, constant weights)
    -> SUM and TANH -> REDUCE_PROD."""
    a, b = ins
    mm = net.op("BATCH_MATMUL", [a, b], "batch_matmul", opts=options("BatchMatMulOptions", adjY=True))
    cs = net.op("CUMSUM", [mm, net.const("axis", np.array(2, np.int32))], "cumsum", opts=options("CumsumOptions"))
    dims = net.op("SHAPE", [mm], "shape", dtype="INT32", opts=options("ShapeOptions", outType=2))
    filled = net.op("FILL", [dims, net.const("value", _one(0.25)[0])], "fill")
    base = net.op("ADD_N", [cs, filled, net.op("ZEROS_LIKE", [mm], "zeros_like")], "add_n")
    proj = net.op("BATCH_MATMUL", [base, net.const("proj_w", _w(rng, 5, 4))], "batch_matmul_adj_x",
                  opts=options("BatchMatMulOptions", adjX=True))
    net.output(net.op("SUM", [proj, net.const("sum_axes", np.array([0, 2], np.int32))], "sum",
                      opts=options("ReducerOptions", keepDims=True)),
               net.op("REDUCE_PROD", [net.op("TANH", [proj], "tanh"), net.const("prod_axis", np.array([1], np.int32))],
                      "reduce_prod", opts=options("ReducerOptions", keepDims=False)))


def _chain_rounding(net, ins, rng):
    """CEIL, ROUND (half to even, on inputs with exact halves) and ELU: ops ai-edge-litert 2.3's BUILTIN_REF
    lacks, checked against TFLite's builtin float kernels (zoo/reference.py)."""
    (x,) = ins
    r = net.op("ADD", [net.op("CEIL", [x], "ceil"), net.op("ROUND", [x], "round")], "add",
               opts=options("AddOptions"))
    net.output(net.op("ELU", [net.op("SUB", [r, x], "sub", opts=options("SubOptions"))], "elu"))


def _transpose_conv(net, ins, rng):
    """TRANSPOSE_CONV 3x3 stride 2 SAME (bias, RELU) -> TRANSPOSE_CONV 2x2 stride 1 VALID (no bias)."""
    (x,) = ins
    w1 = net.const("w1", _w(rng, 6, 3, 3, 4))
    y = net.op("TRANSPOSE_CONV", [net.const("shape1", np.array([1, 10, 12, 6], np.int32)), w1, x,
                                  net.const("b1", (0.1 * rng.standard_normal(6)).astype(np.float32))],
               "transpose_conv_s2", version=4, opts=options("TransposeConvOptions", padding=0, strideH=2, strideW=2,
                                                             fusedActivationFunction=1))
    net.output(net.op("TRANSPOSE_CONV", [net.const("shape2", np.array([1, 11, 13, 3], np.int32)),
                                         net.const("w2", _w(rng, 3, 2, 2, 6)), y, -1],
                      "transpose_conv_valid", opts=options("TransposeConvOptions", padding=1, strideH=1, strideW=1)))


def _svdf(net, ins, rng):
    """FULLY_CONNECTED -> SVDF (rank 2, RELU, memory 6) -> FULLY_CONNECTED: a keyword spotter's step."""
    (x,) = ins
    h = net.op("FULLY_CONNECTED", [x, net.const("fc_w", _w(rng, 16, 20)), net.const("fc_b", np.zeros(16, np.float32))],
               "fc_in", opts=options("FullyConnectedOptions", fusedActivationFunction=1))
    state = net.variable("svdf_state", (1, 12 * 6))
    s = net.op("SVDF", [h, net.const("svdf_wf", _w(rng, 12, 16)), net.const("svdf_wt", _w(rng, 12, 6)),
                        net.const("svdf_b", (0.1 * rng.standard_normal(6)).astype(np.float32)), state],
               "svdf", opts=options("SVDFOptions", rank=2, fusedActivationFunction=1))
    net.output(net.op("FULLY_CONNECTED", [s, net.const("out_w", _w(rng, 4, 6)), -1], "fc_out",
                      opts=options("FullyConnectedOptions")))


def _lstm_layer(net, x: int, rng, units: int, features: int, cifg: bool = False, peephole: bool = False,
                projection: bool = False, time_major: bool = False, clip: float = 0.0) -> int:
    """One UNIDIRECTIONAL_SEQUENCE_LSTM (TANH) with zero-initialized state; optional CIFG (no input gate),
    peephole weights, a projection to units / 2 outputs, cell / projection clipping; no layer norm."""
    out = units // 2 if projection else units

    def gate(g: str, make):
        return -1 if cifg and g == "i" else make(g)

    w = [gate(g, lambda g: net.const(f"w_{g}", _w(rng, units, features))) for g in "ifco"]
    r = [gate(g, lambda g: net.const(f"r_{g}", _w(rng, units, out))) for g in "ifco"]
    p = [gate(g, lambda g: net.const(f"p_{g}", _w(rng, units)) if peephole else -1) for g in "ifo"]
    b = [gate(g, lambda g: net.const(f"b_{g}", (np.ones if g == "f" else np.zeros)(units, np.float32))) for g in "ifco"]
    proj = [net.const("proj_w", _w(rng, out, units)), net.const("proj_b", np.full(out, 0.1, np.float32))] \
        if projection else [-1, -1]
    state = [net.variable("output_state", (1, out)), net.variable("cell_state", (1, units))]
    return net.op("UNIDIRECTIONAL_SEQUENCE_LSTM", [x, *w, *r, *p, *b, *proj, *state, -1, -1, -1, -1], "lstm",
                  opts=options("UnidirectionalSequenceLSTMOptions", fusedActivationFunction=4, timeMajor=time_major,
                               cellClip=clip, projClip=clip))


def _lstm(**variant):
    """LSTM (8 units over 6 features) -> FULLY_CONNECTED on every step."""
    def body(net, ins, rng):
        seq = _lstm_layer(net, ins[0], rng, 8, 6, **variant)
        out = 4 if variant.get("projection") else 8
        rows = net.op("RESHAPE", [seq, net.const("rows", np.array([-1, out], np.int32))], "reshape")
        net.output(net.op("FULLY_CONNECTED", [rows, net.const("fc_w", _w(rng, 3, out)), -1], "fc",
                          opts=options("FullyConnectedOptions")))
    return body


def _lstm_svdf(net, ins, rng):
    """LSTM 8 units -> last step -> SVDF (rank 1, memory 4) -> FULLY_CONNECTED."""
    seq = _lstm_layer(net, ins[0], rng, 8, 6)
    last = net.op("RESHAPE", [net.op("STRIDED_SLICE", [seq, net.const("begin", np.array([0, -1, 0], np.int32)),
                                                       net.const("end", np.array([1, 0, 8], np.int32)),
                                                       net.const("strides", np.array([1, 1, 1], np.int32))],
                                     "last_step", opts=options("StridedSliceOptions", endMask=2, shrinkAxisMask=2)),
                              net.const("row", np.array([1, 8], np.int32))], "row")
    s = net.op("SVDF", [last, net.const("svdf_wf", _w(rng, 6, 8)), net.const("svdf_wt", _w(rng, 6, 4)),
                        net.const("svdf_b", np.zeros(6, np.float32)), net.variable("svdf_state", (1, 6 * 4))],
               "svdf", opts=options("SVDFOptions", rank=1))
    net.output(net.op("FULLY_CONNECTED", [s, net.const("fc_w", _w(rng, 3, 6)), -1], "fc",
                      opts=options("FullyConnectedOptions")))


def _kws_lstm(net, ins, rng):
    """A keyword spotter: MFCC frames [49, 10] -> LSTM 32 -> last step -> FULLY_CONNECTED 12 -> SOFTMAX."""
    seq = _lstm_layer(net, ins[0], rng, 32, 10)
    last = net.op("STRIDED_SLICE", [seq, net.const("begin", np.array([0, -1, 0], np.int32)),
                                    net.const("end", np.array([1, 0, 32], np.int32)),
                                    net.const("strides", np.array([1, 1, 1], np.int32))], "last_step",
                  opts=options("StridedSliceOptions", endMask=2, shrinkAxisMask=2))
    logits = net.op("FULLY_CONNECTED", [last, net.const("fc_w", _w(rng, 12, 32)),
                                        net.const("fc_b", np.zeros(12, np.float32))], "fc",
                    opts=options("FullyConnectedOptions"))
    net.output(net.op("SOFTMAX", [logits], "softmax", opts=options("SoftmaxOptions", beta=1.0)))


def _float16_weights(net, ins, rng):
    """The converter's float16 quantization: fp16 CONV_2D / FULLY_CONNECTED weights and biases, each read
    through a DEQUANTIZE (folded to float32 constants at import)."""
    (x,) = ins

    def half(name, data):
        return net.op("DEQUANTIZE", [net.const(name, np.asarray(data, np.float16))], f"{name}_dequantize")

    y = net.op("CONV_2D", [x, half("conv_w", _w(rng, 8, 3, 3, 4)), half("conv_b", 0.1 * rng.standard_normal(8))],
               "conv", opts=options("Conv2DOptions", padding=0, strideH=2, strideW=2, fusedActivationFunction=1))
    y = net.op("RESHAPE", [y, net.const("flat", np.array([1, -1], np.int32))], "flatten")
    net.output(net.op("FULLY_CONNECTED", [y, half("fc_w", _w(rng, 5, 4 * 4 * 8)), half("fc_b", np.zeros(5))], "fc",
                      opts=options("FullyConnectedOptions")))


_BINARY = {"input_a": ((1, 4, 6, 8), "wide"), "input_b": ((1, 1, 6, 8), "nonzero")}
FLOAT_ONLY: dict[str, FloatOnlySpec] = {s.name: s for s in [
    FloatOnlySpec("chain_float_arith_f32", "DIV, SQUARED_DIFFERENCE, SQUARE, NEG, ADD_N, ABS, SQRT, RSQRT; "
                  "FLOOR_DIV, FLOOR_MOD, FLOOR (float32)", _BINARY, _chain_arith),
    FloatOnlySpec("chain_float_math_f32", "SIN, COS, EXP, LOG, GELU, HARD_SWISH, L2_POOL_2D, LOG_SOFTMAX, "
                  "L2_NORMALIZATION (float32)", {"input": ((1, 4, 6, 8), "wide")}, _chain_transcendental),
    FloatOnlySpec("chain_float_logic_f32", "comparisons, LOGICAL_AND/OR/NOT, SELECT_V2, SELECT, CAST (float32 I/O)",
                  {"input_a": ((1, 4, 6, 8), "wide"), "input_b": ((1, 1, 6, 8), "wide")}, _chain_logic),
    FloatOnlySpec("chain_float_reduce_f32", "BATCH_MATMUL (adj_y; adj_x, constant), CUMSUM, SHAPE, FILL, "
                  "ZEROS_LIKE, ADD_N, SUM, REDUCE_PROD (float32)",
                  {"input_a": ((2, 5, 8), "normal"), "input_b": ((2, 6, 8), "normal")}, _chain_reduce),
    FloatOnlySpec("chain_float_rounding_f32", "CEIL, ROUND, ELU (float32; TFLite's builtin float kernels as "
                  "reference)", {"input": ((1, 4, 6, 8), "wide")}, _chain_rounding),
    FloatOnlySpec("transpose_conv_f32", "TRANSPOSE_CONV 3x3/2 SAME + bias + RELU -> TRANSPOSE_CONV 2x2 VALID (float32)",
                  {"input": ((1, 5, 6, 4), "normal")}, _transpose_conv),
    FloatOnlySpec("svdf_f32", "FULLY_CONNECTED -> SVDF rank 2 -> FULLY_CONNECTED (float32, one step from zero state)",
                  {"input": ((1, 20), "normal")}, _svdf),
    FloatOnlySpec("lstm_f32", "UNIDIRECTIONAL_SEQUENCE_LSTM 5 steps x 8 units -> FULLY_CONNECTED (float32)",
                  {"input": ((1, 5, 6), "normal")}, _lstm()),
    FloatOnlySpec("conv_fc_fp16", "CONV_2D -> FULLY_CONNECTED with float16 weights through DEQUANTIZE (the "
                  "converter's float16 quantization)", {"input": ((1, 8, 8, 4), "normal")}, _float16_weights),
    FloatOnlySpec("lstm_svdf_hyb", "LSTM -> SVDF -> FULLY_CONNECTED with int8 weights (dynamic range)",
                  {"input": ((1, 5, 6), "normal")}, _lstm_svdf, hybrid=True),
    FloatOnlySpec("lstm_kws32_f32", "keyword spotter: MFCC 49x10 -> UNIDIRECTIONAL_SEQUENCE_LSTM 32 -> last step -> "
                  "FULLY_CONNECTED 12 -> SOFTMAX (float32)", {"input": ((1, 49, 10), "normal")}, _kws_lstm),
]}
# LSTM variants, written at test time only and checked on the host (tests/frontend/test_float_lstm.py).
LSTM_VARIANTS: dict[str, FloatOnlySpec] = {s.name: s for s in [
    FloatOnlySpec("lstm_cifg_peephole_projection_clip", "CIFG LSTM with peephole, projection and clipping",
                  {"input": ((1, 5, 6), "wide")}, _lstm(cifg=True, peephole=True, projection=True, clip=0.5)),
    FloatOnlySpec("lstm_time_major_peephole", "time-major LSTM with peephole weights",
                  {"input": ((5, 1, 6), "wide")}, _lstm(peephole=True, time_major=True)),
]}
