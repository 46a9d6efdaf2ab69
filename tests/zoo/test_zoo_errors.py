"""Bad model files get a ModelError naming the file (and the op)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S
from click.testing import CliRunner

import flatbuffers
from mlonmcu_lite.cli import main as bench
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import ModelError, UnsupportedOpError, resolve_model

OPS_DIR, ZOO_DIR = default_workspace().ops_dir, default_workspace().zoo_dir


def mutated(tmp_path: Path, source: str, edit: Callable[[S.ModelT], None], name: str = "bad.tflite") -> Path:
    """A copy of a committed op-family model with `edit` applied to its object tree."""
    model = S.ModelT.InitFromPackedBuf((OPS_DIR / f"{source}.tflite").read_bytes(), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / name
    path.write_bytes(bytes(builder.Output()))
    return path


def _floatify(model: S.ModelT) -> None:
    """Turn the model into a float32 model (as the TFLite converter writes without quantization)."""
    for t in model.subgraphs[0].tensors:
        buf = model.buffers[t.buffer]
        if buf.data is not None and len(buf.data):
            raw = np.frombuffer(bytes(buf.data), np.int8 if t.type == S.TensorType.INT8 else np.int32)
            buf.data = np.frombuffer(raw.astype(np.float32).tobytes(), np.uint8)
        t.type, t.quantization = S.TensorType.FLOAT32, None


def _set_op(model: S.ModelT, code: int, custom: str | None = None) -> None:
    model.operatorCodes[0].builtinCode = code
    model.operatorCodes[0].deprecatedBuiltinCode = min(code, 127)
    model.operatorCodes[0].customCode = custom


def _options(model: S.ModelT):
    return model.subgraphs[0].operators[0].builtinOptions


@pytest.mark.parametrize("content", [b"", b"hello, not a model\n", b"\x00" * 64])
def test_not_a_tflite_file(tmp_path, content):
    path = tmp_path / "junk.tflite"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=r"junk\.tflite: not a TFLite file"):
        resolve_model(path)


@pytest.mark.parametrize("fraction", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_truncated_file(tmp_path, fraction):
    data = (ZOO_DIR / "resnet.tflite").read_bytes()
    path = tmp_path / "cut.tflite"
    path.write_bytes(data[: max(8, int(len(data) * fraction))])
    with pytest.raises(ModelError, match=r"cut\.tflite: truncated or corrupt"):
        resolve_model(path)


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        resolve_model(tmp_path / "absent.tflite")
    with pytest.raises(ModelError, match="unknown model 'resnet9'"):
        resolve_model("resnet9")


def test_float_model_loads_as_float32(tmp_path):
    """Issue 20: a float32 model runs TVM's float path (before, it was rejected here)."""
    path = mutated(tmp_path, "chain_conv_maxpool", _floatify, "float.tflite")
    info = resolve_model(path)
    assert info.numerics == "float32" and info.inputs[0].dtype == "float32"


def test_int8_activation_inside_a_float_model(tmp_path):
    def edit(m: S.ModelT) -> None:
        _floatify(m)
        out = m.subgraphs[0].operators[0].outputs[0]
        m.subgraphs[0].tensors[out].type = S.TensorType.INT8  # the conv's output

    path = mutated(tmp_path, "chain_conv_maxpool", edit, "mixed_float.tflite")
    with pytest.raises(ModelError, match=r"mixed_float\.tflite: unsupported op CONV_2D \(INT8 activation .* in a "
                                         r"float model.*at operator #0"):
        resolve_model(path)


def test_float_inside_int8_io(tmp_path):
    def edit(m: S.ModelT) -> None:
        m.subgraphs[0].tensors[1].type = S.TensorType.FLOAT32  # the conv weights

    path = mutated(tmp_path, "conv_s1_same", edit, "mixed.tflite")
    with pytest.raises(ModelError, match=r"mixed\.tflite: unsupported op CONV_2D \(FLOAT32 tensor .*float model.*at operator #0"):
        resolve_model(path)


def test_unsupported_op(tmp_path):
    path = mutated(tmp_path, "add", lambda m: _set_op(m, S.BuiltinOperator.L2_POOL_2D), "l2_pool.tflite")  # qmath
    with pytest.raises(UnsupportedOpError, match=r"l2_pool\.tflite: unsupported op L2_POOL_2D \(.*\) at operator #0") as err:
        resolve_model(path)
    assert err.value.op == "L2_POOL_2D" and err.value.path == path


def test_unsupported_custom_op(tmp_path):
    path = mutated(tmp_path, "softmax", lambda m: _set_op(m, S.BuiltinOperator.CUSTOM, "MyOp"), "custom.tflite")
    with pytest.raises(UnsupportedOpError, match=r"custom\.tflite: unsupported op CUSTOM:MyOp"):
        resolve_model(path)


def test_unsupported_fused_activation(tmp_path):
    def edit(m: S.ModelT) -> None:
        _options(m).fusedActivationFunction = S.ActivationFunctionType.TANH

    path = mutated(tmp_path, "conv_relu", edit, "tanh.tflite")
    with pytest.raises(UnsupportedOpError, match=r"tanh\.tflite: unsupported op CONV_2D \(fused activation TANH\)"):
        resolve_model(path)


def test_bad_side_files(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes((OPS_DIR / "fc.tflite").read_bytes())
    np.savez(tmp_path / "m.samples.npz", input_0=np.zeros((3, 1, 63), np.int8))
    with pytest.raises(ModelError, match=r"m\.samples\.npz: input for 'input' is int8\[1, 63\]"):
        resolve_model(model)


def test_bench_models_reports_the_bad_file(tmp_path):
    path = mutated(tmp_path, "add", lambda m: _set_op(m, S.BuiltinOperator.L2_POOL_2D), "l2_pool.tflite")  # qmath
    res = CliRunner().invoke(bench, ["models", str(path)])
    assert res.exit_code != 0
    assert "l2_pool.tflite" in res.output and "L2_POOL_2D" in res.output


def test_corrupt_tensor_name_is_rejected_at_load(tmp_path, repo):
    """A flipped byte in the string table gives a tensor name that is not text; it would end
    up in generated C (a compile error naming no model): rejected when the file is read."""
    from mlonmcu_lite.zoo.tflite_info import ModelError, read_tflite

    data = bytearray((repo / "models" / "ops" / "conv_1x1.tflite").read_bytes())
    at = data.index(b"input")
    data[at] = 0x07
    path = tmp_path / "bad_name.tflite"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"bad_name\.tflite: corrupt TFLite file: tensor \d+ has a name"):
        read_tflite(path)
