"""The element-wise / pooling region kinds and QVanilla's fused residual ADD through the
whole flow: op models with ADD, MUL, average and max pooling on QEltwise bit-exact on both
ISAs; a conv + residual ADD on QVanilla is one job writing over the residual input."""

from __future__ import annotations

import json

import pytest

from tests.helpers.e2e import run_one

# every int8/uint8 op model whose ADD / MUL / pool QEltwise takes (broadcast MUL, the legacy
# uint8 average pool's rounding and 16x8 ops stay on the CPU: no region of those kinds)
ELTWISE_MODELS = ["add_relu", "mul", "mul_u8", "avgpool_3x3_s1_same", "avgpool_global", "maxpool_3x3_s2_same"]


def _plan(row: dict, out_dir) -> dict:
    return json.loads((out_dir / "runs" / row["run_id"] / "model" / "model" / "plan.json").read_text())


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
@pytest.mark.parametrize("model", ELTWISE_MODELS)
def test_op_models_bit_exact_on_the_eltwise_engine(model, arch, tmp_path):
    # check_peripherals: every job also against the device's independent reference_job()
    row = run_one(model, tmp_path, arch=arch, peripherals=("qeltwise",), check_peripherals=True)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["acc_jobs"] == row["layers_offloaded"] == 1
    (layer,) = [layer for layer in row["layers"] if layer["peripheral"] == "qeltwise"]
    assert layer["acc_jobs"] == 1 and layer["op"] in ("ADD", "MUL", "AVERAGE_POOL_2D", "MAX_POOL_2D")
    # element operations, reported apart: never counted as MACs
    assert row["acc_macs"] == layer["acc_macs"] == 0 and row["acc_ops"] == layer["acc_ops"] > 0
    assert layer["instructions"] < 100  # the whole op is the device's: only the driver call


def test_residual_add_fused_into_the_conv_engine_in_place(tmp_path):
    """chain_residual (conv -> conv -> ADD with the first conv's output): the second conv and
    the ADD are one QVanilla job; the sum is written over the ADD's other input, so RAM stays
    the CPU-only figure; `fused_residual=false` leaves the ADD to the CPU."""
    cpu = run_one("chain_residual", tmp_path / "cpu")
    acc = run_one("chain_residual", tmp_path / "acc", peripherals=("qvanilla",))
    off = run_one("chain_residual", tmp_path / "off", peripherals=("qvanilla:fused_residual=false",))
    for row in (acc, off):
        assert not row["failing"] and row["validation"] == "exact", row["reason"]
    assert acc["acc_jobs"] == off["acc_jobs"] == 2
    assert [layer["op"] for layer in acc["layers"]] == ["CONV_2D", "CONV_2D+ADD", "(glue)"]
    assert all(layer["peripheral"] == "qvanilla" for layer in acc["layers"][:2])
    fused = [layer for layer in _plan(acc, tmp_path / "acc")["layers"] if layer["extra"].get("fused_residual")]
    assert len(fused) == 1 and fused[0]["offloaded_to"] == "qvanilla"
    assert acc["ram_bytes"] == cpu["ram_bytes"] <= off["ram_bytes"]
    assert acc["run_instructions"] * 20 < off["run_instructions"]  # the CPU's ADD (~18 k instructions) is gone


def test_check_peripherals_sees_the_inputs_a_job_wrote_over(tmp_path):
    """resnet's fused residual ADDs write the sum over their residual input: under
    `-s check_peripherals=true` the reference reads the memory the job started from (it
    failed every in-place job before), and the run's figures are unchanged."""
    plain = run_one("resnet", tmp_path / "plain", peripherals=("qvanilla",))
    row = run_one("resnet", tmp_path / "check", peripherals=("qvanilla",), check_peripherals=True)
    assert not row["failing"] and row["validation"] == "exact", row["reason"]
    assert (row["run_instructions"], row["acc_cycles"]) == (plain["run_instructions"], plain["acc_cycles"])
