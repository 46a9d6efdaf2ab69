"""Models of the ops TFLite Micro registers as float32 kernels only (floatops).

`FLOAT_ONLY`: committed chain models (models/float/<name>.tflite), several ops each, run end to
end on both ISAs by tests/harness/test_float_models.py.  Every model has float32 inputs and
outputs; masks (BOOL) and integer results (CAST) stay inside the graph.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .float_net import FloatNet, options
from .pipeline import GeneratedModel

SAMPLES = 3
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

    @property
    def seed(self) -> int:
        return zlib.crc32(self.name.encode())

    def net(self) -> FloatNet:
        net = FloatNet()
        ins = [net.input(n, shape) for n, (shape, _) in self.inputs.items()]
        self.body(net, ins, np.random.default_rng(self.seed))
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
                    "macs": 0, "ops": [op for op, *_ in net.operators],
                    "weight_bytes": int(sum(b.nbytes for b in net.buffers if b is not None)),
                    "samples": f"{self.name}.samples.npz", "goldens": f"{self.name}.golden.npz"}
        return GeneratedModel(self.name, raw, metadata, self.samples())

    def samples(self) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed + 1000)
        return [_draw(rng, (SAMPLES, *shape), kind).astype(np.float32) for shape, kind in self.inputs.values()]


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
    """EXP -> LOG, SIN, COS, GELU, HARD_SWISH, LOG_SOFTMAX, L2_NORMALIZATION, L2_POOL_2D (libm: expf, logf,
    sinf, cosf, erff, sqrtf)."""
    (x,) = ins
    wave = net.op("ADD", [net.op("SIN", [x], "sin"), net.op("COS", [x], "cos")], "add_wave",
                  opts=options("AddOptions"))
    y = net.op("LOG", [net.op("EXP", [wave], "exp")], "log")
    g = net.op("HARD_SWISH", [net.op("GELU", [y], "gelu", opts=options("GeluOptions"))], "hard_swish")
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
    """BATCH_MATMUL -> CUMSUM (+ FILL, ZEROS_LIKE) -> SUM and REDUCE_PROD."""
    a, b = ins
    mm = net.op("BATCH_MATMUL", [a, b], "batch_matmul", opts=options("BatchMatMulOptions", adjY=True))
    cs = net.op("CUMSUM", [mm, net.const("axis", np.array(2, np.int32))], "cumsum", opts=options("CumsumOptions"))
    filled = net.op("FILL", [net.const("dims", np.array([2, 5, 6], np.int32)), net.const("value", _one(0.25)[0])],
                    "fill")
    base = net.op("ADD_N", [cs, filled, net.op("ZEROS_LIKE", [mm], "zeros_like")], "add_n")
    net.output(net.op("SUM", [base, net.const("sum_axes", np.array([0, 2], np.int32))], "sum",
                      opts=options("ReducerOptions", keepDims=True)),
               net.op("REDUCE_PROD", [net.op("TANH", [base], "tanh"), net.const("prod_axis", np.array([1], np.int32))],
                      "reduce_prod", opts=options("ReducerOptions", keepDims=False)))


def _chain_rounding(net, ins, rng):
    """CEIL, ROUND (half to even, on inputs with exact halves) and ELU: ops ai-edge-litert 2.3's BUILTIN_REF
    lacks, checked against TFLite's builtin float kernels (zoo/reference.py)."""
    (x,) = ins
    r = net.op("ADD", [net.op("CEIL", [x], "ceil"), net.op("ROUND", [x], "round")], "add",
               opts=options("AddOptions"))
    net.output(net.op("ELU", [net.op("SUB", [r, x], "sub", opts=options("SubOptions"))], "elu"))


_BINARY = {"input_a": ((1, 4, 6, 8), "wide"), "input_b": ((1, 1, 6, 8), "nonzero")}
FLOAT_ONLY: dict[str, FloatOnlySpec] = {s.name: s for s in [
    FloatOnlySpec("chain_float_arith_f32", "DIV, SQUARED_DIFFERENCE, SQUARE, NEG, ADD_N, ABS, SQRT, RSQRT; "
                  "FLOOR_DIV, FLOOR_MOD, FLOOR (float32)", _BINARY, _chain_arith),
    FloatOnlySpec("chain_float_math_f32", "SIN, COS, EXP, LOG, GELU, HARD_SWISH, L2_POOL_2D, LOG_SOFTMAX, "
                  "L2_NORMALIZATION (float32)", {"input": ((1, 4, 6, 8), "wide")}, _chain_transcendental),
    FloatOnlySpec("chain_float_logic_f32", "comparisons, LOGICAL_AND/OR/NOT, SELECT_V2, SELECT, CAST (float32 I/O)",
                  {"input_a": ((1, 4, 6, 8), "wide"), "input_b": ((1, 1, 6, 8), "wide")}, _chain_logic),
    FloatOnlySpec("chain_float_reduce_f32", "BATCH_MATMUL, CUMSUM, FILL, ZEROS_LIKE, ADD_N, SUM, REDUCE_PROD "
                  "(float32)", {"input_a": ((2, 5, 8), "normal"), "input_b": ((2, 6, 8), "normal")}, _chain_reduce),
    FloatOnlySpec("chain_float_rounding_f32", "CEIL, ROUND, ELU (float32; TFLite's builtin float kernels as "
                  "reference)", {"input": ((1, 4, 6, 8), "wide")}, _chain_rounding),
]}
