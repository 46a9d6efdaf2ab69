"""Accelerator backend API: where the compiler meets a peripheral.

Modelled on TVM's UMA backend class: one subclass per peripheral registers, in
its constructor, the patterns it can take (with a capability check), and the
codegen hooks that turn a matched region into a call of its C driver.  The
compiler knows nothing about any particular peripheral; it only walks
`patterns()` and calls `emit_call`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

RegionKind = Literal["conv2d"]


@dataclass(frozen=True)
class ConvRegion:
    """An integer conv2d(+bias) region found by the compiler.

    Layouts: input NHWC int8, weights OHWI int8 (for groups > 1: O, KH, KW, I/groups),
    bias int32[O], output NHWC int32 (before requantization, which stays on the CPU).
    Semantics: out = bias + sum (x_pad + input_offset) * (w + weight_offset), where
    padded input positions hold `pad_value`.
    """

    layer: str
    input_shape: tuple[int, int, int, int]
    weight_shape: tuple[int, int, int, int]
    output_shape: tuple[int, int, int, int]
    strides: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, left, bottom, right
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    pad_value: int = 0
    input_offset: int = 0
    weight_offset: int = 0
    kind: RegionKind = "conv2d"

    @property
    def macs(self) -> int:
        n, oh, ow, oc = self.output_shape
        _, kh, kw, icg = self.weight_shape
        return n * oh * ow * oc * kh * kw * icg


@dataclass(frozen=True)
class CArgs:
    """C expressions (pointers) the compiler provides for an offloaded region."""

    input: str
    weight: str
    bias: str
    output: str


@dataclass(frozen=True)
class OffloadPattern:
    """A named pattern: the region kind it matches and a capability check.

    `check(region)` returns None to accept, or a short reason why not
    (reported per layer, e.g. "groups=8 unsupported").
    """

    name: str
    kind: RegionKind
    check: Callable[[ConvRegion], str | None]


class AcceleratorBackend:
    """Base class: subclass per peripheral, register patterns in __init__."""

    name: str = "accelerator"

    def __init__(self) -> None:
        self._patterns: list[OffloadPattern] = []

    # -- registration (UMA: _register_pattern) ---------------------------------
    def register_pattern(self, pattern: OffloadPattern) -> None:
        self._patterns.append(pattern)

    def patterns(self) -> list[OffloadPattern]:
        return list(self._patterns)

    def accepts(self, region: ConvRegion) -> tuple[OffloadPattern | None, str | None]:
        """First pattern of the region's kind that accepts it, else the last reason."""
        reason: str | None = f"no {region.kind} pattern"
        for pattern in self._patterns:
            if pattern.kind != region.kind:
                continue
            reason = pattern.check(region)
            if reason is None:
                return pattern, None
        return None, reason

    # -- codegen hooks (UMA: codegen / tir_to_c) -------------------------------
    def c_includes(self) -> list[str]:
        """Headers the generated model.c must include."""
        return []

    def c_sources(self) -> list[Path]:
        """Driver sources linked into the firmware."""
        return []

    def include_dirs(self, build_dir: Path) -> list[Path]:
        """Include directories for the driver (generated register headers go in build_dir)."""
        return []

    def emit_call(self, region: ConvRegion, args: CArgs) -> str:
        """C statement(s) that run `region` on the device."""
        raise NotImplementedError

    # -- virtual platform -------------------------------------------------------
    def device(self):  # -> mlonmcu_lite.vp.device.Device
        """The VP model of this peripheral, configured with this backend's settings."""
        raise NotImplementedError


@dataclass
class LayerOffload:
    """What the compiler decided for one layer (reported per run)."""

    layer: str
    kind: str
    macs: int
    eligible_kinds: bool = False
    offloaded_to: str | None = None
    reason: str | None = None
    extra: dict = field(default_factory=dict)
