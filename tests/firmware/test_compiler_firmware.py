"""Compiled models as RV32 firmware on the VP: bit-exact with TFLite, no float symbols linked,
and CPU + QVanilla identical to CPU only."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

from mlonmcu_lite.compiler import compile_model
from mlonmcu_lite.firmware import build_model_firmware, with_drivers
from mlonmcu_lite.frontend import import_tflite
from mlonmcu_lite.vp import VirtualPlatform
from mlonmcu_lite.zoo import resolve_model

# soft-float helpers (libgcc/compiler-rt names) and libm entry points
FLOAT_SYMBOL = re.compile(r"^(__(add|sub|mul|div|neg|fix|fixuns|float|floatun|extend|trunc|cmp|eq|ne|lt|le|gt|ge|"
                          r"unord)[sdt]f\d?|(exp|log|pow|sqrt|tanh|floor|ceil|round)f?)$")


def _symbols(elf: Path) -> set[str]:
    with open(elf, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        return {s.name for s in table.iter_symbols()}


def _run_on_vp(name: str, tmp_path: Path, arch: str, backends=()):
    info = resolve_model(name)
    cm = compile_model(import_tflite(info.path), tmp_path / "model", backends=list(backends))
    out = tmp_path / f"fw_{arch}"
    sources, include_dirs = with_drivers([*cm.sources, *cm.backend_sources], cm.include_dirs, backends, out)
    fw = build_model_firmware(sources, include_dirs, out, arch=arch)
    assert not {s for s in _symbols(fw.elf) if FLOAT_SYMBOL.match(s)}
    assert ("mlml_arena" in _symbols(fw.elf)) == (cm.arena_bytes > 0)  # unused arena is gc-ed
    results = []
    for sample, golden in zip(info.samples, info.goldens, strict=True):
        vp = VirtualPlatform(fw.elf, devices=[b.device() for b in backends])
        for buf, array in zip(cm.inputs, sample, strict=True):
            vp.write_symbol(buf.symbol, np.ascontiguousarray(array, dtype=buf.dtype).tobytes())
        result = vp.run()
        for buf, want in zip(cm.outputs, golden, strict=True):
            got = np.frombuffer(vp.read_symbol(buf.symbol, buf.nbytes), dtype=buf.dtype).reshape(buf.shape)
            np.testing.assert_array_equal(got, np.asarray(want).reshape(buf.shape))
        results.append(result)
    return cm, fw, results


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
@pytest.mark.parametrize("name", ["toycar", "aww", "chain_conv_avgpool_fc_softmax", "conv_5x3_s2_same",
                                  "dwconv_s2_same_relu6", "maxpool_3x3_s2_same", "avgpool_3x3_s1_same"])
def test_firmware_bit_exact(name, arch, tmp_path):
    cm, fw, results = _run_on_vp(name, tmp_path, arch)
    assert fw.ram_bytes >= cm.arena_bytes
    assert results[0].run_instructions > 0


@pytest.mark.slow  # ~25 s: two 12.5M/7.5M-MAC models, 3 samples, 2 ISAs
@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
@pytest.mark.parametrize("name", ["resnet", "vww"])
def test_firmware_bit_exact_large(name, arch, tmp_path):
    _run_on_vp(name, tmp_path, arch)


def _qvanilla():
    from mlonmcu_lite.peripheral.loader import load_backend

    return load_backend("qvanilla")


@pytest.mark.parametrize("name", ["conv_5x3_s2_same", "chain_residual", "aww"])
def test_qvanilla_offload_bit_exact(name, tmp_path):
    cpu_cm, _, cpu = _run_on_vp(name, tmp_path / "cpu", "rv32imc")
    cm, _, acc = _run_on_vp(name, tmp_path / "acc", "rv32imc", backends=[_qvanilla()])
    offloaded = [layer for layer in cm.layers if layer.offloaded_to]
    assert offloaded and all(layer.offloaded_to == "qvanilla" for layer in offloaded)
    assert acc[0].run_instructions < cpu[0].run_instructions
    calls = re.findall(r"\bqvanilla_conv2d(?:_rq|_res)?\(", (cm.out_dir / "model.c").read_text())
    assert len(calls) == len(offloaded)
