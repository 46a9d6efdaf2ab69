"""QVanilla's offload backend: one pattern (int8 conv2d + bias, groups == 1; with
`fused_requant`, also the requantization that follows; with `fused_residual` too, the
residual ADD after that)."""

from __future__ import annotations

from pathlib import Path

from mlonmcu_lite.peripheral.backend import CArgs, ConvRegion, OffloadPattern
from mlonmcu_lite.peripheral.capabilities import check_region
from mlonmcu_lite.peripheral.conv import ConvJob
from mlonmcu_lite.peripheral.eltwise import ResidualJob, residual_binding
from mlonmcu_lite.peripheral.requant import RequantJob, requant_binding
from mlonmcu_lite.peripheral.spec_backend import SpecBackend, emit_conv_call, emit_requant_call

from .model import QVanillaDevice
from .spec import BINDING, SPEC


class QVanillaBackend(SpecBackend):
    spec = SPEC
    folder = Path(__file__).resolve().parent
    device_class = QVanillaDevice
    binding = BINDING
    jobs = {"requant": requant_binding(SPEC), "residual": residual_binding(SPEC)}

    def register_patterns(self) -> None:
        self.register_pattern(OffloadPattern(
            name=f"{self.name}.conv2d_bias", kind="conv2d", check=_check,
            requant=self.settings.fused_requant, residual=self.settings.fused_residual))

    def emit_call(self, region: ConvRegion, args: CArgs) -> str:
        job = ConvJob.from_region(region)
        if region.requant is None:
            return emit_conv_call(f"{self.name}_conv2d", f"{self.name}_conv2d_params_t", job, args)
        rq = RequantJob.of(region.requant)
        if region.residual is None:
            return emit_requant_call(f"{self.name}_conv2d_rq", f"{self.name}_conv2d_params_t", job,
                                     f"{self.name}_requant_params_t", rq, args)
        return emit_requant_call(f"{self.name}_conv2d_res", f"{self.name}_conv2d_params_t", job,
                                 f"{self.name}_requant_params_t", rq, args,
                                 (f"{self.name}_residual_params_t", ResidualJob.of(region.residual)))


def _check(region: ConvRegion) -> str | None:
    problem = check_region(SPEC.capabilities, BINDING, region)
    if problem is None and region.residual is not None:
        return residual_binding(SPEC).unfit(ResidualJob.of(region.residual))
    return problem
