"""The QDepthwise VP model: on START, fetch operands over the bus, convolve per channel,
write back; busy time from the configured cost model."""

from __future__ import annotations

from mlonmcu_lite.peripheral.conv import load_operands
from mlonmcu_lite.peripheral.cost_detailed import CostedAcceleratorDevice
from mlonmcu_lite.peripheral.depthwise import DepthwiseJob, depthwise_int32
from mlonmcu_lite.peripheral.requant import Requantized

from .spec import BINDING, SPEC, QDepthwiseSettings


class QDepthwiseDevice(CostedAcceleratorDevice):
    def __init__(self, settings: QDepthwiseSettings | None = None) -> None:
        super().__init__(SPEC, settings or QDepthwiseSettings())

    def decode_job(self) -> DepthwiseJob:
        job = DepthwiseJob(**BINDING.decode(lambda reg: self.regs[reg]).as_dict())
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        return job

    def execute(self) -> DepthwiseJob:
        job = self.decode_job()
        if self.store_result("OUTPUT_ADDR", depthwise_int32(job, *load_operands(self, job))):
            return Requantized(job)
        return job

    def reference_job(self):
        job = self.decode_job()
        return "OUTPUT_ADDR", self.result_of(job.reference(*load_operands(self, job)))
