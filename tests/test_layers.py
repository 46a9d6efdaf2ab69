"""Per-layer profiles: exact per-layer counts from one run, their files, page and deltas."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlonmcu_lite.harness.layers import GLUE, GLUE_FUNCTIONS, profile_layers
from mlonmcu_lite.peripheral import load_backend
from mlonmcu_lite.reports.layers import (compare_runs, layer_delta_table, layer_table, layers_frame,
                                         load_layers, write_layers)
from mlonmcu_lite.tflite_info import read_tflite
from mlonmcu_lite.vp import SimConfig, VirtualPlatform
from mlonmcu_lite.vp.elf import ElfImage

from e2e import REPO, bench_json, run_one


def _check_profile(row: dict) -> list[dict]:
    """Layers + glue sum exactly to run_instructions; accelerator jobs all attributed."""
    assert not row["failing"], row["reason"]
    layers = row["layers"]
    assert layers[-1]["layer"] == GLUE and layers[-1]["instructions"] >= 0
    assert sum(layer["instructions"] for layer in layers) == row["run_instructions"]
    assert all(layer["instructions"] > 0 for layer in layers[:-1])
    assert sum(layer["acc_jobs"] for layer in layers) == (row.get("acc_jobs") or 0)
    assert sum(layer["acc_macs"] for layer in layers) == (row.get("acc_macs") or 0)
    assert sum(layer["acc_stall_cycles"] for layer in layers) == (row.get("acc_stall_cycles") or 0)
    for layer in layers[:-1]:
        assert layer["op"] != "(unknown)", layer
        if layer["acc_jobs"]:
            assert layer["peripheral"] and layer["kernel"].startswith(layer["peripheral"])
    return layers


def _covered_ops(layers: list[dict]) -> set[int]:
    return {int(i) for layer in layers for i in layer["tflite_ops"].split(",") if i}


def _plan_steps(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "model" / "model" / "plan.json").read_text())["steps"]


@pytest.mark.parametrize("peripherals", [(), ("qvanilla",)])
def test_layers_agree_with_a_single_step_attribution(peripherals, tmp_path):
    """chain_residual: native call events == a per-instruction UC_HOOK_CODE attribution."""
    row = run_one("chain_residual", tmp_path, peripherals=peripherals)
    layers = _check_profile(row)
    run_dir = tmp_path / "runs" / row["run_id"]
    elf = run_dir / "firmware" / "firmware.elf"
    results = {}
    for mode in ("native", "step"):
        vp = VirtualPlatform(elf, devices=[load_backend(p).device() for p in peripherals],
                             config=SimConfig(counting=mode, glue_functions=GLUE_FUNCTIONS))
        results[mode] = vp.run()
    native, step = results["native"], results["step"]
    assert native.call_events == step.call_events and len(native.call_events) >= len(layers) - 1
    assert native.run_instructions == step.run_instructions
    image = ElfImage.load(elf)
    profiles = {mode: [p.to_dict() for p in profile_layers(
        _plan_steps(run_dir), r.call_events, image, r.run_instructions,
        {p: r.devices[p]["job_log"] for p in peripherals})] for mode, r in results.items()}
    assert profiles["native"] == profiles["step"]
    assert [p["layer"] for p in profiles["step"]] == [layer["layer"] for layer in layers]
    if peripherals:
        assert any(layer["acc_jobs"] for layer in layers)


def test_cpu_and_accelerated_runs_of_a_model_align_per_op_group(tmp_path):
    """resnet-like residual chain: group-level sums equal the runs' totals."""
    cpu = run_one("chain_residual", tmp_path)
    acc = run_one("chain_residual", tmp_path, peripherals=("qvanilla",))
    frame = layers_frame([cpu, acc])
    table = compare_runs(frame[frame["config"] == "cpu"], frame[frame["config"] != "cpu"])
    assert table["instructions_cpu"].sum() == cpu["run_instructions"]
    assert table["instructions_acc"].sum() == acc["run_instructions"]
    assert (table.loc[table["label"] != GLUE, "speedup"] > 0).all()


@pytest.mark.parametrize("model,peripherals", [("aww", ("qdepthwise",)), ("vww", ("qvanilla", "qdepthwise"))])
def test_zoo_models_with_qdepthwise_have_exact_layers(model, peripherals, tmp_path):
    row = run_one(model, tmp_path, peripherals=peripherals)
    layers = _check_profile(row)
    ops = read_tflite(REPO / "models" / "zoo" / f"{model}.tflite").ops
    assert _covered_ops(layers) == {op.index for op in ops}  # every TFLite op has its layer(s)
    taken = [layer for layer in layers if layer["peripheral"] == "qdepthwise"]
    assert taken and all(layer["op"] == "DEPTHWISE_CONV_2D" for layer in taken)
    assert sum(layer["macs"] for layer in layers) == row["macs"]
    # two layers calling one shared kernel are still told apart
    kernels = [layer["kernel"] for layer in layers[:-1]]
    assert len(set(kernels)) < len(kernels)


def _rows() -> list[dict]:
    def layer(i, op, ops, n, **kw):
        return {"index": i, "layer": f"{i:02d} {op}", "op": op, "tflite_ops": ops, "kernel": f"k{i}",
                "instructions": n, "macs": 0, "peripheral": None, "reason": None, "acc_jobs": 0, "acc_macs": 0,
                "acc_cycles": 0, "acc_stall_cycles": 0, "acc_bytes": None, "live_arena_bytes": 100, **kw}

    glue = {"index": -1, "layer": GLUE, "op": GLUE, "tflite_ops": "", "kernel": "mlml_model_run", "instructions": 10}
    base = {"session": "s", "model": "m", "arch": "rv32imc", "point": None}
    cpu = {**base, "run_id": "m__cpu", "config": "cpu", "peripheral": None, "run_instructions": 1_000_010,
           "layers": [layer(0, "CONV_2D", "0", 600_000), layer(1, "CONV_2D+ADD", "1,2", 400_000), glue]}
    acc = {**base, "run_id": "m__acc", "config": "cpu+qvanilla", "peripheral": "qvanilla", "run_instructions": 200_010,
           "layers": [layer(0, "CONV_2D", "0", 61, peripheral="qvanilla", acc_jobs=1, acc_cycles=5000,
                            acc_stall_cycles=4000),
                      layer(1, "CONV_2D", "0", 99_939), layer(2, "CONV_2D+ADD", "1,2", 100_000), glue]}
    return [cpu, acc]


def test_layers_files_load_with_one_pandas_call(tmp_path):
    frame = layers_frame(_rows())
    paths = write_layers(frame, tmp_path)
    assert set(paths) == {"layers_csv", "layers_parquet"}
    for loaded in (pd.read_csv(paths["layers_csv"]), pd.read_parquet(paths["layers_parquet"]), load_layers(tmp_path)):
        assert len(loaded) == 7
        assert loaded.groupby("run_id")["instructions"].sum().to_dict() == {"m__cpu": 1_000_010, "m__acc": 200_010}
    table = compare_runs(frame[frame["config"] == "cpu"], frame[frame["config"] != "cpu"])
    first = table.iloc[0]
    assert first["label"] == "#0 CONV_2D" and first["instructions_acc"] == 100_000
    assert first["speedup"] == pytest.approx(600_000 / 104_000)
    text = layer_table(frame[frame["run_id"] == "m__acc"])
    assert "99,939" in text and "qvanilla" in text and "200,010" in text


def test_layer_deltas_name_changed_and_missing_layers():
    base = layers_frame(_rows())
    cur = base.copy()
    cur.loc[cur["layer"] == "01 CONV_2D+ADD", "instructions"] += 1234
    cur = cur[cur["layer"] != "02 CONV_2D+ADD"]
    text = layer_delta_table(base, cur)
    assert "+1,234" in text and "02 CONV_2D+ADD" in text and "(2 of 7 layers)" in text
    assert "unchanged" in layer_delta_table(base, base)


def test_bench_run_json_rows_carry_layers_and_the_page_shows_them(tmp_path):
    proc, rows = bench_json("run", "chain_residual", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    for row in rows:
        assert sum(layer["instructions"] for layer in row["layers"]) == row["run_instructions"]
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    page = (session / "index.html").read_text()
    assert "<h2>Per layer</h2>" in page and "plotly" in page and "per layer, CPU only vs CPU+qvanilla" in page
    assert page.index("CPU vs CPU+accelerator") < page.index("<h2>Plots") < page.index("<h2>Per layer") \
        < page.index("<h2>All runs")
    assert not any(p.is_symlink() for p in session.iterdir())
