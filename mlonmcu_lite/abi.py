"""The firmware ABI shared by the compiler, the build cache, the runner and the VP.

Kept free of TVM (and of every other package of the harness) so that workers that only
build, emulate or report never import the compiler to read a cache entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IOBuffer:
    """A model input or output as the firmware exposes it (`mlml_input_<i>` / `mlml_output_<i>`,
    declared MLML_NOINIT; the harness finds its address by the ELF symbol)."""

    name: str
    symbol: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int

    @classmethod
    def of(cls, buffer) -> "IOBuffer":
        """A plain copy of any object with these attributes (e.g. with numpy/TVM ints)."""
        return cls(name=str(buffer.name), symbol=str(buffer.symbol),
                   shape=tuple(int(d) for d in buffer.shape), dtype=str(buffer.dtype),
                   nbytes=int(buffer.nbytes))
