"""Everything the harness needs to know about a .tflite file, read from the file itself.

Ops (in execution order) with their options, tensor shapes and quantization, MACs of
CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV and weight bytes, so a user model works
without any side metadata. It also decides what the compiler supports
(`SUPPORTED_OPS`, fused activations) and rejects everything else with a
`ModelError` naming the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.errors import UserError

from .static_shapes import fold_static_shapes, resolve_placeholder_shapes

SUPPORTED_OPS: frozenset[str] = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD",
    "AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "SOFTMAX", "QUANTIZE", "DEQUANTIZE",
    "MUL", "SUB", "MEAN", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU",
    "PRELU", "RESIZE_BILINEAR", "TRANSPOSE_CONV", "SVDF",
    # data movement and elementwise (frontend/converter.py, frontend/elementwise.py)
    "CONCATENATION", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "SLICE", "STRIDED_SLICE", "PAD", "PADV2",
    "TRANSPOSE", "RESIZE_NEAREST_NEIGHBOR", "SQUEEZE", "EXPAND_DIMS", "GATHER",
    "MAXIMUM", "MINIMUM", "RELU", "RELU6",
    "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "BROADCAST_TO", "TILE",
    "MIRROR_PAD", "REVERSE_V2", "GATHER_ND", "REDUCE_MAX", "REDUCE_MIN", "ARG_MAX", "ARG_MIN",
    "EXP", "LOG", "GELU",  # 8-bit: one table lookup (frontend/lut_ops.py)
    "SQUARED_DIFFERENCE",
    "ABS", "NEG", "RSQRT", "L2_NORMALIZATION", "LOG_SOFTMAX", "DIV", "SUM", "ELU",  # qmath: frontend/qmath.py
    "UNIDIRECTIONAL_SEQUENCE_LSTM",  # seq: int8 8x8->16 integer LSTM (frontend/lstm.py)
    *("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR",  # qlogic:
      "LOGICAL_NOT", "SELECT", "SELECT_V2", "CAST", "SHAPE", "FILL", "ZEROS_LIKE", "BROADCAST_ARGS", "FLOOR_DIV",
      "FLOOR_MOD", "EMBEDDING_LOOKUP", "CUMSUM"),  # qlogic: frontend/logic.py, zoo/static_shapes.py
})
# Ops whose output is an int32/int64 index tensor (not quantized), e.g. a classifier's final ARG_MAX.
INDEX_OPS: frozenset[str] = frozenset({"ARG_MAX", "ARG_MIN"})
# Ops left out on purpose, with the reason the user reads.
UNSUPPORTED_REASONS: dict[str, str] = {
    # qmath: TFLite Micro has int8 ADD_N, ai-edge-litert none at all (no golden to check against)
    "ADD_N": "ai-edge-litert 2.3 has no int8 ADD_N kernel (AddN: FLOAT32|INT32 only): no golden output to check against",
    # vision: SSD heads (models/realworld/ssd_postprocess); the int8 body before it is supported
    "CUSTOM:TFLite_Detection_PostProcess": "SSD box decoding + non-max suppression with float outputs is not "
    "lowered: no C kernel matching TFLite's DetectionPostProcess yet; benchmark the detector without it by "
    "exporting the raw box_encodings / class_predictions as the model outputs",
    # seq: quantized BATCH_MATMUL (float32 models run TVM's float one)
    "BATCH_MATMUL": "int8/int16 BATCH_MATMUL is not lowered (TFLite's integer kernel with zero points, adj_x/adj_y "
    "and broadcast batch dims); float32 models run it",
}
# seq: a stateful model (TF's resource variables) calls an init subgraph once
STATEFUL_REASON = ("a stateful model: CALL_ONCE runs an init subgraph filling resource variables (VAR_HANDLE / "
                   "ASSIGN_VARIABLE / READ_VARIABLE), which are not lowered; SVDF / LSTM state in variable tensors is")
# Tensor types a quantized graph may use: activations int8 / uint8 (legacy) / int16 (16x8),
# weights int8 / uint8, bias int32 / int64 (16x8), shapes int32.  float32 only at the
# model's boundary: a graph input consumed by QUANTIZE, a graph output made by DEQUANTIZE.
ACTIVATION_TYPES: frozenset[str] = frozenset({"INT8", "UINT8", "INT16"})
CONSTANT_TYPES: frozenset[str] = ACTIVATION_TYPES | {"INT32", "INT64"}
PLAIN_TYPES: frozenset[str] = frozenset({"INT32", "INT64", "BOOL"})  # qlogic: unquantized ids, masks, shapes
SUPPORTED_ACTIVATIONS: frozenset[str] = frozenset({"NONE", "RELU", "RELU6"})
# seq: the integer LSTM's gate/cell activation is tanh whatever the option says (lstm_eval.cc).
OP_ACTIVATIONS: frozenset[tuple[str, str]] = frozenset({("UNIDIRECTIONAL_SEQUENCE_LSTM", "TANH")})
# float32 models (and dynamic-range "hybrid" ones: int8 weights, float32 activations) run TVM's
# float path; these ops have no float lowering here (SVDF's state, QUANTIZE inside a float graph).
FLOAT_UNSUPPORTED: dict[str, str] = {
    "QUANTIZE": "a QUANTIZE inside a float graph"}
# floatops: ops admitted only in float32 / hybrid graphs (TVM's float lowering, picolibc's libm);
# the quantized versions of some of them are SUPPORTED_OPS entries of their own.
FLOAT_ONLY_OPS: frozenset[str] = frozenset({
    "ABS", "NEG", "SQRT", "RSQRT", "SQUARE", "DIV", "FLOOR", "CEIL", "ROUND", "SIN", "COS", "EXP", "LOG", "ELU",
    "LOG_SOFTMAX", "L2_NORMALIZATION", "L2_POOL_2D", "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER",
    "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", "SELECT", "SELECT_V2", "CAST", "FILL",
    "ZEROS_LIKE", "ADD_N", "CUMSUM", "SUM", "REDUCE_PROD", "FLOOR_DIV", "FLOOR_MOD", "SQUARED_DIFFERENCE",
    "BATCH_MATMUL", "UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF", "TRANSPOSE_CONV", "GELU", "HARD_SWISH", "SHAPE",
})
# Non-float tensors a float graph may compute on: comparison masks and integer results (CAST, FLOOR_DIV).
FLOAT_GRAPH_EXTRA_TYPES: frozenset[str] = frozenset({"BOOL", "INT32"})
# Hybrid (dynamic-range) models: the op inputs that may hold int8 weights (dequantized at import).
HYBRID_WEIGHT_INPUTS: dict[str, tuple[int, ...]] = {
    "CONV_2D": (1,), "DEPTHWISE_CONV_2D": (1,), "FULLY_CONNECTED": (1,), "DEQUANTIZE": (0,),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (1, 2, 3, 4, 5, 6, 7, 8, 16), "SVDF": (1, 2),  # floatops
}
MAC_OPS: frozenset[str] = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"})
MAC_OPS |= {"BATCH_MATMUL", "UNIDIRECTIONAL_SEQUENCE_LSTM"}  # floatops: their matmuls (_matmul_macs)


def _names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


OP_NAMES = _names(S.BuiltinOperator)
TYPE_NAMES = _names(S.TensorType)
ACT_NAMES = _names(S.ActivationFunctionType)
PADDING_NAMES = _names(S.Padding)
NUMPY_DTYPES = {"INT8": np.int8, "INT32": np.int32, "INT16": np.int16, "UINT8": np.uint8,
                "FLOAT32": np.float32, "INT64": np.int64, "FLOAT16": np.float16, "BOOL": np.bool_}


class ModelError(UserError):
    """A model file we cannot use; the message names the file and the reason."""


class UnsupportedOpError(ModelError):
    """The model uses an op (or op option) the compiler does not support."""

    def __init__(self, path: Path, op: str, index: int, detail: str = "") -> None:
        self.path, self.op, self.index, self.detail = path, op, index, detail
        detail = detail or UNSUPPORTED_REASONS.get(op, "")
        what = f"{op} ({detail})" if detail else op
        super().__init__(f"{path}: unsupported op {what} at operator #{index}; "
                         f"supported: {', '.join(sorted(SUPPORTED_OPS))}")


@dataclass(frozen=True)
class TensorSpec:
    """An input/output tensor: numpy dtype name, per-tensor quantization.

    A float32 boundary tensor carries the quantization of the integer tensor its QUANTIZE
    makes (input) or its DEQUANTIZE reads (output): the range the model computes in.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int
    value_range: tuple[int, int] | None = None  # an int32 id input: the valid ids (rows of its table)
    random_refusal: str = ""  # qlogic: why random values would be invalid for the reference (give --input)


@dataclass(frozen=True)
class TensorInfo:
    """Any tensor of the graph with its full (possibly per-channel) quantization."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    quantized_dimension: int
    constant: bool


@dataclass(frozen=True)
class OpInfo:
    index: int
    op: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict = field(default_factory=dict)
    macs: int = 0


@dataclass(frozen=True)
class TFLiteInfo:
    path: Path
    description: str
    ops: list[OpInfo]
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    macs: int
    weight_bytes: int
    tensors: list[TensorInfo]
    numerics: str = "quantized"  # quantized | float32 | hybrid (int8 weights, float32 activations)

    @property
    def op_names(self) -> list[str]:
        return [o.op for o in self.ops]


# -- parsing -------------------------------------------------------------------

def _load(path: Path) -> S.ModelT:
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model file ({exc.strerror or exc})") from exc
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelError(f"{path}: not a TFLite file (no 'TFL3' flatbuffer identifier)")
    try:
        model = S.ModelT.InitFromPackedBuf(buf, 0)
    except (IndexError, struct.error, ValueError, TypeError, OverflowError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: truncated or corrupt TFLite file ({len(buf)} bytes; "
                         f"{type(exc).__name__}: {str(exc)[:80]})") from exc
    if not model.subgraphs:
        raise ModelError(f"{path}: TFLite file has no subgraph")
    _check_names(path, model.subgraphs[0])
    try:  # vision: a dynamic-batch graph's SHAPE -> STRIDED_SLICE -> PACK chains become constants
        fold_static_shapes(model)
        resolve_placeholder_shapes(model)  # qlogic: [1, 1] placeholders after a RESHAPE to [batch, -1]
    except (IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{path}: corrupt shape computation ({type(exc).__name__}: {exc})") from exc
    return model


def _check_names(path: Path, sub: S.SubGraphT) -> None:
    """Tensor names become C identifiers and report text: a name that is not printable text
    means a corrupt string table (e.g. a flipped length byte), so the file is rejected here."""
    for index, tensor in enumerate(sub.tensors or []):
        try:
            name = _name(tensor)
        except UnicodeDecodeError:
            name = None
        if name is None or not name.isprintable() or len(name) > 1024:
            shown = repr(tensor.name[:40]) if tensor.name else "?"
            raise ModelError(f"{path}: corrupt TFLite file: tensor {index} has a name that is not "
                             f"printable text ({shown}...)")


CONTROL_FLOW_OPS = frozenset({"WHILE", "IF", "CALL_ONCE", "CALL"})


def _check_control_flow(path: Path, model: S.ModelT, ops: list[OpInfo]) -> None:
    """Several subgraphs mean control flow: name the op of the main graph that calls them."""
    if len(model.subgraphs) == 1:
        return
    for op in ops:
        if op.op in CONTROL_FLOW_OPS:
            raise UnsupportedOpError(path, op.op, op.index, STATEFUL_REASON if op.op == "CALL_ONCE" else
                                     f"control flow into {len(model.subgraphs) - 1} further subgraph(s)")
    raise ModelError(f"{path}: {len(model.subgraphs)} subgraphs (control flow) are not supported")


def _op_name(model: S.ModelT, index: int) -> str:
    code = model.operatorCodes[index]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if builtin == S.BuiltinOperator.CUSTOM:
        custom = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
        return f"CUSTOM:{custom}"
    return OP_NAMES.get(builtin, f"BUILTIN_{builtin}")


def _options(opt) -> dict:
    """Builtin options as plain values with enum names (padding, fused activation)."""
    if opt is None:
        return {}
    out = {}
    for key, value in vars(opt).items():
        if key == "padding":
            value = PADDING_NAMES.get(value, value)
        elif key == "fusedActivationFunction":
            value = ACT_NAMES.get(value, value)
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        out[key] = value
    return out


def _check_op(path: Path, index: int, op: str, options: dict, numerics: str = "quantized") -> None:
    if op not in SUPPORTED_OPS and not (numerics != "quantized" and op in FLOAT_ONLY_OPS):
        float_only = op in FLOAT_ONLY_OPS and op not in UNSUPPORTED_REASONS
        raise UnsupportedOpError(path, op, index, "only in float32 models" if float_only else "")
    act = options.get("fusedActivationFunction", "NONE")
    if act not in SUPPORTED_ACTIVATIONS and (op, act) not in OP_ACTIVATIONS:
        raise UnsupportedOpError(path, op, index, f"fused activation {act}")
    if op == "FULLY_CONNECTED" and options.get("weightsFormat", 0) != 0:
        raise UnsupportedOpError(path, op, index, "shuffled weights format")


def _tensor_type(t: S.TensorT) -> str:
    return TYPE_NAMES.get(t.type, str(t.type))


def _float_boundary(sub: S.SubGraphT, ops: list[OpInfo]) -> dict[int, OpInfo]:
    """Float32 graph inputs/outputs that only a QUANTIZE reads / a DEQUANTIZE writes -> that op."""
    boundary: dict[int, OpInfo] = {}
    floats = {i for i in [*sub.inputs, *sub.outputs] if _tensor_type(sub.tensors[i]) == "FLOAT32"}
    for i in floats & set(sub.inputs):
        readers = [op for op in ops if i in op.inputs]
        if readers and all(op.op == "QUANTIZE" for op in readers):
            boundary[i] = readers[0]
    for i in floats & set(sub.outputs):
        writers = [op for op in ops if i in op.outputs]
        readers = [op for op in ops if i in op.inputs]
        if len(writers) == 1 and writers[0].op == "DEQUANTIZE" and not readers:
            boundary[i] = writers[0]
    boundary.update(_mask_casts(sub, ops))  # qlogic
    return boundary


def _mask_casts(sub: S.SubGraphT, ops: list[OpInfo]) -> dict[int, OpInfo]:
    """qlogic: float32 tensors of the converter's mask idiom, CAST(bool -> float32) read only by QUANTIZE
    (frontend/logic.py selects between the two quantized values)."""
    found = {}
    for op in ops:
        if op.op != "CAST" or _tensor_type(sub.tensors[op.inputs[0]]) != "BOOL":
            continue
        out = op.outputs[0]
        readers = [r for r in ops if out in r.inputs]
        if _tensor_type(sub.tensors[out]) == "FLOAT32" and readers and all(r.op == "QUANTIZE" for r in readers) \
                and out not in set(sub.outputs):
            found[out] = op
    return found


def _check_op_types(path: Path, sub: S.SubGraphT, op: OpInfo, boundary: dict[int, OpInfo]) -> None:
    """An op's tensors: quantized integers; float32 only at the QUANTIZE/DEQUANTIZE boundary."""
    for i in op.inputs + op.outputs:
        if i < 0:
            continue
        t = sub.tensors[i]
        ttype = _tensor_type(t)
        if ttype.startswith("FLOAT") and not (ttype == "FLOAT32" and i in boundary):
            raise UnsupportedOpError(path, op.op, op.index, f"{ttype} tensor {_name(t)!r}: float model; only "
                                     f"quantized int8/uint8/int16 graphs run, float32 only at QUANTIZE/DEQUANTIZE")
        if ttype not in CONSTANT_TYPES | PLAIN_TYPES and not ttype.startswith("FLOAT"):
            raise UnsupportedOpError(path, op.op, op.index, f"{ttype} tensor {_name(t)!r}; supported: "
                                     f"int8/uint8/int16 activations, int8/uint8 weights, int32/int64 bias")


def _float_activations(model: S.ModelT, sub: S.SubGraphT, ops: list[OpInfo], boundary: dict[int, OpInfo]) -> bool:
    """True when a tensor an op computes on (not a constant, not the float I/O boundary) is float32."""
    for op in ops:
        for i in (*op.inputs, *op.outputs):
            t = sub.tensors[i] if i >= 0 else None
            if t is not None and i not in boundary and _tensor_type(t) == "FLOAT32" and not _has_data(model, t):
                return True
    return False


def _has_data(model: S.ModelT, t: S.TensorT) -> bool:
    data = model.buffers[t.buffer].data if 0 < t.buffer < len(model.buffers) else None
    return data is not None and len(data) > 0


def _check_float_model(path: Path, model: S.ModelT, sub: S.SubGraphT, ops: list[OpInfo]) -> str:
    """A float graph: float32 activations throughout; constants float32 or int32 (shapes), int8
    only as the weights of HYBRID_WEIGHT_INPUTS (CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED, the
    LSTM's and SVDF's) or a DEQUANTIZE's input (dynamic-range quantization).  Returns "float32" or "hybrid"."""
    hybrid = False
    for op in ops:
        if op.op in FLOAT_UNSUPPORTED:
            raise UnsupportedOpError(path, op.op, op.index, f"in a float model: {FLOAT_UNSUPPORTED[op.op]}")
        if op.op == "UNIDIRECTIONAL_SEQUENCE_LSTM" and any(i >= 0 for i in op.inputs[20:24]):  # floatops
            raise UnsupportedOpError(path, op.op, op.index, "layer-normalized LSTM (not lowered)")
        for pos, i in enumerate(op.inputs + op.outputs):
            if i < 0:
                continue
            t = sub.tensors[i]
            ttype, const = _tensor_type(t), _has_data(model, t)
            if ttype == "FLOAT32" or (const and ttype in ("INT32", "INT64")):
                continue
            if ttype in FLOAT_GRAPH_EXTRA_TYPES and not const:
                continue
            if const and ttype == "FLOAT16" and op.op == "DEQUANTIZE" and pos == 0:  # fp16 weights, folded
                continue
            if const and ttype == "INT8" and pos in HYBRID_WEIGHT_INPUTS.get(op.op, ()):
                hybrid = True
                continue
            what = "constant" if const else "activation"
            raise UnsupportedOpError(path, op.op, op.index, f"{ttype} {what} {_name(t)!r} in a float model (float "
                                     f"models run float32 activations; int8 only as conv/FC weights)")
    return "hybrid" if hybrid else "float32"


def _index_outputs(sub: S.SubGraphT, ops: list[OpInfo]) -> set[int]:
    """Graph outputs that an index op (ARG_MAX / ARG_MIN) writes: int32/int64, no quantization;
    and (qlogic) every unquantized int32/int64/bool graph input or output (token ids, masks)."""
    plain = {i for i in (*sub.inputs, *sub.outputs) if _tensor_type(sub.tensors[i]) in PLAIN_TYPES | {"INT8", "INT16"}
             and not _quantized(sub.tensors[i])}  # an unquantized int8: raw integers (a CAST's result)
    return plain | {i for op in ops if op.op in INDEX_OPS for i in op.outputs
                    if i in set(sub.outputs) and _tensor_type(sub.tensors[i]) in ("INT32", "INT64")}


def _quantized(t: S.TensorT) -> bool:
    return t.quantization is not None and t.quantization.scale is not None and len(t.quantization.scale) > 0


# qlogic: (op, position of the ids, position of the table) of the ops that index a table with int32 ids
ID_READERS = {"GATHER": (1, 0), "EMBEDDING_LOOKUP": (0, 1)}
# qlogic: ops whose output holds (a subset of) the same integer values as their first input
SAME_VALUES = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "STRIDED_SLICE", "SLICE"})
# qlogic: ops that read every input as data (any int32 value is valid); others read inputs >= 1 as parameters
DATA_OPS = frozenset({"ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL",
                      "GREATER", "GREATER_EQUAL", "SELECT", "SELECT_V2", "CONCATENATION", "PACK", "CAST",
                      "ABS", "NEG", "SQUARED_DIFFERENCE"})
DIVIDERS = frozenset({"FLOOR_DIV", "FLOOR_MOD", "DIV"})


@dataclass(frozen=True)
class InputRange:
    """What random values an int32 graph input may take: [low, high], or why none are safe."""

    low: int
    high: int
    refusal: str = ""


def _id_range(sub: S.SubGraphT, ops: list[OpInfo], index: int) -> InputRange:
    """The values of an int32 graph input the reference accepts: ids that GATHER / EMBEDDING_LOOKUP
    read (directly or through a reshape) are rows of the smallest table, a divisor is >= 1; a value
    computed from the input that reaches an id, divisor or parameter position cannot be bounded
    here, so random inputs are refused (the user gives them with --input)."""
    info = np.iinfo(NUMPY_DTYPES[_tensor_type(sub.tensors[index])])
    low, high = int(info.min), int(info.max)
    same, derived = {index}, set()  # tensors holding the input's values / values computed from them
    for op in ops:
        for pos, i in enumerate(op.inputs):
            if i not in same and i not in derived:
                continue
            direct, where = i in same, f"{op.op} (operator {op.index}) input {pos}"
            ids, table = ID_READERS.get(op.op, (None, None))
            if pos == ids and direct:
                axis = int(op.options.get("axis", 0)) if op.op == "GATHER" else 0
                axis += len(_shape(sub.tensors[op.inputs[table]])) if axis < 0 else 0
                low, high = max(low, 0), min(high, _shape(sub.tensors[op.inputs[table]])[axis] - 1)
            elif op.op in DIVIDERS and pos == 1 and direct:
                low = max(low, 1)
            elif pos == ids or (op.op in DIVIDERS and pos == 1) or (pos not in (0, table) and op.op not in DATA_OPS):
                return InputRange(0, -1, f"it reaches {where} through other ops, where the reference "
                                         f"accepts only some values")
            if pos == ids or op.op == "SHAPE":  # a table's values / a static shape: not the input's
                continue
            keep = same if direct and op.op in SAME_VALUES | set(ID_READERS) and pos in (0, table) else derived
            keep.update(o for o in op.outputs if _tensor_type(sub.tensors[o]) in ("INT32", "INT64"))
    if low > high:
        return InputRange(0, -1, "no value is valid at every op that reads it")
    return InputRange(low, high)


def _random_range(sub: S.SubGraphT, ops: list[OpInfo] | None, index: int) -> tuple:
    """TensorSpec's (value_range, random_refusal) of an int/bool graph input (an output: none)."""
    if not ops or index not in sub.inputs or _tensor_type(sub.tensors[index]) not in ("INT32", "INT64"):
        return None, ""
    r = _id_range(sub, ops, index)
    info = np.iinfo(NUMPY_DTYPES[_tensor_type(sub.tensors[index])])
    full = (r.low, r.high) == (int(info.min), int(info.max))
    return (None if full or r.refusal else (r.low, r.high)), r.refusal


def _check_io_types(path: Path, sub: S.SubGraphT, boundary: dict[int, OpInfo], indices: set[int]) -> None:
    for i in list(sub.inputs) + list(sub.outputs):
        t = sub.tensors[i]
        kind = "input" if i in sub.inputs else "output"
        ttype = _tensor_type(t)
        if ttype in ACTIVATION_TYPES or (ttype == "FLOAT32" and i in boundary) or i in indices:
            continue
        raise ModelError(f"{path}: {kind} {_name(t)!r} is {ttype}; only quantized models (int8, uint8 or "
                         f"int16 activations; float32 only through QUANTIZE/DEQUANTIZE) are supported")


def _name(t: S.TensorT) -> str:
    return t.name.decode() if isinstance(t.name, bytes) else (t.name or "")


def _shape(t: S.TensorT) -> tuple[int, ...]:
    return tuple(int(d) for d in (t.shape if t.shape is not None else ()))


def _spec(path: Path, sub: S.SubGraphT, index: int, boundary: dict[int, OpInfo],
          indices: frozenset[int] = frozenset(), ops: list[OpInfo] | None = None) -> TensorSpec:
    t = sub.tensors[index]
    if index in indices:  # an index output (ARG_MAX), ids, a mask: no quantization, as a float model's I/O
        return TensorSpec(_name(t), _shape(t), NUMPY_DTYPES[_tensor_type(t)].__name__, 0.0, 0,
                          *_random_range(sub, ops, index))
    if _tensor_type(t) == "FLOAT32" and index not in boundary:  # a float model's I/O: no quantization
        return TensorSpec(_name(t), _shape(t), "float32", 0.0, 0)
    if index in boundary:  # float32 I/O: the quantization of the integer side
        op = boundary[index]
        inner = _spec(path, sub, op.outputs[0] if op.op == "QUANTIZE" else op.inputs[0], {})
        return TensorSpec(_name(t), _shape(t), "float32", inner.scale, inner.zero_point)
    q = t.quantization
    if q is None or q.scale is None or len(q.scale) == 0:
        raise ModelError(f"{path}: tensor {_name(t)!r} has no quantization parameters")
    return TensorSpec(_name(t), _shape(t), NUMPY_DTYPES[_tensor_type(t)].__name__,
                      float(q.scale[0]), int(q.zeroPoint[0]) if q.zeroPoint is not None else 0)


def _tensor_info(model: S.ModelT, t: S.TensorT) -> TensorInfo:
    q = t.quantization
    scales = tuple(float(x) for x in q.scale) if q is not None and q.scale is not None else ()
    zps = tuple(int(x) for x in q.zeroPoint) if q is not None and q.zeroPoint is not None else ()
    data = model.buffers[t.buffer].data if 0 < t.buffer < len(model.buffers) else None
    dtype = NUMPY_DTYPES.get(_tensor_type(t))
    return TensorInfo(_name(t), _shape(t), dtype.__name__ if dtype else _tensor_type(t).lower(), scales, zps,
                      int(q.quantizedDimension) if q is not None else 0, data is not None and len(data) > 0)


def _macs(op: str, sub: S.SubGraphT, inputs: tuple[int, ...], outputs: tuple[int, ...]) -> int:
    if op not in MAC_OPS:
        return 0
    if op in ("BATCH_MATMUL", "UNIDIRECTIONAL_SEQUENCE_LSTM"):
        return _matmul_macs(op, sub, inputs, outputs)
    out = int(np.prod(_shape(sub.tensors[outputs[0]])))
    w = _shape(sub.tensors[inputs[1]])
    if op == "CONV_2D":
        return out * w[1] * w[2] * w[3]
    if op == "DEPTHWISE_CONV_2D":
        return out * w[1] * w[2]
    if op == "TRANSPOSE_CONV":  # every input pixel meets every tap of every filter
        return int(np.prod(_shape(sub.tensors[inputs[2]]))) * w[0] * w[1] * w[2]
    return out * w[-1]


def _matmul_macs(op: str, sub: S.SubGraphT, inputs: tuple[int, ...], outputs: tuple[int, ...]) -> int:
    """BATCH_MATMUL: each output sums K products; LSTM: per step and batch row, the gates' input and
    recurrent matmuls plus the projection (peephole and elementwise work not counted)."""
    out = _shape(sub.tensors[outputs[0]])
    if op == "BATCH_MATMUL":
        a = _shape(sub.tensors[inputs[0]])
        return int(np.prod(out)) * (a[-1] * a[-2] // out[-2])  # K, whether or not a is adjoint
    present = [i >= 0 for i in inputs]
    units = _shape(sub.tensors[inputs[2]])[0]  # the forget gate's input weights: [units, features]
    features = _shape(sub.tensors[inputs[0]])[-1]
    gates = sum(present[1:5])
    rows = int(np.prod(out[:-1]))  # steps x batch
    projection = out[-1] * units if len(inputs) > 16 and present[16] else 0
    return rows * (gates * units * (features + out[-1]) + projection)


def _weight_bytes(path: Path, model: S.ModelT, sub: S.SubGraphT) -> int:
    """Bytes of all constant tensors (each buffer counted once); checks their sizes."""
    seen, total = set(), 0
    for t in sub.tensors:
        data = model.buffers[t.buffer].data if 0 < t.buffer < len(model.buffers) else None
        if data is None or len(data) == 0 or t.buffer in seen:
            continue
        seen.add(t.buffer)
        dtype = NUMPY_DTYPES.get(_tensor_type(t))
        want = int(np.prod(_shape(t))) * np.dtype(dtype).itemsize if dtype else len(data)
        if len(data) != want:
            raise ModelError(f"{path}: constant {_name(t)!r} holds {len(data)} bytes, its shape needs {want} "
                             f"(truncated or corrupt file)")
        total += len(data)
    return total


def read_tflite(path: str | Path) -> TFLiteInfo:
    """Parse and validate a .tflite file; raises ModelError / UnsupportedOpError (a corrupt
    file whose flatbuffer still parses, e.g. a tensor index out of range, included)."""
    path = Path(path)
    model = _load(path)
    try:
        return _read(path, model)
    except ModelError:
        raise
    except (IndexError, KeyError, TypeError, AttributeError, ValueError, OverflowError) as exc:
        raise ModelError(f"{path}: corrupt TFLite file ({type(exc).__name__}: {str(exc)[:120]})") from exc


# reliable: no tensor of a model for an RV32 target holds more (the address space is 4 GiB);
# a corrupt shape beyond it would only exhaust the host's memory while making inputs
MAX_TENSOR_BYTES = 1 << 28


def _check_structure(path: Path, model: S.ModelT, sub: S.SubGraphT) -> None:
    """Indices and shapes a corrupt file can break while its flatbuffer still parses: tensor
    indices of operators and of the graph I/O (-1: an omitted optional input), buffer
    indices, dimensions (>= 0) and tensor sizes."""
    tensors, buffers = sub.tensors or [], model.buffers or []
    for where, indices, optional in (
            [("graph input", sub.inputs, False), ("graph output", sub.outputs, False)]
            + [(f"operator #{i} input", o.inputs, True) for i, o in enumerate(sub.operators or [])]
            + [(f"operator #{i} output", o.outputs, False) for i, o in enumerate(sub.operators or [])]):
        for index in (indices if indices is not None else ()):
            if not (-1 if optional else 0) <= int(index) < len(tensors):
                raise ModelError(f"{path}: corrupt TFLite file: {where} names tensor {int(index)}, "
                                 f"the graph has {len(tensors)}")
    for t in tensors:
        if not 0 <= t.buffer < max(len(buffers), 1):
            raise ModelError(f"{path}: corrupt TFLite file: tensor {_name(t)!r} names buffer {t.buffer}, "
                             f"the file has {len(buffers)}")
        shape = _shape(t)
        if any(d < 0 for d in shape):
            raise ModelError(f"{path}: corrupt TFLite file: tensor {_name(t)!r} has shape {list(shape)}")
        size = int(np.prod(shape, dtype=object)) * np.dtype(NUMPY_DTYPES.get(_tensor_type(t), np.int8)).itemsize
        if size > MAX_TENSOR_BYTES:
            raise ModelError(f"{path}: tensor {_name(t)!r} of shape {list(shape)} needs {size:,} bytes, more "
                             f"than an RV32 target can hold (corrupt file?)")


# reliable: strides, dilations and pooling windows are >= 1; above this bound only a corrupt file
MAX_WINDOW = 1 << 12
_WINDOW_OPTIONS = ("strideW", "strideH", "dilationWFactor", "dilationHFactor", "filterWidth", "filterHeight")


def _check_window(path: Path, op: OpInfo) -> None:
    for key in _WINDOW_OPTIONS:
        value = op.options.get(key)
        if isinstance(value, int) and not 1 <= value <= MAX_WINDOW:
            raise ModelError(f"{path}: operator #{op.index} {op.op}: option {key} = {value} is outside "
                             f"1..{MAX_WINDOW} (corrupt file?)")


def _read(path: Path, model: S.ModelT) -> TFLiteInfo:
    sub = model.subgraphs[0]
    _check_structure(path, model, sub)
    try:
        raw_ops = [(i, _op_name(model, o.opcodeIndex), tuple(int(x) for x in o.inputs),
                    tuple(int(x) for x in o.outputs), _options(o.builtinOptions))
                   for i, o in enumerate(sub.operators or [])]
        ops = [OpInfo(i, name, ins, outs, opts, _macs(name, sub, ins, outs) if name in MAC_OPS else 0)
               for i, name, ins, outs, opts in raw_ops]
    except (IndexError, TypeError, AttributeError) as exc:
        raise ModelError(f"{path}: corrupt TFLite graph ({type(exc).__name__}: {exc})") from exc
    _check_control_flow(path, model, ops)
    boundary = _float_boundary(sub, ops)
    numerics = "float32" if _float_activations(model, sub, ops, boundary) else "quantized"
    for op in ops:  # the first offending op is the one named
        _check_op(path, op.index, op.op, op.options, numerics)
        _check_window(path, op)  # reliable
        if numerics == "quantized":
            _check_op_types(path, sub, op, boundary)
    indices = frozenset(_index_outputs(sub, ops))
    if numerics == "quantized":
        _check_io_types(path, sub, boundary, indices)
    else:
        numerics, boundary = _check_float_model(path, model, sub, ops), {}
    description = model.description.decode() if isinstance(model.description, bytes) else (model.description or "")
    return TFLiteInfo(path, description, ops,
                      [_spec(path, sub, i, boundary, indices, ops) for i in sub.inputs],
                      [_spec(path, sub, i, boundary, indices) for i in sub.outputs],
                      sum(o.macs for o in ops), _weight_bytes(path, model, sub),
                      [_tensor_info(model, t) for t in sub.tensors], numerics)
