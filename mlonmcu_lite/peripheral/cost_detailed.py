"""The accelerator cost models, `cost_model=simple|detailed`, and a device that applies them.

`simple` is issue 5's model: `cycles = setup + ceil(MACs / macs_per_cycle)`, as if every
multiplier were busy every cycle.  `detailed` (after VTA's load/compute/store pipeline and
MAERI's mapping of a kernel onto its multipliers) charges, per job:

* compute: the `macs_per_cycle` multipliers (PEs) form `pe_lanes` lanes of
  `macs_per_cycle / pe_lanes` multipliers; a lane computes one output channel of one
  output pixel, reducing that many taps per cycle, so
  `compute = OH*OW * ceil(OC / pe_lanes) * ceil(taps / taps_per_lane)` with
  `taps = MACs / (OH*OW*OC)` (KH*KW*IC for a conv, KH*KW for a depthwise conv) and
  `utilisation = MACs / (compute * macs_per_cycle)` (useful MACs per PE-cycle);
* DMA: `load = ceil((input + weight + bias bytes) / dma_bytes_per_cycle)` and
  `store = ceil(output bytes / dma_bytes_per_cycle)`;
* overlap: `cycles = setup + max(load, compute, store)` with `double_buffering`, else
  `setup + load + compute + store`.

Both models report the same per-job record (`JobCost`), so a run can be read per layer
(`report()["layers"]`) and per run (busy cycles, utilisation, DMA bytes) either way.
A peripheral uses them by deriving its settings from `CostModelSettings` and its VP
model from `CostedAcceleratorDevice` (whose `execute()` returns the job it ran).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from pydantic import Field, model_validator

from .accelerator import AcceleratorDevice
from .settings import CostSettings

CostModel = Literal["simple", "detailed"]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class JobShape(Protocol):
    """What a cost model needs of a job (`ConvJob` and `DepthwiseJob` have it)."""

    out_h: int
    out_w: int
    out_c: int
    macs: int
    input_bytes: int
    weight_bytes: int
    bias_bytes: int
    output_bytes: int


@dataclass(frozen=True)
class LayerWork:
    """One job seen by the cost model: its output, its reduction length and its DMA bytes."""

    out_pixels: int
    out_channels: int
    taps: int  # multiply-accumulates per output value
    input_bytes: int
    weight_bytes: int
    bias_bytes: int
    output_bytes: int

    @classmethod
    def of(cls, job: JobShape) -> "LayerWork":
        pixels = job.out_h * job.out_w
        taps, rest = divmod(job.macs, pixels * job.out_c)
        if rest:
            raise ValueError(f"{job}: MACs are not a whole number of taps per output value")
        return cls(pixels, job.out_c, taps, job.input_bytes, job.weight_bytes,
                   job.bias_bytes, job.output_bytes)

    @property
    def macs(self) -> int:
        return self.out_pixels * self.out_channels * self.taps

    @property
    def load_bytes(self) -> int:
        return self.input_bytes + self.weight_bytes + self.bias_bytes


@dataclass(frozen=True)
class JobCost:
    """The modelled cost of one job; `cycles` is what keeps the device busy."""

    cost_model: CostModel
    macs: int
    out_pixels: int
    out_channels: int
    taps: int
    compute_cycles: int
    pe_cycles: int  # compute_cycles * number of multipliers
    input_bytes: int
    weight_bytes: int
    bias_bytes: int
    output_bytes: int
    load_cycles: int  # 0 in the simple model (DMA not charged)
    store_cycles: int
    setup_cycles: int
    cycles: int

    @property
    def utilisation(self) -> float:
        return self.macs / self.pe_cycles if self.pe_cycles else 0.0

    @property
    def dma_bytes(self) -> int:
        return self.input_bytes + self.weight_bytes + self.bias_bytes + self.output_bytes

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "utilisation": self.utilisation, "dma_bytes": self.dma_bytes}


class CostModelSettings(CostSettings):
    """`CostSettings` plus the choice of cost model and the detailed model's parameters."""

    cost_model: CostModel = Field("simple", description="simple: setup + ceil(MACs/macs_per_cycle);"
                                  " detailed: PE mapping, DMA at a bandwidth, load/compute/store"
                                  " overlap")
    pe_lanes: int = Field(4, ge=1, le=65_536, description="detailed: output channels computed in "
                          "parallel; each lane has macs_per_cycle/pe_lanes multipliers")
    dma_bytes_per_cycle: int = Field(4, ge=1, le=65_536,
                                     description="detailed: shared-memory bandwidth")
    double_buffering: bool = Field(True, description="detailed: load, compute and store overlap "
                                   "(max) instead of following each other (sum)")

    @model_validator(mode="after")
    def _lanes_divide_pes(self) -> "CostModelSettings":
        if self.cost_model == "detailed" and self.macs_per_cycle % self.pe_lanes:
            raise ValueError(f"pe_lanes={self.pe_lanes} must divide macs_per_cycle="
                             f"{self.macs_per_cycle} (the multipliers are split evenly into lanes)")
        return self

    @property
    def taps_per_lane(self) -> int:
        return self.macs_per_cycle // self.pe_lanes

    def job_cost(self, work: LayerWork) -> JobCost:
        """The cost of one job under the configured model (`simple` == `job_cycles`)."""
        if self.cost_model == "simple":
            compute = _ceil_div(work.macs, self.macs_per_cycle)
            load = store = 0
            cycles = self.job_cycles(work.macs)
        else:
            compute = (work.out_pixels * _ceil_div(work.out_channels, self.pe_lanes)
                       * _ceil_div(work.taps, self.taps_per_lane))
            load = _ceil_div(work.load_bytes, self.dma_bytes_per_cycle)
            store = _ceil_div(work.output_bytes, self.dma_bytes_per_cycle)
            phases = (load, compute, store)
            cycles = self.setup_cycles + (max(phases) if self.double_buffering else sum(phases))
        return JobCost(self.cost_model, work.macs, work.out_pixels, work.out_channels, work.taps,
                       compute, compute * self.macs_per_cycle, work.input_bytes,
                       work.weight_bytes, work.bias_bytes, work.output_bytes, load, store,
                       self.setup_cycles, cycles)


def run_totals(costs: list[JobCost]) -> dict[str, Any]:
    """Per-run figures over a device's jobs: compute/PE cycles, utilisation, DMA bytes."""
    macs = sum(c.macs for c in costs)
    pe_cycles = sum(c.pe_cycles for c in costs)
    return {"compute_cycles": sum(c.compute_cycles for c in costs), "pe_cycles": pe_cycles,
            "utilisation": macs / pe_cycles if pe_cycles else 0.0,
            "dma_bytes": sum(c.dma_bytes for c in costs),
            "dma_cycles": sum(c.load_cycles + c.store_cycles for c in costs)}


class CostedAcceleratorDevice(AcceleratorDevice):
    """An `AcceleratorDevice` whose busy time comes from `settings.job_cost`.

    Subclasses implement `execute()` (decode, compute, write back) and return the job
    they ran; every job's `JobCost` is kept and reported under `report()["layers"]`.
    """

    settings: CostModelSettings

    def __init__(self, spec, settings: CostModelSettings) -> None:
        if not isinstance(settings, CostModelSettings):
            raise TypeError(f"{spec.name}: settings must derive from CostModelSettings")
        super().__init__(spec, settings)
        self.costs: list[JobCost] = []

    def job_timing(self, job: JobShape) -> tuple[int, int | None]:
        """The job's `JobCost` under the configured model (kept for the report)."""
        self.costs.append(self.settings.job_cost(LayerWork.of(job)))
        return self.costs[-1].cycles, self.costs[-1].dma_bytes

    def report(self) -> dict[str, Any]:
        return {**super().report(), "cost_model": self.settings.cost_model,
                **run_totals(self.costs), "layers": [c.as_dict() for c in self.costs]}
