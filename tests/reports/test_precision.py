"""Issue 20 item 4: the float-vs-int8 view pairs a float model with its quantized version."""

from __future__ import annotations

import shutil

from mlonmcu_lite.reports.precision import base_name, precision_pairs, precision_table
from mlonmcu_lite.reports.schema import RunResult, to_dataframe
from mlonmcu_lite.workspace import default_workspace

from tests.helpers.e2e import TEST_CACHE, bench


def _row(model: str, numerics: str, instr: int, arch: str = "rv32imc", predictions: str = "1,2,3") -> RunResult:
    return RunResult(model=model, arch=arch, numerics=numerics, run_instructions=instr, rom_bytes=4 * instr,
                     ram_bytes=instr, validation="allclose" if numerics != "quantized" else "exact",
                     predictions=predictions, max_abs_err=3e-6 if numerics != "quantized" else None)


def test_pairs_by_name_and_arch():
    df = to_dataframe([_row("resnet_f32", "float32", 100), _row("resnet", "quantized", 10),
                       _row("aww_f32", "float32", 50), _row("aww", "quantized", 5, predictions="1,0,3"),
                       _row("resnet_f32", "float32", 90, arch="rv32gc"), _row("vww", "quantized", 7)])
    pairs = {(df.loc[p.float_row, "model"], df.loc[p.int_row, "model"], df.loc[p.float_row, "arch"])
             for p in precision_pairs(df)}
    assert pairs == {("resnet_f32", "resnet", "rv32imc"), ("aww_f32", "aww", "rv32imc")}  # rv32gc: no int8 row
    text = precision_table(df)
    assert "10.00x" in text and "max |err| 3e-06" in text and "3/3" in text and "2/3" in text
    assert base_name("kws_fp32") == base_name("kws_int8") == "kws"


def test_one_float_and_one_int8_model_pair_whatever_their_names():
    df = to_dataframe([_row("mine", "hybrid", 40), _row("theirs", "quantized", 20)])
    assert len(precision_pairs(df)) == 1 and "2.00x" in precision_table(df)
    assert precision_table(to_dataframe([_row("theirs", "quantized", 20)])) == ""


def test_bench_run_fp32_and_int8_files_side_by_side(tmp_path):
    ops = default_workspace()
    for src, dst in (("float/chain_conv_avgpool_fc_softmax_f32", "kws_fp32"), ("ops/chain_conv_avgpool_fc_softmax", "kws_int8")):
        for ext in (".tflite", ".samples.npz", ".golden.npz"):
            shutil.copy(ops.models_dir / f"{src}{ext}", tmp_path / f"{dst}{ext}")
    proc = bench("run", str(tmp_path / "kws_fp32.tflite"), str(tmp_path / "kws_int8.tflite"), "--cpu-only",
                 "--no-progress", "--cache-dir", str(TEST_CACHE), "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "float vs int8" in proc.stdout and "kws_fp32 / kws_int8" in proc.stdout
    report = next((tmp_path / "rep").glob("*/results.md")).read_text()
    assert "Float vs int8" in report and "allclose (max" in report
