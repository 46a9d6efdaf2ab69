"""The accelerator cost models, `cost_model=simple|detailed`, and a device that applies them.

`simple` is issue 5's model: `cycles = setup + ceil(MACs / macs_per_cycle)`, as if every
multiplier were busy every cycle, plus, for a job with a fused residual ADD, that stage's
element additions at the same lane count, `ceil(OH*OW*OC / macs_per_cycle)` (as QEltwise
charges an ADD; `residual_cycles`).  `detailed` (after VTA's load/compute/store pipeline and
MAERI's mapping of a kernel onto its multipliers) charges, per job:

* compute: the `macs_per_cycle` multipliers (PEs) form `pe_lanes` lanes of
  `macs_per_cycle / pe_lanes` multipliers; a lane computes one output channel of one
  output pixel, reducing that many taps per cycle, so
  `compute = OH*OW * ceil(OC / pe_lanes) * ceil(taps / taps_per_lane)` with
  `taps = MACs / (OH*OW*OC)` (KH*KW*IC for a conv, KH*KW for a depthwise conv) and
  `utilisation = MACs / (compute * macs_per_cycle)` (useful MACs per PE-cycle);
* memory traffic: the bus moves `dma_bytes_per_cycle` bytes per cycle (the bus width: 4 =
  32-bit, 16 = 128-bit) in bursts of up to `burst_bytes`, each paying `bus_latency_cycles`
  before its first beat: `load = ceil(bytes / width) + ceil(bytes / burst_bytes) * latency`,
  the same for `store` of the output bytes;
* local buffers and tiling (`Tiling`): with `weight_buffer_bytes` / `input_buffer_bytes`
  set (0 = unbounded: a streaming engine, the operands pass through once), the job is cut
  into output-channel tiles whose weights, bias and requantization parameters fit the
  weight buffer and output-row bands whose input rows (halo included) fit the input buffer;
  the mapper picks the loop order that moves fewer bytes (weights once and the input once
  per channel tile, or the input once and the weights once per band; a depthwise engine
  reads each input channel with its own tile only), so `load` counts the re-reads;
* overlap: with `double_buffering`, a streaming engine overlaps the three phases fully,
  `cycles = setup + max(load, compute, store)`; a tiled one overlaps tile k's compute with
  tile k+1's load and tile k-1's store, so only one tile's worth of the other phases shows:
  `setup + max + ceil((load + compute + store - max) / tiles)`; without double buffering
  `setup + load + compute + store`.  `bound` says which phase dominates.  A fused residual
  ADD is part of the store stage here: its input's bytes are loaded, its additions overlap.

The CPU-visible stall is the part of `cycles` the CPU does not overlap (peripheral/timing.py).

Both models report the same per-job record (`JobCost`), so a run can be read per layer
(`report()["layers"]`) and per run (busy cycles, utilisation, DMA bytes) either way.
A peripheral uses them by deriving its settings from `CostModelSettings` and its VP
model from `CostedAcceleratorDevice` (whose `execute()` returns the job it ran).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
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
    """One job seen by the cost model: its output, its reduction length, its operand bytes
    and the row geometry tiling needs (a dense job is one row)."""

    out_pixels: int
    out_channels: int
    taps: int  # multiply-accumulates per output value
    input_bytes: int
    weight_bytes: int
    bias_bytes: int
    output_bytes: int
    out_rows: int = 1
    in_rows: int = 1
    kernel_rows: int = 1
    stride_rows: int = 1
    channelwise: bool = False  # depthwise: output channel c reads input channel c only
    residual_elements: int = 0  # a fused residual ADD's additions (one per output value)

    @classmethod
    def of(cls, job: JobShape) -> "LayerWork":
        pixels = job.out_h * job.out_w
        taps, rest = divmod(job.macs, pixels * job.out_c)
        if rest:
            raise ValueError(f"{job}: MACs are not a whole number of taps per output value")
        from .depthwise import DepthwiseJob

        inner = getattr(job, "job", job)  # a Requantized job wraps the conv job
        return cls(pixels, job.out_c, taps, job.input_bytes, job.weight_bytes,
                   job.bias_bytes, job.output_bytes, out_rows=job.out_h,
                   in_rows=getattr(inner, "in_h", 1), kernel_rows=getattr(inner, "k_h", 1),
                   stride_rows=getattr(inner, "stride_h", 1),
                   channelwise=isinstance(inner, DepthwiseJob),
                   residual_elements=pixels * job.out_c if getattr(job, "residual", False) else 0)

    @property
    def macs(self) -> int:
        return self.out_pixels * self.out_channels * self.taps

    @property
    def load_bytes(self) -> int:
        return self.input_bytes + self.weight_bytes + self.bias_bytes


@dataclass(frozen=True)
class Tiling:
    """How a job is cut to fit the local buffers, and the bytes the bus then moves."""

    channel_tile: int  # output channels per tile
    channel_tiles: int
    row_band: int      # output rows per band
    bands: int
    order: str         # "streaming", "weights-once" or "input-once"
    input_traffic: int  # input bytes moved, re-reads and halos included
    weight_traffic: int  # weight + bias (+ requantization parameters) bytes moved

    @property
    def tiles(self) -> int:
        return self.channel_tiles * self.bands


def tile_job(work: "LayerWork", s: "CostModelSettings") -> Tiling:
    """The tiling of `work` under the buffer sizes of `s` (see the module docstring)."""
    weights = work.weight_bytes + work.bias_bytes
    if not s.weight_buffer_bytes and not s.input_buffer_bytes:
        return Tiling(work.out_channels, 1, work.out_rows, 1, "streaming", work.input_bytes, weights)
    per_channel = _ceil_div(weights, work.out_channels)
    if s.weight_buffer_bytes:
        tile = min(work.out_channels, s.weight_buffer_bytes // per_channel)
        if tile < 1:
            raise ValueError(f"weight_buffer_bytes={s.weight_buffer_bytes} holds no output channel "
                             f"({per_channel} bytes of weights, bias and requantization each)")
    else:
        tile = work.out_channels
    channel_tiles = _ceil_div(work.out_channels, tile)
    row_bytes = _ceil_div(work.input_bytes, work.in_rows)
    if work.channelwise:  # a channel tile only needs its own input channels
        row_bytes = _ceil_div(row_bytes * tile, work.out_channels)
    band, rows = work.out_rows, work.in_rows
    if s.input_buffer_bytes and work.in_rows * row_bytes > s.input_buffer_bytes:
        fit = s.input_buffer_bytes // row_bytes  # input rows that fit
        band = (fit - work.kernel_rows) // work.stride_rows + 1 if fit >= work.kernel_rows else 0
        if band < 1:
            raise ValueError(f"input_buffer_bytes={s.input_buffer_bytes} holds fewer than the "
                             f"{work.kernel_rows} input rows of {row_bytes} bytes one output row needs")
        rows = sum(min(work.in_rows, (min(band, work.out_rows - b) - 1) * work.stride_rows
                       + work.kernel_rows) for b in range(0, work.out_rows, band))
    bands = _ceil_div(work.out_rows, band)
    one_pass = _ceil_div(work.input_bytes * rows, work.in_rows)  # all channels, halos included
    if work.channelwise or channel_tiles == 1:
        return Tiling(tile, channel_tiles, band, bands, "weights-once", one_pass, weights)
    weights_once = (one_pass * (1 if bands == 1 else channel_tiles), weights)
    input_once = (one_pass, weights * bands)
    if sum(weights_once) <= sum(input_once):
        return Tiling(tile, channel_tiles, band, bands, "weights-once", *weights_once)
    return Tiling(tile, channel_tiles, band, bands, "input-once", *input_once)


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
    load_bytes: int = 0   # bytes read over the bus, tiling re-reads included
    store_bytes: int = 0  # bytes written over the bus
    tiles: int = 1
    tiling: str = "streaming"
    residual_cycles: int = 0  # simple model: the fused residual ADD's additions (in `cycles`)

    @property
    def utilisation(self) -> float:
        return self.macs / self.pe_cycles if self.pe_cycles else 0.0

    @property
    def dma_bytes(self) -> int:
        """Bytes moved over the bus (the operands once, unless tiling re-reads some)."""
        return self.load_bytes + self.store_bytes

    @property
    def bound(self) -> str:
        """"bandwidth" when a transfer phase outlasts the compute, else "compute"."""
        return "bandwidth" if max(self.load_cycles, self.store_cycles) > self.compute_cycles else "compute"

    def as_dict(self) -> dict[str, Any]:
        # every field is a scalar: a shallow copy (asdict's deep copy dominated re-costing)
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "utilisation": self.utilisation,
                "dma_bytes": self.dma_bytes, "bound": self.bound}


DETAILED_ONLY = ("pe_lanes", "dma_bytes_per_cycle", "double_buffering", "bus_latency_cycles",
                 "burst_bytes", "weight_buffer_bytes", "input_buffer_bytes")


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
    bus_latency_cycles: int = Field(0, ge=0, le=100_000, description="detailed: cycles before the "
                                    "first beat of each bus burst")
    burst_bytes: int = Field(64, ge=1, le=1 << 20, description="detailed: longest bus burst")
    weight_buffer_bytes: int = Field(0, ge=0, le=1 << 30, description="detailed: local weight "
                                     "buffer (0 = unbounded, streaming); bounds output-channel tiles")
    input_buffer_bytes: int = Field(0, ge=0, le=1 << 30, description="detailed: local input "
                                    "buffer (0 = unbounded, streaming); bounds output-row bands")

    def effective_settings(self) -> dict[str, Any]:
        """The settings that take effect (report labels, `bench compare` keys): with the
        simple model, the default, neither `cost_model` nor the detailed model's knobs, so an
        engine keeps the label it had before it could be costed in detail."""
        other = getattr(super(), "effective_settings", None)  # another mixin's (BandSettings)
        values = other() if callable(other) else self.model_dump(mode="json")
        if self.cost_model == "simple":
            for key in ("cost_model", *DETAILED_ONLY):
                values.pop(key, None)
        return values

    @model_validator(mode="after")
    def _lanes_divide_pes(self) -> "CostModelSettings":
        if self.cost_model == "detailed" and self.macs_per_cycle % self.pe_lanes:
            raise ValueError(f"pe_lanes={self.pe_lanes} must divide macs_per_cycle="
                             f"{self.macs_per_cycle} (the multipliers are split evenly into lanes)")
        return self

    @property
    def taps_per_lane(self) -> int:
        return self.macs_per_cycle // self.pe_lanes

    def transfer_cycles(self, nbytes: int) -> int:
        """Bus cycles to move `nbytes`: beats at the bus width plus each burst's latency."""
        if nbytes <= 0:
            return 0
        return (_ceil_div(nbytes, self.dma_bytes_per_cycle)
                + _ceil_div(nbytes, self.burst_bytes) * self.bus_latency_cycles)

    def job_cost(self, work: LayerWork) -> JobCost:
        """The cost of one job under the configured model (`simple` == `job_cycles`)."""
        loaded, stored = work.load_bytes, work.output_bytes
        tiles, order, residual = 1, "streaming", 0
        if self.cost_model == "simple":
            compute = _ceil_div(work.macs, self.macs_per_cycle)
            load = store = 0
            residual = _ceil_div(work.residual_elements, self.macs_per_cycle)
            cycles = self.job_cycles(work.macs) + residual
        else:
            compute = (work.out_pixels * _ceil_div(work.out_channels, self.pe_lanes)
                       * _ceil_div(work.taps, self.taps_per_lane))
            tiling = tile_job(work, self)
            tiles, order = tiling.tiles, tiling.order
            loaded = tiling.input_traffic + tiling.weight_traffic
            load, store = self.transfer_cycles(loaded), self.transfer_cycles(stored)
            phases = (load, compute, store)
            if not self.double_buffering:
                busy = sum(phases)
            elif order == "streaming":
                busy = max(phases)
            else:
                busy = max(phases) + _ceil_div(sum(phases) - max(phases), tiles)
            cycles = self.setup_cycles + busy
        return JobCost(self.cost_model, work.macs, work.out_pixels, work.out_channels, work.taps,
                       compute, compute * self.macs_per_cycle, work.input_bytes,
                       work.weight_bytes, work.bias_bytes, work.output_bytes, load, store,
                       self.setup_cycles, cycles, loaded, stored, tiles, order, residual)


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
        try:
            self.costs.append(self.settings.job_cost(LayerWork.of(job)))
        except ValueError as exc:  # a job the buffers cannot hold: a configuration error
            self.fail(f"job {self.job}: {exc}")
        return self.costs[-1].cycles, self.costs[-1].dma_bytes

    def _log_job(self, now: int, macs: int, cycles: int, nbytes: int | None = None) -> None:
        """The per-job record, with the cost model's breakdown (summed per layer)."""
        super()._log_job(now, macs, cycles, nbytes)
        cost = self.costs[-1]
        self.job_log[-1].update(compute_cycles=cost.compute_cycles, pe_cycles=cost.pe_cycles,
                                load_cycles=cost.load_cycles, store_cycles=cost.store_cycles,
                                tiles=cost.tiles, bound=cost.bound)

    def report(self) -> dict[str, Any]:
        return {**super().report(), "cost_model": self.settings.cost_model,
                **run_totals(self.costs), "layers": [c.as_dict() for c in self.costs]}
