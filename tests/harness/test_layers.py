"""Per-layer profiles from one run: exact per-layer counts (vs single-step), zoo models, page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlonmcu_lite.harness.layers import GLUE, GLUE_FUNCTIONS, profile_layers
from mlonmcu_lite.peripheral import load_backend
from mlonmcu_lite.reports.layers import compare_runs, layers_frame
from mlonmcu_lite.vp import SimConfig, VirtualPlatform
from mlonmcu_lite.vp.elf import ElfImage
from mlonmcu_lite.zoo.tflite_info import read_tflite
from tests.helpers.e2e import REPO, bench_json, run_one


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


def test_layer_bytes_moved_come_from_the_detailed_cost_model(tmp_path):
    """dwconv_s1_same on QDepthwise's detailed model under a core profile: its one job's DMA
    bytes and cost breakdown are the layer's, the job record is in the run folder, layer
    cycles sum to the row's CPU cycles, the energy estimate is split CPU / accelerator."""
    row = run_one("dwconv_s1_same", tmp_path, peripherals=("qdepthwise:cost_model=detailed",),
                  core="cv32e40p")
    layers = _check_profile(row)
    assert row["core"] == "cv32e40p" and row["cpu_cycles"] > row["run_instructions"]
    assert sum(layer["cycles"] for layer in layers) == row["cpu_cycles"]
    assert sum(layer["acc_compute_cycles"] or 0 for layer in layers) == row["acc_compute_cycles"]
    (job,) = json.loads((tmp_path / "runs" / row["run_id"] / "accelerator_jobs.json").read_text())["qdepthwise"]
    assert job["compute_cycles"] == row["acc_compute_cycles"] and job["bound"] in ("compute", "bandwidth")
    assert row["energy_uj"] == pytest.approx(row["cpu_energy_uj"] + row["acc_energy_uj"], abs=2e-3)
    assert row["acc_energy_uj"] > 0
    (taken,) = [layer for layer in layers if layer["acc_jobs"]]
    assert taken["peripheral"] == "qdepthwise" and taken["acc_bytes"] == row["acc_dma_bytes"] > 1076
    assert taken["acc_cycles"] == row["acc_cycles"] and taken["acc_macs"] == row["acc_macs"] == 9216
    assert all(layer["acc_bytes"] is None for layer in layers if not layer["acc_jobs"])
