"""QEltwise's offload backend: two patterns, element-wise ADD/MUL (`eltwise` kind) and
average/max pooling (`pool` kind); each setting `eltwise` / `pool` switches one off."""

from __future__ import annotations

from pathlib import Path

from mlonmcu_lite.peripheral.backend import CArgs, EltwiseRegion, OffloadPattern, PoolRegion
from mlonmcu_lite.peripheral.eltwise import EltwiseJob, PoolJob
from mlonmcu_lite.peripheral.spec_backend import SpecBackend, emit_job_call

from .model import QEltwiseDevice
from .spec import ELTWISE, POOL, SPEC


def _check_eltwise(region: EltwiseRegion) -> str | None:
    job = EltwiseJob.from_region(region)
    return SPEC.capabilities.job_problem(job) or ELTWISE.unfit(job) or job.problem()


def _check_pool(region: PoolRegion) -> str | None:
    if region.input_shape[0] != 1:
        return f"batch={region.input_shape[0]} unsupported (batch 1 only)"
    job = PoolJob.from_region(region)
    return SPEC.capabilities.job_problem(job) or POOL.unfit(job) or job.problem()


class QEltwiseBackend(SpecBackend):
    spec = SPEC
    folder = Path(__file__).resolve().parent
    device_class = QEltwiseDevice
    binding = ELTWISE
    jobs = {"eltwise": ELTWISE, "pool": POOL}

    def register_patterns(self) -> None:
        if self.settings.eltwise:
            self.register_pattern(OffloadPattern(f"{self.name}.eltwise", kind="eltwise", check=_check_eltwise))
        if self.settings.pool:
            self.register_pattern(OffloadPattern(f"{self.name}.pool", kind="pool", check=_check_pool))

    def emit_call(self, region: EltwiseRegion | PoolRegion, args: CArgs) -> str:
        if isinstance(region, EltwiseRegion):
            return emit_job_call(f"{self.name}_eltwise", f"{self.name}_eltwise_params_t",
                                 EltwiseJob.from_region(region), [args.input, args.second, args.output])
        return emit_job_call(f"{self.name}_pool", f"{self.name}_pool_params_t", PoolJob.from_region(region),
                             [args.input, args.output])
