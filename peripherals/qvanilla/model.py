"""The QVanilla VP model: on START, fetch operands over the bus, convolve, write back."""

from __future__ import annotations

from mlonmcu_lite.peripheral.accelerator import AcceleratorDevice
from mlonmcu_lite.peripheral.conv import conv2d_int32

from .spec import BINDING, SPEC, QVanillaSettings


class QVanillaDevice(AcceleratorDevice):
    def __init__(self, settings: QVanillaSettings | None = None) -> None:
        super().__init__(SPEC, settings or QVanillaSettings())

    def run_job(self) -> int:
        job = BINDING.decode(lambda reg: self.regs[reg])
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        x = self.load("INPUT_ADDR", job.input_bytes, "i1")
        w = self.load("WEIGHT_ADDR", job.weight_bytes, "i1")
        b = self.load("BIAS_ADDR", job.out_c, "<i4")
        out = conv2d_int32(job, x.reshape(job.in_h, job.in_w, job.in_c),
                           w.reshape(job.out_c, job.k_h, job.k_w, job.in_c), b)
        self.store("OUTPUT_ADDR", out.astype("<i4"))
        return job.macs
