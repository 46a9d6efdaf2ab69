"""Fold the converter's shape arithmetic into constants before import (shapes are static here).

The TF converter writes dynamic-shape idioms even for fixed-shape models: SHAPE -> STRIDED_SLICE ->
PACK -> RESHAPE, BROADCAST_ARGS -> FILL, ZEROS_LIKE, int32 index arithmetic on shapes.  TVM 0.27
turns a RESHAPE whose shape is a computed tensor into a dynamic reshape that the bare-metal C
cannot run.  Every op here whose result depends on constants and static shapes only is evaluated
with numpy (TFLite's integer semantics: floor division, int32 wrap-around) and replaced by a
constant tensor; ops reading activations, quantized tensors and graph outputs are left alone.
"""

from __future__ import annotations

from typing import Callable

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.zoo.tflite_info import NUMPY_DTYPES, OP_NAMES, TYPE_NAMES

# int32/int64/bool results only: quantized 8/16-bit values are never folded (their kernels run).
FOLDED_TYPES = frozenset({"INT32", "INT64", "BOOL"})
Fold = Callable[[list[np.ndarray], object, S.TensorT], np.ndarray]


def _strided_slice(args: list[np.ndarray], options, out: S.TensorT) -> np.ndarray:
    x, begin, end, strides = args
    if options.ellipsisMask or options.newAxisMask or getattr(options, "offset", False):
        raise NotImplementedError("ellipsis / new-axis masks")
    index = []
    for i, (b, e, s) in enumerate(zip(begin.tolist(), end.tolist(), strides.tolist())):
        if options.shrinkAxisMask >> i & 1:
            index.append(int(b))
        else:
            index.append(slice(None if options.beginMask >> i & 1 else int(b),
                               None if options.endMask >> i & 1 else int(e), int(s)))
    return x[tuple(index)]


def _broadcast_args(args: list[np.ndarray], options, out: S.TensorT) -> np.ndarray:
    return np.array(np.broadcast_shapes(tuple(args[0].tolist()), tuple(args[1].tolist())), args[0].dtype)


def _floor_mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not np.all(b):
        raise ZeroDivisionError("FLOOR_MOD by zero")
    return np.mod(a, b)


def _floor_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not np.all(b):
        raise ZeroDivisionError("FLOOR_DIV by zero")
    return np.floor_divide(a, b)


def _binary(fn) -> Fold:
    def fold(args, options, out):
        if getattr(options, "fusedActivationFunction", 0):
            raise NotImplementedError("fused activation")
        return fn(args[0], args[1])
    return fold


FOLDS: dict[str, Fold] = {
    "STRIDED_SLICE": _strided_slice,
    "PACK": lambda a, o, out: np.stack(a, axis=o.axis),
    "CONCATENATION": lambda a, o, out: np.concatenate(a, axis=o.axis),
    "RESHAPE": lambda a, o, out: a[0].reshape(tuple(out.shape)),
    "SQUEEZE": lambda a, o, out: a[0].reshape(tuple(out.shape)),
    "EXPAND_DIMS": lambda a, o, out: a[0].reshape(tuple(out.shape)),
    "GATHER": lambda a, o, out: np.take(a[0], a[1], axis=o.axis),
    "SLICE": lambda a, o, out: a[0][tuple(slice(b, None if s == -1 else b + s) for b, s in zip(a[1], a[2]))],
    "CAST": lambda a, o, out: a[0],
    "BROADCAST_ARGS": _broadcast_args,
    "FILL": lambda a, o, out: np.full(tuple(a[0].tolist()), a[1].reshape(())),
    "ADD": _binary(np.add), "SUB": _binary(np.subtract), "MUL": _binary(np.multiply),
    "MAXIMUM": _binary(np.maximum), "MINIMUM": _binary(np.minimum),
    "FLOOR_DIV": _binary(_floor_div), "FLOOR_MOD": _binary(_floor_mod),
}


def _static_shape(t: S.TensorT) -> tuple[int, ...] | None:
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
    signature = t.shapeSignature
    if any(d < 0 for d in shape) or (signature is not None and any(int(d) < 0 for d in list(signature)[1:])):
        return None
    return shape


def _value(model: S.ModelT, t: S.TensorT) -> np.ndarray | None:
    buf = model.buffers[t.buffer] if 0 < t.buffer < len(model.buffers) else None
    if buf is None or buf.data is None or len(buf.data) == 0:
        return None
    dtype = NUMPY_DTYPES.get(TYPE_NAMES.get(t.type, ""))
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
    return None if dtype is None else np.frombuffer(np.asarray(buf.data, np.uint8).tobytes(), dtype).reshape(shape)


def _fold_op(model: S.ModelT, sub: S.SubGraphT, op: S.OperatorT) -> np.ndarray | None:
    name = OP_NAMES.get(max(model.operatorCodes[op.opcodeIndex].builtinCode,
                            model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode))
    outs = list(op.outputs)
    if len(outs) != 1 or outs[0] in set(sub.outputs):
        return None
    out = sub.tensors[outs[0]]
    if TYPE_NAMES.get(out.type) not in FOLDED_TYPES or _static_shape(out) is None:
        return None
    inputs = [sub.tensors[i] for i in op.inputs if i >= 0]
    if name == "SHAPE":
        shape = _static_shape(inputs[0])
        return None if shape is None else np.array(shape, NUMPY_DTYPES[TYPE_NAMES[out.type]])
    if name == "ZEROS_LIKE":
        return np.zeros(_static_shape(out), NUMPY_DTYPES[TYPE_NAMES[out.type]])
    if name not in FOLDS:
        return None
    args = [_value(model, t) for t in inputs]
    if any(a is None for a in args):
        return None
    try:
        result = FOLDS[name](args, op.builtinOptions, out)
    except (NotImplementedError, ZeroDivisionError, ValueError, IndexError, TypeError):
        return None  # left to the importer (which rejects or runs it)
    result = np.asarray(result).astype(NUMPY_DTYPES[TYPE_NAMES[out.type]])
    return result if result.shape == _static_shape(out) else None


def fold_constants(buffer: bytes) -> bytes:
    """The flatbuffer with every foldable op of subgraph 0 replaced by a constant (unchanged if none)."""
    model = S.ModelT.InitFromPackedBuf(buffer, 0)
    sub = model.subgraphs[0]
    kept, folded = [], 0
    for op in sub.operators or []:
        value = _fold_op(model, sub, op)
        if value is None:
            kept.append(op)
            continue
        buf = S.BufferT()
        buf.data = np.frombuffer(np.ascontiguousarray(value).tobytes(), np.uint8)
        model.buffers.append(buf)
        sub.tensors[op.outputs[0]].buffer = len(model.buffers) - 1
        folded += 1
    if not folded:
        return buffer
    sub.operators = kept
    builder = flatbuffers.Builder(len(buffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
