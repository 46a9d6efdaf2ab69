"""The QDepthwise VP model alone, against an independent numpy reference depthwise conv;
its capability check, driver call and error latching."""

from __future__ import annotations

from dataclasses import replace
from math import ceil

import numpy as np
import pytest

from mlonmcu_lite.peripheral import CArgs, PeripheralDeviceError, load_backend
from mlonmcu_lite.peripheral.depthwise import DepthwiseJob
from mlonmcu_lite.peripheral.testing import RamBus, make_region, program, read_reg, write_reg

RAM = 0x8000_0000


def dw_region(ih, iw, c, kh, kw, stride, padding, pad_value=0, input_offset=0, weight_offset=0):
    """A depthwise ConvRegion as the compiler builds it: groups = C, weights C,KH,KW,1."""
    region = make_region(ih, iw, c, c, kh, kw, stride, padding, pad_value, input_offset,
                         weight_offset)
    return replace(region, groups=c, weight_shape=(c, kh, kw, 1))


def reference_depthwise(x, w, b, stride, pads, pad_value, input_offset, weight_offset):
    """Per channel, per tap accumulation in int64 (not the model's sliding-window einsum)."""
    (ih, iw, c), (_, kh, kw) = x.shape, w.shape
    top, left, bottom, right = pads
    xp = np.full((ih + top + bottom, iw + left + right, c), pad_value, np.int64)
    xp[top:top + ih, left:left + iw] = x
    oh = (xp.shape[0] - kh) // stride[0] + 1
    ow = (xp.shape[1] - kw) // stride[1] + 1
    out = np.zeros((oh, ow, c), np.int64)
    for ch in range(c):
        out[:, :, ch] = b[ch]
        for dy in range(kh):
            for dx in range(kw):
                patch = xp[dy:dy + stride[0] * oh:stride[0], dx:dx + stride[1] * ow:stride[1], ch]
                out[:, :, ch] += (patch + input_offset) * (int(w[ch, dy, dx]) + weight_offset)
    return out.astype(np.int32)


def operands(job: DepthwiseJob, rng):
    x = rng.integers(-128, 128, (job.in_h, job.in_w, job.in_c), dtype=np.int8)
    w = rng.integers(-128, 128, (job.out_c, job.k_h, job.k_w), dtype=np.int8)
    b = rng.integers(-(1 << 20), 1 << 20, job.out_c, dtype=np.int32)
    return x, w, b


def run_job(backend, device, bus, job: DepthwiseJob, x, w, b) -> np.ndarray:
    """Place operands at odd offsets, program through MMIO, start, read the output back."""
    addrs = {"INPUT_ADDR": RAM + 0x41, "WEIGHT_ADDR": RAM + 0x41 + job.input_bytes + 3}
    addrs["BIAS_ADDR"] = (addrs["WEIGHT_ADDR"] + job.weight_bytes + 7) // 4 * 4
    addrs["OUTPUT_ADDR"] = addrs["BIAS_ADDR"] + job.bias_bytes
    for reg, arr in (("INPUT_ADDR", x), ("WEIGHT_ADDR", w), ("BIAS_ADDR", b.astype("<i4"))):
        bus.mem_write(addrs[reg], arr.tobytes())
    program(device, backend.binding, job, addrs)
    write_reg(device, "CTRL", 1)
    raw = bus.mem_read(addrs["OUTPUT_ADDR"], job.output_bytes)
    return np.frombuffer(raw, "<i4").reshape(job.out_h, job.out_w, job.out_c)


def attached(text: str):
    backend = load_backend(text)
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    return backend, device, bus


CASES = [  # ih, iw, c, kh, kw, stride, padding, pad_value, input_offset, weight_offset
    (8, 8, 3, 3, 3, (1, 1), "same", -128, 0, 0),
    (9, 7, 5, 3, 1, (1, 1), "same", 5, 0, 0),  # non-square kernel
    (10, 12, 4, 1, 5, (2, 2), "same", -7, 3, -2),  # non-square, stride 2, offsets
    (11, 11, 20, 3, 3, (2, 2), "valid", 9, -1, 4),  # more channels than lanes
    (12, 6, 3, 4, 2, (2, 1), "same", 100, 128, 1),  # asymmetric same padding, mixed stride
    (25, 5, 64, 3, 3, (1, 1), "same", -3, 0, 0),  # DS-CNN's depthwise layers
    (5, 5, 16, 1, 1, (1, 1), "valid", 0, 0, 0),
]
IDS = [f"{c[0]}x{c[1]}x{c[2]}-k{c[3]}x{c[4]}-s{c[5][0]}{c[5][1]}-{c[6]}" for c in CASES]


def expected_cycles(job: DepthwiseJob, model: str) -> int:
    """Both cost models written out for settings setup=11, 8 multipliers in 4 lanes
    (2 taps per lane per cycle), 3 bytes/cycle, double buffering."""
    if model == "simple":
        return 11 + ceil(job.macs / 8)
    compute = job.out_h * job.out_w * ceil(job.in_c / 4) * ceil(job.k_h * job.k_w / 2)
    load = ceil((job.in_h * job.in_w * job.in_c + job.in_c * job.k_h * job.k_w + 4 * job.in_c) / 3)
    store = ceil(4 * job.out_h * job.out_w * job.out_c / 3)
    return 11 + max(compute, load, store)


@pytest.mark.parametrize("model", ["simple", "detailed"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_model_matches_reference(case, model):
    ih, iw, c, kh, kw, stride, padding, pad_value, in_off, w_off = case
    region = dw_region(*case)
    backend, device, bus = attached(
        f"qdepthwise:cost_model={model}:setup_cycles=11:macs_per_cycle=8:pe_lanes=4"
        ":dma_bytes_per_cycle=3")
    assert backend.accepts(region)[1] is None
    job = DepthwiseJob.from_region(region)
    x, w, b = operands(job, np.random.default_rng(sum(case[:5])))
    got = run_job(backend, device, bus, job, x, w, b)
    np.testing.assert_array_equal(
        got, reference_depthwise(x, w, b, stride, region.padding, pad_value, in_off, w_off))
    macs = job.out_h * job.out_w * c * kh * kw
    assert region.macs == job.macs == macs
    report = device.report()
    cycles = expected_cycles(job, model)
    assert report["jobs"] == 1 and report["macs"] == macs
    assert report["busy_cycles"] == cycles == report["layers"][0]["cycles"]
    assert report["layers"][0]["macs"] == macs and report["cost_model"] == model
    assert report["mmio_writes"] == 4 + len(set(backend.binding.encode(job))) + 1


def test_int32_accumulator_wraps_like_the_hardware():
    """Offsets that push |sum| past 2**31 wrap around (the compiler never produces this,
    but the model must not silently widen)."""
    region = dw_region(4, 4, 2, 11, 11, (1, 1), "same", 127, 32767, 32767)
    backend, device, bus = attached("qdepthwise")
    job = DepthwiseJob.from_region(region)
    x = np.full((4, 4, 2), 127, np.int8)
    w = np.full((2, 11, 11), 127, np.int8)
    b = np.zeros(2, np.int32)
    got = run_job(backend, device, bus, job, x, w, b)
    exact = reference_depthwise(x, w, b, (1, 1), region.padding, 127, 32767, 32767)
    full = np.int64(121) * (127 + 32767) * (127 + 32767)  # > 2**31: wraps
    wrapped = (full + 2**31) % 2**32 - 2**31
    assert full > 2**31 and got[0, 0, 0] == wrapped == exact[0, 0, 0] != full


def test_capabilities_accept_depthwise_only_with_reasons():
    backend = load_backend("qdepthwise")
    base = dw_region(8, 8, 4, 3, 3, (1, 1), "same")
    pattern, why = backend.accepts(base)
    assert why is None and pattern.name == "qdepthwise.depthwise_conv2d"
    rejects = [
        (make_region(8, 8, 4, 4, 3, 3, (1, 1), "same"), "groups=1 != in_channels=4"),
        (replace(make_region(8, 8, 4, 8, 3, 3, (1, 1), "same"), groups=4,
                 weight_shape=(8, 3, 3, 1)), "channel multiplier 2 unsupported"),
        (replace(make_region(8, 8, 4, 4, 3, 3, (1, 1), "same"), groups=2,
                 weight_shape=(4, 3, 3, 2)), "groups=2 != in_channels=4"),
        (replace(base, dilation=(2, 2)), "dilation"),
        (replace(base, input_shape=(2, 8, 8, 4)), "batch=2"),
        (dw_region(8, 8, 4, 12, 1, (1, 1), "valid"), "kernel 12x1"),
        (dw_region(9, 9, 4, 3, 3, (3, 3), "valid"), "strides"),
        (dw_region(4, 4, 1100, 1, 1, (1, 1), "valid"), "1100 channels"),
        (dw_region(300, 8, 1, 1, 1, (1, 1), "valid"), "spatial size 300"),
        (replace(base, output_shape=(1, 7, 8, 4)), "inconsistent"),
    ]
    for region, reason in rejects:
        pattern, why = backend.accepts(region)
        assert pattern is None and reason in why, (region, why)


def test_qvanilla_and_qdepthwise_split_the_work():
    """First that accepts wins: dense convs go to QVanilla, depthwise ones to QDepthwise."""
    qv, qd = load_backend("qvanilla"), load_backend("qdepthwise")
    dense, depthwise = make_region(8, 8, 4, 4, 3, 3, (1, 1), "same"), dw_region(
        8, 8, 4, 3, 3, (1, 1), "same")
    assert qv.accepts(dense)[1] is None and qd.accepts(dense)[0] is None
    assert qv.accepts(depthwise)[0] is None and qd.accepts(depthwise)[1] is None
    assert qv.spec.base != qd.spec.base


def test_accepted_region_emits_the_driver_call():
    backend = load_backend("qdepthwise")
    call = backend.emit_call(dw_region(10, 12, 4, 1, 5, (2, 2), "same", -7, 3, -2),
                             CArgs("in_p", "w_p", "b_p", "out_p"))
    assert call.startswith("if (qdepthwise_dwconv2d(&(const qdepthwise_dwconv2d_params_t){")
    assert ".in_c = 4, .out_h = 5, .out_w = 6, .out_c = 4, .k_h = 1, .k_w = 5" in call
    assert ".pad_value = -7, .input_offset = 3, .weight_offset = -2" in call
    assert call.endswith("in_p, w_p, b_p, out_p) != 0) abort();")


def test_one_channels_field_holds_in_and_out_channels():
    backend = load_backend("qdepthwise")
    job = DepthwiseJob.from_region(dw_region(6, 6, 7, 3, 3, (1, 1), "same"))
    regs = backend.binding.encode(job)
    assert regs["CHANNELS"] == 7 and "CHANNELS" in backend.spec._by_name
    device = backend.device()
    device.regs.update(regs)
    assert backend.binding.decode(lambda reg: device.regs[reg]).as_dict() == job.as_dict()


@pytest.mark.parametrize("change, message", [
    ({"out_h": 5}, "inconsistent"),
    ({"stride_h": 3, "out_h": 2}, "strides"),
    ({"in_c": 0, "out_c": 0}, "in_c=0"),
])
def test_bad_programming_latches_error(change, message):
    backend, device, bus = attached("qdepthwise")
    job = replace(DepthwiseJob.from_region(dw_region(6, 6, 2, 3, 3, (1, 1), "same")), **change)
    addrs = {r: RAM + 0x1000 * i for i, r in enumerate(
        ("INPUT_ADDR", "WEIGHT_ADDR", "BIAS_ADDR", "OUTPUT_ADDR"), start=1)}
    program(device, backend.binding, job, addrs)
    with pytest.raises(PeripheralDeviceError, match=message):
        write_reg(device, "CTRL", 1)
    assert device.field("STATUS.ERR_CODE") == device.spec.constants["ERR_CONFIG"]
    report = device.report()
    assert report["jobs"] == 0 and report["layers"] == []


def test_start_while_busy_and_blocking_wait():
    backend, device, bus = attached("qdepthwise:setup_cycles=5:macs_per_cycle=2:pe_lanes=2")
    job = DepthwiseJob.from_region(dw_region(6, 6, 2, 3, 3, (1, 1), "same"))
    run_job(backend, device, bus, job, *operands(job, np.random.default_rng(1)))
    cycles = 5 + ceil(job.macs / 2)
    with pytest.raises(PeripheralDeviceError, match="START while busy"):
        write_reg(device, "CTRL", 1)
    assert device.field("STATUS.ERR_CODE") == device.spec.constants["ERR_BUSY"]
    write_reg(device, "CTRL", 2)  # CLEAR
    assert read_reg(device, "WAIT") & 1 == 0
    # busy through START+cycles; the WAIT (START+3, after the rejected START and CLEAR)
    # stalls until START+cycles+1
    assert device.report()["stall_cycles"] == cycles + 1 - 3


def test_register_header_has_the_declared_map(tmp_path):
    backend = load_backend("qdepthwise:wait_mode=poll")
    gen = backend.include_dirs(tmp_path)[0]
    text = (gen / "qdepthwise_regs.h").read_text()
    assert "#define QDEPTHWISE_BASE" in text and "0x4000F000u" in text
    assert "QDEPTHWISE_CHANNELS_COUNT_MASK" in text and "QDEPTHWISE_CFG_WAIT_MODE_POLL" in text
    assert "CFG_COST_MODEL" not in text  # the cost model lives in the VP, not the firmware
