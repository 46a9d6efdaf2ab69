"""Legacy uint8 convs (per-tensor weight zero point) on the accelerators: the frontend's
correction `− w_zp·conv(x, 1)` becomes the device's weight offset (region_kinds.weight_zero_point_of),
so the all-ones conv leaves the CPU and the output stays bit-exact with BUILTIN_REF."""

from __future__ import annotations

import pytest

from tests.helpers.e2e import run_one
from mlonmcu_lite.compiler.offload import offload_regions
from mlonmcu_lite.frontend import import_tflite
from mlonmcu_lite.zoo import resolve_model
from peripherals.qdense.backend import QDenseBackend
from peripherals.qvanilla.backend import QVanillaBackend


def test_weight_zero_point_becomes_the_weight_offset():
    """multi_io_u8's conv: weight zero point −36 (after the uint8 -> int8 shift) -> weight_offset 36;
    the all-ones conv is no layer of its own and leaves the graph with the correction."""
    im = import_tflite(resolve_model("multi_io_u8").path)
    result = offload_regions(im.mod, [QVanillaBackend()])
    assert [(layer.kind, layer.offloaded_to) for layer in result.layers] == [("conv2d", "qvanilla")]
    (call,) = result.calls.values()
    assert call.region.weight_offset == 36 and call.region.requant is not None
    text = str(result.mod["main"])
    assert "R.nn.conv2d" not in text and 'R.const(-36, "int32")' not in text


def test_fully_connected_row_sum_becomes_the_weight_offset():
    """FULLY_CONNECTED's correction is −w_zp·Σ_k x (frontend/dense.py): weight_offset 6 here."""
    im = import_tflite(resolve_model("chain_conv_avgpool_fc_softmax_u8").path)
    result = offload_regions(im.mod, [QVanillaBackend(), QDenseBackend()])
    assert [(layer.kind, layer.offloaded_to) for layer in result.layers] == [("conv2d", "qvanilla"),
                                                                              ("dense", "qdense")]
    assert [(c.region.weight_offset, c.region.requant is not None) for c in result.calls.values()] == \
        [(-18, True), (6, True)]


@pytest.mark.parametrize("model, peripherals, layers", [
    ("multi_io_u8", ("qvanilla",), 1),
    ("chain_dw_maxpool_u8", ("qdepthwise",), 1),
    ("chain_conv_avgpool_fc_softmax_u8", ("qvanilla", "qdense"), 2),  # FC: the row sum is the correction
])
def test_legacy_uint8_layers_offload_bit_exact(model, peripherals, layers, tmp_path):
    row = run_one(model, tmp_path, peripherals=peripherals, check_peripherals=True)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["validated_samples"] >= 1
    assert row["layers_offloaded"] == row["layers_total"] == row["acc_jobs"] == layers
    assert row["acc_macs"] == row["macs"] > 0
