"""An integer conv2d job: the parameters a conv engine is programmed with, and its maths.

`ConvJob` is the flat, batch-1, groups-1 view of a `ConvRegion` that a device's
registers hold; `conv2d_int32` computes it exactly (vectorised numpy) with the
semantics of `ConvRegion`: out = bias + sum (x_pad + input_offset) * (w + weight_offset),
padded positions holding `pad_value`, int32 wrap-around like the hardware adder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .backend import ConvRegion


@dataclass(frozen=True)
class ConvJob:
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    k_h: int
    k_w: int
    stride_h: int = 1
    stride_w: int = 1
    pad_top: int = 0
    pad_left: int = 0
    pad_bottom: int = 0
    pad_right: int = 0
    pad_value: int = 0
    input_offset: int = 0
    weight_offset: int = 0

    @classmethod
    def from_region(cls, region: ConvRegion) -> "ConvJob":
        """The job for a batch-1, groups-1 region (callers check those first)."""
        _, ih, iw, ic = region.input_shape
        oc, kh, kw, _ = region.weight_shape
        _, oh, ow, _ = region.output_shape
        top, left, bottom, right = region.padding
        return cls(ih, iw, ic, oh, ow, oc, kh, kw, *region.strides, top, left, bottom, right,
                   region.pad_value, region.input_offset, region.weight_offset)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.out_c, self.k_h, self.k_w, self.in_c)

    def reference(self, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The job's int32 result by the tap-by-tap reference (not `conv2d_int32`'s algorithm):
        what `check_peripherals` compares a device's raw output with."""
        return reference_conv(x, w, bias, (self.stride_h, self.stride_w),
                              (self.pad_top, self.pad_left, self.pad_bottom, self.pad_right),
                              self.pad_value, self.input_offset, self.weight_offset)

    @property
    def macs(self) -> int:
        return self.out_h * self.out_w * self.out_c * self.k_h * self.k_w * self.in_c

    @property
    def input_bytes(self) -> int:
        return self.in_h * self.in_w * self.in_c

    @property
    def weight_bytes(self) -> int:
        return self.out_c * self.k_h * self.k_w * self.in_c

    @property
    def bias_bytes(self) -> int:
        return 4 * self.out_c

    @property
    def output_bytes(self) -> int:
        return 4 * self.out_h * self.out_w * self.out_c

    def problem(self) -> str | None:
        """None if the dimensions are consistent, else what is wrong."""
        for name in ("in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "k_h", "k_w",
                     "stride_h", "stride_w"):
            if getattr(self, name) < 1:
                return f"{name}={getattr(self, name)} must be >= 1"
        for name in ("pad_top", "pad_left", "pad_bottom", "pad_right"):
            if getattr(self, name) < 0:
                return f"{name}={getattr(self, name)} must be >= 0"
        padded_h = self.in_h + self.pad_top + self.pad_bottom
        padded_w = self.in_w + self.pad_left + self.pad_right
        if self.k_h > padded_h or self.k_w > padded_w:
            return f"kernel {self.k_h}x{self.k_w} larger than padded input {padded_h}x{padded_w}"
        want_h = (padded_h - self.k_h) // self.stride_h + 1
        want_w = (padded_w - self.k_w) // self.stride_w + 1
        if (self.out_h, self.out_w) != (want_h, want_w):
            return (f"output {self.out_h}x{self.out_w} inconsistent with input, kernel, "
                    f"stride and padding (expected {want_h}x{want_w})")
        return None


def conv2d_int32(job: ConvJob, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x int8 [H,W,C], w int8 [O,KH,KW,C], bias int32 [O] -> int32 [OH,OW,O], exact."""
    padded = np.full((job.in_h + job.pad_top + job.pad_bottom,
                      job.in_w + job.pad_left + job.pad_right, job.in_c),
                     job.pad_value, dtype=np.int64)
    padded[job.pad_top:job.pad_top + job.in_h, job.pad_left:job.pad_left + job.in_w] = x
    padded += job.input_offset
    windows = sliding_window_view(padded, (job.k_h, job.k_w), axis=(0, 1))
    windows = windows[::job.stride_h, ::job.stride_w][:job.out_h, :job.out_w]
    patches = windows.transpose(0, 1, 3, 4, 2).reshape(job.out_h * job.out_w, -1)
    wmat = (w.astype(np.int64) + job.weight_offset).reshape(job.out_c, -1).T
    bound = patches.shape[1] * max(1, int(np.abs(patches).max(initial=0))) * \
        max(1, int(np.abs(wmat).max(initial=0)))
    if bound < 2**53:  # float64 BLAS is exact for integers below 2**53, and fast
        acc = (patches.astype(np.float64) @ wmat.astype(np.float64)).astype(np.int64)
    else:
        acc = patches @ wmat
    acc += bias.astype(np.int64)
    wrapped = (acc + 2**31) % 2**32 - 2**31
    return wrapped.astype(np.int32).reshape(job.out_h, job.out_w, job.out_c)


def reference_conv(x, w, b, stride, pads, pad_value, input_offset, weight_offset):
    """Tap-by-tap accumulation in int64 (a different algorithm from the model's)."""
    (ih, iw, _), (oc, kh, kw, _) = x.shape, w.shape
    top, left, bottom, right = pads
    xp = np.full((ih + top + bottom, iw + left + right, x.shape[2]), pad_value, np.int64)
    xp[top:top + ih, left:left + iw] = x
    oh = (xp.shape[0] - kh) // stride[0] + 1
    ow = (xp.shape[1] - kw) // stride[1] + 1
    out = np.broadcast_to(b.astype(np.int64), (oh, ow, oc)).copy()
    for dy in range(kh):
        for dx in range(kw):
            patch = xp[dy:dy + stride[0] * oh:stride[0], dx:dx + stride[1] * ow:stride[1]]
            out += np.einsum("hwc,oc->hwo", patch + input_offset,
                             w[:, dy, dx, :].astype(np.int64) + weight_offset)
    return out.astype(np.int32)


def load_operands(device, job: "ConvJob") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A conv engine's int8 input [H,W,C], int8 weights (`job.weight_shape`) and int32 bias
    [O], read over the bus from the INPUT/WEIGHT/BIAS_ADDR registers of `device`."""
    x = device.load("INPUT_ADDR", job.input_bytes, "i1").reshape(job.in_h, job.in_w, job.in_c)
    w = device.load("WEIGHT_ADDR", job.weight_bytes, "i1").reshape(job.weight_shape)
    b = device.load("BIAS_ADDR", job.out_c, "<i4")
    return x, w, b
