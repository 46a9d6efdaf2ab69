"""Importers of the TFLite data-movement ops TVM 0.27 refuses when quantized or lowers to packed calls.

Their int8/int16 kernels copy values and never rescale (output quantization = input's), so each
becomes plain Relax index arithmetic on the integer tensor:

* SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: TVM emits `call_dps_packed("topi.nn.*")`, a host
  function the bare-metal C has not; here pad (with the output zero point, as TFLite's quantized
  kernel) → reshape → permute_dims → reshape (→ strided_slice for the crops).
* MIRROR_PAD: TVM has REFLECT only; both modes become one `take` per padded axis with a
  compile-time index table.
* GATHER_ND: TVM asserts non-quantized data (and moves the index tuple to the front, where
  Relax's gather_nd reads it from the last axis, as TFLite).
"""

from __future__ import annotations

import numpy as np
from tvm import relax


def mirror_indices(size: int, before: int, after: int, symmetric: bool) -> np.ndarray:
    """Source index of each padded position (mirror_pad.cc: offset 1 for REFLECT, 0 for SYMMETRIC)."""
    offset = 0 if symmetric else 1
    head = [before - i - 1 + offset for i in range(before)]
    tail = [size - 1 - offset - i for i in range(after)]
    return np.array([*head, *range(size), *tail], np.int32)


def space_to_batch(x: relax.Expr, shape: list[int], block: list[int], pads: list[tuple[int, int]],
                   pad_value: int) -> relax.Expr:
    """TFLite SPACE_TO_BATCH_ND: output batch index = (block position)·N + n."""
    m = len(block)
    widths = [0, 0, *[p for pair in pads for p in pair], *[0, 0] * (len(shape) - 1 - m)]
    if any(widths):
        x = relax.op.nn.pad(x, widths, pad_value=float(pad_value))
    padded = [shape[0], *[s + a + b for s, (a, b) in zip(shape[1:1 + m], pads)], *shape[1 + m:]]
    split = [padded[0]]
    for s, b in zip(padded[1:1 + m], block):
        split += [s // b, b]
    rest = padded[1 + m:]
    x = relax.op.reshape(x, [*split, *rest])
    blocks = [2 + 2 * i for i in range(m)]
    outer = [1 + 2 * i for i in range(m)]
    tail = list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    x = relax.op.permute_dims(x, [*blocks, 0, *outer, *tail])
    return relax.op.reshape(x, [int(np.prod(block)) * padded[0], *[s // b for s, b in zip(padded[1:1 + m], block)],
                                *rest])


def batch_to_space(x: relax.Expr, shape: list[int], block: list[int], crops: list[tuple[int, int]]) -> relax.Expr:
    """TFLite BATCH_TO_SPACE_ND, the inverse of `space_to_batch`, then the crops."""
    m = len(block)
    batch = shape[0] // int(np.prod(block))
    spatial, rest = shape[1:1 + m], shape[1 + m:]
    x = relax.op.reshape(x, [*block, batch, *spatial, *rest])
    axes = [m]
    for i in range(m):
        axes += [m + 1 + i, i]
    x = relax.op.permute_dims(x, [*axes, *range(2 * m + 1, 2 * m + 1 + len(rest))])
    full = [s * b for s, b in zip(spatial, block)]
    x = relax.op.reshape(x, [batch, *full, *rest])
    if any(c for pair in crops for c in pair):
        axes_ = list(range(1, 1 + m))
        x = relax.op.strided_slice(x, axes=axes_, begin=[a for a, _ in crops],
                                   end=[f - b for f, (_, b) in zip(full, crops)])
    return x


class MovementConverters:
    """Mixin of `converter.Converter`: the ops above (TVM's own converters otherwise)."""

    def _pairs(self, tensor) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in np.asarray(self.get_tensor_value(tensor)).reshape(-1, 2)]

    def convert_space_to_batch_nd(self, op):
        x_tensor, block_tensor, pad_tensor = self.get_input_tensors(op)
        shape = [int(d) for d in self.get_tensor_shape(x_tensor)]
        block = [int(b) for b in self.get_tensor_value(block_tensor)]
        (out,) = self.get_output_tensors(op)
        zp = int(out.qnn_params["zero_point"].value.numpy().reshape(-1)[0]) if out.qnn_params else 0
        return space_to_batch(self.get_tensor_expr(x_tensor), shape, block, self._pairs(pad_tensor), zp)

    def convert_batch_to_space_nd(self, op):
        x_tensor, block_tensor, crop_tensor = self.get_input_tensors(op)
        shape = [int(d) for d in self.get_tensor_shape(x_tensor)]
        block = [int(b) for b in self.get_tensor_value(block_tensor)]
        return batch_to_space(self.get_tensor_expr(x_tensor), shape, block, self._pairs(crop_tensor))

    def convert_mirror_pad(self, op):
        from tflite.MirrorPadOptions import MirrorPadOptions

        x_tensor, pad_tensor = self.get_input_tensors(op)
        options = MirrorPadOptions()
        options.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        symmetric = int(options.Mode()) == 1
        shape = [int(d) for d in self.get_tensor_shape(x_tensor)]
        out = self.get_tensor_expr(x_tensor)
        for axis, (before, after) in enumerate(self._pairs(pad_tensor)):
            if before or after:
                rows = mirror_indices(shape[axis], before, after, symmetric)
                out = relax.op.take(out, relax.const(rows, "int32"), axis=axis)
        return out

    def convert_gather_nd(self, op):
        x_tensor, idx_tensor = self.get_input_tensors(op)
        if self.has_expr(idx_tensor.tensor_idx):  # indices computed at run time: TVM's way
            return super().convert_gather_nd(op)
        idx = np.asarray(self.get_tensor_value(idx_tensor)).astype(np.int64)  # index tuples on the last axis
        return relax.op.gather_nd(self.get_tensor_expr(x_tensor), relax.const(idx, "int64"))
