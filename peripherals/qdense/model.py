"""The QDense VP model: on START, fetch operands over the bus, multiply-accumulate,
optionally requantize, write back; busy time from the configured cost model."""

from __future__ import annotations

import numpy as np

from mlonmcu_lite.peripheral.cost_detailed import CostedAcceleratorDevice
from mlonmcu_lite.peripheral.dense import DenseJob, dense_int32

from .spec import BINDING, SPEC, QDenseSettings


class QDenseDevice(CostedAcceleratorDevice):
    def __init__(self, settings: QDenseSettings | None = None) -> None:
        super().__init__(SPEC, settings or QDenseSettings())

    def decode_job(self) -> DenseJob:
        job = BINDING.decode(lambda reg: self.regs[reg])
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        return job

    def operands(self, job: DenseJob):
        x = self.load("INPUT_ADDR", job.input_bytes, "i1").reshape(job.rows, job.depth)
        w = self.load("WEIGHT_ADDR", job.weight_bytes, "i1").reshape(job.units, job.depth)
        return x, w, self.load("BIAS_ADDR", job.units, "<i4")

    def execute(self) -> DenseJob:
        job = self.decode_job()
        self.store_result("OUTPUT_ADDR", dense_int32(job, *self.operands(job)))
        return job

    def reference_job(self):
        """`check_peripherals`: an einsum over int64 (not the model's matmul), then the same
        device rescale (checked against gemmlowp's definitions in the tests)."""
        job = self.decode_job()
        x, w, b = self.operands(job)
        acc = np.einsum("mk,nk->mn", x.astype(np.int64) + job.input_offset,
                        w.astype(np.int64) + job.weight_offset) + b
        return "OUTPUT_ADDR", self.result_of(((acc + 2**31) % 2**32 - 2**31).astype(np.int32))
