"""Issue 11 items 1-3, 5, 7: float-I/O, uint8 and 16x8 models, graph shapes, load-time rejection."""

from __future__ import annotations

import numpy as np
import pytest
import tflite
from ai_edge_litert import schema_py_generated as S
from tvm.relax.frontend.tflite import from_tflite

from mlonmcu_lite.frontend import import_tflite
from mlonmcu_lite.frontend.normalize import normalize
from mlonmcu_lite.harness.runner import execute_run
from mlonmcu_lite.harness.settings import RunSettings
from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import UnsupportedOpError, resolve_model
from tests.helpers.e2e import TEST_CACHE, bench, run_one
from tests.zoo.test_zoo_errors import mutated

OPS_DIR = default_workspace().ops_dir

FLOAT_MODEL = "chain_conv_avgpool_fc_softmax_f32io"


def _run_with_input(model: str, tmp_path, arch: str, x: list[np.ndarray]) -> dict:
    np.savez(tmp_path / "input.npz", *x)
    return run_one(model, tmp_path, arch=arch, input_path=str(tmp_path / "input.npz"))


def _ties(scale: float, zero_point: int, shape, rng) -> np.ndarray:
    """float32 inputs whose float32 division by the scale is exactly k + 0.5 (rounding ties)."""
    s = np.float32(scale)
    k = np.arange(-140 - zero_point, 140 - zero_point, dtype=np.float64)
    x = ((k + 0.5) * np.float64(s)).astype(np.float32)
    ties = x[(x / s) - np.trunc(x / s) == np.sign(x / s) * np.float32(0.5)]
    return rng.choice(ties, size=shape).astype(np.float32)


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
def test_float_io_rounds_ties_away_from_zero_like_tflite(arch, tmp_path):
    """QUANTIZE of float32 inputs on the target (FPU or libgcc soft-float), ties included."""
    spec = resolve_model(FLOAT_MODEL).inputs[0]
    x = _ties(spec.scale, spec.zero_point, spec.shape, np.random.default_rng(7))
    ratio = x / np.float32(spec.scale)
    assert np.sum(np.abs(ratio - np.trunc(ratio)) == 0.5) == x.size  # every input is a tie
    row = _run_with_input(FLOAT_MODEL, tmp_path, arch, [x])
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["io_dtype"] == "float32"


def test_float_input_from_the_command_line(tmp_path):
    spec = resolve_model(FLOAT_MODEL).inputs[0]
    np.save(tmp_path / "x.npy", np.random.default_rng(1).normal(0, 1, spec.shape).astype(np.float32))
    proc = bench("run", FLOAT_MODEL, "--input", str(tmp_path / "x.npy"), "--cpu-only", "--no-progress",
                 "--out", str(tmp_path / "rep"))
    assert proc.returncode == 0 and "exact" in proc.stdout, proc.stdout + proc.stderr
    np.save(tmp_path / "q.npy", np.zeros(spec.shape, np.int8))
    bad = bench("run", FLOAT_MODEL, "--input", str(tmp_path / "q.npy"), "--cpu-only", "--no-progress",
                "--out", str(tmp_path / "rep"))
    assert bad.returncode != 0 and "float32" in bad.stdout + bad.stderr


@pytest.mark.parametrize("model, io", [("chain_conv_avgpool_fc_softmax_f32io", ("float32", "float32")),
                                       ("multi_io_u8", ("uint8", "uint8")),
                                       ("conv_s1_same_u8in", ("uint8", "int8")),
                                       ("multi_io_i16", ("int16", "int16"))])
def test_firmware_io_keeps_the_models_dtypes(model, io):
    """uint8 models run on int8 inside, but the firmware takes and returns the model's dtypes."""
    im = import_tflite(OPS_DIR / f"{model}.tflite")
    main = im.mod["main"]
    assert {str(p.ty.dtype) for p in main.params} == {io[0]}
    ret = main.ret_ty
    fields = ret.fields if hasattr(ret, "fields") else [ret]
    assert {str(f.dtype) for f in fields} == {io[1]}
    assert len(fields) == len(resolve_model(model).outputs)


def _per_tensor_depthwise_on_axis_3(model: S.ModelT) -> None:
    """Legal for TFLite (one scale: the axis is ignored), rejected by TVM's importer."""
    sub = model.subgraphs[0]
    weights = sub.tensors[sub.operators[0].inputs[1]]
    q = weights.quantization
    q.scale, q.zeroPoint, q.quantizedDimension = [max(q.scale)], [0], 3
    bias = sub.tensors[sub.operators[0].inputs[2]].quantization
    bias.scale, bias.zeroPoint = [float(np.float32(sub.tensors[0].quantization.scale[0] * max(bias.scale)))], [0]


def test_uint8_variant_without_a_verified_lowering_is_rejected_at_load(monkeypatch):
    """Only ops whose uint8/int16 variant has a bit-exact test model run in those dtypes."""
    from mlonmcu_lite.frontend import support
    from mlonmcu_lite.frontend.errors import FrontendError

    monkeypatch.setitem(support.VERIFIED_OPS, "uint8", support.VERIFIED_OPS["uint8"] - {"ADD"})
    with pytest.raises(FrontendError, match=r"ADD with uint8 tensors .* in multi_io_u8\.tflite .*operator #1"):
        import_tflite(OPS_DIR / "multi_io_u8.tflite")


def test_per_tensor_weights_on_a_nonzero_axis_are_normalized(tmp_path):
    path = mutated(tmp_path, "dwconv_s1_same", _per_tensor_depthwise_on_axis_3, "dw_axis3.tflite")
    with pytest.raises(Exception, match="QuantizedDimension"):
        from_tflite(tflite.Model.GetRootAsModel(path.read_bytes(), 0))
    fixed = S.ModelT.InitFromPackedBuf(normalize(path.read_bytes()).buffer, 0)
    assert fixed.subgraphs[0].tensors[fixed.subgraphs[0].operators[0].inputs[1]].quantization.quantizedDimension == 0
    row = run_one(str(path), tmp_path)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact"


def _control_flow(model: S.ModelT) -> None:
    """A WHILE op calling a second subgraph, after the model's only op."""
    sub = model.subgraphs[0]
    code = S.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = S.BuiltinOperator.WHILE
    model.operatorCodes.append(code)
    op = S.OperatorT()
    op.opcodeIndex = len(model.operatorCodes) - 1
    op.inputs, op.outputs = [sub.outputs[0]], [sub.outputs[0]]
    sub.operators.append(op)
    body = S.SubGraphT()
    body.tensors, body.operators, body.inputs, body.outputs, body.name = [], [], [], [], "body"
    model.subgraphs.append(body)


def test_control_flow_is_rejected_at_load_naming_op_and_index(tmp_path):
    path = mutated(tmp_path, "softmax", _control_flow, "loop.tflite")
    with pytest.raises(UnsupportedOpError, match=r"loop\.tflite: unsupported op WHILE \(control flow.*"
                                                 r"at operator #1"):
        resolve_model(path)
    row = run_one(str(path), tmp_path)
    assert row["failing"] and row["reason"].endswith("@ load")  # before any compile work
