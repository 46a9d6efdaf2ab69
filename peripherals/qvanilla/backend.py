"""QVanilla's offload backend: one pattern (int8 conv2d + bias, groups == 1)."""

from __future__ import annotations

from pathlib import Path

from mlonmcu_lite.peripheral.backend import CArgs, ConvRegion, OffloadPattern
from mlonmcu_lite.peripheral.capabilities import check_region
from mlonmcu_lite.peripheral.conv import ConvJob
from mlonmcu_lite.peripheral.spec_backend import SpecBackend, emit_conv_call

from .model import QVanillaDevice
from .spec import BINDING, SPEC


class QVanillaBackend(SpecBackend):
    spec = SPEC
    folder = Path(__file__).resolve().parent
    device_class = QVanillaDevice
    binding = BINDING

    def register_patterns(self) -> None:
        self.register_pattern(OffloadPattern(
            name=f"{self.name}.conv2d_bias", kind="conv2d",
            check=lambda region: check_region(SPEC.capabilities, BINDING, region)))

    def emit_call(self, region: ConvRegion, args: CArgs) -> str:
        return emit_conv_call(f"{self.name}_conv2d", f"{self.name}_conv2d_params_t",
                              ConvJob.from_region(region), args)
