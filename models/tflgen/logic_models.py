"""Models of the structure / logic ops of quantized graphs (qlogic): comparisons, LOGICAL_*, SELECT,
CAST, SHAPE idioms, FILL, ZEROS_LIKE, BROADCAST_ARGS, FLOOR_DIV / FLOOR_MOD, EMBEDDING_LOOKUP, CUMSUM and
int32 index arithmetic, with bool / int32 tensors and int32 (token id) graph inputs.

These graphs carry no float computation to calibrate, so they are written directly: every tensor
with its type and (for 8/16-bit activations) a fixed quantization.  `LOGIC_OPS`: committed chain
models (run end to end); `LOGIC_SINGLE`: one op each, generated at test time
(tests/frontend/test_frontend_logic.py checks them bit-exact against BUILTIN_REF on the host).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from ai_edge_litert import schema_py_generated as S

from .pipeline import SAMPLE_SEED_OFFSET, SAMPLES, GeneratedModel
from .writer import _AlignedBufferT, pack_model

NP = {"INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "BOOL": np.bool_}


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # INT8 | INT16 | INT32 | INT64 | BOOL
    quant: tuple[float, int] | None = None  # (scale, zero point) of an 8/16-bit activation
    data: np.ndarray | None = None
    sample_range: tuple[int, int] | None = None  # an input's sample values (ids: the table's rows)


@dataclass
class Net:
    """A graph under construction: tensors, (op, inputs, outputs, options) in order, graph I/O."""

    tensors: dict[str, Tensor] = field(default_factory=dict)
    ops: list[tuple[str, list[str], list[str], object, int]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def tensor(self, name: str, shape, dtype: str, quant=None, data=None, sample_range=None) -> str:
        self.tensors[name] = Tensor(name, tuple(int(d) for d in shape), dtype, quant, data, sample_range)
        return name

    def input(self, name: str, shape, dtype: str = "INT8", quant=None, sample_range=None) -> str:
        self.inputs.append(self.tensor(name, shape, dtype, quant, sample_range=sample_range))
        return name

    def const(self, name: str, values, dtype: str = "INT32", quant=None) -> str:
        data = np.asarray(values, NP[dtype])
        return self.tensor(name, data.shape, dtype, quant, data)

    def op(self, op: str, inputs: list[str], out: str, shape, dtype: str, quant=None, options=None,
           version: int = 1) -> str:
        self.tensor(out, shape, dtype, quant)
        self.ops.append((op, inputs, [out], options, version))
        return out

    def shape(self, name: str) -> tuple[int, ...]:
        return self.tensors[name].shape

    def output(self, *names: str) -> None:
        self.outputs.extend(names)

    # -- op helpers --------------------------------------------------------------------------------
    def compare(self, op: str, a: str, b: str, name: str) -> str:
        shape = np.broadcast_shapes(self.shape(a), self.shape(b))
        return self.op(op, [a, b], name, shape, "BOOL", version=2 if self.tensors[a].dtype == "INT8" else 1)

    def logical(self, op: str, xs: list[str], name: str) -> str:
        shape = np.broadcast_shapes(*(self.shape(x) for x in xs))
        return self.op(op, xs, name, shape, "BOOL")

    def select(self, cond: str, x: str, y: str, name: str, v2: bool = True) -> str:
        t = self.tensors[x]
        shape = np.broadcast_shapes(self.shape(cond), self.shape(x), self.shape(y)) if v2 else t.shape
        options = S.SelectV2OptionsT() if v2 else S.SelectOptionsT()
        return self.op("SELECT_V2" if v2 else "SELECT", [cond, x, y], name, shape, t.dtype, t.quant, options,
                       version=2 if t.dtype == "INT8" and not v2 else 1)

    def cast(self, x: str, name: str, dtype: str) -> str:
        options = S.CastOptionsT()
        options.inDataType = getattr(S.TensorType, self.tensors[x].dtype)
        options.outDataType = getattr(S.TensorType, dtype)
        return self.op("CAST", [x], name, self.shape(x), dtype, options=options, version=2)

    def arith(self, op: str, a: str, b: str, name: str, quant=None) -> str:
        """ADD / SUB / MUL / FLOOR_DIV / FLOOR_MOD of two int32 tensors (or int8 with `quant`)."""
        shape = np.broadcast_shapes(self.shape(a), self.shape(b))
        cls = {"ADD": S.AddOptionsT, "SUB": S.SubOptionsT, "MUL": S.MulOptionsT, "FLOOR_DIV": S.FloorDivOptionsT,
               "FLOOR_MOD": S.FloorModOptionsT}[op]
        version = {"ADD": 1, "SUB": 1, "MUL": 1, "FLOOR_DIV": 2, "FLOOR_MOD": 1}[op]
        return self.op(op, [a, b], name, shape, self.tensors[a].dtype, quant, cls(), version)

    def shape_of(self, x: str, name: str) -> str:
        options = S.ShapeOptionsT()
        options.outType = S.TensorType.INT32
        return self.op("SHAPE", [x], name, (len(self.shape(x)),), "INT32", options=options)

    def strided_slice(self, x: str, name: str, begin, end, strides, shape, shrink: int = 0) -> str:
        t = self.tensors[x]
        b, e, s = (self.const(f"{name}/{k}", v) for k, v in (("begin", begin), ("end", end), ("strides", strides)))
        options = S.StridedSliceOptionsT()
        options.shrinkAxisMask = shrink
        return self.op("STRIDED_SLICE", [x, b, e, s], name, shape, t.dtype, t.quant, options)

    def pack(self, xs: list[str], name: str) -> str:
        t = self.tensors[xs[0]]
        options = S.PackOptionsT()
        options.valuesCount, options.axis = len(xs), 0
        return self.op("PACK", xs, name, (len(xs), *t.shape), t.dtype, t.quant, options)

    def reshape(self, x: str, shape_tensor: str, name: str, shape) -> str:
        t = self.tensors[x]
        return self.op("RESHAPE", [x, shape_tensor], name, shape, t.dtype, t.quant, S.ReshapeOptionsT())

    def cumsum(self, x: str, name: str, axis: int, exclusive: bool = False, reverse: bool = False) -> str:
        t = self.tensors[x]
        options = S.CumsumOptionsT()
        options.exclusive, options.reverse = exclusive, reverse
        return self.op("CUMSUM", [x, self.const(f"{name}/axis", axis)], name, t.shape, t.dtype, t.quant, options)

    # -- serialization -----------------------------------------------------------------------------
    def tflite(self) -> bytes:
        names = list(self.tensors)
        index = {n: i for i, n in enumerate(names)}
        buffers, tensors = [_AlignedBufferT()], []
        for name in names:
            t = self.tensors[name]
            buf = _AlignedBufferT()
            buf.data = None if t.data is None else np.ascontiguousarray(t.data).reshape(-1).view(np.uint8)
            buffers.append(buf)
            out = S.TensorT()
            out.shape, out.type, out.name = list(t.shape), getattr(S.TensorType, t.dtype), name
            out.buffer = len(buffers) - 1
            if t.quant is not None:
                out.quantization = S.QuantizationParametersT()
                out.quantization.scale, out.quantization.zeroPoint = [float(t.quant[0])], [int(t.quant[1])]
            tensors.append(out)
        opcodes: list[str] = []
        versions: dict[str, int] = {}
        operators = []
        for op_name, ins, outs, options, version in self.ops:
            if op_name not in opcodes:
                opcodes.append(op_name)
            versions[op_name] = max(versions.get(op_name, 1), version)
            op = S.OperatorT()
            op.opcodeIndex = opcodes.index(op_name)
            op.inputs, op.outputs = [index[n] for n in ins], [index[n] for n in outs]
            if options is not None:
                op.builtinOptionsType = getattr(S.BuiltinOptions, type(options).__name__[:-1])
                op.builtinOptions = options
            operators.append(op)
        sub = S.SubGraphT()
        sub.tensors, sub.operators, sub.name = tensors, operators, "main"
        sub.inputs, sub.outputs = [index[n] for n in self.inputs], [index[n] for n in self.outputs]
        return pack_model(sub, buffers, opcodes, versions)

    def samples(self, seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        out = []
        for name in self.inputs:
            t = self.tensors[name]
            if t.dtype == "BOOL":
                out.append(rng.integers(0, 1, (SAMPLES, *t.shape), endpoint=True).astype(bool))
                continue
            lo, hi = t.sample_range or (np.iinfo(NP[t.dtype]).min, np.iinfo(NP[t.dtype]).max)
            out.append(rng.integers(lo, hi, (SAMPLES, *t.shape), endpoint=True).astype(NP[t.dtype]))
        return out


def _io(t: Tensor) -> dict:
    spec = {"name": t.name, "shape": list(t.shape), "dtype": np.dtype(NP[t.dtype]).name}
    if t.quant is not None:
        spec.update(scale=float(np.float32(t.quant[0])), zero_point=int(t.quant[1]))
    return spec


@dataclass(frozen=True)
class DirectSpec:
    """A model written directly (no calibration): `generate()` as the pipeline's."""

    name: str
    description: str
    body: Callable[[Net], None]

    def generate(self) -> GeneratedModel:
        net = Net()
        self.body(net)
        seed = zlib.crc32(self.name.encode())
        metadata = {"name": self.name, "description": self.description,
                    "inputs": [_io(net.tensors[n]) for n in net.inputs],
                    "outputs": [_io(net.tensors[n]) for n in net.outputs], "macs": 0,
                    "ops": [op for op, *_ in net.ops],
                    "weight_bytes": int(sum(t.data.nbytes for t in net.tensors.values() if t.data is not None)),
                    "samples": f"{self.name}.samples.npz", "goldens": f"{self.name}.golden.npz"}
        return GeneratedModel(self.name, net.tflite(), metadata, net.samples(seed + SAMPLE_SEED_OFFSET))


# -- models -----------------------------------------------------------------------------------------
QA, QB, QC = (0.05, -3), (0.0625, 5), (0.02, 0)  # quantizations of 8-bit activations
QD, QE = (0.004, -3), (0.002, 5)  # comparisons: 1.024·x vs 0.512·y after the 8-bit left shift


def _compare(op: str, dtype: str = "INT8") -> Callable[[Net], None]:
    """Two inputs of different quantization (int8) or raw (int16 / int32), broadcast along H."""
    def body(n: Net) -> None:
        qa, qb = (QD, QE) if dtype == "INT8" else ((QC[0], 0), (QC[0] * 2, 0)) if dtype == "INT16" else (None, None)
        # values near the zero points: the rescaled inputs round onto each other often (equal ties)
        a = n.input("input_a", (1, 4, 5, 8), dtype, qa, (-15, 9) if dtype == "INT8" else (-12, 12))
        b = n.input("input_b", (1, 1, 5, 8), dtype, qb, (-7, 17) if dtype == "INT8" else (-12, 12))
        n.output(n.compare(op, a, b, op.lower()))
    return body


def _logic(n: Net) -> None:
    """LESS / GREATER_EQUAL of int8 inputs -> LOGICAL_AND / OR / NOT (three bool outputs)."""
    a, b = n.input("input_a", (1, 6, 8), "INT8", QA), n.input("input_b", (1, 6, 8), "INT8", QB)
    zero = n.const("zero", [[[-3]]], "INT8", QA)
    lt, ge = n.compare("LESS", a, b, "less"), n.compare("GREATER_EQUAL", a, zero, "ge_zero")
    both = n.logical("LOGICAL_AND", [lt, ge], "and")
    n.output(both, n.logical("LOGICAL_OR", [lt, ge], "or"), n.logical("LOGICAL_NOT", [both], "not"))


def _select(v2: bool) -> Callable[[Net], None]:
    """x > y ? x : y on int8 (SELECT: same shapes; SELECT_V2: a broadcast condition and operand)."""
    def body(n: Net) -> None:
        x = n.input("input_x", (1, 4, 6, 8), "INT8", QA)
        y = n.input("input_y", (1, 4, 6, 8) if not v2 else (1, 1, 6, 8), "INT8", QA)
        cond = n.compare("GREATER", x, y, "greater")
        n.output(n.select(cond, x, y, "select", v2))
    return body


def _cast_index_math(n: Net) -> None:
    """int8 -> CAST int32 -> (x + 3) * x - 7 (int32 ADD / MUL / SUB) -> FLOOR_DIV / FLOOR_MOD by constants
    with mixed signs -> CUMSUM (exclusive, reverse) -> int32 outputs; a bool mask -> CAST int32."""
    x = n.cast(n.input("input", (1, 3, 8), "INT8", QA), "as_int32", "INT32")
    y = n.arith("SUB", n.arith("MUL", n.arith("ADD", x, n.const("three", [3]), "add"), x, "mul"),
                n.const("seven", [7]), "sub")
    div = n.const("divisors", [5, -3, 7, -2, 4, 9, -11, 6])
    mask = n.cast(n.compare("GREATER", x, n.const("zero", [0]), "positive"), "mask", "INT32")
    running = n.cumsum(n.arith("FLOOR_MOD", y, div, "floor_mod"), "cumsum", 2, exclusive=True, reverse=True)
    n.output(n.arith("FLOOR_DIV", y, div, "floor_div"), running, mask)


def _shape_reshape(n: Net) -> None:
    """The converter's dynamic-shape idiom: SHAPE -> STRIDED_SLICE (batch) -> PACK with constants ->
    RESHAPE, and FILL / ZEROS_LIKE / BROADCAST_ARGS on the folded shapes (int8 data moved only)."""
    x = n.input("input", (1, 4, 6, 8), "INT8", QA)
    shape = n.shape_of(x, "shape")
    batch = n.strided_slice(shape, "batch", [0], [1], [1], (), shrink=1)
    rows = n.arith("MUL", n.strided_slice(shape, "h", [1], [2], [1], (), shrink=1),
                   n.strided_slice(shape, "w", [2], [3], [1], (), shrink=1), "rows")
    new_shape = n.pack([batch, rows, n.const("channels", 8)], "new_shape")
    flat = n.reshape(x, new_shape, "reshape", (1, 24, 8))
    target = n.op("BROADCAST_ARGS", [n.const("bias_shape", [1, 8]), n.const("rows_shape", [24, 1])], "bcast",
                  (2,), "INT32")
    ones = n.op("FILL", [target, n.const("one", 1)], "fill", (24, 8), "INT32", options=S.FillOptionsT())
    zeros = n.op("ZEROS_LIKE", [ones], "zeros", (24, 8), "INT32", options=S.ZerosLikeOptionsT())
    count = n.cast(flat, "flat_int32", "INT32")
    n.output(flat, n.arith("ADD", n.arith("ADD", count, ones, "plus_one"), zeros, "plus_zero"))


def _embedding(n: Net) -> None:
    """Token ids (int32 graph input) -> EMBEDDING_LOOKUP of an int8 table, and GATHER of a second table."""
    ids = n.input("ids", (6,), "INT32", sample_range=(0, 9))
    rng = np.random.default_rng(7)
    table = n.const("table", rng.integers(-128, 128, (10, 8)), "INT8", QA)
    emb = n.op("EMBEDDING_LOOKUP", [ids, table], "embedding", (6, 8), "INT8", QA)
    pos = n.const("positions", rng.integers(-128, 128, (12, 8)), "INT8", QA)
    options = S.GatherOptionsT()
    gathered = n.op("GATHER", [pos, ids], "gather", (6, 8), "INT8", QA, options)
    n.output(emb, gathered)


def _mask_select(n: Net) -> None:
    """A bool graph input (an attention-style mask) -> SELECT_V2(mask, x, fill value) and LOGICAL_NOT(mask);
    ARG_MAX of the int8 data -> GATHER of a table with the computed int32 ids."""
    mask = n.input("mask", (1, 6, 8), "BOOL")
    x = n.input("input", (1, 6, 8), "INT8", QA)
    masked = n.select(mask, x, n.const("fill", [[[-128]]], "INT8", QA), "masked")
    options = S.ArgMaxOptionsT()
    options.outputType = S.TensorType.INT32
    ids = n.op("ARG_MAX", [x, n.const("arg_axis", [2])], "arg_max", (1, 6), "INT32", options=options, version=2)
    table = n.const("table", np.random.default_rng(3).integers(-128, 128, (8, 4)), "INT8", QB)
    rows = n.op("GATHER", [table, ids], "rows", (1, 6, 4), "INT8", QB, S.GatherOptionsT())
    n.output(masked, n.logical("LOGICAL_NOT", [mask], "unmasked"), rows)


def _fill_like(op: str) -> Callable[[Net], None]:
    """An int8 tensor made from a shape (FILL with a quantized constant value) or like another (ZEROS_LIKE),
    added to the input (the int8 ADD reads it as any operand)."""
    def body(n: Net) -> None:
        x = n.input("input", (1, 4, 8), "INT8", QA)
        if op == "FILL":
            made = n.op("FILL", [n.shape_of(x, "shape"), n.const("value", 7, "INT8", QA)], "fill", (1, 4, 8), "INT8",
                        QA, S.FillOptionsT())
        else:
            made = n.op("ZEROS_LIKE", [x], "zeros", (1, 4, 8), "INT8", QA, S.ZerosLikeOptionsT())
        n.output(n.op("ADD", [x, made], "add", (1, 4, 8), "INT8", QB, S.AddOptionsT(), version=2))
    return body


def _reshape_minus_one(n: Net) -> None:
    """Keras' Flatten as converted: RESHAPE(x, PACK([SHAPE(x)[0], -1]))."""
    x = n.input("input", (1, 3, 4, 8), "INT8", QA)
    batch = n.strided_slice(n.shape_of(x, "shape"), "batch", [0], [1], [1], (), shrink=1)
    n.output(n.reshape(x, n.pack([batch, n.const("rest", -1)], "new_shape"), "flatten", (1, 96)))


def _casts(n: Net) -> None:
    """int8 -> bool (non-zero), int8 -> int32 -> int8 (wraps), bool -> int8; unquantized int8 outputs."""
    x = n.input("input", (1, 4, 8), "INT8", QA)
    wide = n.cast(x, "wide", "INT32")
    doubled = n.cast(n.arith("MUL", wide, n.const("three", [3]), "times3"), "narrow", "INT8")
    n.output(n.cast(x, "nonzero", "BOOL"), doubled, n.cast(n.cast(x, "nonzero_again", "BOOL"), "as_int8", "INT8"))


def _floor(op: str, dtype: str) -> Callable[[Net], None]:
    """FLOOR_DIV / FLOOR_MOD of an 8/16-bit input by a constant with mixed signs (raw integers)."""
    def body(n: Net) -> None:
        q = QA if dtype == "INT8" else (QC[0], 0)
        x = n.input("input", (1, 4, 8), dtype, q)
        n.output(n.arith(op, x, n.const("divisor", [3, -2, 5, 7, -4, 2, 9, -3], dtype, q), op.lower(), q))
    return body


def _floor_int8(n: Net) -> None:
    """FLOOR_DIV and FLOOR_MOD of int8 by int8 constants with mixed signs (raw integers, as the reference)."""
    x = n.input("input", (1, 4, 8), "INT8", QA)
    divisor = n.const("divisor", [3, -2, 5, 7, -4, 2, 9, -3], "INT8", QA)
    n.output(n.arith("FLOOR_DIV", x, divisor, "floor_div", QA), n.arith("FLOOR_MOD", x, divisor, "floor_mod", QA))


def _cumsum(exclusive: bool, reverse: bool = False, dtype: str = "INT32") -> Callable[[Net], None]:
    def body(n: Net) -> None:
        values = (-1000, 1000) if dtype == "INT32" else None
        x = n.input("input", (1, 5, 8), dtype, QA if dtype == "INT8" else None, values)
        n.output(n.cumsum(x, "cumsum", 1, exclusive, reverse))
    return body


LOGIC_SINGLE: dict[str, DirectSpec] = {
    **{f"{op.lower()}_{d.lower()}": DirectSpec(f"{op.lower()}_{d.lower()}", f"{op} of two {d} tensors", _compare(op, d))
       for op in ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")
       for d in ("INT8", "INT16", "INT32")},
    "select": DirectSpec("select", "SELECT of int8", _select(False)),
    "select_v2": DirectSpec("select_v2", "SELECT_V2 of int8 (broadcast)", _select(True)),
    "fill_int8": DirectSpec("fill_int8", "FILL of a quantized int8 value over a SHAPE -> ADD", _fill_like("FILL")),
    "zeros_like_int8": DirectSpec("zeros_like_int8", "ZEROS_LIKE of int8 -> ADD", _fill_like("ZEROS_LIKE")),
    "reshape_minus_one": DirectSpec("reshape_minus_one", "SHAPE -> STRIDED_SLICE -> PACK([n, -1]) -> RESHAPE",
                                    _reshape_minus_one),
    **{f"{op.lower()}_{d.lower()}": DirectSpec(f"{op.lower()}_{d.lower()}", f"{op} of {d} (raw integers)", _floor(op, d))
       for op in ("FLOOR_DIV", "FLOOR_MOD") for d in ("INT8", "INT16")},
    "cumsum_int32": DirectSpec("cumsum_int32", "CUMSUM int32", _cumsum(False)),
    "cumsum_int32_exclusive": DirectSpec("cumsum_int32_exclusive", "CUMSUM int32 exclusive", _cumsum(True)),
    "cumsum_int32_reverse": DirectSpec("cumsum_int32_reverse", "CUMSUM int32 reverse", _cumsum(False, True)),
    "cumsum_int8": DirectSpec("cumsum_int8", "CUMSUM int8", _cumsum(False, dtype="INT8")),
}
LOGIC_OPS: dict[str, DirectSpec] = {
    "chain_logic": DirectSpec("chain_logic", "LESS / GREATER_EQUAL (int8, rescaled) -> LOGICAL_AND / OR / NOT", _logic),
    "chain_index_math": DirectSpec("chain_index_math", "CAST int8->int32 -> ADD / MUL / SUB int32 -> FLOOR_DIV / "
                                   "FLOOR_MOD -> CUMSUM; GREATER -> CAST bool->int32", _cast_index_math),
    "chain_shape_reshape": DirectSpec("chain_shape_reshape", "SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE; "
                                      "BROADCAST_ARGS -> FILL -> ZEROS_LIKE (folded at compile time)", _shape_reshape),
    "casts": DirectSpec("casts", "CAST int8 <-> bool / int32 (wrapping back to int8)", _casts),
    "floor_int8": DirectSpec("floor_int8", "FLOOR_DIV / FLOOR_MOD of int8 (raw integers)", _floor_int8),
    "mask_select": DirectSpec("mask_select", "bool mask input -> SELECT_V2 / LOGICAL_NOT; ARG_MAX -> GATHER with "
                              "computed int32 ids", _mask_select),
    "embedding_gather": DirectSpec("embedding_gather", "int32 token ids -> EMBEDDING_LOOKUP / GATHER of int8 tables",
                                   _embedding),
}
