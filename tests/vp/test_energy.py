"""The energy estimate: linear in the measured counts, tables validated with clear errors."""

from __future__ import annotations

import pytest

from mlonmcu_lite.harness.settings import SettingsError, build_settings
from mlonmcu_lite.vp.energy import EnergyTableError, builtin_tables, estimate, load_table


def test_default_table_cites_its_source_and_covers_every_class():
    table = load_table()
    assert table.name == "horowitz45" in builtin_tables()
    assert any("Horowitz" in s for s in table.sources) and table.notes
    assert table.instruction_pj["load"] > table.instruction_pj["alu"] > 0


def test_cpu_and_accelerator_energy_apart_and_linear():
    t = load_table()
    cpu_only = estimate(t, classes={"alu": 1000, "load": 10}, cpu_cycles=1200)
    assert cpu_only.acc_uj is None
    assert cpu_only.cpu_uj == pytest.approx((1000 * t.instruction_pj["alu"] + 10 * t.instruction_pj["load"]
                                             + 1200 * t.cpu_cycle_pj) * 1e-6)
    acc = estimate(t, classes={"alu": 1000, "load": 10}, cpu_cycles=1200, stall_cycles=500,
                   macs=10_000, bus_bytes=300, acc_cycles=700)
    assert acc.cpu_uj == pytest.approx(cpu_only.cpu_uj + 500 * t.cpu_idle_cycle_pj * 1e-6)
    assert acc.acc_uj == pytest.approx((10_000 * t.mac_pj + 300 * (t.bus_pj_per_byte + 2 * t.sram_pj_per_byte)
                                        + 700 * t.acc_cycle_pj) * 1e-6)
    assert acc.total_uj == pytest.approx(acc.cpu_uj + acc.acc_uj)


def test_user_table_and_errors(tmp_path):
    text = (load_table().model_dump_json())
    assert "mac_pj" in text
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ncpu_cycle_pj = 1\ncpu_idle_cycle_pj = 0\nmac_pj = 1\nbus_pj_per_byte = 1\n'
                   'sram_pj_per_byte = 1\nacc_cycle_pj = 1\n[instruction_pj]\nalu = 1\n')
    with pytest.raises(EnergyTableError, match="missing classes"):
        load_table(str(bad))
    with pytest.raises(SettingsError, match="horowitz45"):
        build_settings(["energy=nosuch"])
