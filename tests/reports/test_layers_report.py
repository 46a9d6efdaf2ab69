"""Per-layer report data: the tidy frame, its files, group alignment, deltas, tables."""

from __future__ import annotations

import pandas as pd
import pytest

from mlonmcu_lite.harness.layers import GLUE
from mlonmcu_lite.reports.layers import (compare_runs, layer_delta_table, layer_table, layers_frame,
                                         load_layers, write_layers)


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
