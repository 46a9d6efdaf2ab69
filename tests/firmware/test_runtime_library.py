"""The compiler runtime comes from the RISC-V GCC toolchain's libgcc.a (issue 15 item 6)."""

from __future__ import annotations

import pytest

from mlonmcu_lite.firmware import toolchain

from tests.helpers.e2e import run_one


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
def test_runtime_library_is_the_multilib_libgcc(arch):
    spec = toolchain.load_arch(arch)
    lib = toolchain.runtime_library(spec.march, spec.mabi)
    assert lib.name == "libgcc.a" and "riscv64-unknown-elf" in str(lib)
    assert spec.mabi in lib.parent.name  # ilp32 soft-float for rv32imc, ilp32d for rv32gc


@pytest.mark.parametrize("arch", ["rv32imc", "rv32gc"])
def test_oz_links_and_runs_exact(arch, tmp_path):
    """-Oz calls 64-bit shift builtins (__ashldi3, ...) that no hand-written libc provided."""
    row = run_one("chain_conv_avgpool_fc_softmax", tmp_path, arch=arch, opt="-Oz")
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact"
    link_map = next((tmp_path / "runs").glob("*/firmware")).resolve() / "firmware.map"
    text = link_map.read_text()
    assert "libgcc.a" in text and "__ashldi3" in text
