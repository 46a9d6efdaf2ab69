"""The committed zoo models have exactly the MLPerf Tiny reference structure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mlonmcu_lite.cli import main as bench
from mlonmcu_lite.zoo.tflite_info import read_tflite
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import list_models, resolve_model

ZOO_DIR = default_workspace().zoo_dir

MACS = {"resnet": 12_501_632, "vww": 7_489_664, "aww": 2_656_768, "toycar": 264_192}
HEAD = ["AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
OPS = {
    "resnet": ["CONV_2D", "CONV_2D", "CONV_2D", "ADD"] + ["CONV_2D", "CONV_2D", "CONV_2D", "ADD"] * 2 + HEAD,
    "vww": ["CONV_2D"] + ["DEPTHWISE_CONV_2D", "CONV_2D"] * 13 + HEAD,
    "aww": ["CONV_2D"] + ["DEPTHWISE_CONV_2D", "CONV_2D"] * 4 + HEAD,
    "toycar": ["FULLY_CONNECTED"] * 10,
}
IO = {"resnet": ((1, 32, 32, 3), (1, 10)), "vww": ((1, 96, 96, 3), (1, 2)),
      "aww": ((1, 49, 10, 1), (1, 12)), "toycar": ((1, 640), (1, 640))}


def layers(name: str) -> list[tuple]:
    """(op, weight shape, output shape, stride, padding, activation) per op, from the file."""
    info = read_tflite(ZOO_DIR / f"{name}.tflite")
    out = []
    for op in info.ops:
        o = op.options
        weights = info.tensors[op.inputs[1]].shape if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D",
                                                                 "FULLY_CONNECTED") else None
        stride = (o["strideH"], o["strideW"]) if "strideH" in o else None
        out.append((op.op, weights, info.tensors[op.outputs[0]].shape, stride, o.get("padding"),
                    o.get("fusedActivationFunction")))
    return out


def test_list_models_is_the_mlperf_tiny_zoo():
    assert list_models() == ["resnet", "vww", "aww", "toycar"]
    assert {"conv_s2_same", "dwconv_mult2_relu", "add", "softmax"} <= set(list_models("ops"))


@pytest.mark.parametrize("name", list(MACS))
def test_zoo_model_structure_and_macs(name):
    info = resolve_model(name)
    assert info.ops == OPS[name]
    assert info.macs == MACS[name]
    assert [t.shape for t in info.inputs] == [IO[name][0]]
    assert [t.shape for t in info.outputs] == [IO[name][1]]
    assert all(t.dtype == "int8" for t in info.inputs + info.outputs)
    if info.ops[-1] == "SOFTMAX":
        assert (info.outputs[0].scale, info.outputs[0].zero_point) == (1 / 256, -128)
    meta = json.loads((ZOO_DIR / f"{name}.json").read_text())
    assert (meta["macs"], meta["ops"], meta["weight_bytes"]) == (info.macs, info.ops, info.weight_bytes)
    assert [tuple(t["shape"]) for t in meta["inputs"]] == [t.shape for t in info.inputs]
    assert len(info.samples) == len(info.goldens) == 3


def test_resnet_layers():
    got = layers("resnet")
    r, n, s, v = "RELU", "NONE", "SAME", (1, 1)
    assert got[:4] == [
        ("CONV_2D", (16, 3, 3, 3), (1, 32, 32, 16), v, s, r),
        ("CONV_2D", (16, 3, 3, 16), (1, 32, 32, 16), v, s, r),
        ("CONV_2D", (16, 3, 3, 16), (1, 32, 32, 16), v, s, n),
        ("ADD", None, (1, 32, 32, 16), None, None, r),
    ]
    for base, c_in, c, hw in ((4, 16, 32, 16), (8, 32, 64, 8)):
        assert got[base:base + 4] == [
            ("CONV_2D", (c, 3, 3, c_in), (1, hw, hw, c), (2, 2), s, r),
            ("CONV_2D", (c, 3, 3, c), (1, hw, hw, c), v, s, n),
            ("CONV_2D", (c, 1, 1, c_in), (1, hw, hw, c), (2, 2), s, n),
            ("ADD", None, (1, hw, hw, c), None, None, r),
        ]
    assert got[12][2:4] == ((1, 1, 1, 64), (8, 8))
    assert got[14][:3] == ("FULLY_CONNECTED", (10, 64), (1, 10))


def test_vww_layers():
    got = layers("vww")
    assert got[0] == ("CONV_2D", (8, 3, 3, 3), (1, 48, 48, 8), (2, 2), "SAME", "RELU")
    pointwise = [16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256]
    strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    size, c_in = 48, 8
    for i, (c, st) in enumerate(zip(pointwise, strides)):
        size = -(-size // st)
        assert got[1 + 2 * i] == ("DEPTHWISE_CONV_2D", (1, 3, 3, c_in), (1, size, size, c_in), (st, st), "SAME",
                                  "RELU")
        assert got[2 + 2 * i] == ("CONV_2D", (c, 1, 1, c_in), (1, size, size, c), (1, 1), "SAME", "RELU")
        c_in = c
    assert got[27][2:4] == ((1, 1, 1, 256), (3, 3))
    assert got[29][:3] == ("FULLY_CONNECTED", (2, 256), (1, 2))


def test_aww_layers():
    got = layers("aww")
    assert got[0] == ("CONV_2D", (64, 10, 4, 1), (1, 25, 5, 64), (2, 2), "SAME", "RELU")
    for i in range(4):
        assert got[1 + 2 * i] == ("DEPTHWISE_CONV_2D", (1, 3, 3, 64), (1, 25, 5, 64), (1, 1), "SAME", "RELU")
        assert got[2 + 2 * i] == ("CONV_2D", (64, 1, 1, 64), (1, 25, 5, 64), (1, 1), "SAME", "RELU")
    assert got[9][2:4] == ((1, 1, 1, 64), (25, 5))
    assert got[11][:3] == ("FULLY_CONNECTED", (12, 64), (1, 12))


def test_toycar_layers():
    units = [128] * 4 + [8] + [128] * 4 + [640]
    got = layers("toycar")
    fan_in = 640
    for layer, u in zip(got, units):
        assert layer[:3] == ("FULLY_CONNECTED", (u, fan_in), (1, u))
        fan_in = u
    assert [layer[5] for layer in got] == ["RELU"] * 9 + ["NONE"]


def test_samples_are_deterministic_int8_and_distinct():
    info = resolve_model("resnet")
    first = info.samples[0][0]
    assert first.dtype == np.int8 and first.shape == (1, 32, 32, 3)
    assert not np.array_equal(first, info.samples[1][0])
    assert len(np.unique(first)) > 100  # images, not constants


def test_resolve_by_path_and_op_family_name(tmp_path):
    by_path = resolve_model(str(ZOO_DIR / "aww.tflite"))
    assert by_path.name == "aww" and by_path.macs == MACS["aww"]
    # a user copy without side files: everything still read from the file itself
    user = tmp_path / "my.model.tflite"
    user.write_bytes((ZOO_DIR / "aww.tflite").read_bytes())
    info = resolve_model(user)
    assert (info.name, info.macs, info.ops, info.samples, info.goldens) == ("my.model", MACS["aww"], OPS["aww"],
                                                                              None, None)
    add = resolve_model("add")
    assert len(add.inputs) == 2 and add.inputs[0].scale != add.inputs[1].scale
    assert len(add.samples[0]) == 2


def test_bench_models_table_and_json():
    runner = CliRunner()
    table = runner.invoke(bench, ["models"])
    assert table.exit_code == 0, table.output
    assert "12,501,632" in table.output and "toycar" in table.output
    res = runner.invoke(bench, ["models", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["name"] for r in rows] == list(MACS)
    assert {r["name"]: r["macs"] for r in rows} == MACS
    assert all(r["path"].endswith(".tflite") and r["ops"] for r in rows)
    one = json.loads(runner.invoke(bench, ["models", "--json", str(ZOO_DIR / "vww.tflite")]).output)
    assert one[0]["ops"] == OPS["vww"]
    bad = runner.invoke(bench, ["models", "no_such_model"])
    assert bad.exit_code != 0 and "no_such_model" in bad.output
