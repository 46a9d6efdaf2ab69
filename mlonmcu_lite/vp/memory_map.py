"""The platform's single memory map.

Everything that needs an address derives it from here: the linker script and
the C header (`render_linker_script`, `render_c_header`), the VP's memory
layout and its devices.  Sizes are settings; bases follow docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
PAGE = 4 * KiB

UART_BASE = 0x1000_0000
EXIT_BASE = 0x1000_1000
REGION_BASE = 0x1000_2000
PERIPHERAL_BASE = 0x4000_0000
PERIPHERAL_STRIDE = 0x1000
PERIPHERAL_SPAN = 0x1000_0000  # the peripherals' address window (one PERIPHERAL_STRIDE each)
MAX_ROM_SIZE = UART_BASE  # ROM starts at 0 and must end below the platform's devices

REGION_BEGIN = 1
REGION_END = 2
# the platform's own device windows (name, base, size)
PLATFORM_DEVICES = (("uart", UART_BASE, PAGE), ("exit", EXIT_BASE, PAGE), ("region marker", REGION_BASE, PAGE))


def first_overlap(windows: list[tuple[str, int, int]]) -> str | None:
    """'a [base, end) and b [base, end) overlap' for the first colliding pair, else None:
    the one address-window check (peripheral loading, the VP's device mapping)."""
    ordered = sorted(windows, key=lambda w: w[1])
    for (n1, b1, s1), (n2, b2, s2) in zip(ordered, ordered[1:]):
        if b2 < b1 + s1:
            return f"{n1} [{b1:#x}, {b1 + s1:#x}) and {n2} [{b2:#x}, {b2 + s2:#x}) overlap"
    return None


def _align_up(value: int, align: int = PAGE) -> int:
    return (value + align - 1) // align * align


@dataclass(frozen=True)
class MemoryMap:
    """ROM, RAM and a stack window with an unmapped guard page below it."""

    rom_base: int = 0x0000_0000
    rom_size: int = 4 * MiB
    ram_base: int = 0x8000_0000
    ram_size: int = 1 * MiB
    stack_size: int = 64 * KiB
    guard_size: int = PAGE

    def __post_init__(self) -> None:
        for name in ("rom_size", "ram_size", "stack_size", "guard_size"):
            value = getattr(self, name)
            if value <= 0 or value % PAGE:
                raise ValueError(f"MemoryMap.{name}={value:#x} must be a positive multiple of {PAGE:#x}")
        for name in ("rom_base", "ram_base"):
            if getattr(self, name) % PAGE:
                raise ValueError(f"MemoryMap.{name} must be page aligned")
        if self.rom_end > self.ram_base and self.ram_end > self.rom_base:
            raise ValueError("MemoryMap: ROM and RAM overlap")
        if self.stack_top > 1 << 32:
            raise ValueError("MemoryMap: stack window ends above 4 GiB")
        clash = first_overlap([*self.regions(), *PLATFORM_DEVICES, ("peripherals", PERIPHERAL_BASE, PERIPHERAL_SPAN)])
        if clash:
            raise ValueError(f"MemoryMap: {clash}")

    @property
    def rom_end(self) -> int:
        return self.rom_base + self.rom_size

    @property
    def ram_end(self) -> int:
        return self.ram_base + self.ram_size

    @property
    def guard_base(self) -> int:
        """First byte of the unmapped page(s) between RAM and the stack."""
        return self.ram_end

    @property
    def stack_base(self) -> int:
        return self.guard_base + self.guard_size

    @property
    def stack_top(self) -> int:
        return self.stack_base + self.stack_size

    def in_guard(self, address: int) -> bool:
        return self.guard_base <= address < self.stack_base

    def regions(self) -> list[tuple[str, int, int]]:
        """(name, base, size) of the mapped memories, in address order."""
        return [("rom", self.rom_base, self.rom_size), ("ram", self.ram_base, self.ram_size),
                ("stack", self.stack_base, self.stack_size)]

    def render_linker_script(self) -> str:
        """The GNU ld / lld script for firmware on this map."""
        return _LINKER_TEMPLATE.format(
            rom_base=self.rom_base, rom_size=self.rom_size, ram_base=self.ram_base,
            ram_size=self.ram_size, stack_base=self.stack_base, stack_size=self.stack_size)

    def render_c_header(self) -> str:
        """`mlml_memory_map.h`: the addresses the target-side C needs."""
        defines = {
            "MLML_ROM_BASE": self.rom_base, "MLML_ROM_SIZE": self.rom_size,
            "MLML_RAM_BASE": self.ram_base, "MLML_RAM_SIZE": self.ram_size,
            "MLML_STACK_BASE": self.stack_base, "MLML_STACK_SIZE": self.stack_size,
            "MLML_UART_BASE": UART_BASE, "MLML_EXIT_BASE": EXIT_BASE,
            "MLML_REGION_BASE": REGION_BASE, "MLML_PERIPHERAL_BASE": PERIPHERAL_BASE,
            "MLML_PERIPHERAL_STRIDE": PERIPHERAL_STRIDE,
            "MLML_REGION_BEGIN": REGION_BEGIN, "MLML_REGION_END": REGION_END,
        }
        lines = ["/* Generated from mlonmcu_lite/vp/memory_map.py: do not edit. */",
                 "#ifndef MLML_MEMORY_MAP_H", "#define MLML_MEMORY_MAP_H"]
        lines += [f"#define {name} 0x{value:08x}u" for name, value in defines.items()]
        lines += ["#endif", ""]
        return "\n".join(lines)


_LINKER_TEMPLATE = """\
/* Generated from mlonmcu_lite/vp/memory_map.py: do not edit. */
OUTPUT_ARCH(riscv)
ENTRY(_start)

MEMORY
{{
  ROM   (rx)  : ORIGIN = {rom_base:#010x}, LENGTH = {rom_size:#x}
  RAM   (rw)  : ORIGIN = {ram_base:#010x}, LENGTH = {ram_size:#x}
  STACK (rw)  : ORIGIN = {stack_base:#010x}, LENGTH = {stack_size:#x}
}}

SECTIONS
{{
  .text : ALIGN(4)
  {{
    KEEP(*(.text.start))
    *(.text .text.*)
  }} > ROM

  .rodata : ALIGN(4)
  {{
    *(.rodata .rodata.* .srodata .srodata.*)
  }} > ROM

  .data : ALIGN(4)
  {{
    __data_start = .;
    *(.data .data.*)
    __global_pointer$ = . + 0x800;
    *(.sdata .sdata.*)
    . = ALIGN(4);
    __data_end = .;
  }} > RAM AT > ROM
  __data_load = LOADADDR(.data);

  .bss (NOLOAD) : ALIGN(4)
  {{
    __bss_start = .;
    *(.sbss .sbss.* .bss .bss.* COMMON)
    . = ALIGN(4);
    __bss_end = .;
  }} > RAM

  .noinit (NOLOAD) : ALIGN(16)
  {{
    *(.noinit .noinit.*)
  }} > RAM

  .stack (NOLOAD) :
  {{
    . = . + {stack_size:#x};
    __stack_top = .;
  }} > STACK

  /DISCARD/ : {{ *(.comment) *(.note .note.*) *(.eh_frame) }}
}}
"""
