"""The QVanilla VP model: on START, fetch operands over the bus, convolve, write back
(int32, or int8 through the fused requantization when REQUANT.ENABLE is set); busy time
from the configured cost model."""

from __future__ import annotations

from mlonmcu_lite.peripheral.conv import ConvJob, conv2d_int32, load_operands
from mlonmcu_lite.peripheral.cost_detailed import CostedAcceleratorDevice
from mlonmcu_lite.peripheral.requant import Requantized

from .spec import BINDING, SPEC, QVanillaSettings


class QVanillaDevice(CostedAcceleratorDevice):
    def __init__(self, settings: QVanillaSettings | None = None) -> None:
        super().__init__(SPEC, settings or QVanillaSettings())

    def decode_job(self) -> ConvJob:
        job = BINDING.decode(lambda reg: self.regs[reg])
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        return job

    def execute(self) -> ConvJob | Requantized:
        job = self.decode_job()
        if self.store_result("OUTPUT_ADDR", conv2d_int32(job, *load_operands(self, job))):
            return Requantized(job, residual="RESIDUAL" in self.regs and bool(self.field("RESIDUAL.ENABLE")))
        return job

    def reference_job(self):
        job = self.decode_job()
        return "OUTPUT_ADDR", self.result_of(job.reference(*load_operands(self, job)))
