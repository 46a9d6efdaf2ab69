"""`scaffold`: a new peripheral folder from an existing one (for `bench peripheral new`).

Copies the template folder, renaming the template's name in file names and
text (in any letter case: `qvanilla`, `QVanilla`, `QVANILLA`) and moving
the declaration to the first free peripheral window, so the copy loads,
offloads and passes its own tests next to the original without edits.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .errors import PeripheralConfigError
from .loader import find_peripherals, load_backend_class
from .spec import PERIPHERAL_REGION_BASE, PERIPHERAL_SLOTS, PERIPHERAL_WINDOW

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _renamer(old: str, new: str):
    """Replace `old` in any letter case: lower -> new, UPPER -> NEW, Mixed -> CamelNew."""
    camel = "".join(part[:1].upper() + part[1:] for part in new.split("_"))
    pattern = re.compile(re.escape(old), re.IGNORECASE)

    def one(m: re.Match) -> str:
        text = m.group(0)
        return new if text.islower() else new.upper() if text.isupper() else camel

    return lambda text: pattern.sub(one, text)


def _free_base(search_path: list[Path]) -> int:
    used = set()
    for name in find_peripherals(search_path):
        try:
            spec = getattr(load_backend_class(name, search_path), "spec", None)
        except PeripheralConfigError:  # a broken folder on the path does not block scaffolding
            continue
        if spec is not None:
            used.add(spec.base)
    for slot in range(PERIPHERAL_SLOTS):
        base = PERIPHERAL_REGION_BASE + slot * PERIPHERAL_WINDOW
        if base not in used:
            return base
    raise PeripheralConfigError("no free peripheral window left")


def _registers_from_file(spec_text: str, rdl_name: str, path: Path) -> str:
    """Replace the `registers=(...)` of a spec.py by a read of the folder's SystemRDL file."""
    start = spec_text.find("registers=(")
    if start < 0:
        raise PeripheralConfigError(f"{path}: expected one `registers=(...)` to replace")
    depth, i = 0, start + len("registers=")
    while True:
        depth += {"(": 1, ")": -1}.get(spec_text[i], 0)
        i += 1
        if depth == 0:
            break
    call = f'registers=registers_from_rdl(Path(__file__).with_name("{rdl_name}"))'
    head = ("from pathlib import Path\n\nfrom mlonmcu_lite.peripheral.rdl import registers_from_rdl\n")
    text = spec_text[:start] + call + spec_text[i:]
    anchor = text.index("from __future__ import annotations\n") + len("from __future__ import annotations\n")
    return text[:anchor] + "\n" + head + text[anchor:]


def scaffold(name: str, dest_dir: Path, template: str = "qvanilla",
             search_path: list[Path] | None = None, from_rdl: Path | None = None) -> Path:
    """Create `dest_dir/name/` from `template`; returns the new folder.  With `from_rdl`, the
    register map comes from that SystemRDL file (copied as `<name>.rdl`, read by spec.py at
    import), so it must hold the registers and fields the template's binding names."""
    if not _NAME.match(name):
        raise PeripheralConfigError(f"peripheral name {name!r} must be a lower-case C identifier")
    search = [Path(dest_dir), *(search_path or [])]
    found = find_peripherals(search)
    if name in found:
        raise PeripheralConfigError(f"peripheral {name!r} already exists at {found[name]}")
    if template not in found:
        raise PeripheralConfigError(
            f"unknown template {template!r}; available: {', '.join(sorted(found))}")
    base = _free_base(search)
    rename = _renamer(template, name)
    target = Path(dest_dir) / name
    shutil.copytree(found[template], target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in sorted(target.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_file():
            text = rename(path.read_text())
            if path.name == "spec.py":
                text, n = re.subn(r"\bbase=0x[0-9A-Fa-f_]+", f"base=0x{base:08X}", text)
                if n != 1:
                    raise PeripheralConfigError(f"{path}: expected one `base=0x...` to rewrite")
                if from_rdl is not None:
                    text = _registers_from_file(text, f"{name}.rdl", path)
            path.write_text(text)
        if template in path.name:
            path.rename(path.with_name(rename(path.name)))
    if from_rdl is not None:
        from .rdl import registers_from_rdl
        registers_from_rdl(Path(from_rdl))  # a clear error now rather than at first import
        shutil.copyfile(from_rdl, target / f"{name}.rdl")
    return target
