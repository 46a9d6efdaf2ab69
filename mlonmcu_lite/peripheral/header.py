"""The C register header `<name>_regs.h`, generated from a `PeripheralSpec` at build time.

For every register: `<P>_<REG>_OFFSET`, `<P>_<REG>_RESET` and an lvalue `<P>_<REG>`
(volatile access at `<P>_BASE + offset`); for every field `_SHIFT`, `_WIDTH` and
`_MASK` (in place); the declared constants; and the settings in force
that shape the firmware (`<P>_CFG_<KEY>`; a string setting becomes
`<P>_CFG_<KEY>_<VALUE> 1`), so a driver can follow, e.g., the configured wait mode.  `<P>_FIELD(REG_FIELD, v)`
and `<P>_GET(REG_FIELD, r)` pack and unpack fields.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from .settings import codegen_settings
from .spec import PeripheralSpec


def _define(name: str, value: str, comment: str = "") -> str:
    line = f"#define {name:<40} {value}"
    return f"{line}  /* {comment} */" if comment else line


def _settings_lines(p: str, settings: BaseModel | None) -> list[str]:
    if settings is None:
        return []
    lines = ["", "/* Settings that shape the firmware (the cost model stays in the VP) */"]
    for key, value in codegen_settings(settings).items():
        name = f"{p}_CFG_{key.upper()}"
        if isinstance(value, bool):
            lines.append(_define(name, str(int(value))))
        elif isinstance(value, int):
            lines.append(_define(name, f"{value}"))
        elif isinstance(value, str):
            lines.append(_define(f"{name}_{value.upper()}", "1"))
    return lines


def _ctype(fields) -> str:
    """The narrowest C type holding every field bound to a job parameter."""
    signed = any(f.signed for f in fields)
    bits = 16 if max(f.width for f in fields) <= 16 else 32
    return f"{'' if signed else 'u'}int{bits}_t"


def _job_lines(spec: PeripheralSpec, jobs: dict) -> list[str]:
    """For each bound job: `<p>_<job>_params_t` (one member per job parameter, named as the
    compiler's designated initialisers) and `<p>_program_<job>(p)` writing its registers."""
    p = spec.prefix
    lines: list[str] = []
    for job_name, binding in jobs.items():
        ptype = f"{spec.name}_{job_name}_params_t"
        lines += ["", f"/* The {job_name} job: generated from the declaration's binding. */", "typedef struct {"]
        for name, path in binding.fields.items():
            lines.append(f"    {_ctype([spec.field(path)[1]])} {name};")
        lines += [f"}} {ptype};", "",
                  f"static inline void {spec.name}_program_{job_name}(const {ptype} *p) {{"]
        by_reg: dict[str, list[str]] = {}
        for name, path in binding.fields.items():
            reg, fld = spec.field(path)
            by_reg.setdefault(reg.name, []).append(f"{p}_FIELD({p}_{reg.name}_{fld.name}, p->{name})")
        for reg in spec.registers:
            if reg.name in by_reg:
                lines.append(f"    {p}_{reg.name} = {' | '.join(by_reg[reg.name])};")
        lines.append("}")
    return lines


def render_header(spec: PeripheralSpec, settings: BaseModel | None = None, jobs: dict | None = None) -> str:
    p = spec.prefix
    guard = f"{p}_REGS_H"
    lines = [
        f"/* {spec.name}_regs.h: generated from the {spec.name} declaration by",
        " * mlonmcu_lite.peripheral.header. Do not edit; edit the declaration. */",
        f"#ifndef {guard}", f"#define {guard}", "", "#include <stdint.h>", "",
        _define(f"{p}_BASE", f"0x{spec.base:08X}u"),
        _define(f"{p}_SIZE", f"0x{spec.size:X}u"),
        _define(f"{p}_FIELD(f, v)", f"((((uint32_t)(v)) << f##_SHIFT) & f##_MASK)"),
        _define(f"{p}_GET(f, r)", f"((((uint32_t)(r)) & f##_MASK) >> f##_SHIFT)"),
    ]
    for reg in spec.registers:
        r = f"{p}_{reg.name}"
        ctype = f"uint{reg.width}_t"
        lines += ["", f"/* {reg.name} ({reg.access}): {reg.doc} */",
                  _define(f"{r}_OFFSET", f"0x{reg.offset:03X}u"),
                  _define(f"{r}_RESET", f"0x{reg.reset:X}u"),
                  _define(r, f"(*(volatile {ctype} *)({p}_BASE + {r}_OFFSET))")]
        for f in reg.fields:
            rf = f"{r}_{f.name}"
            lines += [_define(f"{rf}_SHIFT", f"{f.lsb}u", f.doc),
                      _define(f"{rf}_WIDTH", f"{f.width}u"),
                      _define(f"{rf}_MASK", f"0x{f.mask:X}u")]
    if spec.constants:
        lines += ["", "/* Constants */"]
        lines += [_define(f"{p}_{k}", f"{v}") for k, v in spec.constants.items()]
    lines += _settings_lines(p, settings)
    lines += _job_lines(spec, jobs or {})
    lines += ["", f"#endif /* {guard} */", ""]
    return "\n".join(lines)


def write_header(spec: PeripheralSpec, out_dir: Path, settings: BaseModel | None = None,
                 jobs: dict | None = None) -> Path:
    """Write `<out_dir>/<name>_regs.h`, leaving the file untouched if unchanged
    (so make-style rebuilds and the build cache see a stable mtime)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{spec.name}_regs.h"
    text = render_header(spec, settings, jobs)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path
