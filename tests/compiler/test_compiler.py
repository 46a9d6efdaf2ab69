"""Compiler on the host: generated C (gcc -Wall -Wextra -Werror) run through ctypes is bit-exact
with TVM's own VM on hand-written integer Relax and with TFLite goldens on the op and zoo models."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.helpers.compiler_modules import conv_chain_module
from tests.helpers.heavy_models import light_op_models
from mlonmcu_lite.compiler import CompilerSettings, compile_model
from mlonmcu_lite.compiler.hostrun import build_host_library, tvm_reference_many
from mlonmcu_lite.frontend import import_tflite
from mlonmcu_lite.zoo import resolve_model


@pytest.fixture(scope="module")
def chain_reference():
    """Hand-written module, 4 random inputs and TVM's VM outputs for them (built once)."""
    mod = conv_chain_module()
    rng = np.random.default_rng(3)
    samples = [[rng.integers(-128, 128, (1, 10, 9, 3)).astype(np.int8)] for _ in range(4)]
    return mod, samples, tvm_reference_many(mod, samples)


def _compile_and_load(im, tmp_path: Path, settings=CompilerSettings()):
    cm = compile_model(im, tmp_path / "model", settings=settings)
    return cm, build_host_library(cm, tmp_path / "model.so")


@pytest.mark.parametrize("settings", [CompilerSettings(), CompilerSettings(fold_pad=False),
                                      CompilerSettings(unroll=1, hoist_bounds=False, block_channels=1),
                                      CompilerSettings(unroll=8, block_channels=2)],
                         ids=["default", "no_fold_pad", "plain_loops", "unroll8_block2"])
def test_handwritten_module_matches_tvm_vm(tmp_path, settings, chain_reference):
    mod, samples, expected = chain_reference
    im = SimpleNamespace(name="chain", mod=mod, inputs=[], outputs=[])
    cm, host = _compile_and_load(im, tmp_path, settings)
    for sample, (want,) in zip(samples, expected):
        got, = host.run(sample)
        assert got.shape == want.shape == (1, 5)
        np.testing.assert_array_equal(got, want)
    # 4 convs + FC are recorded as layers; reshape is a view, not a kernel
    assert [layer.kind for layer in cm.layers] == ["conv2d"] * 4 + ["dense"]
    assert cm.layers[2].macs == 1 * 5 * 4 * 8 * 3 * 3 * 1  # depthwise, stride 2, pad bottom/right


def test_pad_folded_into_conv(tmp_path):
    im = SimpleNamespace(name="chain", mod=conv_chain_module(), inputs=[], outputs=[])
    folded = compile_model(im, tmp_path / "a", settings=CompilerSettings(fold_pad=True))
    separate = compile_model(im, tmp_path / "b", settings=CompilerSettings(fold_pad=False))
    assert folded.kernels < separate.kernels  # the pad kernels are gone
    assert folded.arena_bytes < separate.arena_bytes  # and so are the padded copies
    assert "pad" not in " ".join(s["func"] for s in folded.plan["steps"])


def test_generated_c_is_plain(tmp_path):
    im = SimpleNamespace(name="chain", mod=conv_chain_module(), inputs=[], outputs=[])
    cm = compile_model(im, tmp_path)
    kernels = (tmp_path / "kernels.c").read_text()
    model = (tmp_path / "model.c").read_text()
    for text in (kernels, model, (tmp_path / "kernels.h").read_text()):
        includes = re.findall(r'#include [<"]([^>"]+)[>"]', text)
        assert set(includes) <= {"stdint.h", "stdbool.h", "kernels.h", "model.h"}
        for banned in ("TVMFFI", "TVMBackend", "DLTensor", "float", "double", "TVM_DLL"):
            assert banned not in text
    # plain C signatures: const restrict inputs, restrict outputs
    signatures = re.findall(r"^void (mlml_k\w+)\(([^)]*)\) \{", kernels, re.M)
    assert len(signatures) == cm.kernels >= 5
    for _, params in signatures:
        *inputs, output = params.split(", ")
        assert all(p.startswith("const ") and "* restrict " in p for p in inputs)
        assert not output.startswith("const ") and "* restrict " in output
    # no workspace: every local array is a scalar or a block of channel accumulators
    assert set(re.findall(r"^\s+\w+ \w+\[(\d+)\];", kernels, re.M)) <= {"1", "4"}
    # weights in ROM; activations and the I/O buffers in the arena, not initialised
    assert re.search(r"static const int8_t mlml_const_\d+\[\d+\]", model)
    assert f"MLML_NOINIT uint8_t mlml_arena[{cm.arena_bytes}] __attribute__((aligned(8)));" in model
    offsets = {b["name"]: b["offset"] for b in cm.plan["buffers"]}
    assert f".set mlml_input_0, mlml_arena + {offsets['mlml_input_0']}\\n.size mlml_input_0, 270" in model
    assert f".set mlml_output_0, mlml_arena + {offsets['mlml_output_0']}\\n.size mlml_output_0, 5" in model
    assert (tmp_path / "plan.json").is_file() and cm.plan["arena_bytes"] == cm.arena_bytes


def test_io_buffers_outside_the_arena_on_request(tmp_path):
    im = SimpleNamespace(name="chain", mod=conv_chain_module(), inputs=[], outputs=[])
    inside = compile_model(im, tmp_path / "in")
    outside = compile_model(im, tmp_path / "out", CompilerSettings(io_in_arena=False))
    model = (tmp_path / "out" / "model.c").read_text()
    assert "MLML_NOINIT int8_t mlml_input_0[270] __attribute__((aligned(8)));" in model
    assert "MLML_NOINIT int8_t mlml_output_0[5] __attribute__((aligned(8)));" in model
    assert f"\nuint8_t mlml_arena[{outside.arena_bytes}]" in model and ".set" not in model
    # this chain's peak is mid-graph: the input (dead after its first reader) and the output
    # (written last) fit in bytes other tensors use there, so the 275 I/O bytes cost no RAM
    assert inside.arena_bytes == outside.arena_bytes


def test_bad_settings_rejected():
    with pytest.raises(ValueError, match="unroll"):
        CompilerSettings(unroll=0)
    with pytest.raises(ValueError, match="block_channels"):
        CompilerSettings(block_channels=0)
    with pytest.raises(ValueError, match="power of two"):
        CompilerSettings(arena_align=3)


def test_deterministic_output(tmp_path):
    im = SimpleNamespace(name="chain", mod=conv_chain_module(), inputs=[], outputs=[])
    a = compile_model(im, tmp_path / "a")
    b = compile_model(im, tmp_path / "b")
    for name in ("model.c", "model.h", "kernels.c", "plan.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert a.settings_hash() == b.settings_hash() != CompilerSettings(fold_pad=False).settings_hash()


def _check_against_goldens(name: str, tmp_path: Path):
    info = resolve_model(name)
    im = import_tflite(info.path)
    cm, host = _compile_and_load(im, tmp_path)
    assert info.samples and info.goldens
    for sample, golden in zip(info.samples, info.goldens, strict=True):
        outputs = host.run(sample)
        for got, want in zip(outputs, golden, strict=True):
            np.testing.assert_array_equal(got, np.asarray(want).reshape(got.shape))
    # arena: never more than the largest sum of simultaneously live tensors
    assert cm.arena_lower_bound <= cm.arena_bytes <= max(cm.arena_lower_bound, 8)
    return cm


@pytest.mark.parametrize("name", light_op_models())  # lstm_fc: see tests/helpers/heavy_models.py
def test_op_models_bit_exact_on_host(name, tmp_path):
    _check_against_goldens(name, tmp_path)


@pytest.mark.parametrize("name", ["resnet", "vww", "aww", "toycar"])
def test_zoo_bit_exact_on_host(name, tmp_path):
    cm = _check_against_goldens(name, tmp_path)
    assert cm.inputs[0].symbol == "mlml_input_0" and cm.outputs[0].symbol == "mlml_output_0"
    assert cm.inputs[0].nbytes == int(np.prod(cm.inputs[0].shape))


def test_widen_loads_matches_brackets():
    from mlonmcu_lite.compiler.narrow import widen_loads

    body = "x = p[a[i] + 1] * p2[j] + (p[k]);"
    assert widen_loads(body, "p") == "x = ((int64_t)p[a[i] + 1]) * p2[j] + (((int64_t)p[k]));"


def test_int64_constants_narrowed_when_they_fit(tmp_path):
    info = resolve_model("conv_s1_same")
    im = import_tflite(info.path)
    # the TIR path (the CPU micro-kernels take int32 requantization tables anyway)
    wide = compile_model(im, tmp_path / "wide", settings=CompilerSettings(narrow_constants=False, cpu_kernels=False))
    narrow = compile_model(im, tmp_path / "narrow", settings=CompilerSettings(cpu_kernels=False))
    assert narrow.weight_bytes < wide.weight_bytes
    assert "static const int64_t" in (tmp_path / "wide" / "model.c").read_text()
    kernels = (tmp_path / "narrow" / "kernels.c").read_text()
    assert "const int32_t* restrict" in kernels and "((int64_t)param_" in kernels
    host = build_host_library(narrow, tmp_path / "n.so")
    for sample, golden in zip(info.samples, info.goldens, strict=True):
        np.testing.assert_array_equal(host.run(sample)[0], np.asarray(golden[0]).reshape(host.cm.outputs[0].shape))
