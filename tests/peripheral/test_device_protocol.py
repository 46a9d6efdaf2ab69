"""A device model that breaks the accelerator protocol fails the run, naming device, job and PC.

Real firmware (the QVanilla driver) on the VP with deliberately broken models:
a WAIT that answers before the job is done (issue 15 item 7), a job still running
when the program exits (item 7), a STATUS that stays BUSY forever under a polling
driver (item 8), and a model that raises (item 9).  Each must end in a `DeviceFault`
naming the device, the job, the PC and function of the access, within seconds.
"""

from __future__ import annotations

import time

import pytest

from mlonmcu_lite.peripheral import CArgs, load_backend
from mlonmcu_lite.peripheral.conv import ConvJob
from mlonmcu_lite.peripheral.testing import make_region
from mlonmcu_lite.vp import SimConfig, VirtualPlatform
from mlonmcu_lite.vp.faults import DeviceFault

CASE = (8, 8, 3, 4, 3, 3, (1, 1), "same", -128, 0, 0)
CONFIG = SimConfig(timeout_s=30)  # a hang must be caught long before this


def _build(backend, out, body: str, name: str):
    from mlonmcu_lite.firmware.toolchain import build_firmware

    out.mkdir(parents=True, exist_ok=True)
    src = out / f"{name}.c"
    src.write_text('#include "mlml_platform.h"\n#include "qvanilla.h"\n#include "qvanilla_regs.h"\n'
                   "static int8_t x[192];\nstatic int8_t w[108];\nstatic int32_t b[4];\n"
                   f"static int32_t y[256];\nint main(void) {{\n{body}\n    return 0;\n}}\n")
    return build_firmware([src, *backend.c_sources()], out, include_dirs=backend.include_dirs(out),
                          name=name).elf


@pytest.fixture(scope="module")
def firmware(out_root):
    """ELFs: one conv via the driver in stall and poll mode; a START with no wait at all."""
    elfs = {}
    for mode in ("stall", "poll"):
        backend = load_backend(f"qvanilla:wait_mode={mode}")
        call = backend.emit_call(make_region(*CASE), CArgs("x", "w", "b", "y"))
        elfs[mode] = _build(backend, out_root / mode, f"    {call}", f"conv_{mode}")
    backend = load_backend("qvanilla")
    elfs["no_wait"] = _build(backend, out_root / "no_wait",
                             "    QVANILLA_CTRL = QVANILLA_CTRL_START_MASK;", "no_wait")
    return elfs


def _device(kind: str, **settings):
    backend = load_backend("qvanilla" + "".join(f":{k}={v}" for k, v in settings.items()))
    base = backend.device_class

    class Broken(base):
        def __init__(self, s):
            super().__init__(s)
            if kind == "early_wait":  # WAIT answers at once, job never completes
                self.read_hooks["WAIT"] = lambda: self._status_value(True)
            elif kind == "hung":  # STATUS stays BUSY whatever the modelled time says
                self.read_hooks["STATUS"] = lambda: self._status_value(True)

        def execute(self):
            if kind == "raises":
                return 1 // 0  # a bug in the model's maths
            if kind == "lazy":  # a long job (150M MACs) nobody waits for; registers unprogrammed
                return ConvJob(64, 64, 64, 64, 64, 64, 3, 3, pad_top=1, pad_left=1, pad_bottom=1, pad_right=1)
            job = super().execute()
            if kind == "off_by_one":  # a wrong int32 accumulator: one output value off by one
                out = self.bus.mem_read(self.regs["OUTPUT_ADDR"], 4)
                value = int.from_bytes(out, "little", signed=True) + 1
                self.bus.mem_write(self.regs["OUTPUT_ADDR"], value.to_bytes(4, "little", signed=True))
            return job

    return Broken(backend.settings)


def test_wait_answered_before_the_job_is_done_fails_naming_device_job_pc(firmware):
    with pytest.raises(DeviceFault) as info:
        VirtualPlatform(firmware["stall"], devices=[_device("early_wait")], config=CONFIG).run()
    fault = info.value
    assert fault.device == "qvanilla" and fault.job == 1
    assert fault.pc is not None and fault.function.startswith("qvanilla_conv2d")
    assert "job 1 not finished" in str(fault) and f"pc=0x{fault.pc:08x}" in str(fault)


def test_device_still_busy_at_exit_fails_the_run(firmware):
    with pytest.raises(DeviceFault, match=r"job 1 still busy at exit") as info:
        VirtualPlatform(firmware["no_wait"], devices=[_device("lazy")], config=CONFIG).run()
    assert info.value.device == "qvanilla" and info.value.pc is not None


def test_polling_a_hung_device_fails_within_seconds(firmware):
    start = time.perf_counter()
    with pytest.raises(DeviceFault, match="no progress") as info:
        VirtualPlatform(firmware["poll"], devices=[_device("hung", wait_mode="poll")], config=CONFIG).run()
    assert time.perf_counter() - start < 10
    assert info.value.function.startswith("qvanilla_conv2d") and info.value.job == 1


def test_exception_in_a_model_names_pc_function_job_and_model_line(firmware):
    with pytest.raises(DeviceFault) as info:
        VirtualPlatform(firmware["stall"], devices=[_device("raises")], config=CONFIG).run()
    fault = info.value
    text = str(fault)
    assert "ZeroDivisionError" in text and "job 1" in text
    assert fault.function.startswith("qvanilla_conv2d") and f"pc=0x{fault.pc:08x}" in text
    assert f"{__file__.rsplit('/', 1)[-1]}:" in fault.origin and "execute" in fault.origin
    assert isinstance(fault.__cause__, ZeroDivisionError)


def test_well_behaved_model_still_passes_in_both_modes(firmware):
    for mode in ("stall", "poll"):
        backend = load_backend(f"qvanilla:wait_mode={mode}")
        result = VirtualPlatform(firmware[mode], devices=[backend.device()], config=CONFIG).run()
        assert result.exit_code == 0 and result.devices["qvanilla"]["jobs"] == 1


def test_check_peripherals_catches_a_wrong_raw_result(firmware):
    """Item 17: end to end such an error can hide behind requantization; the opt-in
    check compares each job's raw result with the peripheral's reference computation."""
    result = VirtualPlatform(firmware["stall"], devices=[_device("off_by_one")], config=CONFIG).run()
    assert result.exit_code == 0  # unchecked, the wrong accumulator goes unnoticed here
    device = _device("off_by_one")
    device.check_results = True
    with pytest.raises(DeviceFault, match=r"job 1: raw result at OUTPUT_ADDR differs from the "
                                          r"reference computation in 1 of 256 values \(first at \(0, 0, 0\)"):
        VirtualPlatform(firmware["stall"], devices=[device], config=CONFIG).run()
    good = load_backend("qvanilla").device()
    good.check_results = True
    assert VirtualPlatform(firmware["stall"], devices=[good], config=CONFIG).run().devices["qvanilla"][
        "checked_jobs"] == 1
