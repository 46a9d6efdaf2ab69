"""Issue 20: float32 and hybrid models on both ISAs, within tolerance of BUILTIN_REF."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from mlonmcu_lite.harness.float_check import FloatAgreement
from mlonmcu_lite.zoo import list_models, resolve_model
from mlonmcu_lite.zoo.registry import ZOO_ORDER
from mlonmcu_lite.zoo.tflite_info import read_tflite

from tests.helpers.e2e import run_one

# The committed float op models (float zoo models exist only once generated: not tested here).
FLOAT_MODELS = [m for m in list_models("float") if m.removesuffix("_f32") not in ZOO_ORDER]
# llvm-objdump lines: "addr: bytes\tmnemonic\toperands"; F/D mnemonics start with f (not fence),
# compressed ones with c.f; FPU CSRs are fcsr/frm/fflags.
FPU_MNEMONIC = re.compile(r"\t(f(?!ence)[a-z0-9.]+|c\.f[a-z0-9.]+)(?:\t|$)|\b(fcsr|frm|fflags)\b", re.M)


def _firmware(tmp_path):
    return next((tmp_path / "runs").glob("*/firmware")).resolve()


def test_float_family_covers_the_float_kernels():
    ops = {op for m in FLOAT_MODELS for op in resolve_model(m).ops}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "SUB", "AVERAGE_POOL_2D", "MAX_POOL_2D",
            "SOFTMAX", "RESHAPE", "CONCATENATION", "PAD", "MEAN", "LOGISTIC", "TANH", "RELU", "RELU6"} <= ops
    kinds = {resolve_model(m).numerics for m in FLOAT_MODELS}
    assert kinds == {"float32", "hybrid"}


# Every model runs on rv32gc (FPU). On rv32imc the same C calls libgcc / picolibc soft-float routines
# instead, and the compiler's C does not depend on the ISA, so rv32imc runs only the models whose linked
# routines together cover every one any float model links there (41 members of libgcc.a / picolibc's libc.a,
# from the firmware.map of all rv32imc builds on 2026-11-30): the math chain (sin, cos, exp, log, erf, tanh,
# pow, sqrt, floor, add/sub/mul/div, compares), arith (fabs), rounding (ceil, rint, nearbyint), bilinear
# resize (the 64-bit float<->int casts and shifts) and logic (unsigned->float). conv / FC / softmax also run
# on rv32imc in test_rv32imc_float_firmware_has_no_fpu_instruction. lstm_kws32_f32 (a 49-step LSTM, 35 s to
# compile) is a figure model for `bench run`, its ops run in lstm_f32.
SOFT_FLOAT_COVER = {"chain_float_math_f32", "chain_float_arith_f32", "chain_float_rounding_f32",
                    "resize_bilinear_half_f32", "chain_float_logic_f32"}
FIGURE_MODELS = {"lstm_kws32_f32"}
CASES = [(m, arch) for m in FLOAT_MODELS if m not in FIGURE_MODELS for arch in ("rv32imc", "rv32gc")
         if arch == "rv32gc" or m in SOFT_FLOAT_COVER]


def test_soft_float_cover_models_exist():
    assert SOFT_FLOAT_COVER <= set(FLOAT_MODELS)


@pytest.mark.parametrize("model, arch", CASES)
def test_float_model_within_tolerance(model, arch, tmp_path):
    info = resolve_model(model)
    row = run_one(model, tmp_path, arch=arch)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "allclose", row["validation_detail"]
    assert row["numerics"] == info.numerics and row["io_dtype"] == "float32"
    assert row["validated_samples"] == len(info.samples)
    assert row["max_abs_err"] is not None and row["max_rel_err"] < (0.05 if info.numerics == "hybrid" else 1e-4)
    if row["top1_agreement"] is not None:
        assert row["top1_agreement"] == 1.0


def test_float_tolerance_is_a_setting(tmp_path):
    """With a zero tolerance the libm's expf (one ulp off TFLite's std::exp) fails the run.

    (chain_residual_f32 is bit-identical since the firmware is built with -ffp-contract=off.)"""
    row = run_one("logistic_f32", tmp_path, arch="rv32gc", float_atol=0.0, float_rtol=0.0)
    assert row["failing"] and row["validation"] == "mismatch"
    assert "output 0 'logistic': " in row["validation_detail"] and "beyond atol 0 + rtol 0" in row["validation_detail"]
    assert ", first at [0, " in row["validation_detail"]


def test_rv32imc_float_firmware_has_no_fpu_instruction(tmp_path):
    """Soft-float on rv32imc: libgcc's routines and picolibc's (newlib) expf, no F/D opcode.
    The same model on rv32gc does use the FPU (so the scan can see one)."""
    model = "chain_conv_avgpool_fc_softmax_f32"  # conv, FC, softmax (expf)
    for arch, want_fpu in (("rv32imc", False), ("rv32gc", True)):
        out = tmp_path / arch
        row = run_one(model, out, arch=arch)
        assert not row["failing"], row["reason"]
        fw = _firmware(out)
        dump = subprocess.run(["llvm-objdump-14", "-d", "--mattr=+f,+d,+c", str(fw / "firmware.elf")],
                              capture_output=True, text=True, check=True).stdout
        found = sorted({m.group(1) or m.group(2) for m in FPU_MNEMONIC.finditer(dump)})
        assert bool(found) == want_fpu, (arch, found[:10])
        link_map = (fw / "firmware.map").read_text()
        assert "expf" in link_map and "picolibc" in link_map  # the real libm, not hand-written
        if not want_fpu:
            assert "__mulsf3" in link_map and "libgcc.a" in link_map


def test_float_model_with_an_accelerator_says_no_offloadable_layer(tmp_path):
    """Accelerators take integer layers: a float model with -p qvanilla passes and says so."""
    row = run_one("chain_dw_maxpool_f32", tmp_path, peripherals=("qvanilla",))
    assert not row["failing"], row["reason"]
    assert row["layers_offloaded"] == 0 and row["acc_jobs"] == 0
    assert "no offloadable layer: float32 model" in row["reason"]


def test_hybrid_model_keeps_int8_weights_in_the_file():
    """The generator writes the converter's dynamic-range form; the frontend dequantizes it."""
    tflite = read_tflite(resolve_model("chain_fc_fc_hyb").path)
    assert tflite.numerics == "hybrid"
    assert {t.dtype for t in tflite.tensors if t.constant and len(t.shape) == 2} == {"int8"}
    assert {t.dtype for t in tflite.tensors if not t.constant} == {"float32"}


def test_float_agreement_figures():
    ok = FloatAgreement("float32", atol=1e-5, rtol=1e-4, hybrid_tol=0.05)
    ok.add(0, 0, np.array([0.1, 0.7, 0.2], np.float32), np.array([0.1, 0.7000001, 0.2], np.float32))
    fields = ok.fields(1)
    assert fields["validation"] == "allclose" and fields["top1_agreement"] == 1.0
    assert 0 < fields["max_abs_err"] < 1e-6 and fields["validation_detail"].startswith("max |err|")
    bad = FloatAgreement("float32", atol=1e-5, rtol=1e-4, hybrid_tol=0.05)
    bad.add(0, 0, np.array([0.7, 0.1, 0.2], np.float32), np.array([0.1, 0.7, 0.2], np.float32), label="output 0 'y'")
    fields = bad.fields(1)
    assert fields["validation"] == "mismatch" and fields["top1_agreement"] == 0.0
    assert fields["validation_detail"].startswith("sample 0 output 0 'y': 2 values beyond atol 1e-05 + rtol 0.0001")
    assert fields["validation_detail"].endswith("first at [0] (got 0.699999988079071, want 0.10000000149011612)")
    hybrid = FloatAgreement("hybrid", atol=0.0, rtol=0.0, hybrid_tol=0.05)
    hybrid.add(0, 0, np.array([1.0, 2.02]), np.array([1.0, 2.0]))  # 1% of max |ref|
    assert hybrid.fields(1)["validation"] == "allclose"
    hybrid.add(1, 0, np.array([1.0, 2.2]), np.array([1.0, 2.0]))  # 10%
    assert hybrid.fields(2)["validation"] == "mismatch"


def test_quantize_inside_a_float_graph_is_rejected_at_load(tmp_path):
    """A float graph has no quantized tensor for a QUANTIZE to make: say so before compile work."""
    from tests.zoo.test_zoo_errors import _floatify, mutated
    from mlonmcu_lite.zoo import UnsupportedOpError

    path = mutated(tmp_path, "requantize", _floatify, "requantize_f32.tflite")
    with pytest.raises(UnsupportedOpError, match=r"requantize_f32\.tflite: unsupported op QUANTIZE \(in a float "
                                                 r"model: a QUANTIZE inside a float graph"):
        resolve_model(path)
