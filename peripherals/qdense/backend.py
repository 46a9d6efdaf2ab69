"""QDense's offload backend: one pattern, int8 fully connected + bias (+ requantization
when `fused_requant`)."""

from __future__ import annotations

from pathlib import Path

from mlonmcu_lite.peripheral.backend import CArgs, DenseRegion, OffloadPattern
from mlonmcu_lite.peripheral.dense import DenseJob
from mlonmcu_lite.peripheral.spec_backend import SpecBackend, emit_conv_call

from .model import QDenseDevice
from .spec import BINDING, SPEC


def _check(region: DenseRegion) -> str | None:
    job = DenseJob.from_region(region)
    return SPEC.capabilities.problem(region) or BINDING.unfit(job) or job.problem()


class QDenseBackend(SpecBackend):
    spec = SPEC
    folder = Path(__file__).resolve().parent
    device_class = QDenseDevice
    binding = BINDING
    jobs = {"fc": BINDING}

    def register_patterns(self) -> None:
        self.register_pattern(OffloadPattern(
            name=f"{self.name}.dense_bias", kind="dense", check=_check,
            requant=self.settings.fused_requant))

    def emit_call(self, region: DenseRegion, args: CArgs) -> str:
        if args.multiplier is None:
            args = CArgs(args.input, args.weight, args.bias, args.output, "0", "0")
        return emit_conv_call(f"{self.name}_fc", f"{self.name}_fc_params_t",
                              DenseJob.from_region(region), args)
