"""Row-band tiling of int32-output conv engines (`fused_requant=false`, peripheral/bands.py):
the driver runs one device job per band of output rows into a bounded int32 scratch and the
CPU requantizes each band, so the layer's whole int32 result leaves the arena; bit-exact."""

from __future__ import annotations

import pytest

from peripherals.qdepthwise.backend import QDepthwiseBackend
from peripherals.qvanilla.backend import QVanillaBackend
from tests.helpers.e2e import run_one


@pytest.mark.parametrize("model, engine, scratch, jobs", [
    ("conv_s1_same", "qvanilla", 1536, 6),  # rows of 512 B: 3 rows a band, the last one 1 row
    ("conv_s2_same", "qvanilla", 512, 4),  # stride 2, padding 0/1: halos and a bottom pad row
    ("dwconv_s2_same_relu6", "qdepthwise", 384, 3),  # rows of 128 B: 3 + 3 + 2
])
def test_bands_are_exact_and_bound_the_int32_scratch(model, engine, scratch, jobs, tmp_path):
    whole = run_one(model, tmp_path / "w", peripherals=(f"{engine}:fused_requant=false,band_scratch_bytes=0",))
    banded = run_one(model, tmp_path / "b", check_peripherals=True,
                     peripherals=(f"{engine}:fused_requant=false,band_scratch_bytes={scratch}",))
    for row in (whole, banded):
        assert row["validation"] == "exact", row["reason"]
    assert (whole["acc_jobs"], banded["acc_jobs"]) == (1, jobs)
    assert banded["layers_offloaded"] == 1
    assert banded["ram_bytes"] < whole["ram_bytes"]  # the int32 tensor left the arena


def test_banded_pattern_only_with_int32_outputs():
    assert [p.name for p in QVanillaBackend.from_overrides({}).patterns()] == ["qvanilla.conv2d_bias"]
    names = [p.name for p in QDepthwiseBackend.from_overrides({"fused_requant": False}).patterns()]
    assert names == ["qdepthwise.depthwise_conv2d_banded", "qdepthwise.depthwise_conv2d"]
    off = QVanillaBackend.from_overrides({"fused_requant": False, "band_scratch_bytes": 0})
    assert [p.name for p in off.patterns()] == ["qvanilla.conv2d_bias"]
