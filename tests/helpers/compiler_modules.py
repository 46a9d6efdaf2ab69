"""Hand-written integer Relax modules in the frontend's canonical form (compiler tests)."""

from __future__ import annotations

import numpy as np
from tvm import relax

RNG_SEED = 7


def _requant(bb: relax.BlockBuilder, acc, channels: int, rng, zp: int = -3):
    """int32 -> int8 with int64 elementwise ops: (acc*M + 2^(s-1)) >> s, + zp, clip."""
    m = rng.integers(1 << 29, 1 << 30, channels).astype(np.int64)
    wide = bb.emit(relax.op.astype(acc, "int64"))
    prod = bb.emit(relax.op.multiply(wide, relax.const(m, "int64")))
    rounded = bb.emit(relax.op.add(prod, relax.const(1 << 37, "int64")))
    shifted = bb.emit(relax.op.right_shift(rounded, relax.const(38, "int64")))
    # a select on the sign, read twice (like TFLite's rounding nudge)
    negative = bb.emit(relax.op.less(shifted, relax.const(0, "int64")))
    nudged = bb.emit(relax.op.where(negative, relax.op.add(shifted, relax.const(1, "int64")), shifted))
    offset = bb.emit(relax.op.add(nudged, relax.const(zp, "int64")))
    clipped = bb.emit(relax.op.clip(offset, -128, 127))
    return bb.emit(relax.op.astype(clipped, "int8"))


def _conv(bb, x, rng, out_c, k, stride=1, pad=None, groups=1, zp=-5, layout="OHWI"):
    in_c = int(x.ty.shape[3])
    ohwi = rng.integers(-127, 128, (out_c, k[0], k[1], in_c // groups)).astype(np.int8)
    weight = np.transpose(ohwi, ["OHWI".index(a) for a in layout]).copy()
    bias = rng.integers(-5000, 5000, out_c).astype(np.int32)
    if pad is not None:
        x = bb.emit(relax.op.nn.pad(x, (0, 0, pad[0], pad[2], pad[1], pad[3], 0, 0), pad_value=float(zp)))
    conv = bb.emit(relax.op.nn.conv2d(x, relax.const(weight), strides=stride, groups=groups,
                                      data_layout="NHWC", kernel_layout=layout, out_dtype="int32"))
    acc = bb.emit(relax.op.add(conv, relax.const(bias)))
    return _requant(bb, acc, out_c, rng)


def conv_chain_module():
    """pad+conv, HWIO conv, depthwise s2, 1x1 conv + residual add, max pool, reshape, FC."""
    rng = np.random.default_rng(RNG_SEED)
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 10, 9, 3), "int8"))
    with bb.function("main", [x]):
        with bb.dataflow():
            a = _conv(bb, x, rng, 8, (3, 3), pad=(1, 1, 1, 1))
            b = _conv(bb, a, rng, 8, (3, 1), pad=(1, 0, 1, 0), layout="HWIO")
            c = _conv(bb, b, rng, 8, (3, 3), stride=2, pad=(0, 0, 1, 1), groups=8)
            d = _conv(bb, c, rng, 8, (1, 1))
            wide = [bb.emit(relax.op.astype(t, "int32")) for t in (c, d)]
            s = bb.emit(relax.op.add(*wide))
            s8 = bb.emit(relax.op.astype(relax.op.clip(s, -128, 127), "int8"))
            p = bb.emit(relax.op.nn.max_pool2d(s8, pool_size=(2, 2), strides=(2, 2), layout="NHWC"))
            flat = bb.emit(relax.op.reshape(p, (1, int(np.prod([int(v) for v in p.ty.shape])))))
            w = rng.integers(-127, 128, (int(flat.ty.shape[1]), 5)).astype(np.int8)
            mm = bb.emit(relax.op.matmul(flat, relax.const(w), out_dtype="int32"))
            acc = bb.emit(relax.op.add(mm, relax.const(rng.integers(-900, 900, 5).astype(np.int32))))
            out = bb.emit_output(_requant(bb, acc, 5, rng))
        bb.emit_func_output(out)
    return bb.get()
