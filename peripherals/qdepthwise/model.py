"""The QDepthwise VP model: on START, fetch operands over the bus, convolve per channel,
write back; busy time from the configured cost model."""

from __future__ import annotations

from mlonmcu_lite.peripheral.cost_detailed import CostedAcceleratorDevice
from mlonmcu_lite.peripheral.depthwise import DepthwiseJob, depthwise_int32

from .spec import BINDING, SPEC, QDepthwiseSettings


class QDepthwiseDevice(CostedAcceleratorDevice):
    def __init__(self, settings: QDepthwiseSettings | None = None) -> None:
        super().__init__(SPEC, settings or QDepthwiseSettings())

    def execute(self) -> DepthwiseJob:
        job = DepthwiseJob(**BINDING.decode(lambda reg: self.regs[reg]).as_dict())
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        x = self.load("INPUT_ADDR", job.input_bytes, "i1")
        w = self.load("WEIGHT_ADDR", job.weight_bytes, "i1")
        b = self.load("BIAS_ADDR", job.out_c, "<i4")
        out = depthwise_int32(job, x.reshape(job.in_h, job.in_w, job.in_c),
                              w.reshape(job.out_c, job.k_h, job.k_w), b)
        self.store("OUTPUT_ADDR", out.astype("<i4"))
        return job
