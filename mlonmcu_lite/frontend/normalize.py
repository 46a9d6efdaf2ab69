"""Normalize a TFLite flatbuffer into the form TVM's importer takes, without changing results.

TVM 0.27's TFLite importer rejects or mis-handles models the reference interpreter runs:
a per-tensor weight whose (ignored) quantized dimension is not 0, per-channel scales with a
single zero point, uint8 tensors (it imports them, but every integer rewrite would need a
uint8 twin).  Rewriting the flatbuffer first keeps one int8 path:

* every uint8 tensor becomes int8 with data − 128 and zero point − 128.  All uint8 kernels
  compute on (q − zero point), so this is exact; the few places where the uint8 kernel's
  arithmetic is not shift-invariant (AVERAGE_POOL_2D rounds half up on non-negative sums) and
  the uint8 legacy multipliers read `Normalized.uint8_ops`;
* quantization parameters get TFLite's canonical shape (axis 0 for one scale, one zero point
  per scale);
* int64 biases whose values fit int32 become int32 (16x8 models; the accumulator stays int64
  where needed, see conv.py).

The model's own I/O dtypes are kept in `Normalized` so that the firmware still takes and
returns uint8 (the frontend converts at the boundary, on the target).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

_UINT8, _INT8 = S.TensorType.UINT8, S.TensorType.INT8

# Set by the importer while rewriting a model whose compute ops were uint8 (legacy kernels:
# float32 multiplier products, AVERAGE_POOL_2D rounding half up); op rewrites read it.
legacy_uint8: ContextVar[bool] = ContextVar("legacy_uint8", default=False)
_BOUNDARY_OPS = frozenset({S.BuiltinOperator.QUANTIZE, S.BuiltinOperator.DEQUANTIZE})
_INT64, _INT32 = S.TensorType.INT64, S.TensorType.INT32
_PLAIN = frozenset({_INT64, _INT32, S.TensorType.BOOL})


@dataclass(frozen=True)
class Normalized:
    """The rewritten flatbuffer and what changed."""

    buffer: bytes
    uint8_tensors: frozenset[int]  # tensor indices that were uint8 (now int8, shifted by −128)
    uint8_inputs: tuple[bool, ...]  # per subgraph input: was uint8
    uint8_outputs: tuple[bool, ...]
    uint8_ops: frozenset[int]  # operators whose first input or output was uint8 (legacy kernels)
    compute_ops: frozenset[int]  # operator indices other than QUANTIZE / DEQUANTIZE

    @property
    def legacy_uint8(self) -> bool:
        """True when the compute ops run uint8 kernels; ValueError for a uint8/int8 mix."""
        uint8 = self.uint8_ops & self.compute_ops
        if uint8 and uint8 != self.compute_ops:
            raise ValueError("a graph mixing uint8 and int8/int16 compute ops")
        return bool(uint8)


def _canonical_quantization(q: S.QuantizationParametersT | None) -> None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return
    n = len(q.scale)
    zps = list(q.zeroPoint) if q.zeroPoint is not None and len(q.zeroPoint) else [0]
    if n == 1:
        q.quantizedDimension = 0
        q.zeroPoint = zps[:1]
    elif len(zps) == 1:
        q.zeroPoint = zps * n


def _buffer_users(sub: S.SubGraphT) -> dict[int, list[S.TensorT]]:
    users: dict[int, list[S.TensorT]] = {}
    for t in sub.tensors:
        if t.buffer:
            users.setdefault(t.buffer, []).append(t)
    return users


def _shift_uint8(model: S.ModelT, sub: S.SubGraphT) -> set[int]:
    shifted: set[int] = set()
    users = _buffer_users(sub)
    for i, t in enumerate(sub.tensors):
        if t.type != _UINT8:
            continue
        t.type = _INT8
        shifted.add(i)
        q = t.quantization
        if q is not None and q.zeroPoint is not None and len(q.zeroPoint):
            q.zeroPoint = [int(z) - 128 for z in q.zeroPoint]
        buf = model.buffers[t.buffer] if t.buffer else None
        if buf is not None and buf.data is not None and len(buf.data):
            if any(u.type not in (_UINT8, _INT8) for u in users[t.buffer]):
                raise ValueError(f"uint8 buffer {t.buffer} shared with a non-8-bit tensor")
            if not getattr(buf, "_shifted", False):
                data = np.asarray(buf.data, np.uint8)
                buf.data = (data.astype(np.int16) - 128).astype(np.int8).view(np.uint8)
                buf._shifted = True
    return shifted


def _narrow_int64_bias(model: S.ModelT, sub: S.SubGraphT) -> None:
    for t in sub.tensors:
        buf = model.buffers[t.buffer] if t.buffer else None
        if t.type != _INT64 or buf is None or buf.data is None or not len(buf.data):
            continue
        values = np.frombuffer(np.asarray(buf.data, np.uint8).tobytes(), np.int64)
        if values.min(initial=0) >= -(1 << 31) and values.max(initial=0) < (1 << 31):
            buf.data = values.astype(np.int32).view(np.uint8)
            t.type = _INT32


def normalize(raw: bytes) -> Normalized:
    """The rewritten flatbuffer (unchanged bytes when there is nothing to change)."""
    model = S.ModelT.InitFromPackedBuf(raw, 0)
    sub = model.subgraphs[0]
    was_uint8 = [t.type == _UINT8 for t in sub.tensors]
    # the data operand is not always the first (SPLIT: axis, data), the output always is
    uint8_ops = frozenset(k for k, op in enumerate(sub.operators or [])
                          if any(was_uint8[i] for i in (*op.inputs[:1], *op.outputs[:1]) if i >= 0))
    compute_ops = frozenset(k for k, op in enumerate(sub.operators or [])
                            if _builtin(model, op.opcodeIndex) not in _BOUNDARY_OPS
                            and not _plain_op(sub, op))
    for t in sub.tensors:
        _canonical_quantization(t.quantization)
    shifted = _shift_uint8(model, sub)
    _narrow_int64_bias(model, sub)
    builder = flatbuffers.Builder(max(1024, len(raw)))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return Normalized(bytes(builder.Output()), frozenset(shifted),
                      tuple(was_uint8[i] for i in sub.inputs), tuple(was_uint8[i] for i in sub.outputs),
                      uint8_ops, compute_ops)


def _plain_op(sub: S.SubGraphT, op: S.OperatorT) -> bool:
    """An op on bool / int32 / int64 data only (LOGICAL_AND, int32 ADD): no 8-bit kernel flavour (qlogic)."""
    return all(sub.tensors[i].type in _PLAIN for i in (*op.inputs[:1], *op.outputs[:1]) if i >= 0)


def _builtin(model: S.ModelT, opcode_index: int) -> int:
    code = model.operatorCodes[opcode_index]
    return max(code.builtinCode, code.deprecatedBuiltinCode)
