"""The QEltwise VP model: on START, decode the operation, fetch the int8 operands over the
bus, compute TFLite's integer ADD / MUL / pooling exactly, write the int8 result back.
Its work is counted in element operations (`work_unit = "ops"`), never as MACs."""

from __future__ import annotations

import numpy as np

from mlonmcu_lite.frontend.fixedpoint import multiply_by_quantized_multiplier as scalar_mbqm
from mlonmcu_lite.peripheral.accelerator import AcceleratorDevice
from mlonmcu_lite.peripheral.eltwise import (OP_ADD, OP_MAX_POOL, OP_MUL, EltwiseJob, PoolJob, add_int8,
                                             mul_int8, pool_int8)

from .spec import ELTWISE, POOL, SPEC, QEltwiseSettings


class QEltwiseDevice(AcceleratorDevice):
    work_unit = "ops"

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

    def reference_job(self):
        """`check_peripherals`: the job again, element by element in exact Python integers
        (gemmlowp's scalar definitions in frontend.fixedpoint; each pool window sliced from
        the input), not the vectorised `add_int8` / `mul_int8` / `pool_int8` above."""
        job = self.decode_job()
        if isinstance(job, EltwiseJob):
            a = self.load("A_ADDR", job.count, "i1").tolist()
            b = self.load("B_ADDR", job.count, "i1").tolist()
            return "OUTPUT_ADDR", np.array([reference_element(job, x, y) for x, y in zip(a, b)], np.int8)
        x = self.load("A_ADDR", job.input_count, "i1").reshape(job.in_h, job.in_w, job.channels)
        return "OUTPUT_ADDR", reference_pool(job, x)


def reference_element(job: EltwiseJob, x: int, y: int) -> int:
    """TFLite's int8 AddElementwise / MulElementwise of one element pair."""
    if job.op == OP_ADD:
        scaled = (scalar_mbqm((x + job.a_offset) << job.left_shift, job.a_mult, job.a_shift)
                  + scalar_mbqm((y + job.b_offset) << job.left_shift, job.b_mult, job.b_shift))
    else:
        scaled = (x + job.a_offset) * (y + job.b_offset)
    value = scalar_mbqm(scaled, job.out_mult, job.out_shift) + job.out_zero_point
    return min(max(value, job.out_lo), job.out_hi)


def reference_pool(job: PoolJob, x: np.ndarray) -> np.ndarray:
    """TFLite's int8 AveragePool / MaxPool: per output pixel, the window clipped to the input;
    the average rounds half away from zero (C division of sum +- count/2)."""
    out = np.empty((job.out_h, job.out_w, job.channels), np.int8)
    for i in range(job.out_h):
        top = i * job.stride_h - job.pad_top
        for j in range(job.out_w):
            left = j * job.stride_w - job.pad_left
            window = x[max(top, 0):min(top + job.k_h, job.in_h), max(left, 0):min(left + job.k_w, job.in_w)]
            for channel in range(job.channels):
                taps = [int(v) for v in window[:, :, channel].ravel()]
                if job.op == OP_MAX_POOL:
                    value = max(taps)
                else:
                    total, count = sum(taps), len(taps)
                    value = (total + count // 2) // count if total > 0 else -((count // 2 - total) // count)
                out[i, j, channel] = min(max(value, job.lo), job.hi)
    return out
