"""A fully connected job: the parameters a dense engine is programmed with, and its maths.

`DenseJob` is the flat view of a `DenseRegion` (rows M, depth K, units N, offsets) plus
its fused requantization (`RequantJob`); `dense_int32` computes
out[m, n] = bias[n] + sum_k (x[m, k] + input_offset) * (w[n, k] + weight_offset) exactly,
with int32 wrap-around like the hardware adder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .backend import DenseRegion
from .requant import RequantJob


@dataclass(frozen=True)
class DenseJob(RequantJob):
    rows: int = 1
    depth: int = 1
    units: int = 1
    input_offset: int = 0
    weight_offset: int = 0

    @classmethod
    def from_region(cls, region: DenseRegion) -> "DenseJob":
        rq = RequantJob.of(region.requant)
        return cls(**vars(rq), rows=region.input_shape[0], depth=region.input_shape[1],
                   units=region.weight_shape[0], input_offset=region.input_offset,
                   weight_offset=region.weight_offset)

    # the cost models' view (JobShape): one output "pixel" per row, units as channels
    @property
    def out_h(self) -> int:
        return self.rows

    @property
    def out_w(self) -> int:
        return 1

    @property
    def out_c(self) -> int:
        return self.units

    @property
    def macs(self) -> int:
        return self.rows * self.depth * self.units

    @property
    def input_bytes(self) -> int:
        return self.rows * self.depth

    @property
    def weight_bytes(self) -> int:
        return self.units * self.depth

    @property
    def bias_bytes(self) -> int:
        return 4 * self.units + (8 * self.units if self.rq_enable else 0)

    @property
    def output_bytes(self) -> int:
        return self.rows * self.units * (1 if self.rq_enable else 4)

    def problem(self) -> str | None:
        for name in ("rows", "depth", "units"):
            if getattr(self, name) < 1:
                return f"{name}={getattr(self, name)} must be >= 1"
        if self.rq_enable and self.rq_lo > self.rq_hi:
            return f"clamp [{self.rq_lo}, {self.rq_hi}] is empty"
        return None


class DenseCapabilities(BaseModel):
    """Supported fully connected shapes (further limited by the register fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rows: int = Field(ge=1)
    max_depth: int = Field(ge=1)
    max_units: int = Field(ge=1)

    def problem(self, region: DenseRegion) -> str | None:
        if region.kind != "dense":
            return f"kind {region.kind} unsupported"
        return self.job_problem(DenseJob.from_region(region))

    def job_problem(self, job: DenseJob) -> str | None:
        for name, limit in (("rows", self.max_rows), ("depth", self.max_depth), ("units", self.max_units)):
            if getattr(job, name) > limit:
                return f"{name}={getattr(job, name)} exceeds {limit}"
        return None


def dense_int32(job: DenseJob, x: np.ndarray, w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x int8 [M, K], w int8 [N, K], bias int32 [N] -> int32 [M, N], exact."""
    acc = (x.astype(np.int64) + job.input_offset) @ (w.astype(np.int64) + job.weight_offset).T
    acc += bias.astype(np.int64)
    return ((acc + 2**31) % 2**32 - 2**31).astype(np.int32)
