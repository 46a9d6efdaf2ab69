"""The folder's own check (a scaffolded copy passes it unchanged): the VP model against an
independent loop-level reference of the dense maths and TFLite's FC requantization, the
generated register-programming API, and the driver call the backend emits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlonmcu_lite.peripheral import CArgs, DenseRegion, Requant, load_backend
from mlonmcu_lite.peripheral.dense import DenseJob
from mlonmcu_lite.peripheral.header import render_header
from mlonmcu_lite.peripheral.testing import RamBus, program, write_reg

HERE = Path(__file__).resolve().parent
NAME = HERE.name
RAM = 0x8000_0000


def make_backend(**overrides):
    return load_backend(NAME + "".join(f":{k}={v}" for k, v in overrides.items()),
                        search_path=[HERE.parent])


def reference(x, w, b, requant: Requant | None):
    """Loop-level reference: int32 dot products, then TFLite's single-rounding FC rescale."""
    rows, units = x.shape[0], w.shape[0]
    out = np.zeros((rows, units), np.int64)
    for m in range(rows):
        for n in range(units):
            out[m, n] = int(b[n]) + sum(int(x[m, k]) * int(w[n, k]) for k in range(x.shape[1]))
    if requant is None:
        return out.astype(np.int32)
    mult, shift = requant.per_channel(units)
    res = np.zeros_like(out)
    for n in range(units):
        total = 31 - shift[n]
        for m in range(rows):
            v = (int(out[m, n]) * mult[n] + (1 << (total - 1))) >> total
            res[m, n] = min(max(v + requant.zero_point, requant.lo), requant.hi)
    return res.astype(np.int8)


@pytest.mark.parametrize("rows, depth, units, requant", [
    (1, 37, 9, None),
    (2, 64, 16, Requant((1518500250,), (-7,), -3, -128, 127, "single")),
    (1, 640, 128, Requant((1932735283,), (-9,), 5, -128, 127, "single")),  # toycar's first FC
    (1, 8, 5, Requant((1073741824,), (-2,), 0, 0, 127, "single")),  # fused ReLU
])
def test_model_matches_reference(rows, depth, units, requant):
    backend = make_backend()
    region = DenseRegion("fc", (rows, depth), (units, depth), (rows, units), requant=requant)
    pattern, taken, why = backend.offer(region if requant is None else region,
                                        region if requant is not None else None)
    assert why is None and pattern.name == f"{NAME}.dense_bias"
    job = DenseJob.from_region(region)
    rng = np.random.default_rng(depth)
    x = rng.integers(-128, 128, (rows, depth), dtype=np.int8)
    w = rng.integers(-128, 128, (units, depth), dtype=np.int8)
    b = rng.integers(-(1 << 16), 1 << 16, units, dtype=np.int32)
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    addrs = {"INPUT_ADDR": RAM, "WEIGHT_ADDR": RAM + 0x1000, "BIAS_ADDR": RAM + 0x40000,
             "OUTPUT_ADDR": RAM + 0x41000}
    arrays = [("INPUT_ADDR", x), ("WEIGHT_ADDR", w), ("BIAS_ADDR", b.astype("<i4"))]
    if requant is not None:
        mult, shift = requant.per_channel(units)
        addrs.update(MULT_ADDR=RAM + 0x42000, SHIFT_ADDR=RAM + 0x43000)
        arrays += [("MULT_ADDR", np.asarray(mult, "<i4")), ("SHIFT_ADDR", np.asarray(shift, "<i4"))]
    for reg, arr in arrays:
        bus.mem_write(addrs[reg], arr.tobytes())
    program(device, backend.binding, job, addrs)
    write_reg(device, "CTRL", 1)
    expect = reference(x, w, b, requant)
    got = np.frombuffer(bus.mem_read(addrs["OUTPUT_ADDR"], job.output_bytes), expect.dtype)
    np.testing.assert_array_equal(got.reshape(expect.shape), expect)
    assert device.report()["macs"] == region.macs == rows * depth * units


def test_capabilities_and_fields_from_the_declaration():
    backend = make_backend()
    assert "units=5000 exceeds" in backend.offer(DenseRegion("fc", (1, 8), (5000, 8), (1, 5000)))[2]
    assert "rows=65 exceeds" in backend.offer(DenseRegion("fc", (65, 8), (4, 8), (65, 4)))[2]
    assert backend.accepts(DenseRegion("fc", (1, 8), (4, 8), (1, 4)))[1] is None


def test_fused_requant_is_a_setting():
    region = DenseRegion("fc", (1, 8), (4, 8), (1, 4))
    fused = DenseRegion("fc", (1, 8), (4, 8), (1, 4), requant=Requant((1 << 30,), (0,), 0, -128, 127, "single"))
    assert make_backend().offer(region, fused)[1].requant is not None
    assert make_backend(fused_requant=False).offer(region, fused)[1].requant is None


def test_generated_params_struct_and_program_function():
    backend = make_backend()
    header = render_header(backend.spec, backend.settings, backend.jobs)
    prefix = NAME.upper()
    assert f"}} {NAME}_fc_params_t;" in header and "    int16_t input_offset;" in header
    assert f"static inline void {NAME}_program_fc(const {NAME}_fc_params_t *p) {{" in header
    assert (f"{prefix}_DIMS = {prefix}_FIELD({prefix}_DIMS_DEPTH, p->depth) | "
            f"{prefix}_FIELD({prefix}_DIMS_UNITS, p->units);") in header


def test_emitted_call_passes_requant_tables_only_when_fused():
    backend = make_backend()
    region = DenseRegion("fc", (1, 640), (128, 640), (1, 128))
    plain = backend.emit_call(region, CArgs("in_p", "w_p", "b_p", "out_p"))
    assert plain.startswith(f"if ({NAME}_fc(&(const {NAME}_fc_params_t){{.rq_enable = 0")
    assert "in_p, w_p, b_p, out_p, 0, 0) != 0) abort();" in plain
    fused = DenseRegion("fc", (1, 640), (128, 640), (1, 128),
                        requant=Requant((1 << 30,), (-3,), 4, 0, 127, "single"))
    call = backend.emit_call(fused, CArgs("in_p", "w_p", "b_p", "out_p", "m_p", "s_p"))
    assert ".rq_enable = 1, .rq_single = 1, .rq_zero_point = 4, .rq_lo = 0, .rq_hi = 127" in call
    assert "out_p, m_p, s_p) != 0) abort();" in call
