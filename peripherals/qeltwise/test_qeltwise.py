"""The folder's own check (a scaffolded copy passes it unchanged): the VP model against an
independent element-by-element reference of TFLite's integer ADD, MUL and pooling (gemmlowp's
definitions, not the model's vectorised arithmetic), the capability checks, the generated
register-programming API and the driver calls the backend emits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlonmcu_lite.peripheral import CArgs, load_backend
from mlonmcu_lite.peripheral.backend import AddParams, EltwiseRegion, PoolRegion
from mlonmcu_lite.peripheral.eltwise import EltwiseJob, PoolJob
from mlonmcu_lite.peripheral.header import render_header
from mlonmcu_lite.peripheral.testing import RamBus, program, write_reg

HERE = Path(__file__).resolve().parent
NAME = HERE.name
RAM = 0x8000_0000
ADD = AddParams((3, 128), 20, ((1410672106, -3), (1073741824, 0)), (2126508348, -18), -128, -128, 127)
ADD_RELU = AddParams((-7, 2), 20, ((1945741386, -1), (1073741824, 0)), (2035770738, -19), -20, -20, 127)
MUL = AddParams((4, -5), 0, ((0, 0), (0, 0)), (1142455168, -5), 11, -128, 127)


def make_backend(**overrides):
    return load_backend(NAME + "".join(f":{k}={v}" for k, v in overrides.items()),
                        search_path=[HERE.parent])


def _srdhm(a: int, b: int) -> int:  # gemmlowp SaturatingRoundingDoublingHighMul (int32)
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    q = abs(ab + nudge) // (1 << 31)
    return q if ab + nudge >= 0 else -q


def _rdbpot(x: int, exponent: int) -> int:  # gemmlowp RoundingDivideByPOT
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def _mbqm(x: int, mult: int, shift: int) -> int:
    return _rdbpot(_srdhm(x * (1 << max(shift, 0)), mult), max(-shift, 0))


def reference_eltwise(op: str, a, b, p: AddParams) -> np.ndarray:
    out = []
    for x, y in zip(a.tolist(), b.tolist()):
        if op == "add":
            sa = _mbqm((x + p.offsets[0]) << p.left_shift, *p.inputs[0])
            sb = _mbqm((y + p.offsets[1]) << p.left_shift, *p.inputs[1])
            v = _mbqm(sa + sb, *p.output)
        else:
            v = _mbqm((x + p.offsets[0]) * (y + p.offsets[1]), *p.output)
        out.append(min(max(v + p.zero_point, p.lo), p.hi))
    return np.array(out, np.int8)


def reference_pool(x, region: PoolRegion) -> np.ndarray:
    _, h, w, c = region.input_shape
    _, oh, ow, _ = region.output_shape
    (kh, kw), (sh, sw), (top, left, _, _) = region.pool_size, region.strides, region.padding
    out = np.zeros((oh, ow, c), np.int8)
    for i in range(oh):
        for j in range(ow):
            for ch in range(c):
                taps = [int(x[r, q, ch]) for r in range(i * sh - top, i * sh - top + kh)
                        for q in range(j * sw - left, j * sw - left + kw) if 0 <= r < h and 0 <= q < w]
                if region.mode == "max":
                    v = max(taps)
                else:  # TFLite: (sum +- count/2) / count, C division (towards zero)
                    s, n = sum(taps), len(taps)
                    v = (s + n // 2) // n if s > 0 else -((n // 2 - s) // n)
                out[i, j, ch] = min(max(v, region.lo), region.hi)
    return out


def _run(backend, job, binding, arrays: dict, out_count: int, check: bool = False,
         in_place: bool = False) -> tuple[np.ndarray, dict]:
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    device.check_results = check  # `-s check_peripherals=true`: each job against reference_job()
    addrs = {"A_ADDR": RAM + 0x40, "B_ADDR": RAM + 0x10000, "OUTPUT_ADDR": RAM + 0x20003}
    if in_place:  # the output over input a, as the compiler plans it when a dies there
        addrs["OUTPUT_ADDR"] = addrs["A_ADDR"]
    for reg, arr in arrays.items():
        bus.mem_write(addrs[reg], arr.tobytes())
    program(device, binding, job, addrs)
    write_reg(device, "CTRL", 1)
    return np.frombuffer(bus.mem_read(addrs["OUTPUT_ADDR"], out_count), np.int8), device.report()


@pytest.mark.parametrize("op, params", [("add", ADD), ("add", ADD_RELU), ("mul", MUL)])
def test_eltwise_matches_reference(op, params):
    backend = make_backend(macs_per_cycle=3, setup_cycles=5)
    region = EltwiseRegion("e", (1, 7, 5, 9), op, params)
    pattern, taken, why = backend.offer(region)
    assert why is None and pattern.name == f"{NAME}.eltwise"
    rng = np.random.default_rng(len(op))
    a = rng.integers(-128, 128, region.count, dtype=np.int8)
    b = rng.integers(-128, 128, region.count, dtype=np.int8)
    a[:2], b[:2] = (-128, 127), (127, -128)  # extremes
    job = EltwiseJob.from_region(region)
    got, report = _run(backend, job, backend.jobs["eltwise"], {"A_ADDR": a, "B_ADDR": b}, region.count,
                       check=True, in_place=op == "add")
    np.testing.assert_array_equal(got, reference_eltwise(op, a, b, params))
    assert report["jobs"] == report["checked_jobs"] == 1
    assert report["ops"] == region.count and "macs" not in report  # element ops, never MACs
    assert report["busy_cycles"] == 5 + -(-region.count // 3)


@pytest.mark.parametrize("mode, shape, size, strides, padding, clamp", [
    ("avg", (9, 8, 5), (3, 3), (1, 1), (1, 1, 1, 1), (-128, 127)),
    ("avg", (6, 6, 3), (6, 6), (1, 1), (0, 0, 0, 0), (-128, 127)),  # global
    ("avg", (7, 9, 4), (2, 3), (2, 2), (0, 1, 1, 1), (-5, 100)),
    ("max", (16, 16, 4), (3, 3), (2, 2), (0, 0, 1, 1), (-128, 127)),
    ("max", (5, 7, 2), (2, 2), (2, 2), (0, 0, 1, 1), (0, 127)),
])
def test_pool_matches_reference(mode, shape, size, strides, padding, clamp):
    h, w, c = shape
    oh = (h + padding[0] + padding[2] - size[0]) // strides[0] + 1
    ow = (w + padding[1] + padding[3] - size[1]) // strides[1] + 1
    region = PoolRegion("p", (1, h, w, c), (1, oh, ow, c), size, strides, padding, mode, *clamp)
    backend = make_backend()
    pattern, taken, why = backend.offer(region)
    assert why is None and pattern.name == f"{NAME}.pool"
    x = np.random.default_rng(h * w).integers(-128, 128, shape, dtype=np.int8)
    job = PoolJob.from_region(region)
    got, report = _run(backend, job, backend.jobs["pool"], {"A_ADDR": x}, oh * ow * c, check=True)
    np.testing.assert_array_equal(got.reshape(oh, ow, c), reference_pool(x, region))
    assert report["ops"] == oh * ow * c * size[0] * size[1] and report["checked_jobs"] == 1


@pytest.mark.parametrize("op", ["add", "mul", "avg", "max"])
def test_check_mode_catches_a_wrong_result(op, monkeypatch):
    """reference_job() is independent of the device maths: a device off by one in one element
    fails its job under `check_peripherals`."""
    import sys

    backend = make_backend()
    model = sys.modules[type(backend.device()).__module__]
    name = {"add": "add_int8", "mul": "mul_int8"}.get(op, "pool_int8")
    right = getattr(model, name)

    def off_by_one(*args):
        out = right(*args).copy()
        out.flat[-1] = out.flat[-1] ^ 1
        return out

    monkeypatch.setattr(model, name, off_by_one)
    x = np.random.default_rng(3).integers(-128, 128, (4, 4, 3), dtype=np.int8)
    if op in ("add", "mul"):
        region = EltwiseRegion("e", (1, 4, 4, 3), op, ADD if op == "add" else MUL)
        job, binding, arrays = EltwiseJob.from_region(region), backend.jobs["eltwise"], {"A_ADDR": x, "B_ADDR": x}
    else:
        region = PoolRegion("p", (1, 4, 4, 3), (1, 2, 2, 3), (2, 2), (2, 2), (0, 0, 0, 0), op)
        job, binding, arrays = PoolJob.from_region(region), backend.jobs["pool"], {"A_ADDR": x}
    with pytest.raises(Exception, match="differs from the reference computation in 1 of"):
        _run(backend, job, binding, arrays, 48, check=True, in_place=op == "add")


def test_capabilities_and_settings():
    backend = make_backend()
    big = EltwiseRegion("e", (1, 2048, 1024), "add", ADD)
    assert "elements exceed" in backend.offer(big)[2]
    wide = PoolRegion("p", (1, 8, 8, 4), (1, 1, 1, 4), (8, 8), (1, 1), (0, 0, 0, 0), "avg")
    assert backend.offer(wide)[2] is None
    assert "no pool pattern" in make_backend(pool=False).offer(wide)[2]
    assert "no eltwise pattern" in make_backend(eltwise=False).offer(EltwiseRegion("e", (4,), "add", ADD))[2]
    bad = PoolRegion("p", (1, 8, 8, 4), (1, 3, 3, 4), (2, 2), (2, 2), (0, 0, 0, 0), "max")
    assert "inconsistent" in backend.offer(bad)[2]


def test_generated_params_and_emitted_calls():
    backend = make_backend()
    header = render_header(backend.spec, backend.settings, backend.jobs)
    assert f"}} {NAME}_eltwise_params_t;" in header and f"}} {NAME}_pool_params_t;" in header
    assert f"static inline void {NAME}_program_pool(const {NAME}_pool_params_t *p) {{" in header
    call = backend.emit_call(EltwiseRegion("e", (1, 4), "mul", MUL), CArgs("a_p", "0", "0", "o_p", second="b_p"))
    assert call.startswith(f"if ({NAME}_eltwise(&(const {NAME}_eltwise_params_t){{.left_shift = 0, .a_offset = 4")
    assert ".op = 1, .count = 4}" in call and "a_p, b_p, o_p) != 0) abort();" in call
    pool = PoolRegion("p", (1, 8, 8, 4), (1, 4, 4, 4), (2, 2), (2, 2), (0, 0, 0, 0), "max")
    call = backend.emit_call(pool, CArgs("x_p", "0", "0", "o_p"))
    assert call.startswith(f"if ({NAME}_pool(&(const {NAME}_pool_params_t){{.op = 3, .in_h = 8")
    assert "x_p, o_p) != 0) abort();" in call
