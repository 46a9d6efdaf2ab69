"""Fold the shape arithmetic of a dynamic-batch graph into constants.

A Keras model converted by the TFLite converter keeps its batch dimension dynamic (shape
signature −1): every `Reshape` / `Conv2DTranspose` then computes its target shape at run time,
`SHAPE(x) → STRIDED_SLICE → PACK → RESHAPE`.  On the MCU every shape is static (the tensors'
`shape` fields hold batch 1), so these int32 chains evaluate once, here: each op whose inputs
are constants (or a SHAPE of a statically shaped tensor) becomes a constant buffer and
disappears from the graph.  The file's own operator numbering is kept in nothing downstream:
`read_tflite` and the importer both see the folded graph, so their indices agree.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as S

_INT_TYPES = {S.TensorType.INT32: np.int32, S.TensorType.INT64: np.int64}
SHAPE_OPS = frozenset({S.BuiltinOperator.SHAPE, S.BuiltinOperator.STRIDED_SLICE, S.BuiltinOperator.PACK,
                       S.BuiltinOperator.CONCATENATION, S.BuiltinOperator.GATHER, S.BuiltinOperator.SLICE})


def _builtin(model: S.ModelT, op: S.OperatorT) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _constant(model: S.ModelT, t: S.TensorT) -> np.ndarray | None:
    """An int32/int64 constant's value, else None."""
    if t.type not in _INT_TYPES or not (0 < t.buffer < len(model.buffers)):
        return None
    data = model.buffers[t.buffer].data
    if data is None or not len(data):
        return None
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
    return np.frombuffer(np.asarray(data, np.uint8).tobytes(), _INT_TYPES[t.type]).reshape(shape)


def _strided_slice(x: np.ndarray, begin, end, strides, opts) -> np.ndarray | None:
    if x.ndim != 1 or opts.ellipsisMask or opts.newAxisMask:
        return None
    b = None if opts.beginMask & 1 else int(begin[0])
    e = None if opts.endMask & 1 else int(end[0])
    if opts.shrinkAxisMask & 1:
        return x[int(begin[0])]
    return x[b:e:int(strides[0])]


def _evaluate(model: S.ModelT, sub: S.SubGraphT, op: S.OperatorT, builtin: int) -> np.ndarray | None:
    """The value of a shape op's output, or None when it is not a static int computation."""
    if builtin == S.BuiltinOperator.SHAPE:
        x = sub.tensors[op.inputs[0]]
        if x.shape is None or any(int(d) < 0 for d in x.shape):
            return None
        out_type = _INT_TYPES.get(sub.tensors[op.outputs[0]].type)
        return None if out_type is None else np.asarray([int(d) for d in x.shape], out_type)
    values = [_constant(model, sub.tensors[i]) if i >= 0 else None for i in op.inputs]
    if any(v is None for v in values):
        return None
    opts = op.builtinOptions
    if builtin == S.BuiltinOperator.STRIDED_SLICE:
        return _strided_slice(*values, opts)
    if builtin == S.BuiltinOperator.PACK:
        return np.stack(values, axis=int(opts.axis))
    if builtin == S.BuiltinOperator.CONCATENATION:
        return np.concatenate(values, axis=int(opts.axis))
    if builtin == S.BuiltinOperator.GATHER:
        return np.take(values[0], values[1], axis=int(opts.axis))
    if builtin == S.BuiltinOperator.SLICE:
        begin, size = values[1], values[2]
        return values[0][tuple(slice(int(b), None if int(s) < 0 else int(b) + int(s)) for b, s in zip(begin, size))]
    return None


def fold_static_shapes(model: S.ModelT) -> int:
    """Replace foldable shape ops of the main subgraph by constants, in place; the count folded."""
    sub = model.subgraphs[0]
    outputs = set(sub.outputs if sub.outputs is not None else ())
    kept, folded = [], 0
    for op in sub.operators or []:
        builtin = _builtin(model, op)
        out = op.outputs[0] if op.outputs is not None and len(op.outputs) == 1 else None
        value = _evaluate(model, sub, op, builtin) if builtin in SHAPE_OPS and out is not None \
            and out not in outputs else None
        tensor = sub.tensors[out] if value is not None else None
        if value is None or tensor.type not in _INT_TYPES:
            kept.append(op)
            continue
        buffer = S.BufferT()
        buffer.data = np.ascontiguousarray(value.astype(_INT_TYPES[tensor.type])).view(np.uint8).reshape(-1)
        model.buffers.append(buffer)
        tensor.buffer = len(model.buffers) - 1
        tensor.shape = np.asarray(value.shape, np.int32)
        tensor.shapeSignature = None
        folded += 1
    sub.operators = kept
    return folded


def folded_bytes(raw: bytes) -> bytes:
    """The flatbuffer with its shape ops folded (the same bytes when there is none)."""
    import flatbuffers

    model = S.ModelT.InitFromPackedBuf(raw, 0)
    if not model.subgraphs or not fold_static_shapes(model):
        return raw
    builder = flatbuffers.Builder(max(1024, len(raw)))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
