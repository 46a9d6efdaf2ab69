"""The QVanilla VP model: on START, fetch operands over the bus, convolve, write back
(int32, or int8 through the fused requantization when REQUANT.ENABLE is set)."""

from __future__ import annotations

from mlonmcu_lite.peripheral.accelerator import AcceleratorDevice
from mlonmcu_lite.peripheral.conv import ConvJob, conv2d_int32, load_operands

from .spec import BINDING, SPEC, QVanillaSettings


class QVanillaDevice(AcceleratorDevice):
    def __init__(self, settings: QVanillaSettings | None = None) -> None:
        super().__init__(SPEC, settings or QVanillaSettings())

    def decode_job(self) -> ConvJob:
        job = BINDING.decode(lambda reg: self.regs[reg])
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        return job

    def execute(self) -> ConvJob:
        job = self.decode_job()
        self.store_result("OUTPUT_ADDR", conv2d_int32(job, *load_operands(self, job)))
        return job

    def reference_job(self):
        job = self.decode_job()
        return "OUTPUT_ADDR", self.result_of(job.reference(*load_operands(self, job)))
