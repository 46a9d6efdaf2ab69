"""QDepthwise's offload backend: one pattern, depthwise int8 conv2d + bias
(groups == in_channels == out_channels); with `fused_requant=false`, the requantization on
the CPU band by band (peripheral/bands.py)."""

from __future__ import annotations

from pathlib import Path

from mlonmcu_lite.peripheral.backend import CArgs, ConvRegion, OffloadPattern
from mlonmcu_lite.peripheral.bands import BandedConv
from mlonmcu_lite.peripheral.capabilities import check_region
from mlonmcu_lite.peripheral.depthwise import DepthwiseJob
from mlonmcu_lite.peripheral.requant import RequantJob, requant_binding
from mlonmcu_lite.peripheral.spec_backend import SpecBackend, emit_conv_call, emit_requant_call

from .model import QDepthwiseDevice
from .spec import BINDING, SPEC


class QDepthwiseBackend(BandedConv, SpecBackend):
    spec = SPEC
    folder = Path(__file__).resolve().parent
    device_class = QDepthwiseDevice
    binding = BINDING
    jobs = {"dwconv2d": BINDING, "requant": requant_binding(SPEC)}

    def register_patterns(self) -> None:
        if self.banded():
            self.register_pattern(self.banded_pattern(f"{self.name}.depthwise_conv2d_banded", _check))
        self.register_pattern(OffloadPattern(
            name=f"{self.name}.depthwise_conv2d", kind="conv2d", check=_check,
            requant=self.settings.fused_requant))

    def emit_call(self, region: ConvRegion, args: CArgs) -> str:
        job = DepthwiseJob.from_region(region)
        if region.requant is None:
            return emit_conv_call(f"{self.name}_dwconv2d", f"{self.name}_dwconv2d_params_t", job, args)
        if self.banded():
            return self.emit_banded("dwconv2d", job, region, args)
        return emit_requant_call(f"{self.name}_dwconv2d_rq", f"{self.name}_dwconv2d_params_t", job,
                                 f"{self.name}_requant_params_t", RequantJob.of(region.requant), args)


def _check(region: ConvRegion) -> str | None:
    return check_region(SPEC.capabilities, BINDING, region)
