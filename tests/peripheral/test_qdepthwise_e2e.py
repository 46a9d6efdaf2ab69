"""QDepthwise through the whole flow: TFLite -> compiler offload -> firmware -> VP -> bit-exact."""

from __future__ import annotations

import pytest

from tests.helpers.e2e import run_one

DW_MODELS = ["dwconv_s1_same", "dwconv_3x1_valid", "dwconv_s2_same_relu6"]


def _assert_exact(row: dict) -> None:
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["validated_samples"] >= 1


@pytest.mark.parametrize("model", DW_MODELS)
def test_depthwise_op_models_offload_bit_exact(model, tmp_path):
    row = run_one(model, tmp_path, peripherals=("qdepthwise",))
    _assert_exact(row)
    assert row["layers_offloaded"] == row["acc_jobs"] == 1
    assert row["acc_macs"] == row["macs"]
    assert row["acc_cycles"] == 32 + -(-row["macs"] // 16)  # default simple cost model
    assert row["est_cycles"] == row["run_instructions"] + row["acc_stall_cycles"]


def test_detailed_cost_model_in_a_run(tmp_path):
    """dwconv_s1_same: 16x16x4, 3x3.  16 lanes x 1 tap: 256 px * 1 * 9 = 2304 compute
    cycles; DMA 1076 bytes in, 4096 int32 out at 4 B/cycle (269, 1024); overlapped: max."""
    row = run_one("dwconv_s1_same", tmp_path,
                  peripherals=("qdepthwise:cost_model=detailed,fused_requant=false",))
    _assert_exact(row)
    assert row["acc_macs"] == 9216 and row["acc_cycles"] == 32 + 2304
    # the detailed model's own figures reach the result (and so the report)
    assert row["acc_cost_model"] == "qdepthwise:detailed"
    assert row["acc_compute_cycles"] == 2304 and row["acc_pe_cycles"] == 2304 * 16
    assert row["acc_utilisation"] == 0.25  # 9216 MACs / (2304 cycles * 16 PEs)
    assert row["acc_dma_bytes"] == 1076 + 4096 and row["acc_dma_cycles"] == 269 + 1024


def test_multiplier_2_stays_on_the_cpu_with_the_reason(tmp_path):
    row = run_one("dwconv_mult2_relu", tmp_path, peripherals=("qdepthwise",))
    assert row["failing"] and "accepted no layer" in row["reason"]
    assert "channel multiplier 2 unsupported" in row["reason"]


def test_both_peripherals_split_a_dw_pw_chain(tmp_path):
    """The depthwise layer goes to QDepthwise, the pointwise one to QVanilla."""
    row = run_one("chain_dw_pw", tmp_path, peripherals=("qvanilla", "qdepthwise"))
    _assert_exact(row)
    assert row["layers_offloaded"] == row["layers_total"] == row["acc_jobs"] == 2
    assert row["acc_macs"] == row["macs"]


def test_check_peripherals_passes_for_both_engines(tmp_path):
    """`-s check_peripherals=true` runs every job's reference (conv and depthwise) and passes."""
    row = run_one("chain_dw_pw", tmp_path, peripherals=("qvanilla", "qdepthwise"), check_peripherals=True)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["acc_jobs"] >= 2


def test_detailed_cost_model_with_fused_requantization(tmp_path):
    """The same layer writing int8: 1076 + 32 bytes of multipliers/shifts in (277 cycles),
    1024 bytes out (256 cycles); compute unchanged."""
    row = run_one("dwconv_s1_same", tmp_path, peripherals=("qdepthwise:cost_model=detailed",))
    _assert_exact(row)
    assert row["acc_compute_cycles"] == 2304 and row["acc_cycles"] == 32 + 2304
    assert row["acc_dma_bytes"] == 1108 + 1024 and row["acc_dma_cycles"] == 277 + 256
