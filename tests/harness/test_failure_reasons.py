"""A failing row's reason says where: the layer a VP fault happened in, the output a mismatch
is in, with the count of differing values, the max |diff| and the first differing index."""

from __future__ import annotations

import numpy as np

from mlonmcu_lite.harness.fault_layer import layer_of
from mlonmcu_lite.harness.mismatch import exact_mismatch, output_label
from mlonmcu_lite.vp import SimFault, VirtualPlatform

from tests.helpers.e2e import run_one


def test_illegal_instruction_in_a_kernel_names_pc_function_and_layer(tmp_path, monkeypatch):
    """The real VP executes a zeroed (illegal) first instruction of the model's kernel."""
    original = VirtualPlatform.run

    def broken_kernel(self):
        kernel = next(name for name, sym in self.image.symbols.items()  # fc's one layer: a kernel of its own
                      if name.startswith(("mlml_k00_", "mlml_cpu_fc_")) and sym.kind == "func")
        self.write_symbol(kernel, b"\0\0\0\0")
        try:
            return original(self)
        except SimFault as fault:
            callers.append(fault.caller)
            raise

    callers: list = []

    monkeypatch.setattr(VirtualPlatform, "run", broken_kernel)
    row = run_one("fc", tmp_path)
    assert row["failing"]
    reason = row["reason"]
    assert reason.startswith("IllegalInstruction: ") and reason.endswith("@ run"), reason
    assert " at pc=0x" in reason and (" in mlml_k00_" in reason or " in mlml_cpu_fc_" in reason)
    assert "illegal instruction word 0x00000000" in reason and "[fc__cpu__rv32imc]" in reason
    assert reason.endswith("; in layer step 0 (FULLY_CONNECTED, TFLite operator #0) @ run")
    assert callers and callers[0] and not callers[0].startswith("mlml_cpu_fc_")  # ra: the AOT code that called it


def test_layer_of_matches_kernel_and_its_offsets_only():
    steps = [{"func": "mlml_k00_conv", "ops": [0], "op_names": ["CONV_2D"]},
             {"func": "mlml_k01_pool", "ops": [1, 2], "op_names": ["AVERAGE_POOL_2D", "RESHAPE"]}]
    assert layer_of(steps, "mlml_k01_pool+0x1c") == "step 1 (AVERAGE_POOL_2D+RESHAPE, TFLite operators #1, #2)"
    assert layer_of(steps, "mlml_k00_conv") == "step 0 (CONV_2D, TFLite operator #0)"
    assert layer_of(steps, "main+0x4") is None and layer_of(steps, None) is None
    assert layer_of(steps, "mlml_k00_convx") is None


def test_exact_mismatch_names_output_count_max_diff_and_first_index():
    want = np.zeros((1, 2, 3), np.int8)
    got = want.copy()
    got[0, 1, 0], got[0, 1, 2] = 3, -1
    assert exact_mismatch(0, output_label(0, "Identity"), want, want) is None
    assert exact_mismatch(2, output_label(0, "Identity"), got, want) == (
        "sample 2 output 0 'Identity': 2 of 6 values differ, max |diff| 3, first at [0, 1, 0] (got 3, want 0)")


def test_a_tvm_error_in_a_reason_is_its_failed_check_not_the_backtrace():
    import tvm

    from mlonmcu_lite.harness.runner import first_line

    err = tvm.error.InternalError("Traceback (most recent call last):\n  3: tvm::codegen::Build\n"
                                  "        at /project/src/target/codegen.cc:72\n"
                                  "InternalError: Check failed: (bits == 32) is false: unsupported width")
    assert first_line(err) == "Check failed: (bits == 32) is false: unsupported width"
    assert first_line(KeyError("plan")) == "'plan'"


def test_a_defect_in_the_run_stage_says_where_it_was_raised(tmp_path, monkeypatch):
    def broken(self):
        return {}["cycles"]

    monkeypatch.setattr(VirtualPlatform, "run", broken)
    reason = run_one("fc", tmp_path)["reason"]
    assert reason.startswith("KeyError: 'cycles' (raised at test_failure_reasons.py:")
    assert reason.endswith(" in broken) [model fc] @ run")


def test_a_fault_in_a_helper_names_the_layer_that_called_it():
    from mlonmcu_lite.harness.fault_layer import called_from

    steps = [{"func": "mlml_k00_conv", "ops": [0], "op_names": ["CONV_2D"]}]
    assert called_from(steps, "mlml_k00_conv+0x40") == "step 0 (CONV_2D, TFLite operator #0), called from mlml_k00_conv+0x40"
    assert called_from(steps, "run+0x10") is None and called_from(steps, None) is None
