"""VirtualPlatform API contract: symbols, devices, input errors, memory map."""

from __future__ import annotations

import pytest
from tests.helpers.vp_programs import build_program

from mlonmcu_lite.vp import Device, MemoryMap, SimConfig, VirtualPlatform
from mlonmcu_lite.vp.memory_map import UART_BASE


@pytest.fixture(scope="module")
def hello(tmp_path_factory):
    return build_program("hello", tmp_path_factory.mktemp("vp_api"), "rv32imc")


class Window(Device):
    name = "window"

    def __init__(self, base: int, size: int = 0x1000) -> None:
        super().__init__()
        self.base, self.size = base, size


def test_symbols(hello):
    vp = VirtualPlatform(hello)
    assert vp.symbol_address("main") == vp.image.symbol("main").address
    with pytest.raises(KeyError, match="mlml_input_0"):
        vp.write_symbol("mlml_input_0", b"\0")
    with pytest.raises(ValueError, match="do not fit"):
        vp.write_symbol("table", bytes(257))
    vp.run()
    table = vp.read_symbol("table")
    assert len(table) == 256 and int.from_bytes(table[-4:], "little") == 63 * 63


def test_run_once(hello):
    vp = VirtualPlatform(hello)
    vp.run()
    with pytest.raises(RuntimeError, match="once"):
        vp.run()


@pytest.mark.parametrize("base,size,match", [(UART_BASE, 0x1000, "overlaps"),
                                             (0x4000_0800, 0x1000, "page aligned"),
                                             (0x8000_0000, 0x1000, "overlaps")])
def test_bad_device_windows(hello, base, size, match):
    with pytest.raises(ValueError, match=match):
        VirtualPlatform(hello, devices=[Window(base, size)])


def test_not_an_elf(tmp_path):
    bad = tmp_path / "x.elf"
    bad.write_bytes(b"not an elf at all")
    with pytest.raises(ValueError, match="not a valid ELF"):
        VirtualPlatform(bad)
    with pytest.raises(FileNotFoundError):
        VirtualPlatform(tmp_path / "missing.elf")


def test_host_elf_rejected():
    import sys

    with pytest.raises(ValueError, match="not an RV32 ELF"):
        VirtualPlatform(sys.executable)


def test_memory_map_settings_drive_link_and_vp(tmp_path):
    from mlonmcu_lite.firmware.toolchain import BuildError, build_firmware
    from tests.helpers.vp_programs import PROGRAMS

    small = MemoryMap(rom_size=64 * 1024, ram_size=16 * 1024, stack_size=8 * 1024)
    build = build_firmware([PROGRAMS / "hello.c"], tmp_path / "small", memory_map=small)
    assert build.stack_bytes == 8 * 1024
    res = VirtualPlatform(build.elf, config=SimConfig(memory_map=small)).run()
    assert res.exit_code == 7
    tiny = MemoryMap(ram_size=4096)
    src = tmp_path / "big.c"
    src.write_text("char big[8192]; int main(void) { big[5] = 1; return big[5]; }\n")
    with pytest.raises(BuildError, match="RAM"):
        build_firmware([src], tmp_path / "tiny", memory_map=tiny)


def test_unset_limits_grow_the_map_to_fit_and_counts_stay_exact(tmp_path):
    """A link over a 64 KiB ROM / 16 KiB RAM floor is rebuilt for a map grown to fit (grow=)
    and runs with the same counts as on a roomier map; a region with a limit stays refused."""
    from mlonmcu_lite.firmware.toolchain import LinkOverflow, build_firmware
    from tests.helpers.vp_programs import PROGRAMS

    src, floor = [PROGRAMS / "big_tables.c"], MemoryMap(rom_size=64 * 1024, ram_size=16 * 1024)
    with pytest.raises(LinkOverflow) as refused:
        build_firmware(src, tmp_path / "limit", memory_map=floor)
    assert set(refused.value.overflows) == {"ROM", "RAM"}
    with pytest.raises(LinkOverflow, match="does not fit: RAM .* raise -s ram_kib=256"):
        build_firmware(src, tmp_path / "rom_only", memory_map=floor, grow=("ROM",))
    grown = build_firmware(src, tmp_path / "grown", memory_map=floor, grow=("ROM", "RAM"))
    assert (grown.memory_map.rom_size, grown.memory_map.ram_size) == (256 * 1024, 256 * 1024)
    assert grown.rom_bytes > 100 * 1024 and grown.ram_bytes >= 40 * 1024
    roomy = MemoryMap(rom_size=1 << 20, ram_size=1 << 20)
    other = build_firmware(src, tmp_path / "roomy", memory_map=roomy)
    a = VirtualPlatform(grown.elf, config=SimConfig(memory_map=grown.memory_map)).run()
    b = VirtualPlatform(other.elf, config=SimConfig(memory_map=roomy)).run()
    assert a.exit_code == b.exit_code == 1
    assert (a.run_instructions, a.total_instructions) == (b.run_instructions, b.total_instructions)
    assert a.run_instructions > 100  # 100 iterations of the loop


def test_grown_map_stops_at_the_platform_devices():
    from mlonmcu_lite.firmware.toolchain import BuildError, grown_map
    from mlonmcu_lite.vp.memory_map import MAX_ROM_SIZE

    assert grown_map(MemoryMap(), {"ROM": 1}, ("RAM",)) is None  # a limit stands
    assert grown_map(MemoryMap(), {"ROM": 1}, ("ROM",)).rom_size == 4 * 1024 * 1024 + 256 * 1024
    assert grown_map(MemoryMap(), {"ROM": MAX_ROM_SIZE - 4 * 1024 * 1024}, ("ROM",)).rom_size == MAX_ROM_SIZE
    with pytest.raises(BuildError, match="does not fit the virtual platform: ROM 272,629,760 B.*uart"):
        grown_map(MemoryMap(), {"ROM": MAX_ROM_SIZE}, ("ROM",))


def test_memory_map_validation():
    with pytest.raises(ValueError, match="multiple"):
        MemoryMap(ram_size=1000)
    with pytest.raises(ValueError, match="overlap"):
        MemoryMap(rom_base=0x8000_0000)
    mm = MemoryMap()
    assert mm.in_guard(mm.stack_base - 4) and not mm.in_guard(mm.stack_base)
    assert "__stack_top" in mm.render_linker_script()
    assert f"#define MLML_UART_BASE 0x{UART_BASE:08x}u" in mm.render_c_header()
