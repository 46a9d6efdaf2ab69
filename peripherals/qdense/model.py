"""The QDense VP model: on START, fetch operands over the bus, multiply-accumulate,
optionally requantize, write back; busy time from the configured cost model."""

from __future__ import annotations

from mlonmcu_lite.peripheral.cost_detailed import CostedAcceleratorDevice
from mlonmcu_lite.peripheral.dense import DenseJob, dense_int32
from mlonmcu_lite.peripheral.requant import requantize

from .spec import BINDING, SPEC, QDenseSettings


class QDenseDevice(CostedAcceleratorDevice):
    def __init__(self, settings: QDenseSettings | None = None) -> None:
        super().__init__(SPEC, settings or QDenseSettings())

    def execute(self) -> DenseJob:
        job = BINDING.decode(lambda reg: self.regs[reg])
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        x = self.load("INPUT_ADDR", job.input_bytes, "i1").reshape(job.rows, job.depth)
        w = self.load("WEIGHT_ADDR", job.weight_bytes, "i1").reshape(job.units, job.depth)
        b = self.load("BIAS_ADDR", job.units, "<i4")
        out = dense_int32(job, x, w, b)
        if job.rq_enable:
            mult = self.load("MULT_ADDR", job.units, "<i4")
            shift = self.load("SHIFT_ADDR", job.units, "<i4")
            self.store("OUTPUT_ADDR", requantize(out, mult, shift, job))
        else:
            self.store("OUTPUT_ADDR", out.astype("<i4"))
        return job
