"""toolchain.build_firmware: flags, errors, and the ROM/RAM breakdown."""

from __future__ import annotations

import pytest

from mlonmcu_lite.firmware import toolchain
from mlonmcu_lite.firmware.toolchain import BuildError, ToolchainMissing, build_firmware

SIZED = r"""
#include "mlml_platform.h"
const uint8_t table[1000] = {1};          /* .rodata */
uint32_t counters[25] = {1};              /* .data: 100 bytes, load image in ROM */
uint8_t scratch[300];                     /* .bss */
MLML_NOINIT uint8_t mlml_input_0[512];    /* .noinit */
int main(void) {
    unsigned i = mlml_input_0[1];
    scratch[i % 300] = table[i % 1000] + counters[i % 25];
    return scratch[3];
}
"""


def test_sizes_from_sections(tmp_path):
    src = tmp_path / "sized.c"
    src.write_text(SIZED)
    fw = build_firmware([src], tmp_path / "out", werror=True)
    assert fw.elf.is_file() and fw.arch == "rv32imc"
    assert 1000 <= fw.rom_rodata < 1400 and fw.ram_data == fw.rom_data_init == 100
    assert 300 <= fw.ram_bss < 340 and fw.ram_noinit == 512
    assert 100 < fw.rom_code < 1000 and fw.stack_bytes == 64 * 1024
    assert fw.rom_bytes == fw.rom_code + fw.rom_rodata + fw.rom_data_init
    assert fw.ram_bytes == fw.ram_data + fw.ram_bss + fw.ram_noinit
    assert "-march=rv32imc" in fw.compile_command and "-mabi=ilp32" in fw.compile_command


def test_rv32gc_flags(tmp_path):
    src = tmp_path / "f.c"
    src.write_text("double d = 1.5; int main(void) { return (int)(d * 2.0); }\n")
    fw = build_firmware([src], tmp_path / "gc", arch="rv32gc", defines={"X": 1, "Y": None})
    assert "-mabi=ilp32d" in fw.compile_command and "-DX=1" in fw.compile_command
    from mlonmcu_lite.vp import VirtualPlatform

    assert VirtualPlatform(fw.elf).run().exit_code == 3  # FPU enabled by the startup


def test_compile_error_carries_stderr(tmp_path):
    src = tmp_path / "bad.c"
    src.write_text("int main(void) { return undefined_thing; }\n")
    with pytest.raises(BuildError) as info:
        build_firmware([src], tmp_path / "bad")
    assert "undefined_thing" in info.value.stderr and "bad.c" in str(info.value)
    head = str(info.value).splitlines()[0]  # a row's reason: the first error, not the command line
    assert head.startswith("compiling") and ": bad.c:1:" in head and "error:" in head and "undefined_thing" in head
    assert str(info.value).splitlines()[-1].startswith("$ ") and "clang" in str(info.value).splitlines()[-1]


def test_werror(tmp_path):
    src = tmp_path / "warn.c"
    src.write_text("int main(void) { int unused; return 0; }\n")
    build_firmware([src], tmp_path / "ok")  # a warning only
    with pytest.raises(BuildError, match="unused"):
        build_firmware([src], tmp_path / "err", werror=True)


def test_link_error(tmp_path):
    src = tmp_path / "nolink.c"
    src.write_text("void missing(void); int main(void) { missing(); return 0; }\n")
    with pytest.raises(BuildError, match="linking failed") as info:
        build_firmware([src], tmp_path / "nolink")
    assert "missing" in info.value.stderr


def test_unknown_arch_and_missing_source(tmp_path):
    with pytest.raises(ValueError, match="rv32gc, rv32imc"):
        build_firmware([tmp_path / "x.c"], tmp_path, arch="rv64gc")
    with pytest.raises(BuildError, match="not found"):
        build_firmware([tmp_path / "x.c"], tmp_path)


def test_toolchain_missing_message(monkeypatch):
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)
    toolchain.find_toolchain.cache_clear()
    try:
        with pytest.raises(ToolchainMissing) as info:
            toolchain.find_toolchain()
        assert toolchain.INSTALL_COMMAND in str(info.value)
        assert "sudo apt-get update && sudo apt-get install -y clang-14 lld-14" in str(info.value)
    finally:
        toolchain.find_toolchain.cache_clear()
