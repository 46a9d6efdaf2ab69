"""Tensor-expression kernels the compiler substitutes for stock Relax ops.

Why: TVM's own conv2d legalization cannot see the preceding `nn.pad` (FuseOps never fuses
it), so a padded conv costs a separate pad kernel and a padded copy of the input in RAM.
Our conv reads the unpadded input and yields `pad_value` at border positions instead.
TVM's `take` computes its addresses in int64 (a loaded index has no known bound), which on
RV32 is 64-bit arithmetic per element; `take_int32` bounds the index so they narrow to int32.
"""

from __future__ import annotations

from dataclasses import dataclass

from tvm import te, tirx


@dataclass(frozen=True)
class ConvGeometry:
    """Everything a NHWC integer conv2d needs besides its operands."""

    strides: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, left, bottom, right
    dilation: tuple[int, int]
    groups: int
    pad_value: int
    kernel_layout: str  # a permutation of "OHWI"
    out_dtype: str


def _dims(tensor) -> list[int]:
    return [int(d) for d in tensor.shape]


def conv2d_nhwc(x: te.Tensor, w: te.Tensor, geo: ConvGeometry) -> te.Tensor:
    """out[n,oh,ow,o] = sum x_pad[n, oh*sh+kh*dh, ow*sw+kw*dw, g*ICg+i] * w[o,kh,kw,i].

    The reduction runs kh, kw, i with i innermost: contiguous in NHWC input and OHWI weights.
    """
    n, h, wd, _ = _dims(x)
    axis = {name: i for i, name in enumerate(geo.kernel_layout)}
    wshape = _dims(w)
    out_c, kh, kw, icg = (wshape[axis[a]] for a in "OHWI")
    top, left, bottom, right = geo.padding
    sh, sw = geo.strides
    dh, dw = geo.dilation
    oh = (h + top + bottom - ((kh - 1) * dh + 1)) // sh + 1
    ow = (wd + left + right - ((kw - 1) * dw + 1)) // sw + 1
    ocg = out_c // geo.groups

    if any(geo.padding):
        pad_value = tirx.const(geo.pad_value, x.dtype)

        def padded(b, y, z, c):
            inside = tirx.all(y >= top, y < h + top, z >= left, z < wd + left)
            return tirx.if_then_else(inside, x[b, y - top, z - left, c], pad_value)

        xp = te.compute((n, h + top + bottom, wd + left + right, x.shape[3]), padded, name="pad")
    else:
        xp = x

    rh = te.reduce_axis((0, kh), name="kh")
    rw = te.reduce_axis((0, kw), name="kw")
    ri = te.reduce_axis((0, icg), name="ic")

    def weight(o, a, b, i):
        index = [None] * 4
        for name, value in zip("OHWI", (o, a, b, i)):
            index[axis[name]] = value
        return w[tuple(index)]

    def body(b, y, z, o):
        channel = ri if geo.groups == 1 else (o // ocg) * icg + ri
        xv = xp[b, y * sh + rh * dh, z * sw + rw * dw, channel]
        return te.sum(xv.astype(geo.out_dtype) * weight(o, rh, rw, ri).astype(geo.out_dtype),
                      axis=[rh, rw, ri])

    return te.compute((n, oh, ow, out_c), body, name="conv2d")


def take_int32(x: te.Tensor, indices: te.Tensor, axis: int, wrap: bool = False) -> te.Tensor:
    """x.take(indices, axis) with 32-bit addresses: each index is clamped to [0, n) (mode
    "fast" assumes in-range indices: GATHER's are checked at import, resize tables are in range
    by construction) or, with `wrap`, taken mod n; either bound lets TIR narrow to int32."""
    xs, ks = _dims(x), _dims(indices)
    n = xs[axis]

    def body(*i):
        k = indices[i[axis:axis + len(ks)]]
        if wrap and n == 256 and k.dtype == "int8":  # k mod 256 is k read as an unsigned byte
            j = k.astype("uint8").astype("int32")
        elif wrap:
            j = tirx.floormod(k.astype("int32"), tirx.const(n, "int32"))
        else:
            j = tirx.max(tirx.min(k.astype("int32"), tirx.const(n - 1, "int32")), tirx.const(0, "int32"))
        return x[(*i[:axis], j, *i[axis + len(ks):])]

    return te.compute((*xs[:axis], *ks, *xs[axis + 1:]), body, name="take")
