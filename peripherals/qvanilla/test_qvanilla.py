"""The QVanilla VP model alone, against an independent numpy reference convolution.

Written against the folder's own name so that a scaffolded copy passes unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from math import ceil
from pathlib import Path

import numpy as np
import pytest

from mlonmcu_lite.peripheral import CArgs, ConvRegion, PeripheralDeviceError, load_backend
from mlonmcu_lite.peripheral.conv import ConvJob
from mlonmcu_lite.peripheral.testing import (RamBus, make_region, program, read_reg,
                                             reference_conv, write_reg)

HERE = Path(__file__).resolve().parent
NAME = HERE.name
RAM = 0x8000_0000


def make_backend(**overrides):
    text = NAME + "".join(f":{k}={v}" for k, v in overrides.items())
    return load_backend(text, search_path=[HERE.parent])


def run_job(device, bus, job: ConvJob, rng):
    x = rng.integers(-128, 128, (job.in_h, job.in_w, job.in_c), dtype=np.int8)
    w = rng.integers(-128, 128, (job.out_c, job.k_h, job.k_w, job.in_c), dtype=np.int8)
    b = rng.integers(-(1 << 20), 1 << 20, job.out_c, dtype=np.int32)
    addrs = {"INPUT_ADDR": RAM + 0x40, "WEIGHT_ADDR": RAM + 0x40 + job.input_bytes + 3}
    addrs["BIAS_ADDR"] = (addrs["WEIGHT_ADDR"] + job.weight_bytes + 7) // 4 * 4
    addrs["OUTPUT_ADDR"] = addrs["BIAS_ADDR"] + job.bias_bytes
    for reg, arr in (("INPUT_ADDR", x), ("WEIGHT_ADDR", w), ("BIAS_ADDR", b.astype("<i4"))):
        bus.mem_write(addrs[reg], arr.tobytes())
    program(device, make_backend().binding, job, addrs)
    write_reg(device, "CTRL", 1)
    raw = bus.mem_read(addrs["OUTPUT_ADDR"], job.output_bytes)
    got = np.frombuffer(raw, "<i4").reshape(job.out_h, job.out_w, job.out_c)
    return got, (x, w, b)


CASES = [  # ih, iw, ic, oc, kh, kw, stride, padding, pad_value, input_offset, weight_offset
    (8, 8, 3, 4, 3, 3, (1, 1), "same", -128, 0, 0),
    (9, 7, 5, 6, 3, 1, (1, 1), "same", 5, 0, 0),  # non-square kernel
    (10, 12, 4, 3, 1, 5, (2, 2), "same", -7, 3, -2),  # non-square, stride 2, offsets
    (11, 11, 2, 8, 3, 3, (2, 2), "valid", 0, -1, 0),
    (12, 6, 3, 5, 4, 2, (2, 1), "same", 100, 128, 1),  # asymmetric same padding, mixed stride
    (49, 10, 1, 8, 10, 4, (2, 2), "same", -3, 0, 0),  # DS-CNN's first layer shape
    (5, 5, 16, 16, 1, 1, (1, 1), "valid", 0, 0, 0),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}x{c[1]}x{c[2]}-k{c[4]}x{c[5]}-s{c[6][0]}"
                                             f"{c[6][1]}-{c[7]}" for c in CASES])
def test_model_matches_reference(case):
    ih, iw, ic, oc, kh, kw, stride, padding, pad_value, in_off, w_off = case
    region = make_region(ih, iw, ic, oc, kh, kw, stride, padding, pad_value, in_off, w_off)
    backend = make_backend(macs_per_cycle=7, setup_cycles=11)
    assert backend.accepts(region)[1] is None
    job = ConvJob.from_region(region)
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    got, (x, w, b) = run_job(device, bus, job, np.random.default_rng(sum(case[:6])))
    expect = reference_conv(x, w, b, stride, region.padding, pad_value, in_off, w_off)
    np.testing.assert_array_equal(got, expect)
    macs = job.out_h * job.out_w * oc * kh * kw * ic
    assert region.macs == macs
    report = device.report()
    assert report["jobs"] == 1 and report["macs"] == macs
    assert report["busy_cycles"] == 11 + ceil(macs / 7)
    assert report["mmio_writes"] == 4 + len(set(backend.binding.encode(job))) + 1
    assert report["mmio_reads"] == 0


def small_job():
    return ConvJob.from_region(make_region(6, 6, 2, 2, 3, 3, (1, 1), "same"))


def started(**overrides):
    backend = make_backend(**overrides)
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    job = small_job()
    run_job(device, bus, job, np.random.default_rng(0))
    return backend, device, bus, job


def test_busy_until_modelled_cycles_elapse_then_polling_observes_done():
    backend, device, bus, job = started(setup_cycles=20, macs_per_cycle=4)
    cycles = 20 + ceil(job.macs / 4)
    t0 = bus.instructions_now()  # the START store
    bus.instructions = t0 + cycles - 1
    assert read_reg(device, "STATUS") & 1  # instruction t0+cycles: still in the busy window
    assert read_reg(device, "STATUS") & 1 == 0  # t0+cycles+1: done
    report = device.report()
    assert report["busy_cycles"] == cycles and report["stall_cycles"] == 0
    assert report["wait_instructions"] == cycles + 1
    assert report["mmio_reads"] == 2


def test_blocking_wait_stalls_for_the_busy_time_not_overlapped():
    backend, device, bus, job = started(setup_cycles=5, macs_per_cycle=2, wait_mode="stall")
    cycles = 5 + ceil(job.macs / 2)
    bus.tick(9)  # nine CPU instructions overlap the job
    assert read_reg(device, "WAIT") & 1 == 0
    assert device.report()["stall_cycles"] == cycles - 9


def test_program_ending_while_busy_counts_the_rest_as_stall():
    _, device, bus, job = started(setup_cycles=0, macs_per_cycle=1)
    bus.tick(100)
    assert device.report()["stall_cycles"] == job.macs - 100


def test_start_while_busy_latches_error_and_raises():
    _, device, bus, _ = started()
    with pytest.raises(PeripheralDeviceError, match="START while busy"):
        write_reg(device, "CTRL", 1)
    status = device.regs["STATUS"]
    assert status & 2 and (status >> 8) & 0xFF == device.spec.constants["ERR_BUSY"]
    write_reg(device, "CTRL", 2)  # CLEAR
    assert device.regs["STATUS"] & 0xFF02 == 0


@pytest.mark.parametrize("change, message, code", [
    ({"out_h": 5}, "inconsistent", "ERR_CONFIG"),
    ({"stride_h": 3, "out_h": 2}, "strides", "ERR_CONFIG"),
    ({"in_c": 0}, "in_c=0", "ERR_CONFIG"),
])
def test_bad_dimensions_rejected(change, message, code):
    backend = make_backend()
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    job = ConvJob(**{**small_job().as_dict(), **change})
    addrs = {r: RAM + 0x1000 * i for i, r in enumerate(
        ("INPUT_ADDR", "WEIGHT_ADDR", "BIAS_ADDR", "OUTPUT_ADDR"), start=1)}
    program(device, backend.binding, job, addrs)
    with pytest.raises(PeripheralDeviceError, match=message):
        write_reg(device, "CTRL", 1)
    assert device.field("STATUS.ERROR") == 1
    assert device.field("STATUS.ERR_CODE") == device.spec.constants[code]
    assert device.report()["jobs"] == 0


@pytest.mark.parametrize("address, message", [(0, "not a valid buffer"),
                                              (0x1000, "unmapped access")])
def test_bad_operand_address_rejected(address, message):
    backend = make_backend()
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    addrs = {"INPUT_ADDR": address, "WEIGHT_ADDR": RAM, "BIAS_ADDR": RAM, "OUTPUT_ADDR": RAM}
    program(device, backend.binding, small_job(), addrs)
    with pytest.raises(PeripheralDeviceError, match=message):
        write_reg(device, "CTRL", 1)
    assert device.field("STATUS.ERR_CODE") == device.spec.constants["ERR_ADDRESS"]


def test_register_access_rules():
    device = make_backend().device()
    device.attach(RamBus())
    assert read_reg(device, "ID") == device.spec.register("ID").reset
    assert device.read(device.spec.register("ID").offset + 2, 2) == 0x5156  # half-word
    for access, call in (("read-only", lambda: write_reg(device, "ID", 1)),
                         ("write-only", lambda: read_reg(device, "CTRL")),
                         ("hits no register", lambda: device.read(0x800, 4))):
        with pytest.raises(PeripheralDeviceError, match=access):
            call()


def test_pattern_rejects_grouped_and_dilated_convs():
    base = make_region(8, 8, 4, 4, 3, 3, (1, 1), "same")
    backend = make_backend()
    assert backend.accepts(base)[1] is None
    for region, reason in ((replace(base, groups=2, weight_shape=(4, 3, 3, 2)), "groups=2"),
                           (replace(base, dilation=(2, 2)), "dilation")):
        pattern, why = backend.accepts(region)
        assert pattern is None and reason in why


@pytest.mark.parametrize("shape, reason", [
    ((8, 8, 4, 4, 12, 1, (1, 1), "valid"), "kernel 12x1"),
    ((9, 9, 4, 4, 3, 3, (3, 3), "valid"), "strides"),
    ((8, 8, 600, 4, 1, 1, (1, 1), "valid"), "600 channels"),
    ((300, 8, 1, 4, 1, 1, (1, 1), "valid"), "spatial size 300"),
])
def test_capabilities_from_the_declaration(shape, reason):
    pattern, why = make_backend().accepts(make_region(*shape))
    assert pattern is None and reason in why


def test_accepted_region_emits_the_driver_call():
    backend = make_backend()
    region = make_region(10, 12, 4, 3, 1, 5, (2, 2), "same", -7, 3, -2)
    pattern, why = backend.accepts(region)
    assert why is None and pattern.name == f"{NAME}.conv2d_bias"
    call = backend.emit_call(region, CArgs("in_p", "w_p", "b_p", "out_p"))
    assert call.startswith(f"if ({NAME}_conv2d(&(const {NAME}_conv2d_params_t){{")
    assert ".k_h = 1, .k_w = 5, .stride_h = 2, .stride_w = 2" in call
    assert ".pad_value = -7, .input_offset = 3, .weight_offset = -2" in call
    assert "in_p, w_p, b_p, out_p) != 0) abort();" in call
