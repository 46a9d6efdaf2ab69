"""Refuse a model whose constants alone exceed a user's ROM limit, before hours of compile work.

Only with `-s rom_kib=` set (unset, the VP's ROM grows to fit the firmware): a full-size model
(MobileNet v1 1.0 224: 4.2 MB of weights) against a 4 MiB limit would otherwise spend minutes
in TVM and clang to fail at the link.  The weights are a lower
bound of what ROM must hold (code and tables come on top), so this check never rejects a model
that would link; the linker's own overflow message (firmware/toolchain.py) covers the rest.
"""

from __future__ import annotations

from mlonmcu_lite.errors import UserError


class DoesNotFit(UserError):
    """The model cannot fit the configured memory; the message names the setting to raise."""


def check_rom(model: str, weight_bytes: int, numerics: str, rom_kib: int) -> None:
    """DoesNotFit when the model's constants exceed `rom_kib` (hybrid weights become float32: 4x)."""
    need = weight_bytes * (4 if numerics == "hybrid" else 1)
    limit = rom_kib * 1024
    if need <= limit:
        return
    suggest = -(-(need + 512 * 1024) // (1024 * 1024)) * 1024  # weights + 512 KiB of code, in MiB steps
    raise DoesNotFit(f"{model} does not fit: ROM needs at least {need:,} B of weights > {limit:,} B "
                     f"(rom_kib={rom_kib}, the VP's ROM); raise -s rom_kib={suggest}")
