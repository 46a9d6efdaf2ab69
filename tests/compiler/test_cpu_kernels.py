"""CPU micro-kernels: the frontend's conv/FC/requantize chains compiled to the specialised C
kernels are bit-exact with TVM's VM running the frontend's int64 Relax, for geometries that
exercise every code path (im2col byte and word copies, 1x1 in place, channel and pixel
tails, depthwise interior/border, left and right shifts, single rounding)."""

from __future__ import annotations

import re
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest
from tvm import relax

from mlonmcu_lite.compiler import CompilerSettings, compile_model
from mlonmcu_lite.compiler.hostrun import build_host_library, tvm_reference_many
from mlonmcu_lite.firmware.toolchain import base_cflags, find_toolchain, load_arch
from mlonmcu_lite.frontend.fixedpoint import Multipliers
from mlonmcu_lite.frontend.requant import Rounding, requantize
from mlonmcu_lite.zoo import resolve_model


def _multipliers(rng, n: int, shifts: tuple[int, int]) -> Multipliers:
    mult = rng.integers(1 << 30, (1 << 31) - 1, n)
    shift = rng.integers(shifts[0], shifts[1] + 1, n)
    return Multipliers(tuple(int(m) for m in mult), tuple(int(s) for s in shift))


def _conv_module(rng, shape, oc, k, stride, pad, groups, shifts, zp_in=-7, bias=9000):
    n, h, w, c = shape
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(shape, "int8"))
    with bb.function("main", [x]):
        with bb.dataflow():
            data = x
            if any(pad):
                data = bb.emit(relax.op.nn.pad(x, (0, 0, pad[0], pad[2], pad[1], pad[3], 0, 0),
                                               pad_value=float(zp_in)))
            weight = rng.integers(-127, 128, (oc, k[0], k[1], c // groups)).astype(np.int8)
            conv = bb.emit(relax.op.nn.conv2d(data, relax.const(weight), strides=stride, groups=groups,
                                              data_layout="NHWC", kernel_layout="OHWI", out_dtype="int32"))
            acc = bb.emit(relax.op.add(conv, relax.const(rng.integers(-bias, bias, oc).astype(np.int32))))
            out = requantize(acc, _multipliers(rng, oc, shifts), 5, (-100, 120), Rounding.DOUBLE)
            out = bb.emit_output(out)
        bb.emit_func_output(out)
    return bb.get()


def _fc_module(rng, m, k, n, shift, channels=1):
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((m, k), "int8"))
    with bb.function("main", [x]):
        with bb.dataflow():
            w = rng.integers(-127, 128, (k, n)).astype(np.int8)
            mm = bb.emit(relax.op.matmul(x, relax.const(w), out_dtype="int32"))
            acc = bb.emit(relax.op.add(mm, relax.const(rng.integers(-900, 900, n).astype(np.int32))))
            shifts = (shift, shift) if channels == 1 else (shift - 6, shift)
            out = bb.emit_output(requantize(acc, _multipliers(rng, channels, shifts), -3, (-128, 127),
                                            Rounding.SINGLE))
        bb.emit_func_output(out)
    return bb.get()


CASES = {
    # name: (builder args) -- shape, oc, kernel, stride, pad (t, l, b, r), groups, shift range
    "conv3x3_c3_bytes": ((1, 7, 6, 3), 8, (3, 3), (1, 1), (1, 1, 1, 1), 1, (-9, -1)),
    "conv3x3_c8_words_oc_tail": ((1, 6, 5, 8), 6, (3, 3), (1, 1), (1, 1, 1, 1), 1, (-8, 1)),
    "conv5x3_s2_asym": ((1, 9, 8, 4), 12, (5, 3), (2, 2), (2, 1, 2, 0), 1, (-12, -2)),
    "conv1x1_in_place": ((1, 3, 5, 16), 8, (1, 1), (1, 1), (0, 0, 0, 0), 1, (-10, 2)),
    "conv1x1_few_pixels": ((1, 1, 3, 8), 4, (1, 1), (1, 1), (0, 0, 0, 0), 1, (-6, 0)),
    "conv1x1_s2": ((1, 6, 6, 8), 8, (1, 1), (2, 2), (0, 0, 0, 0), 1, (-6, 0)),
    "conv1x1_one_filter": ((1, 4, 1, 3), 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, (-6, 0)),  # no full 4-channel block
    "dw3x3_same": ((1, 6, 5, 8), 8, (3, 3), (1, 1), (1, 1, 1, 1), 8, (-9, 1)),
    "dw3x3_s2_bottom_right": ((1, 7, 7, 4), 4, (3, 3), (2, 2), (0, 0, 1, 1), 4, (-7, 0)),
    "dw5x1_valid": ((1, 8, 3, 4), 4, (5, 1), (1, 1), (0, 0, 0, 0), 4, (-7, -1)),
    # every output pixel is a border pixel; taps cut on both sides at once
    "dw5x5_s2_all_border": ((1, 4, 3, 4), 4, (5, 5), (2, 2), (2, 2, 2, 2), 4, (-8, 0)),
    "dw3x3_wide_pad": ((1, 3, 4, 8), 8, (3, 3), (1, 1), (2, 1, 2, 3), 8, (-6, 1)),
    # right shift 1: half the products land on a rounding tie (fast requantization form)
    "conv1x1_r1_ties": ((1, 4, 4, 8), 8, (1, 1), (1, 1), (0, 0, 0, 0), 1, (-1, -1)),
    "dw3x3_r1_ties": ((1, 5, 5, 4), 4, (3, 3), (1, 1), (1, 1, 1, 1), 4, (-1, -1)),
    # interiors of >= 4 columns run two output pixels per step (odd and even counts, strides 1 and 2)
    "dw3x3_pairs_odd": ((1, 4, 11, 4), 4, (3, 3), (1, 1), (1, 1, 1, 1), 4, (-9, -1)),
    "dw3x3_s2_pairs": ((1, 5, 12, 8), 8, (3, 3), (2, 2), (0, 0, 1, 1), 8, (-6, -1)),
    "dw5x5_s2_pairs": ((1, 9, 16, 4), 4, (5, 5), (2, 2), (2, 2, 2, 2), 4, (-8, 1)),
    # a map smaller than the kernel (YOLO-tiny's last 2x2 maps): no receptive field lies inside it
    "tiny_map_conv3x3": ((1, 2, 2, 8), 8, (3, 3), (1, 1), (1, 1, 1, 1), 1, (-8, -1)),
}
# cases drawing a left shift or a zero right shift somewhere: the general requantization
# (every case whose shift range is negative takes the short one, mlml_srdhm2, proven exact)
SLOW = {"conv3x3_c8_words_oc_tail", "conv1x1_in_place", "dw3x3_wide_pad", "dw3x3_s2_bottom_right"}


def _check(mod, samples, tmp_path) -> str:
    im = SimpleNamespace(name="k", mod=mod, inputs=[], outputs=[])
    cm = compile_model(im, tmp_path / "model")
    host = build_host_library(cm, tmp_path / "model.so")
    for sample, want in zip(samples, tvm_reference_many(mod, samples)):
        np.testing.assert_array_equal(host.run(sample)[0], want[0])
    return (tmp_path / "model" / "model.c").read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_conv_kernels_bit_exact_with_frontend_relax(case, tmp_path):
    rng = np.random.default_rng(sorted(CASES).index(case))
    shape, *rest = CASES[case]
    mod = _conv_module(rng, shape, *rest)
    samples = [[rng.integers(-128, 128, shape).astype(np.int8)] for _ in range(3)]
    model_c = _check(mod, samples, tmp_path)
    kind = "dw" if rest[4] > 1 else "conv"
    assert re.search(rf"mlml_cpu_{kind}_\w+\(", model_c), "the chain did not become a CPU micro-kernel"
    kernels = (tmp_path / "model" / "cpu_kernels.c").read_text().split("mlml_clamp8", 1)[1]
    if rest[5][1] < 0 or case in SLOW:
        assert ("mlml_srdhm2(" in kernels) == (case not in SLOW)
    # 32-bit requantization: no int64 outside the mul/mulh helper
    assert "int64_t" not in (tmp_path / "model" / "cpu_kernels.c").read_text().split("mlml_clamp8", 1)[1]
    # the firmware's compiler takes it with -Werror (clang also flags tautological bounds tests)
    tc, arch = find_toolchain(), load_arch("rv32imc")
    flags = base_cflags(arch, "-O2", [tmp_path / "model"], {}, True, ())
    proc = subprocess.run([str(tc.clang), *flags, "-fsyntax-only", str(tmp_path / "model" / "cpu_kernels.c")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("m,k,n,shift", [(1, 37, 19, -3), (2, 16, 8, 0), (1, 9, 3, 1), (1, 64, 40, -1), (1, 24, 17, -20)])
def test_fc_kernel_single_rounding_bit_exact(m, k, n, shift, tmp_path):
    rng = np.random.default_rng(k)
    mod = _fc_module(rng, m, k, n, shift)
    samples = [[rng.integers(-128, 128, (m, k)).astype(np.int8)] for _ in range(3)]
    assert re.search(r"mlml_cpu_fc_\w+\(", _check(mod, samples, tmp_path))


@pytest.mark.parametrize("m,k,n,shift,kernel", [(1, 64, 40, -2, True), (2, 24, 17, -7, True), (1, 16, 8, 0, False)])
def test_fc_per_channel_single_rounding(m, k, n, shift, kernel, tmp_path):
    """A per-channel FULLY_CONNECTED (newer converters): its single rounding per channel runs
    in the kernel's table form when every total shift is >= 33, else TVM's kernel; both exact."""
    rng = np.random.default_rng(n)
    mod = _fc_module(rng, m, k, n, shift, channels=n)
    samples = [[rng.integers(-128, 128, (m, k)).astype(np.int8)] for _ in range(3)]
    assert bool(re.search(r"mlml_cpu_fc_\w+\(", _check(mod, samples, tmp_path))) == kernel


def test_identical_layers_share_one_kernel(tmp_path):
    """toycar's repeated 128->128 FC layers call one function with different weights."""
    from mlonmcu_lite.frontend import import_tflite

    cm = compile_model(import_tflite(resolve_model("toycar").path), tmp_path)
    calls = re.findall(r"^\s+(mlml_cpu_fc_\w+)\(", (tmp_path / "model.c").read_text(), re.M)
    assert len(calls) == 10 and len(set(calls)) < len(calls) - 4
    assert (tmp_path / "cpu_kernels.c").read_text().count("\nvoid mlml_cpu_fc_") == len(set(calls))


def test_standalone_add_in_place(tmp_path):
    """An ADD of two model inputs' derivatives that no conv can take: its own int8 kernel."""
    info = resolve_model("add")
    from mlonmcu_lite.frontend import import_tflite

    cm = compile_model(import_tflite(info.path), tmp_path)
    assert any(s["func"].startswith("mlml_cpu_add_") for s in cm.plan["steps"])
    host = build_host_library(cm, tmp_path / "m.so")
    for sample, golden in zip(info.samples, info.goldens, strict=True):
        np.testing.assert_array_equal(host.run(sample)[0], np.asarray(golden[0]).reshape(cm.outputs[0].shape))


def test_cpu_kernels_can_be_switched_off(tmp_path):
    rng = np.random.default_rng(0)
    mod = _conv_module(rng, (1, 5, 5, 4), 4, (3, 3), (1, 1), (1, 1, 1, 1), 1, (-5, 0))
    im = SimpleNamespace(name="k", mod=mod, inputs=[], outputs=[])
    cm = compile_model(im, tmp_path, settings=CompilerSettings(cpu_kernels=False))
    assert not (tmp_path / "cpu_kernels.c").exists() and cm.plan["cpu_kernels"] == {}


def test_residual_add_is_32_bit_and_in_place(tmp_path):
    """resnet's ADDs run in the epilogue of the conv producing one input and write over the
    other input (which dies there): no int64 tensor, no third live activation."""
    from mlonmcu_lite.frontend import import_tflite

    cm = compile_model(import_tflite(resolve_model("resnet").path), tmp_path)
    fused = [s for s in cm.plan["steps"] if s["func"].startswith("mlml_cpu_conv_") and len(s["inputs"]) == 6]
    assert len(fused) == 3
    for step in fused:
        assert step["outputs"][0] == step["inputs"][5]
    assert not any(s["func"].startswith("mlml_cpu_add_") for s in cm.plan["steps"])
    assert cm.arena_bytes <= 2 * 32 * 32 * 16  # two 32x32x16 activations at the peak
    model_c = (tmp_path / "model.c").read_text()
    layers = model_c.split("void mlml_model_run", 1)[1].split("mlml_cpu_fc", 1)[0]
    assert "int64_t*" not in layers  # no int64 tensor between the conv/add layers (softmax aside)


def test_fast_requant_near_the_proven_bound(tmp_path):
    """Accumulators up to ~2^30 (bias) with r = 1: the nudged sums come close to int32's
    limit and must not wrap; the proof still holds, so the short form runs."""
    rng = np.random.default_rng(7)
    mod = _conv_module(rng, (1, 3, 3, 4), 4, (1, 1), (1, 1), (0, 0, 0, 0), 1, (-1, -1), bias=1 << 30)
    samples = [[rng.integers(-128, 128, (1, 3, 3, 4)).astype(np.int8)] for _ in range(3)]
    _check(mod, samples, tmp_path)
    assert "mlml_srdhm2(" in (tmp_path / "model" / "cpu_kernels.c").read_text().split("mlml_clamp8", 1)[1]


def test_fast_requant_proof_and_tables():
    from mlonmcu_lite.compiler.cpu_kernels import fast_requant, fast_requant_tables

    m = np.array([1 << 30, (1 << 31) - 1])
    assert fast_requant(m, np.array([-1, -12]), -128, np.array([1000, 1000]))
    assert not fast_requant(m, np.array([0, -12]), 0, np.array([1000, 1000]))  # r = 0: nothing to round
    assert not fast_requant(m, np.array([-1, 2]), 0, np.array([1000, 1000]))  # a left shift
    assert not fast_requant(m, np.array([-1, -20]), 3000, np.array([1000, 1000]))  # zp*2^r overflows
    assert not fast_requant(m, np.array([-1, -1]), 0, np.array([(1 << 31) - 3, 0]))  # |acc| too large
    m2, table = fast_requant_tables(m, np.array([-1, -12]), 5, 2)
    assert m2.dtype == np.int32 and list(m2.view(np.uint32)) == [1 << 31, (1 << 32) - 2]
    assert list(table) == [1, 12, 1 + 5 * 2, (1 << 11) + 5 * (1 << 12)]


def _mul_module(a_shape, b_shape, zps, multiplier, zp_out, act):
    from mlonmcu_lite.frontend.requant import const, rescale, to_dtype

    bb = relax.BlockBuilder()
    a = relax.Var("a", relax.TensorType(a_shape, "int8"))
    b = relax.Var("b", relax.TensorType(b_shape, "int8"))
    with bb.function("main", [a, b]):
        with bb.dataflow():
            centred = [relax.op.subtract(relax.op.astype(v, "int32"), const(z, "int32")) for v, z in zip((a, b), zps)]
            product = relax.op.multiply(*centred)
            scaled = rescale(relax.op.astype(product, "int64"), multiplier, Rounding.DOUBLE)
            out = bb.emit_output(to_dtype(scaled, zp_out, *act))
        bb.emit_func_output(out)
    return bb.get()


@pytest.mark.parametrize("a_shape,b_shape,mult", [
    ((1, 4, 3, 12), (1, 1, 1, 12), (1518500250, -9)),  # squeeze-excite gate, short rescale
    ((1, 1, 1, 8), (1, 5, 2, 8), (1518500250, -3)),  # gate first
    ((1, 3, 4, 6), (1, 3, 4, 6), (1073741824, 2)),  # same shape, left shift: general rescale
])
def test_mul_kernel_bit_exact(a_shape, b_shape, mult, tmp_path):
    """TFLite int8 MUL (squeeze-excite's broadcast gate or same shapes) runs as one CPU kernel
    reading the per-channel operand once per channel; exact against the frontend's Relax."""
    rng = np.random.default_rng(len(a_shape) + a_shape[-1])
    mod = _mul_module(a_shape, b_shape, (-3, 11), Multipliers((mult[0],), (mult[1],)), -5, (-128, 127))
    samples = [[rng.integers(-128, 128, a_shape).astype(np.int8), rng.integers(-128, 128, b_shape).astype(np.int8)]
               for _ in range(3)]
    kernels = _check(mod, samples, tmp_path)
    assert re.search(r"mlml_cpu_mul_\w+\(", kernels)
    assert ("mlml_srdhm2(" in (tmp_path / "model" / "cpu_kernels.c").read_text().split("mlml_clamp8", 1)[1]) \
        == (mult[1] < 0)


def test_fast_requant_per_tensor_shift_with_per_channel_bounds():
    """A legacy uint8 layer has one multiplier/shift but an accumulator bound per channel (found by
    the full-size mobilenet_v1_1.0_224_quant): every channel's bound decides."""
    from mlonmcu_lite.compiler.cpu_kernels import fast_requant

    one = (np.array([1 << 30]), np.array([-8]))
    assert fast_requant(*one, 0, np.full(32, 1000))
    assert not fast_requant(*one, 0, np.array([1000] * 31 + [(1 << 31) - 10]))
