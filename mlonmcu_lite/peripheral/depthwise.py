"""A depthwise conv2d job (channel multiplier 1): what it accepts, and its exact maths.

`DepthwiseJob` is a `ConvJob` with `in_c == out_c == channels`, each output channel
convolving only its own input channel (weights [C][KH][KW], i.e. the compiler's
O,KH,KW,I/groups = C,KH,KW,1 layout).  So a `ConvBinding` that binds `in_c` and
`out_c` to the same CHANNELS field describes a depthwise engine's registers, and
`ConvCapabilities.job_problem` and `ConvJob.problem` apply unchanged; only the
region check (`DepthwiseCapabilities.problem`), the MAC/weight counts and the
maths differ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .backend import ConvRegion
from .capabilities import ConvCapabilities
from .conv import ConvJob, conv2d_int32


@dataclass(frozen=True)
class DepthwiseJob(ConvJob):
    @property
    def macs(self) -> int:
        return self.out_h * self.out_w * self.out_c * self.k_h * self.k_w

    @property
    def weight_bytes(self) -> int:
        return self.out_c * self.k_h * self.k_w

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.out_c, self.k_h, self.k_w)

    def reference(self, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """Per channel, the tap-by-tap reference of a one-channel conv."""
        single = replace(self, in_c=1, out_c=1)
        return np.concatenate([ConvJob.reference(single, x[:, :, c:c + 1], w[c].reshape(1, self.k_h, self.k_w, 1),
                                                 bias[c:c + 1]) for c in range(self.out_c)], axis=2)

    def problem(self) -> str | None:
        if self.in_c != self.out_c:
            return f"in_c={self.in_c} != out_c={self.out_c} (channel multiplier 1 only)"
        return super().problem()


class DepthwiseCapabilities(ConvCapabilities):
    """Which regions a depthwise engine takes: groups == in_channels == out_channels."""

    def problem(self, region: ConvRegion) -> str | None:
        if region.kind != "conv2d":
            return f"kind {region.kind} unsupported"
        if region.input_shape[0] != 1:
            return f"batch={region.input_shape[0]} unsupported (batch 1 only)"
        channels, out_c = region.input_shape[3], region.output_shape[3]
        if region.groups != channels:
            return f"groups={region.groups} != in_channels={channels} (not a depthwise conv)"
        if out_c != channels:
            return (f"channel multiplier {out_c / channels:g} unsupported (out_channels={out_c}, "
                    f"in_channels={channels}; only 1)")
        if region.weight_shape[0] != out_c or region.weight_shape[3] != 1:
            return f"weights {region.weight_shape} are not [C, KH, KW, 1] for C={channels}"
        if any(d not in self.dilations for d in region.dilation):
            return f"dilation={region.dilation} unsupported"
        return self.job_problem(DepthwiseJob.from_region(region))


def depthwise_int32(job: DepthwiseJob, x: np.ndarray, w: np.ndarray,
                    bias: np.ndarray) -> np.ndarray:
    """x int8 [H,W,C], w int8 [C,KH,KW], bias int32 [C] -> int32 [OH,OW,C], exact:
    each channel is a one-channel `conv2d_int32` (same padding, offsets, wrap-around)."""
    single = replace(job, in_c=1, out_c=1)
    out = np.empty((job.out_h, job.out_w, job.out_c), np.int32)
    for ch in range(job.out_c):
        out[:, :, ch] = conv2d_int32(single, x[:, :, ch:ch + 1],
                                     w[ch].reshape(1, job.k_h, job.k_w, 1), bias[ch:ch + 1])[..., 0]
    return out
