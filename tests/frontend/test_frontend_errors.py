"""Bad input stops with a FrontendError naming the op, its options and the model; edited
models (bias removed) that TFLite still accepts import bit-exact."""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.compiler.host_externs import load_host_externs
from mlonmcu_lite.frontend import FrontendError, import_tflite, importer
from mlonmcu_lite.zoo.reference import reference_outputs
from mlonmcu_lite.zoo import ModelError, resolve_model


def mutated(src: str, dst: Path, edit) -> Path:
    """Copy op model `src` to `dst` after `edit(model: S.ModelT)`."""
    model = S.ModelT.InitFromPackedBuf(resolve_model(src).path.read_bytes(), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    dst.write_bytes(bytes(builder.Output()))
    return dst


def first_op(model: S.ModelT):
    return model.subgraphs[0].operators[0]


def import_error(path: Path) -> str:
    with pytest.raises(FrontendError) as info:
        import_tflite(path)
    assert isinstance(info.value, ModelError)
    return str(info.value)


def test_concatenation_of_differently_quantized_inputs(tmp_path):
    """TFLite's int8 CONCATENATION copies bytes and refuses to load such a model: so do we."""
    def rescale_b(model):
        sub = model.subgraphs[0]
        sub.tensors[sub.inputs[1]].quantization.scale = [0.05]
    path = mutated("concat", tmp_path / "concat_q.tflite", rescale_b)
    msg = import_error(path)
    assert "CONCATENATION" in msg and "'input_b' quantized unlike the output" in msg and "concat_q.tflite" in msg
    with pytest.raises(ModelError, match="cannot load"):
        reference_outputs(path, [np.zeros(t.shape, np.int8) for t in resolve_model("concat").inputs])


def test_softmax_beta_is_rejected_not_silently_dropped(tmp_path):
    def beta(model):
        first_op(model).builtinOptions.beta = 2.0
    msg = import_error(mutated("softmax", tmp_path / "sm_beta.tflite", beta))
    assert "SOFTMAX" in msg and "beta=2.0" in msg and "sm_beta.tflite" in msg


def test_fully_connected_input_that_is_not_rows_of_k(tmp_path):
    def odd(model):
        sub = model.subgraphs[0]
        sub.tensors[first_op(model).inputs[0]].shape = [1, 2, 2, 15]
    msg = import_error(mutated("fc", tmp_path / "fc_odd.tflite", odd))
    assert "FULLY_CONNECTED" in msg and "not rows of 64 values" in msg and "fc_odd.tflite" in msg


def test_unsupported_op_names_op_index_model_and_reason(tmp_path):
    def to_l2_pool(model):  # qmath: int8 SUM runs now; TFLite has L2_POOL_2D as a float kernel only
        model.operatorCodes[0].builtinCode = S.BuiltinOperator.L2_POOL_2D
        model.operatorCodes[0].deprecatedBuiltinCode = S.BuiltinOperator.L2_POOL_2D
        first_op(model).builtinOptionsType = S.BuiltinOptions.Pool2DOptions
        first_op(model).builtinOptions = S.Pool2DOptionsT()
    msg = import_error(mutated("add", tmp_path / "l2_pool.tflite", to_l2_pool))
    assert "L2_POOL_2D" in msg and "operator #0" in msg and "l2_pool.tflite" in msg and "only in float32 models" in msg


def test_float_model(tmp_path):
    def float_input(model):
        sub = model.subgraphs[0]
        sub.tensors[sub.inputs[0]].type = S.TensorType.FLOAT32
    msg = import_error(mutated("conv_1x1", tmp_path / "float_in.tflite", float_input))
    assert "float_in.tflite" in msg and "int8" in msg


@pytest.mark.parametrize("content", [b"", b"not a flatbuffer at all", None])
def test_not_a_tflite_file(tmp_path, content):
    path = tmp_path / "bad.tflite"
    if content is not None:
        path.write_bytes(content)
    assert "bad.tflite" in import_error(path)


def test_tvm_importer_failure_is_wrapped_without_its_traceback(monkeypatch):
    def broken(_model, **_options):
        raise RuntimeError("Traceback (most recent call last):\n  ...\nOpNotImplemented: something deep")
    monkeypatch.setattr(importer, "from_tflite", broken)
    with pytest.raises(FrontendError) as info:
        import_tflite(resolve_model("conv_1x1").path)
    assert "conv_1x1.tflite" in str(info.value) and "OpNotImplemented: something deep" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("src,drop", [("dwconv_mult2_relu", lambda op: op.inputs[:2]),
                                      ("fc_relu", lambda op: [*op.inputs[:2], -1])])
def test_ops_without_bias_stay_bit_exact(tmp_path, src, drop):
    """Bias is optional for int8 DEPTHWISE_CONV_2D and FULLY_CONNECTED (not CONV_2D, which
    TFLite refuses to prepare): the folded bias is then −x_zp·Σw alone."""
    import numpy as np
    import tvm
    from tvm import relax

    from mlonmcu_lite.zoo.reference import reference_outputs_many

    def no_bias(model):
        first_op(model).inputs = drop(first_op(model))
    path = mutated(src, tmp_path / f"{src}_nobias.tflite", no_bias)
    im = import_tflite(path)
    load_host_externs()  # the kernels' C helpers (float-I/O QUANTIZE)
    vm = relax.VirtualMachine(tvm.compile(im.mod, target="llvm"), tvm.cpu())
    rng = np.random.default_rng(5)
    samples = [[rng.integers(-128, 128, t.shape).astype(np.int8) for t in im.inputs] for _ in range(8)]
    for inputs, want in zip(samples, reference_outputs_many(path, samples)):
        np.testing.assert_array_equal(vm["main"](*[tvm.runtime.tensor(x) for x in inputs]).numpy(), want[0])


def test_error_inside_a_rewrite_names_model_and_op(tmp_path):
    def bad_softmax_output(model):
        sub = model.subgraphs[0]
        sub.tensors[first_op(model).outputs[0]].quantization.scale = [1.0 / 128.0]
    path = mutated("softmax", tmp_path / "sm_q.tflite", bad_softmax_output)
    with pytest.raises(FrontendError) as info:
        import_tflite(path)
    msg = str(info.value)
    assert msg.startswith("sm_q.tflite: SOFTMAX output quantization (0.0078125, -128)") and "Traceback" not in msg
    assert info.value.__cause__ is None
