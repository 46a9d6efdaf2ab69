"""Quantized math ops (frontend/qmath.py): each bit-exact against ai-edge-litert BUILTIN_REF on
the host with full-range random inputs, plus the uint8 / int16 variants TFLite has kernels for
(the committed chains chain_fc_l2norm and chain_qmath run as firmware in test_e2e_runs)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.frontend import FrontendError, import_tflite
from mlonmcu_lite.frontend import intops as fx
from mlonmcu_lite.frontend.fixedpoint import INT32_MAX
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import resolve_model

from tests.helpers.variants import (assert_bit_exact_on_host, edit_in_place, generated, output_scale, random_inputs,
                                   variant)

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.qmath_models import QMATH_SINGLE  # noqa: E402

ELEMENTWISE = [name for name in QMATH_SINGLE if name != "div"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_qmath_op_bit_exact(name, tmp_path):
    assert_bit_exact_on_host(generated(QMATH_SINGLE[name], tmp_path), count=4)


def _div_samples(path, count: int) -> list[list[np.ndarray]]:
    """Full-range inputs; a divisor at its zero point (the reference refuses it) moved off it."""
    divisor = resolve_model(path).inputs[1]
    samples = random_inputs(path, count, seed=7)
    for _, b in samples:
        b[b == divisor.zero_point] = divisor.zero_point + 1
    return samples


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_div_bit_exact(dtype, tmp_path):
    path = generated(QMATH_SINGLE["div"], tmp_path)
    path = path if dtype == "int8" else variant(path, dtype, tmp_path)
    assert_bit_exact_on_host(path, samples=_div_samples(path, 6))


def _constant_divisor(model) -> None:
    """input_b becomes a constant (DIV by a tensor of the model, as converters write x / c)."""
    sub = model.subgraphs[0]
    tensor = sub.tensors[sub.inputs[1]]
    zp = tensor.quantization.zeroPoint[0]
    values = np.clip([zp + d for d in (3, -5, 17, 1, -1, 100, -60, 9)], -128, 127).astype(np.int8)
    buffer = S.BufferT()
    buffer.data = np.frombuffer(values.tobytes(), np.uint8)
    model.buffers.append(buffer)
    tensor.buffer = len(model.buffers) - 1
    sub.inputs = np.array(sub.inputs[:1], np.int32)


def test_div_by_a_constant_bit_exact(tmp_path):
    assert_bit_exact_on_host(edit_in_place(generated(QMATH_SINGLE["div"], tmp_path), _constant_divisor), count=4)


def _output_quantized_like_input(model) -> None:
    sub = model.subgraphs[0]
    x, out = sub.tensors[sub.inputs[0]], sub.tensors[sub.outputs[0]]
    out.quantization.scale, out.quantization.zeroPoint = list(x.quantization.scale), list(x.quantization.zeroPoint)


def test_int16_sum_bit_exact_and_a_rescaling_one_rejected(tmp_path):
    """TFLite's int16 SUM adds raw values (saturating; golden from the builtin kernel, the reference one is
    broken) and refuses an output quantized unlike its input."""
    path = generated(QMATH_SINGLE["sum_hw"], tmp_path)
    assert_bit_exact_on_host(variant(path, "int16", tmp_path, _output_quantized_like_input))
    with pytest.raises(FrontendError, match=r"SUM with an output quantized unlike its input .*\(operator #0"):
        import_tflite(variant(path, "int16", tmp_path))


def test_l2_normalization_with_a_fused_activation_is_rejected(tmp_path):
    def relu(model):
        model.subgraphs[0].operators[0].builtinOptions.fusedActivationFunction = S.ActivationFunctionType.RELU

    path = edit_in_place(generated(QMATH_SINGLE["l2_normalization"], tmp_path), relu)
    with pytest.raises(FrontendError, match=r"L2_NORMALIZATION with fused activation RELU .* \(operator #0"):
        import_tflite(path)


@pytest.mark.parametrize("name,dtype", [("log_softmax", "uint8"), ("abs", "int16")])
def test_qmath_variant_bit_exact(name, dtype, tmp_path):
    assert_bit_exact_on_host(variant(generated(QMATH_SINGLE[name], tmp_path), dtype, tmp_path))


@pytest.mark.parametrize("name,op,dtype", [("neg", "NEG", "int16"), ("l2_normalization", "L2_NORMALIZATION", "uint8"),
                                           ("abs", "ABS", "uint8")])
def test_unverified_variant_is_rejected_naming_the_op(name, op, dtype, tmp_path):
    """TFLite Micro has no int16 NEG, no uint8 L2_NORMALIZATION (TFLite's differs in rounding), no uint8 ABS."""
    path = variant(generated(QMATH_SINGLE[name], tmp_path), dtype, tmp_path)
    with pytest.raises(FrontendError, match=rf"{op} with {dtype} tensors .*\(operator #0\b"):
        import_tflite(path)


def test_inv_sqrt_multiplier_matches_a_float_inverse_square_root():
    """GetInvSqrtQuantizedMultiplierExp: multiplier·2^shift / 2^31 ≈ 1/sqrt(x) (TFLite's contract)."""
    x = np.array([2, 3, 17, 1000, 65025, 65025 * 300, (1 << 29) + 5], np.int64)
    mult, shift = fx.inv_sqrt_multiplier_exp(fx.NUMPY, x, int(x.max()))
    approx = mult.astype(np.float64) * np.exp2(shift.astype(np.float64) - 31)
    np.testing.assert_allclose(approx, 1 / np.sqrt(x), rtol=1e-5)
    assert fx.inv_sqrt_multiplier_exp(fx.NUMPY, np.array([0, 1]), 1)[0].tolist() == [INT32_MAX, INT32_MAX]


def test_log_of_the_fixed_point_sum_matches_float_log():
    """log_x_for_x_greater_than_or_equal_to_1<5>(Q12.19) within a few Q5.26 ulps of log(x)."""
    raw = np.array([1 << 19, 3 << 19, 1234567, 1 << 30], np.int64)
    got = fx.log_x_ge_1(fx.NUMPY, raw, input_bits=12, output_bits=5) / 2.0**26
    np.testing.assert_allclose(got, np.log(raw / 2.0**19), atol=1e-6)


def test_l2_normalization_with_another_output_scale_is_rejected(tmp_path):
    path = edit_in_place(generated(QMATH_SINGLE["l2_normalization"], tmp_path), output_scale(0.01))
    with pytest.raises(FrontendError, match=r"L2_NORMALIZATION output quantization .* is not \(1/128, 0\)"):
        import_tflite(path)


def test_int8_sum_golden_comes_from_the_builtin_kernel_because_the_reference_is_broken(tmp_path):
    """ai-edge-litert 2.3's BUILTIN_REF int8 SUM still reads int8 as uint8 (else the fallback must go), so
    int8 SUM models take the builtin kernels and say so; other quantized models keep BUILTIN_REF."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from mlonmcu_lite.zoo.reference import golden_note, reference_outputs

    path = generated(QMATH_SINGLE["sum_hw"], tmp_path)
    x = np.full(resolve_model(path).inputs[0].shape, -3, np.int8)
    ref = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ref.allocate_tensors()
    ref.set_tensor(ref.get_input_details()[0]["index"], x)
    ref.invoke()
    broken = ref.get_tensor(ref.get_output_details()[0]["index"])
    (golden,) = reference_outputs(path, [x])
    assert not np.array_equal(broken, golden)
    assert golden_note(path) == ("golden from ai-edge-litert's builtin kernels "
                                 "(BUILTIN_REF's int8 SUM reads int8 data as uint8)")
    assert golden_note(generated(QMATH_SINGLE["abs"], tmp_path)) is None


@pytest.mark.parametrize("name,why", [("sum_c", "reads int8 data as uint8"), ("elu", "no ELU kernel")])
def test_builtin_golden_op_runs_exact_on_the_vp_and_names_its_golden(name, why, tmp_path):
    from tests.helpers.e2e import run_one

    row = run_one(str(generated(QMATH_SINGLE[name], tmp_path)), tmp_path)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["validated_samples"] >= 1
    assert "golden from ai-edge-litert's builtin kernels" in row["validation_detail"] and why in row["validation_detail"]


def test_int8_elu_golden_needs_the_builtin_kernel_at_version_1(tmp_path):
    """ai-edge-litert 2.3 registers no reference ELU and a builtin ELU of version 1 only (else drop the patch)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    path = generated(QMATH_SINGLE["elu"], tmp_path)
    for resolver in (OpResolverType.BUILTIN_REF, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES):
        with pytest.raises(ValueError, match="ELU' version '2'"):
            Interpreter(model_path=str(path), experimental_op_resolver_type=resolver)


def test_int8_add_n_stays_rejected_with_the_reason(tmp_path):
    from mlonmcu_lite.zoo import UnsupportedOpError

    def to_add_n(model):
        model.operatorCodes[0].builtinCode = model.operatorCodes[0].deprecatedBuiltinCode = S.BuiltinOperator.ADD_N

    path = edit_in_place(generated(QMATH_SINGLE["abs"], tmp_path), to_add_n)
    with pytest.raises(UnsupportedOpError, match=r"ADD_N \(ai-edge-litert 2.3 has no int8 ADD_N kernel.*operator #0"):
        resolve_model(path)


def test_intops_relax_backend_equals_the_numpy_backend():
    """Each routine is written once; the Relax build (generated code) computes what numpy computes."""
    import tvm
    from tvm import relax
    from tvm.relax import op as R

    values = np.array([0, 1, 2, 3, 17, 255, 4096, 65025 * 40, (1 << 29) + 5, (1 << 30) + 12345], np.int64)
    routines = {
        "inv_sqrt": lambda o, x: fx.inv_sqrt_multiplier_exp(o, x, 1 << 31),
        "log": lambda o, x: (fx.log_x_ge_1(o, o.maximum(x, 1), input_bits=12, output_bits=5),),
        "reciprocal": lambda o, x: fx.reciprocal(o, o.minimum(x, 1 << 30), 31),
        "clsb_and_unchecked_shift": lambda o, x: (fx.count_leading_sign_bits(o, o.sub(0, o.minimum(x, 1 << 30))),
                                                  fx.rounding_divide_by_pot_unchecked(o, o.sub(0, x), o.band(x, 63))),
    }
    bb = relax.BlockBuilder()  # one module for all routines: one compile
    x = relax.Var("x", relax.TensorType(values.shape, "int64"))
    with bb.function("main", [x]):
        outs = [v for routine in routines.values() for v in routine(fx.RELAX, x)]
        bb.emit_func_output(relax.Tuple([bb.normalize(R.astype(v, "int64")) for v in outs]))
    vm = relax.VirtualMachine(tvm.compile(bb.get(), target="llvm"), tvm.cpu())
    got = [g.numpy() for g in vm["main"](tvm.runtime.tensor(values))]
    want = [np.broadcast_to(w, values.shape) for routine in routines.values() for w in routine(fx.NUMPY, values)]
    assert len(got) == len(want) == 7
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
