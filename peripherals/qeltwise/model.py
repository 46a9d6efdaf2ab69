"""The QEltwise VP model: on START, decode the operation, fetch the int8 operands over the
bus, compute TFLite's integer ADD / MUL / pooling exactly, write the int8 result back."""

from __future__ import annotations

import numpy as np

from mlonmcu_lite.peripheral.accelerator import AcceleratorDevice
from mlonmcu_lite.peripheral.eltwise import (OP_ADD, OP_MUL, EltwiseJob, PoolJob, add_int8, mul_int8,
                                             pool_int8)

from .spec import ELTWISE, POOL, SPEC, QEltwiseSettings


class QEltwiseDevice(AcceleratorDevice):
    def __init__(self, settings: QEltwiseSettings | None = None) -> None:
        super().__init__(SPEC, settings or QEltwiseSettings())

    def decode_job(self) -> EltwiseJob | PoolJob:
        binding = ELTWISE if self.field("OP.CODE") in (OP_ADD, OP_MUL) else POOL
        job = binding.decode(lambda reg: self.regs[reg])
        problem = job.problem() or SPEC.capabilities.job_problem(job)
        if problem:
            self.fail(f"job rejected: {problem}")
        return job

    def execute(self) -> EltwiseJob | PoolJob:
        job = self.decode_job()
        if isinstance(job, EltwiseJob):
            a = self.load("A_ADDR", job.count, "i1")
            b = self.load("B_ADDR", job.count, "i1")
            out = (add_int8 if job.op == OP_ADD else mul_int8)(a, b, job)
        else:
            x = self.load("A_ADDR", job.input_count, "i1").reshape(job.in_h, job.in_w, job.channels)
            out = pool_int8(x, job)
        self.store("OUTPUT_ADDR", np.ascontiguousarray(out, np.int8))
        return job
