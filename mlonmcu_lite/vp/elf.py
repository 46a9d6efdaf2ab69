"""ELF images for the VP: loadable segments, symbols, PC -> function."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Segment:
    vaddr: int
    paddr: int
    data: bytes
    memsz: int
    flags: int  # PF_X=1, PF_W=2, PF_R=4


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    kind: str  # "func", "object", "notype"


@dataclass
class ElfImage:
    path: Path
    entry: int
    segments: list[Segment]
    symbols: dict[str, Symbol]
    _func_starts: list[int] = field(default_factory=list, repr=False)
    _func_syms: list[Symbol] = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, path: Path) -> ElfImage:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ELF file not found: {path}")
        try:
            with open(path, "rb") as fh:
                elf = ELFFile(fh)
                if elf.get_machine_arch() != "RISC-V" or elf.elfclass != 32:
                    raise ValueError(f"{path}: not an RV32 ELF (machine {elf.get_machine_arch()}, "
                                     f"{elf.elfclass}-bit)")
                segments = [Segment(s["p_vaddr"], s["p_paddr"], s.data()[: s["p_filesz"]],
                                    s["p_memsz"], s["p_flags"])
                            for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
                symbols: dict[str, Symbol] = {}
                symtab = elf.get_section_by_name(".symtab")
                for sym in symtab.iter_symbols() if symtab is not None else ():
                    kind = sym["st_info"]["type"]
                    if not sym.name or kind in ("STT_FILE", "STT_SECTION"):
                        continue
                    if sym["st_shndx"] == "SHN_UNDEF":
                        continue
                    prev = symbols.get(sym.name)
                    if prev is None or (sym["st_info"]["bind"] == "STB_GLOBAL"):
                        symbols[sym.name] = Symbol(sym.name, sym["st_value"], sym["st_size"],
                                                   kind.removeprefix("STT_").lower())
                entry = elf.header["e_entry"]
        except ELFError as exc:
            raise ValueError(f"{path}: not a valid ELF file ({exc})") from exc
        if not segments:
            raise ValueError(f"{path}: ELF has no loadable segments")
        image = cls(path, entry, segments, symbols)
        funcs = sorted((s for s in symbols.values() if s.kind == "func"), key=lambda s: s.address)
        image._func_starts = [s.address for s in funcs]
        image._func_syms = funcs
        return image

    def symbol(self, name: str) -> Symbol:
        try:
            return self.symbols[name]
        except KeyError:
            raise KeyError(f"symbol {name!r} not found in {self.path.name}") from None

    def function_at(self, pc: int | None) -> str | None:
        """Name (+offset) of the function containing `pc`, from the symbol table."""
        if pc is None:
            return None
        i = bisect.bisect_right(self._func_starts, pc) - 1
        if i < 0:
            return None
        sym = self._func_syms[i]
        if sym.size and pc >= sym.address + sym.size:
            return None
        return sym.name if pc == sym.address else f"{sym.name}+0x{pc - sym.address:x}"
