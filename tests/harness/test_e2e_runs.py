"""End to end: TVM compile -> rv32 firmware -> VP -> bit-exact check, CPU and CPU+QVanilla."""

from __future__ import annotations

import json
import re

import pytest

from mlonmcu_lite.zoo import list_models, resolve_model

from tests.helpers.e2e import bench, bench_json, run_one
from tests.helpers.variants import rescaled_concat_inputs, variant

OP_MODELS = list_models(family="ops")
# 16x8 convs stay on the CPU (the accelerators take int8 x int8): see the test below.
# TRANSPOSE_CONV is lowered to a canonical conv chain too, so the accelerator takes it.
# conv_space_to_batch's conv runs on batch 4, which QVanilla refuses ("batch 1 only").
CONV_MODELS = [m for m in OP_MODELS if {"CONV_2D", "TRANSPOSE_CONV"} & set(resolve_model(m).ops)
               and resolve_model(m).inputs[0].dtype != "int16" and m != "conv_space_to_batch"]


def _assert_exact(row: dict) -> None:
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact"
    assert row["validated_samples"] >= 1
    assert 0 < row["run_instructions"] < row["total_instructions"]
    # memory figures the report used to drop: I/O buffers are .noinit, the stack window apart
    assert row["ram_noinit"] > 0 and row["stack_bytes"] == 64 * 1024 and row["rom_data_init"] is not None
    assert row["validation_detail"] is None
    # the cost model that timed the device's jobs; none without a device
    assert row["acc_cost_model"] == ("qvanilla:simple" if row["peripheral"] == "qvanilla" else None)


# libgcc / picolibc members an rv32imc firmware links for float arithmetic (addsf3, floatsisf, libm_*):
# without any, the model's code is integer-only and rv32gc (IMC plus A/F/D) computes the same integers.
SOFT_FLOAT_MEMBER = re.compile(r"libgcc\.a\([^)]*[sd]f[^)]*\)|libc\.a\(libm_[^)]*\)")
# rv32gc always runs a few chains (conv, pooling, FC, softmax, depthwise, data movement) whatever they link.
RV32GC_ALWAYS = {"chain_conv_avgpool_fc_softmax", "chain_dw_pw", "chain_movement"}


def test_rv32gc_always_runs_op_models_that_exist():
    assert RV32GC_ALWAYS <= set(OP_MODELS)
    for member in ("libgcc.a(mulsf3.o)", "libgcc.a(fixsfdi.o)", "libc.a(libm_math_sf_exp.c.o)"):
        assert SOFT_FLOAT_MEMBER.search(member)
    for member in ("libgcc.a(_clzsi2.o)", "libgcc.a(_udivdi3.o)", "libc.a(libc_string_memset.c.o)"):
        assert not SOFT_FLOAT_MEMBER.search(member)


@pytest.mark.parametrize("model", OP_MODELS)
def test_op_model_bit_exact_on_cpu(model, tmp_path):
    """rv32imc for every op model; rv32gc too where the two ISAs can differ: when the int8 model's C has
    float arithmetic (soft-float on rv32imc, the FPU with fused multiply-adds on rv32gc)."""
    _assert_exact(run_one(model, tmp_path / "rv32imc", arch="rv32imc"))
    link_map = (next((tmp_path / "rv32imc" / "runs").glob("*/firmware")) / "firmware.map").read_text()
    floats = sorted(set(SOFT_FLOAT_MEMBER.findall(link_map)))
    if floats or model in RV32GC_ALWAYS:
        _assert_exact(run_one(model, tmp_path / "rv32gc", arch="rv32gc"))


# uint8 / int16 variants of op models (frontend/test_frontend_variants.py checks all on the host)
VARIANTS = {"relu_int16": ("relu", "int16", None), "resize_nearest_half_pixel_int16": (
    "resize_nearest_half_pixel", "int16", None), "split_concat_uint8": ("split_concat", "uint8", None),
    "concat_uint8_rescaled": ("concat", "uint8", rescaled_concat_inputs)}


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
@pytest.mark.parametrize("label", list(VARIANTS))
def test_op_model_variant_bit_exact_on_cpu(label, arch, tmp_path):
    name, dtype, edit = VARIANTS[label]
    path = variant(name, dtype, tmp_path, edit)
    _assert_exact(run_one(str(path), tmp_path, arch=arch))


@pytest.mark.parametrize("model", CONV_MODELS)
def test_op_model_bit_exact_with_qvanilla(model, tmp_path):
    """CPU+QVanilla equals the TFLite reference, hence the CPU-only output, bit for bit."""
    row = run_one(model, tmp_path, peripherals=("qvanilla",))
    _assert_exact(row)
    assert row["layers_offloaded"] >= 1
    assert row["acc_jobs"] == row["layers_offloaded"]
    assert row["acc_macs"] > 0 and row["acc_cycles"] > 0
    assert row["est_cycles"] == row["run_instructions"] + row["acc_stall_cycles"]


def test_int16_conv_is_not_offloaded_and_says_why(tmp_path):
    row = run_one("multi_io_i16", tmp_path, peripherals=("qvanilla",))
    assert row["failing"] and "accepted no layer" in row["reason"]
    assert "int16 x int8 conv2d: the accelerator contract is int8 x int8" in row["reason"]


def test_accelerator_that_is_never_used_fails_loudly(tmp_path):
    row = run_one("fc", tmp_path, peripherals=("qvanilla",))
    assert row["failing"]
    assert "peripheral qvanilla was configured but accepted no layer" in row["reason"]
    assert row["reason"].endswith("@ postprocess")


def test_one_failing_run_keeps_the_others(tmp_path, repo):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes((repo / "models" / "ops" / "conv_1x1.tflite").read_bytes()[:200])
    proc = bench("run", "conv_1x1", str(broken), "fc", "--cpu-only", "--no-progress", "--out", str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    rows = json.loads((session / "results.json").read_text())
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"conv_1x1", "broken", "fc"}
    assert by_model["conv_1x1"]["validation"] == by_model["fc"]["validation"] == "exact"
    assert by_model["fc"]["stack_bytes"] == 64 * 1024 and by_model["fc"]["ram_noinit"] > 0
    assert by_model["broken"]["failing"] and by_model["broken"]["reason"].endswith("@ load")
    assert "broken.tflite" in by_model["broken"]["reason"]
    for name in ("results.csv", "results.md", "index.html"):
        assert (session / name).exists()
    assert "FAILED broken__cpu__rv32imc" in proc.stderr


def test_json_rows_and_unknown_setting(tmp_path):
    proc, rows = bench_json("run", "conv_s2_same", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert [r["config"] for r in rows] == ["cpu", "cpu+qvanilla"]
    cpu, acc = rows
    assert acc["saved_pct"] == pytest.approx(100 * (1 - acc["run_instructions"] / cpu["run_instructions"]))
    bad = bench("run", "conv_s2_same", "-s", "colour=red")
    assert bad.returncode == 2 and "unknown setting(s) colour; valid settings:" in bad.stderr
    bad = bench("run", "conv_s2_same", "-p", "qvanilla:speed=9")
    assert bad.returncode == 2 and "macs_per_cycle" in bad.stderr


def test_sweep_reuses_firmware_and_plots(tmp_path):
    proc, rows = bench_json("sweep", "conv_5x3_s2_same", "-p", "qvanilla", "--param", "macs_per_cycle=1,4,16,64",
                            "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    acc = [r for r in rows if r["config"] != "cpu"]
    assert [r["point"] for r in acc] == [f"macs_per_cycle={v}" for v in (1, 4, 16, 64)]
    assert len({r["run_instructions"] for r in acc}) == 1  # same firmware, same CPU work
    cycles = [r["est_cycles"] for r in acc]
    assert cycles == sorted(cycles, reverse=True) and cycles[0] > cycles[-1]
    (session,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (session / "sweep_macs_per_cycle.png").stat().st_size > 1000
    # the page embeds the sweep plot and names the sweep point in every accelerated row
    page = (session / "index.html").read_text()
    assert "alt='sweep_macs_per_cycle'" in page and "data:image/png;base64," in page
    study = page[page.index("CPU vs CPU+accelerator"):page.index("<h2>Plots")]
    assert all(f"macs_per_cycle={v}<" in study for v in (1, 4, 16, 64))


def test_scaffolded_peripheral_runs_a_model_bit_exact(tmp_path):
    made = bench("peripheral", "new", "myacc", "--dir", str(tmp_path / "periph"))
    assert made.returncode == 0, made.stderr
    proc, rows = bench_json("run", "conv_3x1_same", "-p", "myacc", "--peripheral-path", str(tmp_path / "periph"),
                            "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    acc = rows[1]
    assert acc["config"] == "cpu+myacc" and acc["validation"] == "exact" and acc["acc_jobs"] >= 1
