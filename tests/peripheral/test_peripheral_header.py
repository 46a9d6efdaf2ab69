"""The generated register header agrees with the declaration, and the driver compiles with it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mlonmcu_lite.peripheral import load_backend
from mlonmcu_lite.peripheral.header import render_header, write_header

DEFINE = re.compile(r"^#define (\w+)\s+(0x[0-9A-F]+u|\d+u?)\b", re.M)


def parse_defines(text: str) -> dict[str, int]:
    return {name: int(value.rstrip("u"), 0) for name, value in DEFINE.findall(text)}


@pytest.fixture(scope="module")
def backend():
    return load_backend("qvanilla:macs_per_cycle=24")


def test_header_parses_back_to_the_declaration(backend):
    spec, p = backend.spec, backend.spec.prefix
    defs = parse_defines(render_header(spec, backend.settings))
    assert defs[f"{p}_BASE"] == spec.base == 0x4000_0000
    expected = {}
    for reg in spec.registers:
        expected[f"{p}_{reg.name}_OFFSET"] = reg.offset
        expected[f"{p}_{reg.name}_RESET"] = reg.reset
        for f in reg.fields:
            expected[f"{p}_{reg.name}_{f.name}_SHIFT"] = f.lsb
            expected[f"{p}_{reg.name}_{f.name}_WIDTH"] = f.width
            expected[f"{p}_{reg.name}_{f.name}_MASK"] = f.mask
    expected.update({f"{p}_{k}": v for k, v in spec.constants.items()})
    assert {k: defs.get(k) for k in expected} == expected
    text = render_header(spec, backend.settings)
    assert f"#define {p}_CFG_WAIT_MODE_STALL" in text and "MACS_PER_CYCLE" not in text


def test_codegen_fingerprint_ignores_the_cost_model():
    fp = load_backend("qvanilla").codegen_fingerprint()
    assert load_backend("qvanilla:macs_per_cycle=64:setup_cycles=0").codegen_fingerprint() == fp
    assert load_backend("qvanilla:wait_mode=poll").codegen_fingerprint() != fp


def test_write_header_is_stable(tmp_path, backend):
    path = write_header(backend.spec, tmp_path, backend.settings)
    mtime = path.stat().st_mtime_ns
    assert write_header(backend.spec, tmp_path, backend.settings).stat().st_mtime_ns == mtime
    assert path.name == "qvanilla_regs.h"


def test_no_register_offset_written_in_the_driver(backend):
    """The driver takes every address from the generated header."""
    for src in backend.c_sources() + [backend.driver_dir / "qvanilla.h"]:
        text = src.read_text()
        assert not re.search(r"0x4000|0x0[0-9A-F]{2}u", text, re.I), src


@pytest.mark.skipif(shutil.which("clang-14") is None, reason="clang-14 not installed")
@pytest.mark.parametrize("wait_mode", ["poll", "stall"])
def test_driver_and_emitted_call_compile_for_rv32(tmp_path, wait_mode):
    from mlonmcu_lite.peripheral import CArgs, ConvRegion

    backend = load_backend(f"qvanilla:wait_mode={wait_mode}")
    region = ConvRegion("c", (1, 8, 8, 3), (4, 3, 1, 3), (1, 8, 8, 4), (1, 1), (1, 0, 1, 0),
                        pad_value=-128)
    call = backend.emit_call(region, CArgs("x", "w", "b", "y"))
    user = tmp_path / "user.c"
    user.write_text("".join(f'#include "{h}"\n' for h in backend.c_includes()) +
                    "void run(const int8_t *x, const int8_t *w, const int32_t *b, int32_t *y) {\n"
                    f"    {call}\n}}\n")
    flags = ["--target=riscv32-unknown-elf", "-march=rv32imc", "-mabi=ilp32", "-ffreestanding",
             "-O2", "-Wall", "-Wextra", "-Werror", "-c"]
    incs = [f"-I{d}" for d in backend.include_dirs(tmp_path)]
    for src in [user, *backend.c_sources()]:
        subprocess.run(["clang-14", *flags, *incs, str(src), "-o", str(tmp_path / (src.stem + ".o"))],
                       check=True, capture_output=True, text=True)
    disasm = subprocess.run(["llvm-objdump-14", "-d", str(tmp_path / "qvanilla.o")],
                            capture_output=True, text=True).stdout
    wait_offset = backend.spec.register("WAIT" if wait_mode == "stall" else "STATUS").offset
    assert re.search(rf"\blw\s+\w+, {wait_offset}\(", disasm), disasm
