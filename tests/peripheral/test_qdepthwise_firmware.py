"""QDepthwise end to end on the VP: a C firmware calls the driver; outputs checked against numpy.

The firmware embeds operands and numpy-computed expected outputs, runs every depthwise
conv through the generated driver call (`emit_call`) and exits with the number of
mismatching int32 outputs.  Busy time, polling/stalling and the per-layer cost records
are checked against the settings.
"""

from __future__ import annotations

from math import ceil

import numpy as np
import pytest

from mlonmcu_lite.peripheral import CArgs, load_backend
from mlonmcu_lite.peripheral.depthwise import DepthwiseJob

from tests.peripheral.test_peripheral_firmware import c_array
from tests.peripheral.test_qdepthwise import dw_region, operands, reference_depthwise

CASES = [  # ih, iw, c, kh, kw, stride, padding, pad_value, input_offset, weight_offset
    (8, 8, 3, 3, 3, (1, 1), "same", -128, 0, 0),
    (9, 7, 5, 3, 1, (2, 2), "same", 7, 0, 0),
    (10, 12, 20, 1, 5, (2, 1), "valid", 0, 3, -2),
    (13, 6, 8, 4, 2, (1, 2), "same", 100, 0, 0),
]


def firmware_source(backend, rng) -> str:
    decls, body = [], []
    for i, case in enumerate(CASES):
        region = dw_region(*case)
        assert backend.accepts(region)[1] is None
        job = DepthwiseJob.from_region(region)
        x, w, b = operands(job, rng)
        expect = reference_depthwise(x, w, b, region.strides, region.padding, *case[7:])
        decls += [c_array("int8_t", f"x{i}", x, const=False),  # RAM (.data)
                  c_array("int8_t", f"w{i}", w, const=True),  # ROM
                  c_array("int32_t", f"b{i}", b, const=True),
                  c_array("int32_t", f"e{i}", expect, const=True),
                  f"static int32_t y{i}[{expect.size}];\n"]
        body += [f"    {backend.emit_call(region, CArgs(f'x{i}', f'w{i}', f'b{i}', f'y{i}'))}\n",
                 f"    for (int k = 0; k < {expect.size}; ++k) bad += y{i}[k] != e{i}[k];\n"]
    includes = "".join(f'#include "{h}"\n' for h in ["mlml_platform.h", *backend.c_includes()])
    # the driver refuses a channel multiplier != 1 before touching the device
    multiplier = ("    if (qdepthwise_dwconv2d(&(const qdepthwise_dwconv2d_params_t){.in_c = 2, "
                  ".out_c = 4}, x0, w0, b0, y0) != QDEPTHWISE_ERR_MULTIPLIER) return 101;\n")
    main = ("int main(void) {\n    int bad = 0;\n    if (!qdepthwise_probe()) return 100;\n"
            + multiplier + "".join(body) + '    printf("mismatches %d\\n", bad);\n'
            "    return bad;\n}\n")
    return includes + "".join(decls) + main


def build(text: str, out):
    from mlonmcu_lite.firmware.toolchain import build_firmware

    backend = load_backend(text)
    (out / "qd_test.c").write_text(firmware_source(backend, np.random.default_rng(7)))
    return backend, build_firmware([out / "qd_test.c", *backend.c_sources()], out,
                                   include_dirs=backend.include_dirs(out), werror=True,
                                   name="qd_test")


@pytest.fixture(scope="module", params=["poll", "stall"])
def built(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"qd_{request.param}")
    return build(f"qdepthwise:macs_per_cycle=4:pe_lanes=2:setup_cycles=40"
                 f":wait_mode={request.param}", out)


def run(backend, firmware, **overrides):
    from mlonmcu_lite.vp import VirtualPlatform

    settings = type(backend.settings)(**{**backend.settings.model_dump(), **overrides})
    device = backend.device_class(settings)
    result = VirtualPlatform(firmware.elf, devices=[device]).run()
    assert result.console.strip() == "mismatches 0" and result.exit_code == 0, result.console
    return result.devices[backend.name]


def test_driver_on_the_vp_matches_numpy_simple_cost(built):
    backend, fw = built
    report = run(backend, fw)
    jobs = [DepthwiseJob.from_region(dw_region(*c)) for c in CASES]
    cycles = sum(40 + ceil(j.macs / 4) for j in jobs)
    assert report["jobs"] == len(CASES) and report["macs"] == sum(j.macs for j in jobs)
    assert report["busy_cycles"] == cycles == sum(layer["cycles"] for layer in report["layers"])
    regs_per_job = 4 + len(set(backend.binding.encode(jobs[0]))) + 1  # addresses, fields, CTRL
    assert report["mmio_writes"] == len(CASES) * regs_per_job
    if backend.settings.wait_mode == "poll":
        assert report["stall_cycles"] == 0
        assert cycles < report["wait_instructions"] <= cycles + 8 * len(CASES)
    else:
        assert report["mmio_reads"] == 1 + len(CASES)  # probe + one WAIT per job
        assert 0 < report["stall_cycles"] <= cycles


def test_same_firmware_under_the_detailed_cost_model(built):
    """The cost model is a VP setting: the same ELF, busy time from lanes, DMA and overlap."""
    backend, fw = built
    report = run(backend, fw, cost_model="detailed", dma_bytes_per_cycle=2,
                 double_buffering=False)
    expect = []
    for case in CASES:
        j = DepthwiseJob.from_region(dw_region(*case))
        compute = j.out_h * j.out_w * ceil(j.in_c / 2) * ceil(j.k_h * j.k_w / 2)
        load = ceil((j.input_bytes + j.weight_bytes + j.bias_bytes) / 2)
        expect.append(40 + load + compute + ceil(j.output_bytes / 2))
    assert [layer["cycles"] for layer in report["layers"]] == expect
    assert report["busy_cycles"] == sum(expect) and report["cost_model"] == "detailed"
    assert 0 < report["utilisation"] < 1  # 3, 5 channels on 2 lanes; 9, 3, 5 taps on 2
    assert report["dma_bytes"] == sum(layer["dma_bytes"] for layer in report["layers"])
