"""ROM/RAM sizes of the VP are run settings; an overflowing link names the setting to raise."""

from __future__ import annotations

import pytest

from mlonmcu_lite.harness.fit import DoesNotFit, check_rom
from mlonmcu_lite.harness import settings
from mlonmcu_lite.harness.settings import RunSettings, SettingsError, build_settings
from mlonmcu_lite.vp.memory_map import MAX_ROM_SIZE, KiB, MiB

from tests.helpers.e2e import run_one


def test_defaults_grow_from_4_mib_rom_and_1_mib_ram_limits_do_not():
    mm = RunSettings().memory_map()
    assert (mm.rom_size, mm.ram_size) == (4 * MiB, 1 * MiB) and RunSettings().growable() == ("ROM", "RAM")
    limited = build_settings(["rom_kib=64", "ram_kib=8"])
    assert limited.memory_map().ram_size == 8 * KiB and limited.growable() == ()
    assert build_settings(["ram_kib=8"]).growable() == ("ROM",)
    with pytest.raises(SettingsError, match="multiple of 4"):
        build_settings(["rom_kib=6"])
    assert settings.MAX_ROM_KIB * KiB == MAX_ROM_SIZE  # ROM ends below the UART
    with pytest.raises(SettingsError, match="rom_kib"):
        build_settings([f"rom_kib={settings.MAX_ROM_KIB + 4}"])


def test_model_over_the_default_memory_runs_by_default_and_is_refused_with_a_limit(tmp_path, monkeypatch):
    """aww over a 32 KiB ROM / 8 KiB RAM floor (as MobileNet 224 over the 4 MiB / 1 MiB one): unset
    limits grow the VP's map to fit and the run is exact; an explicit limit refuses it."""
    monkeypatch.setattr(settings, "FIT_ROM_KIB", 32)
    monkeypatch.setattr(settings, "FIT_RAM_KIB", 8)
    row = run_one("aww", tmp_path / "fit")
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact"
    assert 32 < row["rom_kib"] < 4096 and row["rom_bytes"] <= row["rom_kib"] * KiB
    assert 8 < row["ram_kib"] < 1024 and row["ram_bytes"] <= row["ram_kib"] * KiB
    refused = run_one("aww", tmp_path / "limit", rom_kib=32)
    assert refused["failing"] and "does not fit: ROM " in refused["reason"], refused["reason"]


@pytest.mark.parametrize("setting, region", [("rom_kib=32", "ROM"), ("ram_kib=8", "RAM")])
def test_overflow_names_region_bytes_and_setting(setting, region, tmp_path):
    key, value = setting.split("=")
    row = run_one("aww", tmp_path, **{key: int(value)})
    assert row["failing"] and row["reason"].endswith("@ compile")
    assert f"{region} overflowed by " in row["reason"] and f"raise -s {key}=" in row["reason"]
    assert f"does not fit: {region} " in row["reason"] and f" > {int(value) * 1024:,} B ({key}={value};" in row["reason"]
    assert f"will not fit in region '{region}'" in row["reason"]  # the linker's own line
    assert "ld.lld-14 -m" not in row["reason"]  # never the command line


def test_larger_rom_setting_runs_exact(tmp_path):
    row = run_one("conv_s1_same", tmp_path, rom_kib=8192, ram_kib=2048)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact"


def test_model_whose_weights_exceed_rom_fails_at_load_naming_the_limit(tmp_path):
    """vww's 219,072 B of weights against a 128 KiB ROM: refused before any compile work."""
    row = run_one("vww", tmp_path, rom_kib=128)
    assert row["failing"] and row["reason"].endswith("@ load"), row["reason"]
    assert "does not fit: ROM needs at least 219,072 B of weights > 131,072 B (rom_kib=128" in row["reason"]
    assert "raise -s rom_kib=1024" in row["reason"]
    assert row["macs"] == 7_489_664  # the row still says what the model is


def test_rom_check_counts_hybrid_weights_as_float32():
    """A hybrid model's int8 weights are dequantized at import: the firmware stores 4 bytes each."""
    check_rom("m", 300 * 1024, "quantized", 512)
    with pytest.raises(DoesNotFit, match=r"m does not fit: ROM needs at least 1,228,800 B .* raise -s rom_kib=2048"):
        check_rom("m", 300 * 1024, "hybrid", 512)
