"""QVanilla end to end: a C firmware calls the driver on the VP; outputs checked against numpy.

The firmware embeds operands and numpy-computed expected outputs, runs every conv
through the generated driver call (`emit_call`), and exits with the number of
mismatching int32 outputs.  Busy polling is observed in the device's counters.
"""

from __future__ import annotations

from math import ceil

import numpy as np
import pytest

from mlonmcu_lite.peripheral import CArgs, load_backend
from mlonmcu_lite.peripheral.conv import ConvJob
from mlonmcu_lite.peripheral.testing import make_region, reference_conv

CASES = [  # ih, iw, ic, oc, kh, kw, stride, padding, pad_value, input_offset, weight_offset
    (8, 8, 3, 4, 3, 3, (1, 1), "same", -128, 0, 0),
    (9, 7, 5, 6, 3, 1, (2, 2), "same", 7, 0, 0),
    (10, 12, 4, 3, 1, 5, (2, 1), "valid", 0, 3, -2),
]


def c_array(ctype: str, name: str, values: np.ndarray, const: bool) -> str:
    body = ", ".join(str(int(v)) for v in values.ravel())
    return f"static {'const ' if const else ''}{ctype} {name}[{values.size}] = {{{body}}};\n"


def firmware_source(backend, rng) -> tuple[str, int]:
    """C text of the test program and the total MACs it offloads."""
    decls, body, macs = [], [], 0
    for i, case in enumerate(CASES):
        region = make_region(*case)
        assert backend.accepts(region)[1] is None
        job = ConvJob.from_region(region)
        x = rng.integers(-128, 128, (job.in_h, job.in_w, job.in_c), dtype=np.int8)
        w = rng.integers(-128, 128, (job.out_c, job.k_h, job.k_w, job.in_c), dtype=np.int8)
        b = rng.integers(-(1 << 20), 1 << 20, job.out_c, dtype=np.int32)
        expect = reference_conv(x, w, b, region.strides, region.padding, *case[8:])
        decls += [c_array("int8_t", f"x{i}", x, const=False),  # RAM (.data)
                  c_array("int8_t", f"w{i}", w, const=True),   # ROM
                  c_array("int32_t", f"b{i}", b, const=True),
                  c_array("int32_t", f"e{i}", expect, const=True),
                  f"static int32_t y{i}[{expect.size}];\n"]
        body += [f"    {backend.emit_call(region, CArgs(f'x{i}', f'w{i}', f'b{i}', f'y{i}'))}\n",
                 f"    for (int k = 0; k < {expect.size}; ++k) bad += y{i}[k] != e{i}[k];\n"]
        macs += job.macs
    includes = "".join(f'#include "{h}"\n' for h in ["mlml_platform.h", *backend.c_includes()])
    main = ("int main(void) {\n    int bad = 0;\n    if (!qvanilla_probe()) return 100;\n"
            + "".join(body) + '    printf("mismatches %d\\n", bad);\n    return bad;\n}\n')
    return includes + "".join(decls) + main, macs


@pytest.fixture(scope="module", params=["poll", "stall"])
def built(request, tmp_path_factory):
    from mlonmcu_lite.firmware.toolchain import build_firmware

    backend = load_backend(f"qvanilla:macs_per_cycle=8:setup_cycles=40:wait_mode={request.param}")
    out = tmp_path_factory.mktemp(f"fw_{request.param}")
    text, macs = firmware_source(backend, np.random.default_rng(5))
    (out / "qv_test.c").write_text(text)
    fw = build_firmware([out / "qv_test.c", *backend.c_sources()], out,
                        include_dirs=backend.include_dirs(out), werror=True, name="qv_test")
    return backend, fw, macs


def test_firmware_builds_with_driver(built):
    backend, fw, _ = built
    assert fw.elf.is_file() and fw.rom_bytes > 0


def test_driver_on_the_vp_matches_numpy_and_polls(built):
    from mlonmcu_lite.vp import VirtualPlatform

    backend, fw, macs = built
    device = backend.device()
    result = VirtualPlatform(fw.elf, devices=[device]).run()
    assert result.console.strip() == "mismatches 0" and result.exit_code == 0
    report = result.devices[backend.name]
    cycles = sum(40 + ceil(ConvJob.from_region(make_region(*c)).macs / 8) for c in CASES)
    assert report["jobs"] == len(CASES) and report["macs"] == macs
    assert report["busy_cycles"] == cycles
    field_regs = {path.split(".")[0] for path in backend.binding.fields.values()}
    regs_per_job = 4 + len(field_regs) + 1  # 4 addresses, the job's fields, CTRL
    assert report["mmio_writes"] == len(CASES) * regs_per_job
    if backend.settings.wait_mode == "poll":
        # each job's busy window is covered by polling instructions, ~3 per STATUS read
        assert report["stall_cycles"] == 0
        assert cycles < report["wait_instructions"] <= cycles + 8 * len(CASES)
        assert report["mmio_reads"] > cycles // 4  # 1 probe + the polls
    else:
        assert report["mmio_reads"] == 1 + len(CASES)  # probe + one WAIT per job
        assert 0 < report["stall_cycles"] <= cycles


def test_bad_programming_fails_the_run_loudly(tmp_path):
    from mlonmcu_lite.firmware.toolchain import build_firmware
    from mlonmcu_lite.vp import VirtualPlatform
    from mlonmcu_lite.vp.faults import DeviceFault

    backend = load_backend("qvanilla")
    src = tmp_path / "bad.c"
    call = backend.emit_call(make_region(*CASES[0]),
                             CArgs("(const int8_t *)0x20000000u", "w", "b", "y"))  # unmapped input
    src.write_text('#include "qvanilla.h"\nstatic const int8_t w[108];\nstatic const int32_t b[4];\n'
                   f"static int32_t y[256];\nint main(void) {{\n    {call}\n    return 0;\n}}\n")
    fw = build_firmware([src, *backend.c_sources()], tmp_path,
                        include_dirs=backend.include_dirs(tmp_path), name="bad")
    device = backend.device()
    with pytest.raises(DeviceFault, match="reading 192 bytes at INPUT_ADDR=0x20000000") as info:
        VirtualPlatform(fw.elf, devices=[device]).run()
    # the model's line that asked for the buffer, the job and the PC of the START store
    assert "qvanilla/model.py" in info.value.origin and "execute" in info.value.origin
    assert info.value.job == 1 and info.value.function.startswith("qvanilla_conv2d")
    assert device.field("STATUS.ERR_CODE") == backend.spec.constants["ERR_ADDRESS"]
