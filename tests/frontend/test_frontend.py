"""Frontend: every op-family and zoo model imports to integer-only Relax that, built on the
host by TVM, is bit-exact with ai-edge-litert's BUILTIN_REF kernels."""

from __future__ import annotations

import numpy as np
import pytest
import tvm
from tvm import relax

from mlonmcu_lite.compiler.host_externs import load_host_externs
from mlonmcu_lite.frontend import IntegerModel, import_tflite
from mlonmcu_lite.frontend.rewrite import float_leftovers
from mlonmcu_lite.harness.inputs import random_input
from mlonmcu_lite.zoo.reference import reference_outputs_many
from mlonmcu_lite.zoo import list_models, resolve_model

from tests.helpers.heavy_models import light_op_models

RANDOM_INPUTS = 16  # per op model, on top of the committed samples (FC's rounding needs a few)


def host_vm(im: IntegerModel) -> relax.VirtualMachine:
    """The integer module compiled for the host CPU by TVM's own LLVM lowering."""
    load_host_externs()  # the kernels' C helpers (float-I/O QUANTIZE)
    return relax.VirtualMachine(tvm.compile(im.mod, target="llvm"), tvm.cpu())


def mismatches(vm: relax.VirtualMachine, samples: list[list[np.ndarray]],
               expected: list[list[np.ndarray]]) -> list[int]:
    """Differing output elements per sample (all 0 = bit-exact)."""
    counts = []
    for inputs, want in zip(samples, expected, strict=True):
        result = vm["main"](*[tvm.runtime.tensor(np.ascontiguousarray(x)) for x in inputs])
        outputs = [result] if hasattr(result, "numpy") else list(result)  # several graph outputs: a tuple
        assert len(outputs) == len(want)
        count = 0
        for got, ref in zip((o.numpy() for o in outputs), want, strict=True):
            assert got.dtype == ref.dtype and got.shape == ref.shape
            count += int((got != ref).sum())
        counts.append(count)
    return counts


def random_inputs(im: IntegerModel, count: int, seed: int) -> list[list[np.ndarray]]:
    """Full-range inputs of each input's dtype (float32: the range its QUANTIZE covers)."""
    return [random_input(im.inputs, seed + k) for k in range(count)]


def check_model(name: str, random_count: int) -> IntegerModel:
    info = resolve_model(name)
    im = import_tflite(info.path)
    if all(t.dtype != "float32" for t in [*info.inputs, *info.outputs]):
        assert float_leftovers(im.mod) == []  # float-I/O models: only their boundary (import checks)
    assert im.ops == info.ops and [t.shape for t in im.inputs] == [t.shape for t in info.inputs]
    vm = host_vm(im)
    assert mismatches(vm, info.samples, info.goldens) == [0] * len(info.samples)
    if random_count:
        extra = random_inputs(im, random_count, seed=len(name))
        assert mismatches(vm, extra, reference_outputs_many(info.path, extra)) == [0] * random_count
    return im


@pytest.mark.parametrize("name", light_op_models())  # lstm_fc: see tests/helpers/heavy_models.py
def test_op_model_bit_exact(name):
    check_model(name, RANDOM_INPUTS)


@pytest.mark.parametrize("name", list_models("zoo"))
def test_zoo_model_bit_exact(name):
    check_model(name, 0)


def bindings(im: IntegerModel) -> list[tuple[str, relax.Call]]:
    return [(str(b.var.name), b.value) for block in im.mod["main"].body.blocks for b in block.bindings
            if isinstance(b.value, relax.Call)]


def op_name(call) -> str:
    return getattr(call.op, "name", "")


def dtype(expr) -> str:
    return str(expr.ty.dtype)


@pytest.mark.parametrize("name,padded", [("conv_s2_same", True), ("conv_s1_valid", False),
                                         ("dwconv_mult2_relu", True)])
def test_conv_chain_has_the_canonical_shape(name, padded):
    """[pad(x, x_zp)] → conv2d(int8, int8 const, int32, NHWC/OHWI) → add(int32 const) → …"""
    info = resolve_model(name)
    im = import_tflite(info.path)
    calls = bindings(im)
    names = [op_name(c) for _, c in calls]
    conv = calls[names.index("relax.nn.conv2d")][1]
    assert (conv.attrs.data_layout, conv.attrs.kernel_layout, conv.attrs.out_dtype) == ("NHWC", "OHWI", "int32")
    assert [int(p) for p in conv.attrs.padding] == [0, 0, 0, 0]
    assert dtype(conv.args[0]) == "int8" and dtype(conv.args[1]) == "int8"
    assert isinstance(conv.args[1], tvm.ir.expr.GenericConst)
    weights = conv.args[1].value.numpy()
    assert weights.shape[0] == info.outputs[0].shape[-1]  # O first
    bias_add = calls[names.index("relax.nn.conv2d") + 1][1]
    assert op_name(bias_add) == "relax.add" and dtype(bias_add.args[1]) == "int32"
    assert "relax.nn.pad" in names if padded else "relax.nn.pad" not in names
    if padded:
        pad = calls[names.index("relax.nn.pad")][1]
        assert pad.attrs.pad_value == info.inputs[0].zero_point
        assert names.index("relax.nn.pad") < names.index("relax.nn.conv2d")
    if name.startswith("dwconv"):
        assert int(conv.attrs.groups) == info.inputs[0].shape[-1] and weights.shape[-1] == 1


def test_fully_connected_is_int8_matmul_with_folded_bias():
    im = import_tflite(resolve_model("fc").path)
    calls = [c for _, c in bindings(im)]
    mm = next(c for c in calls if op_name(c) == "relax.matmul")
    assert dtype(mm.args[0]) == dtype(mm.args[1]) == "int8" and dtype(mm) == "int32"
    assert op_name(calls[calls.index(mm) + 1]) == "relax.add"


def test_qdq_import_has_floats_and_rewrite_removes_them():
    """The float scan finds the importer's QDQ floats, so its empty result above means something."""
    import tflite
    from tvm.relax.frontend.tflite import from_tflite

    path = resolve_model("chain_conv_avgpool_fc_softmax").path
    qdq = from_tflite(tflite.Model.GetRootAsModel(path.read_bytes(), 0))
    assert any("dequantize" in f for f in float_leftovers(qdq))
    assert any("softmax" in f for f in float_leftovers(qdq))
    assert float_leftovers(import_tflite(path).mod) == []
