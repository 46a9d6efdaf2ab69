"""Fold the shape arithmetic of a converted graph into constants (the one folding pass).

A Keras model converted by the TFLite converter keeps its batch dimension dynamic (shape
signature −1): every `Reshape` / `Conv2DTranspose` then computes its target shape at run time,
`SHAPE(x) → STRIDED_SLICE → PACK → RESHAPE`; the converter also writes BROADCAST_ARGS, FILL,
ZEROS_LIKE, RANGE, REDUCE_PROD (a Flatten's element count) and int32 arithmetic on such shapes.
On the MCU every shape is static (the tensors'
`shape` fields hold batch 1), so these chains evaluate once, here: each op whose inputs are
constants (or a SHAPE of a statically shaped tensor, a ZEROS_LIKE) and whose result is int32 /
int64 / bool becomes a constant buffer and disappears from the graph (numpy with TFLite's integer
semantics: floor division, int32 wrap-around).  Quantized 8/16-bit values are never folded (their
kernels run), nor graph outputs.  The file's own operator numbering is kept in nothing downstream:
`read_tflite` and the importer both see the folded graph, so their indices agree.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from ai_edge_litert import schema_py_generated as S

_INT_TYPES = {S.TensorType.INT32: np.int32, S.TensorType.INT64: np.int64}
_FOLDED_TYPES = {**_INT_TYPES, S.TensorType.BOOL: np.bool_}  # results folded (never 8/16-bit quantized data)
_OPS = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}
Fold = Callable[[list[np.ndarray], object, tuple[int, ...]], np.ndarray]


def _builtin(model: S.ModelT, op: S.OperatorT) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _constant(model: S.ModelT, t: S.TensorT) -> np.ndarray | None:
    """An int32/int64/bool constant's value, else None."""
    if t.type not in _FOLDED_TYPES or not (0 < t.buffer < len(model.buffers)):
        return None
    data = model.buffers[t.buffer].data
    if data is None or not len(data):
        return None
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
    return np.frombuffer(np.asarray(data, np.uint8).tobytes(), _FOLDED_TYPES[t.type]).reshape(shape)


def _strided_slice(args: list[np.ndarray], opts, shape) -> np.ndarray:
    x, begin, end, strides = args
    if opts.ellipsisMask or opts.newAxisMask or getattr(opts, "offset", False):
        raise NotImplementedError("ellipsis / new-axis masks")
    index = []
    for i, (b, e, s) in enumerate(zip(begin.tolist(), end.tolist(), strides.tolist())):
        if opts.shrinkAxisMask >> i & 1:
            index.append(int(b))
        else:
            index.append(slice(None if opts.beginMask >> i & 1 else int(b), None if opts.endMask >> i & 1 else int(e),
                               int(s)))
    return x[tuple(index)]


def _checked(fn) -> Fold:
    """An elementwise int op (no fused activation; a zero divisor is left to the kernel's error)."""
    def fold(args, opts, shape):
        if getattr(opts, "fusedActivationFunction", 0):
            raise NotImplementedError("fused activation")
        if fn in (np.floor_divide, np.mod) and not np.all(args[1]):
            raise ZeroDivisionError("division by zero")
        return fn(args[0], args[1])
    return fold


FOLDS: dict[str, Fold] = {
    "STRIDED_SLICE": _strided_slice,
    "PACK": lambda a, o, shape: np.stack(a, axis=int(o.axis)),
    "CONCATENATION": lambda a, o, shape: np.concatenate(a, axis=int(o.axis)),
    "GATHER": lambda a, o, shape: np.take(a[0], a[1], axis=int(o.axis)),
    "SLICE": lambda a, o, shape: a[0][tuple(slice(int(b), None if int(s) < 0 else int(b) + int(s))
                                            for b, s in zip(a[1], a[2]))],
    "RESHAPE": lambda a, o, shape: a[0].reshape(tuple(int(d) for d in a[1]) if len(a) > 1 else shape),
    **{op: (lambda a, o, shape: a[0].reshape(shape)) for op in ("SQUEEZE", "EXPAND_DIMS")},
    "CAST": lambda a, o, shape: a[0],
    "BROADCAST_ARGS": lambda a, o, shape: np.array(np.broadcast_shapes(tuple(a[0].tolist()), tuple(a[1].tolist()))),
    "FILL": lambda a, o, shape: np.full(tuple(int(d) for d in a[0]), a[1].reshape(())),
    "ADD": _checked(np.add), "SUB": _checked(np.subtract), "MUL": _checked(np.multiply),
    "MAXIMUM": _checked(np.maximum), "MINIMUM": _checked(np.minimum),
    "FLOOR_DIV": _checked(np.floor_divide), "FLOOR_MOD": _checked(np.mod),
    # qlogic: the converter's Flatten / dynamic reshape (element count of a shape; index ranges)
    "RANGE": lambda a, o, shape: np.arange(a[0].reshape(()), a[1].reshape(()), a[2].reshape(())),
    "REDUCE_PROD": lambda a, o, shape: np.prod(a[0], axis=tuple(int(d) for d in a[1].reshape(-1)),
                                               keepdims=bool(getattr(o, "keepDims", False)), dtype=a[0].dtype),
}


def _static(t: S.TensorT) -> tuple[int, ...] | None:
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
    return None if any(d < 0 for d in shape) else shape


def _indices_valid(sub: S.SubGraphT, op: S.OperatorT) -> bool:
    """Every tensor index of the op names a tensor (a corrupt one is named by read_tflite's checks)."""
    n = len(sub.tensors or [])
    return op.outputs is not None and len(op.outputs) == 1 and all(
        -1 <= int(i) < n for i in [*(op.inputs if op.inputs is not None else []), *op.outputs]) and op.outputs[0] >= 0


def _evaluate(model: S.ModelT, sub: S.SubGraphT, op: S.OperatorT, name: str) -> np.ndarray | None:
    """The value of a foldable op's output, or None when it is not a static computation."""
    out = sub.tensors[op.outputs[0]]
    dtype = _FOLDED_TYPES[out.type]
    if name == "SHAPE":
        shape = _static(sub.tensors[op.inputs[0]])
        return None if shape is None else np.asarray(shape, dtype)
    if name == "ZEROS_LIKE":
        shape = _static(sub.tensors[op.inputs[0]])
        return None if shape is None else np.zeros(shape, dtype)
    if name not in FOLDS:
        return None
    values = [_constant(model, sub.tensors[i]) if i >= 0 else None for i in op.inputs]
    if any(v is None for v in values):
        return None
    shape = _static(out)  # the file's shape of a computed tensor may be a placeholder ([1, 1], signature [-1, -1])
    try:
        with np.errstate(over="ignore"):  # int32 arithmetic wraps, as the kernels'
            value = np.asarray(FOLDS[name](values, op.builtinOptions, shape)).astype(dtype)
    except (NotImplementedError, ZeroDivisionError, IndexError, ValueError):
        return None  # left to the importer, which runs or rejects it
    return value


def fold_static_shapes(model: S.ModelT) -> int:
    """Replace foldable shape ops of the main subgraph by constants, in place; the count folded."""
    sub = model.subgraphs[0]
    outputs = set(sub.outputs if sub.outputs is not None else ())
    kept, folded = [], 0
    for op in sub.operators or []:
        out = op.outputs[0] if _indices_valid(sub, op) else None
        tensor = sub.tensors[out] if out is not None else None
        value = _evaluate(model, sub, op, _OPS.get(_builtin(model, op), "")) \
            if tensor is not None and tensor.type in _FOLDED_TYPES and out not in outputs else None
        if value is None:
            kept.append(op)
            continue
        buffer = S.BufferT()
        buffer.data = np.ascontiguousarray(value).view(np.uint8).reshape(-1)
        model.buffers.append(buffer)
        tensor.buffer = len(model.buffers) - 1
        tensor.shape = np.asarray(value.shape, np.int32)
        tensor.shapeSignature = None
        folded += 1
    sub.operators = kept
    return folded


# Ops whose output has the broadcast shape of their inputs (a placeholder shape after a RESHAPE to
# [batch, -1] is resolved through them).
_ELEMENTWISE = frozenset({"CAST", "QUANTIZE", "DEQUANTIZE", "ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "EQUAL",
                          "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR",
                          "LOGICAL_NOT", "SELECT_V2", "RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU",
                          "FLOOR_DIV", "FLOOR_MOD", "SQUARED_DIFFERENCE", "ABS", "NEG", "EXP", "LOG", "GELU"})


def _placeholder(t: S.TensorT) -> bool:
    """A computed tensor whose file shape is a placeholder: a −1 beyond the batch in its signature."""
    return t.shapeSignature is not None and any(int(d) < 0 for d in list(t.shapeSignature)[1:])


def resolve_placeholder_shapes(model: S.ModelT) -> int:
    """The real static shape of tensors the converter left as placeholders ([1, 1] with signature
    [-1, -1]): a RESHAPE with a constant target (−1 resolved), then the elementwise ops after it."""
    sub = model.subgraphs[0]
    resolved = 0
    for op in sub.operators or []:
        if not _indices_valid(sub, op) or not _placeholder(out := sub.tensors[op.outputs[0]]):
            continue
        name = _OPS.get(_builtin(model, op), "")
        inputs = [sub.tensors[i] for i in op.inputs if i >= 0]
        shape = None
        if name == "RESHAPE" and len(inputs) > 1 and (target := _constant(model, inputs[1])) is not None:
            size = int(np.prod(inputs[0].shape))
            dims = [int(d) for d in target]
            if dims.count(-1) == 1 and size % max(1, -int(np.prod(dims))) == 0:
                dims[dims.index(-1)] = size // -int(np.prod(dims))
            shape = tuple(dims) if int(np.prod(dims)) == size else None
        elif name in _ELEMENTWISE and not any(_placeholder(t) for t in inputs):
            shape = tuple(int(d) for d in np.broadcast_shapes(*(tuple(int(d) for d in t.shape) for t in inputs)))
        if shape is not None:
            out.shape, out.shapeSignature = np.asarray(shape, np.int32), None
            resolved += 1
    return resolved


def folded_bytes(raw: bytes) -> bytes:
    """The flatbuffer with its shape ops folded (the same bytes when there is none)."""
    import flatbuffers

    model = S.ModelT.InitFromPackedBuf(raw, 0)
    if not model.subgraphs or not fold_static_shapes(model) + resolve_placeholder_shapes(model):
        return raw
    builder = flatbuffers.Builder(max(1024, len(raw)))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
