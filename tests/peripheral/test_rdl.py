"""Register maps as SystemRDL / IP-XACT: every shipped spec exports and reads back identically,
and a peripheral scaffolded from a (hardware team's, here edited) .rdl runs a model bit-exact."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mlonmcu_lite.peripheral import PeripheralConfigError, load_backend
from mlonmcu_lite.peripheral.header import render_header
from mlonmcu_lite.peripheral.rdl import export_ipxact, registers_from_rdl, spec_to_rdl, write_rdl
from tests.helpers.e2e import bench, bench_json


@pytest.mark.parametrize("name", ["qvanilla", "qdepthwise", "qdense"])
def test_spec_round_trips_through_systemrdl(name, tmp_path):
    spec = load_backend(name).spec
    path = write_rdl(spec, tmp_path / f"{name}.rdl")
    assert registers_from_rdl(path) == spec.registers
    assert "is_signed = true;" in path.read_text()  # e.g. OFFSETS.INPUT
    xml = export_ipxact(spec, tmp_path / f"{name}.xml")
    names = {el.text for el in ET.parse(xml).getroot().iter("{http://www.accellera.org/XMLSchema/IPXACT/1685-2014}name")}
    assert {"ID", "CTRL", "STATUS", "OUTPUT_ADDR"} <= names


def test_broken_rdl_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.rdl"
    bad.write_text("addrmap x { reg { field {} A[3:0]; } R @ 0x0; ")
    with pytest.raises(PeripheralConfigError, match="bad.rdl: SystemRDL does not compile"):
        registers_from_rdl(bad)


def test_scaffold_from_rdl_runs_a_model(tmp_path):
    text = spec_to_rdl(load_backend("qvanilla").spec)
    # the hardware team's edit: a debug counter register the map did not have
    text = text.rstrip().removesuffix("};") + (
        '    reg { desc = "cycles of the last job"; field { sw = r; hw = w; } VALUE[31:0] = 0x0; } LAST_CYCLES @ 0x100;\n};\n')
    rdl = tmp_path / "regs.rdl"
    rdl.write_text(text)
    periph = tmp_path / "periph"
    made = bench("peripheral", "new", "rdlacc", "--from-rdl", str(rdl), "--dir", str(periph))
    assert made.returncode == 0, made.stderr
    assert "registers_from_rdl" in (periph / "rdlacc" / "spec.py").read_text()
    backend = load_backend("rdlacc", search_path=[periph])
    assert backend.spec.register("LAST_CYCLES").access == "ro"
    assert "#define RDLACC_LAST_CYCLES_OFFSET" in render_header(backend.spec)
    proc, rows = bench_json("run", "conv_3x1_same", "-p", "rdlacc", "--peripheral-path", str(periph),
                            "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    assert rows[1]["config"] == "cpu+rdlacc" and rows[1]["validation"] == "exact" and rows[1]["acc_jobs"] == 1


def test_bench_peripheral_export(tmp_path):
    proc = bench("peripheral", "export", "qdense", "--rdl", str(tmp_path / "q.rdl"), "--ipxact", str(tmp_path / "q.xml"))
    assert proc.returncode == 0, proc.stderr
    assert registers_from_rdl(tmp_path / "q.rdl") == load_backend("qdense").spec.registers
    assert "<ipxact:name>qdense</ipxact:name>" in (tmp_path / "q.xml").read_text()
    assert bench("peripheral", "export", "qdense").returncode == 2  # nothing asked for: usage error
