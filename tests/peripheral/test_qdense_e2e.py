"""QDense through the whole flow (`bench run`): toycar's fully connected layers on the dense
engine bit-exact with the CPU run and TFLite; a dense engine scaffolded from it runs too."""

from __future__ import annotations

from tests.helpers.e2e import bench, bench_json


def test_toycar_on_the_dense_engine(tmp_path):
    proc, rows = bench_json("run", "toycar", "-p", "qdense", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    cpu, acc = rows
    assert cpu["config"] == "cpu" and acc["config"] == "cpu+qdense"
    assert cpu["validation"] == acc["validation"] == "exact"
    assert acc["layers_offloaded"] == acc["layers_total"] == acc["acc_jobs"] == 10
    assert acc["acc_macs"] == cpu["macs"]
    assert acc["run_instructions"] * 20 < cpu["run_instructions"]  # requantization fused too


def test_dense_engine_from_the_scaffold(tmp_path):
    made = bench("peripheral", "new", "mydense", "--from", "qdense", "--dir", str(tmp_path / "periph"))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "periph" / "mydense" / "driver" / "mydense.c").is_file()
    proc, rows = bench_json("run", "chain_fc_fc", "-p", "mydense:fused_requant=false",
                            "--peripheral-path", str(tmp_path / "periph"), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    acc = rows[1]
    assert acc["config"] == "cpu+mydense" and acc["validation"] == "exact" and acc["acc_jobs"] == 2
