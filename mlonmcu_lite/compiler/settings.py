"""Compiler settings: a frozen, hashable record of every knob that changes the generated C."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CompilerSettings:
    """Schedule and codegen options (all deterministic)."""

    fold_pad: bool = True  # read the unpadded input in the conv instead of a pad kernel
    hoist_bounds: bool = True  # move the folded pad's bounds test out of the channel loop
    unroll: int = 4  # unroll factor of the innermost (sum) reduction loop; 1 = off
    block_channels: int = 4  # output channels accumulated together in registers; 1 = off
    narrow_constants: bool = True  # int64 constants that fit are stored as int32
    cpu_kernels: bool = True  # conv/FC/requant chains -> register-blocked C micro-kernels
    arena_align: int = 8  # byte alignment of every arena buffer
    io_in_arena: bool = True  # model inputs/outputs are arena buffers (their bytes reused once dead)
    schema: int = 6  # bumped when the generated code changes for the same settings

    def __post_init__(self) -> None:
        for name in ("unroll", "block_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.arena_align <= 0 or self.arena_align & (self.arena_align - 1):
            raise ValueError(f"arena_align must be a power of two, got {self.arena_align}")

    def to_dict(self) -> dict:
        return asdict(self)

    def settings_hash(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
