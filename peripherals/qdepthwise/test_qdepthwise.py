"""The folder's own check (a scaffolded copy passes it unchanged): the VP model against the
framework's tap-by-tap reference conv with block-diagonal (depthwise) weights.  The full
suite is tests/peripheral/test_qdepthwise*.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mlonmcu_lite.peripheral import load_backend
from mlonmcu_lite.peripheral.depthwise import DepthwiseJob
from mlonmcu_lite.peripheral.testing import RamBus, make_region, program, reference_conv, write_reg

HERE = Path(__file__).resolve().parent
RAM = 0x8000_0000


@pytest.mark.parametrize("case", [(9, 7, 5, 3, 1, (1, 1), "same", 5, 3),
                                  (10, 12, 6, 3, 3, (2, 2), "valid", -7, -2)])
def test_model_matches_block_diagonal_reference_conv(case):
    ih, iw, c, kh, kw, stride, padding, pad_value, input_offset = case
    backend = load_backend(HERE.name, search_path=[HERE.parent])
    region = replace(make_region(ih, iw, c, c, kh, kw, stride, padding, pad_value,
                                 input_offset), groups=c, weight_shape=(c, kh, kw, 1))
    assert backend.accepts(region)[1] is None
    job = DepthwiseJob.from_region(region)
    rng = np.random.default_rng(c)
    x = rng.integers(-128, 128, (ih, iw, c), dtype=np.int8)
    w = rng.integers(-128, 128, (c, kh, kw), dtype=np.int8)
    b = rng.integers(-1000, 1000, c, dtype=np.int32)
    bus, device = RamBus(), backend.device()
    device.attach(bus)
    addrs = {"INPUT_ADDR": RAM, "WEIGHT_ADDR": RAM + 0x1000, "BIAS_ADDR": RAM + 0x2000,
             "OUTPUT_ADDR": RAM + 0x3000}
    for reg, arr in (("INPUT_ADDR", x), ("WEIGHT_ADDR", w), ("BIAS_ADDR", b.astype("<i4"))):
        bus.mem_write(addrs[reg], arr.tobytes())
    program(device, backend.binding, job, addrs)
    write_reg(device, "CTRL", 1)
    got = np.frombuffer(bus.mem_read(addrs["OUTPUT_ADDR"], job.output_bytes), "<i4")
    dense = np.zeros((c, kh, kw, c), np.int8)
    for ch in range(c):
        dense[ch, :, :, ch] = w[ch]
    expect = reference_conv(x, dense, b, stride, region.padding, pad_value, input_offset, 0)
    np.testing.assert_array_equal(got.reshape(expect.shape), expect)
    assert device.report()["macs"] == job.macs == region.macs
