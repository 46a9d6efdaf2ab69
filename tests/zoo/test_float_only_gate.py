"""floatops: ops TFLite has only as float32 kernels are admitted in float graphs, rejected in quantized ones."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.zoo import UnsupportedOpError, resolve_model
from mlonmcu_lite.zoo.reference import NO_REFERENCE_FLOAT_KERNEL, _needs_builtin_float_kernels, reference_outputs
from mlonmcu_lite.zoo.tflite_info import FLOAT_ONLY_OPS, SUPPORTED_OPS, read_tflite

from tests.zoo.test_zoo_errors import _floatify, _set_op, mutated


def _floor(model: S.ModelT) -> None:  # qmath: ABS has an int8 kernel now (frontend/qmath.py)
    _set_op(model, S.BuiltinOperator.FLOOR)


def test_float_only_op_in_a_quantized_model_is_rejected(tmp_path):
    path = mutated(tmp_path, "relu", _floor, "floor_int8.tflite")
    with pytest.raises(UnsupportedOpError, match=r"floor_int8\.tflite: unsupported op FLOOR \(only in float32 models\) "
                                                 r"at operator #0"):
        read_tflite(path)


def test_float_only_op_in_a_float_model_is_admitted(tmp_path):
    path = mutated(tmp_path, "relu", lambda m: (_floatify(m), _floor(m)), "floor_f32.tflite")
    info = read_tflite(path)
    assert info.numerics == "float32" and info.op_names == ["FLOOR"]
    assert "FLOOR" in FLOAT_ONLY_OPS and "FLOOR" not in SUPPORTED_OPS


def test_float_graph_keeps_masks_and_integers_inside():
    """Comparison masks (bool) and CAST's int32 are activations of a float graph; its I/O stays float32."""
    info = resolve_model("chain_float_logic_f32")
    assert info.numerics == "float32"
    assert {"bool", "int32", "float32"} <= {t.dtype for t in read_tflite(info.path).tensors if not t.constant}
    assert {t.dtype for t in info.inputs + info.outputs} == {"float32"}


def test_ops_without_a_reference_kernel_use_tflites_builtin_float_kernels():
    """BUILTIN_REF has no CEIL / ROUND / ELU: a float model with them takes the builtin float kernels (never a
    quantized model), and their values are TFLite's (ROUND: half to even)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    info = resolve_model("chain_float_rounding_f32")
    assert NO_REFERENCE_FLOAT_KERNEL <= set(info.ops) and _needs_builtin_float_kernels(info.path)
    with pytest.raises(ValueError, match="Registration failed"):  # the reason for the fallback still holds
        Interpreter(model_path=str(info.path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    x = np.full(info.inputs[0].shape, 2.5, np.float32)
    (out,) = reference_outputs(info.path, [x])
    np.testing.assert_allclose(out, np.float32(3 + 2 - 2.5))  # ELU(ceil 3 + round 2 - 2.5) = 2.5
    assert not _needs_builtin_float_kernels(resolve_model("relu").path)


def test_float_only_models_are_reproduced_with_every_shape():
    """The committed float-only models are what the generator writes, every tensor with TFLite's shape."""
    import sys

    from mlonmcu_lite.workspace import default_workspace

    sys.path.insert(0, str(default_workspace().models_dir))
    from tflgen.float_only_models import FLOAT_ONLY

    for name, spec in FLOAT_ONLY.items():
        info = resolve_model(name)
        assert spec.tflite() == info.path.read_bytes(), name
        assert all(t.shape for t in read_tflite(info.path).tensors if not t.constant), name


def test_layer_normalized_lstm_is_rejected_at_load(tmp_path):
    """The unrolled float LSTM has no layer norm: a model with its coefficients is named at load."""
    import flatbuffers

    model = S.ModelT.InitFromPackedBuf(resolve_model("lstm_f32").path.read_bytes(), 0)
    sub = model.subgraphs[0]
    lstm = next(o for o in sub.operators if len(o.inputs) == 24)
    lstm.inputs = [*lstm.inputs[:20], *[int(lstm.inputs[12])] * 4]  # any float [units] constant as coefficients
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "lstm_ln.tflite"
    path.write_bytes(bytes(builder.Output()))
    with pytest.raises(UnsupportedOpError, match=r"lstm_ln\.tflite: unsupported op UNIDIRECTIONAL_SEQUENCE_LSTM "
                                                 r"\(layer-normalized LSTM \(not lowered\)\) at operator #0"):
        read_tflite(path)


def test_float_matmul_macs():
    """LSTM: steps x (4 gates x units x (features + units)); BATCH_MATMUL: outputs x K (adj_x included)."""
    assert resolve_model("lstm_kws32_f32").macs == 49 * 4 * 32 * (10 + 32) + 12 * 32  # + the classifier FC
    assert resolve_model("chain_float_reduce_f32").macs == 2 * 5 * 6 * 8 + 2 * 6 * 4 * 5
