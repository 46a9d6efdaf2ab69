"""What a conv engine can take, and how a job's parameters sit in its registers.

`ConvCapabilities` is declared in a peripheral's spec; `ConvBinding` maps each
`ConvJob` parameter to the register field that holds it.  Together they give the
compiler's check (`check_region`: capabilities, then "does every value fit its
field", then dimension consistency) and the VP model's decoding of a job from
its register file (`ConvBinding.decode`), from the same declaration.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from .backend import ConvRegion
from .conv import ConvJob
from .errors import PeripheralConfigError
from .spec import PeripheralSpec


class ConvCapabilities(BaseModel):
    """Supported conv2d shapes.  Kernel heights and widths are checked independently
    (non-square kernels are fine); dimensions are further limited by field widths."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kernel_sizes: tuple[int, ...] = Field(min_length=1)
    strides: tuple[int, ...] = Field(min_length=1)
    max_padding: int = Field(ge=0)
    groups: tuple[int, ...] = (1,)
    dilations: tuple[int, ...] = (1,)
    max_channels: int = Field(ge=1)
    max_spatial: int = Field(ge=1)

    def problem(self, region: ConvRegion) -> str | None:
        """None if the region is supported, else the first reason why not."""
        if region.kind != "conv2d":
            return f"kind {region.kind} unsupported"
        if region.input_shape[0] != 1:
            return f"batch={region.input_shape[0]} unsupported (batch 1 only)"
        if region.groups not in self.groups:
            return f"groups={region.groups} unsupported"
        if any(d not in self.dilations for d in region.dilation):
            return f"dilation={region.dilation} unsupported"
        if region.weight_shape[3] * region.groups != region.input_shape[3]:
            return f"weights {region.weight_shape} do not match input {region.input_shape}"
        if region.weight_shape[0] != region.output_shape[3]:
            return f"weights {region.weight_shape} do not match output {region.output_shape}"
        return self.job_problem(ConvJob.from_region(region))

    def job_problem(self, job: ConvJob) -> str | None:
        """What the engine itself cannot run (also enforced by the VP model)."""
        if job.k_h not in self.kernel_sizes or job.k_w not in self.kernel_sizes:
            return f"kernel {job.k_h}x{job.k_w} unsupported (sizes {list(self.kernel_sizes)})"
        if job.stride_h not in self.strides or job.stride_w not in self.strides:
            return f"strides=({job.stride_h}, {job.stride_w}) unsupported"
        pads = (job.pad_top, job.pad_left, job.pad_bottom, job.pad_right)
        if max(pads) > self.max_padding:
            return f"padding={pads} exceeds {self.max_padding}"
        chans = max(job.in_c, job.out_c)
        if chans > self.max_channels:
            return f"{chans} channels exceed {self.max_channels}"
        spatial = max(job.in_h, job.in_w, job.out_h, job.out_w)
        if spatial > self.max_spatial:
            return f"spatial size {spatial} exceeds {self.max_spatial}"
        return None


@dataclass(frozen=True)
class JobBinding:
    """Job parameter (a field of the dataclass `job`, `ConvJob` by default) -> `"REG.FIELD"`
    of `spec`.  Validated on construction: every job parameter is bound exactly once to an
    existing field."""

    spec: PeripheralSpec
    fields: dict[str, str]
    job: type = ConvJob

    def __post_init__(self) -> None:
        names = {f.name for f in dataclasses.fields(self.job)}
        missing, extra = names - set(self.fields), set(self.fields) - names
        if missing or extra:
            raise PeripheralConfigError(
                f"{self.spec.name}: {self.job.__name__} binding missing {sorted(missing)}, unknown {sorted(extra)}")
        for path in self.fields.values():
            self.spec.field(path)  # raises if absent

    def unfit(self, job: ConvJob) -> str | None:
        """None if every parameter fits its register field, else which does not."""
        for name, path in self.fields.items():
            _, fld = self.spec.field(path)
            value = getattr(job, name)
            if not fld.fits(value):
                return f"{name}={value} does not fit {path} [{fld.min_value}, {fld.max_value}]"
        return None

    def decode(self, read_register: Callable[[str], int]) -> ConvJob:
        values = {}
        for name, path in self.fields.items():
            reg, fld = self.spec.field(path)
            values[name] = fld.extract(read_register(reg.name))
        return self.job(**values)

    def encode(self, job: ConvJob) -> dict[str, int]:
        """Register name -> value programming `job` (what a driver writes)."""
        regs: dict[str, int] = {}
        for name, path in self.fields.items():
            reg, fld = self.spec.field(path)
            regs[reg.name] = fld.insert(regs.get(reg.name, 0), getattr(job, name))
        return regs


ConvBinding = JobBinding  # the conv engines' name for it


def check_region(caps: ConvCapabilities, binding: ConvBinding, region: ConvRegion) -> str | None:
    """The compiler-side capability check for a conv pattern, all from the declaration."""
    reason = caps.problem(region)
    if reason is not None:
        return reason
    job = ConvJob.from_region(region)
    return binding.unfit(job) or job.problem()
