"""QVanilla's offload backend: one pattern (int8 conv2d + bias, groups == 1; with
`fused_requant`, also the requantization that follows)."""

from __future__ import annotations

from pathlib import Path

from mlonmcu_lite.peripheral.backend import CArgs, ConvRegion, OffloadPattern
from mlonmcu_lite.peripheral.capabilities import check_region
from mlonmcu_lite.peripheral.conv import ConvJob
from mlonmcu_lite.peripheral.requant import RequantJob, requant_binding
from mlonmcu_lite.peripheral.spec_backend import SpecBackend, emit_conv_call, emit_requant_call

from .model import QVanillaDevice
from .spec import BINDING, SPEC


class QVanillaBackend(SpecBackend):
    spec = SPEC
    folder = Path(__file__).resolve().parent
    device_class = QVanillaDevice
    binding = BINDING
    jobs = {"requant": requant_binding(SPEC)}

    def register_patterns(self) -> None:
        self.register_pattern(OffloadPattern(
            name=f"{self.name}.conv2d_bias", kind="conv2d",
            check=lambda region: check_region(SPEC.capabilities, BINDING, region),
            requant=self.settings.fused_requant))

    def emit_call(self, region: ConvRegion, args: CArgs) -> str:
        job = ConvJob.from_region(region)
        if region.requant is None:
            return emit_conv_call(f"{self.name}_conv2d", f"{self.name}_conv2d_params_t", job, args)
        return emit_requant_call(f"{self.name}_conv2d_rq", f"{self.name}_conv2d_params_t", job,
                                 f"{self.name}_requant_params_t", RequantJob.of(region.requant), args)
