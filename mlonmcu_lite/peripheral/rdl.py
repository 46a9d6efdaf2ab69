"""Register maps in the formats hardware teams use: SystemRDL in, SystemRDL and IP-XACT out.

`registers_from_rdl` elaborates a SystemRDL file with systemrdl-compiler and returns its top
address map's registers as `spec.Register`s (what a `PeripheralSpec` declares), so a
scaffolded peripheral's spec can read its map from the `.rdl` the RTL is generated from.
`spec_to_rdl` writes a spec's map as SystemRDL (checked by compiling it back), and
`export_ipxact` turns that into IP-XACT with PeakRDL-ipxact.  Conventions both ways: a
register without fields is one field `VALUE` spanning the register; field access `sw = r`
/ `w` / `rw` gives the register's `ro` / `wo` / `rw`; the user-defined field property
`is_signed` (`signed` is a SystemRDL keyword) marks two's-complement fields.
"""

from __future__ import annotations

from pathlib import Path

from .errors import PeripheralConfigError
from .spec import BitField, PeripheralSpec, Register

SIGNED_UDP = "property is_signed { type = boolean; component = field; };"
_SW = {"rw": "rw", "ro": "r", "wo": "w"}


def _elaborate(path: Path):
    from systemrdl import RDLCompileError, RDLCompiler

    compiler = RDLCompiler()
    try:
        compiler.compile_file(str(path))
        return compiler.elaborate().top
    except RDLCompileError as exc:
        raise PeripheralConfigError(f"{path}: SystemRDL does not compile ({exc}); "
                                    "the compiler's messages are above") from None


def _text(node, prop: str) -> str:
    value = node.get_property(prop, default=None)
    return " ".join(str(value).split()) if value else ""


def registers_from_rdl(path: Path) -> tuple[Register, ...]:
    """The registers of the top `addrmap` in `path` (offsets relative to it)."""
    top = _elaborate(Path(path))
    registers = []
    for reg in top.registers():
        width = int(reg.get_property("regwidth"))
        fields, reset, readable, writable = [], 0, False, False
        for f in reg.fields():
            signed = bool(f.get_property("is_signed", default=False)) if "is_signed" in f.list_properties(
                include_udp=True) else False
            fields.append(BitField(f.inst_name.upper(), f.lsb, f.width, _text(f, "desc"), signed))
            value = f.get_property("reset", default=None)
            reset |= (int(value) if isinstance(value, int) else 0) << f.lsb
            readable |= f.is_sw_readable
            writable |= f.is_sw_writable
        if len(fields) == 1 and fields[0].name == "VALUE" and fields[0].width == width and fields[0].lsb == 0:
            fields = []
        access = "rw" if readable and writable else "ro" if readable else "wo"
        doc = _text(reg, "desc") or _text(reg, "name") or reg.inst_name
        registers.append(Register(reg.inst_name.upper(), int(reg.raw_address_offset), doc, access,
                                  reset, tuple(fields), width))
    if not registers:
        raise PeripheralConfigError(f"{path}: the top addrmap {top.inst_name} has no registers")
    return tuple(registers)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spec_to_rdl(spec: PeripheralSpec) -> str:
    """SystemRDL text of `spec`'s register map (one `addrmap` named after the peripheral)."""
    lines = [f"// {spec.name}: generated from its declaration by mlonmcu_lite.peripheral.rdl",
             SIGNED_UDP, "", f"addrmap {spec.name} {{", f"    desc = {_quote(spec.doc)};"]
    for reg in spec.registers:
        fields = reg.fields or (BitField("VALUE", 0, reg.width),)
        lines += ["    reg {", f"        desc = {_quote(reg.doc)};", f"        regwidth = {reg.width};"]
        for f in fields:
            props = [f"sw = {_SW[reg.access]};", f"hw = {'r' if reg.access == 'rw' else 'w' if reg.access == 'ro' else 'r'};"]
            if f.doc:
                props.append(f"desc = {_quote(f.doc)};")
            if f.signed:
                props.append("is_signed = true;")
            reset = (reg.reset & f.mask) >> f.lsb
            lines.append(f"        field {{ {' '.join(props)} }} {f.name}[{f.msb}:{f.lsb}] = {reset:#x};")
        lines.append(f"    }} {reg.name} @ {reg.offset:#05x};")
    lines += ["};", ""]
    return "\n".join(lines)


def write_rdl(spec: PeripheralSpec, path: Path) -> Path:
    """Write `spec_to_rdl(spec)` and check it compiles back to the same registers."""
    path = Path(path)
    path.write_text(spec_to_rdl(spec))
    back = registers_from_rdl(path)
    if back != tuple(spec.registers):
        raise PeripheralConfigError(f"{spec.name}: the SystemRDL export does not read back identically")
    return path


def export_ipxact(spec: PeripheralSpec, path: Path) -> Path:
    """IP-XACT (IEEE 1685-2014) XML of `spec`'s map, by PeakRDL-ipxact from the SystemRDL."""
    from peakrdl_ipxact import IPXACTExporter

    path = Path(path)
    rdl = path.with_suffix(".rdl")
    write_rdl(spec, rdl)
    IPXACTExporter(vendor="mlonmcu-lite", library="peripherals", version=str(1)).export(
        _elaborate(rdl), str(path))
    return path
