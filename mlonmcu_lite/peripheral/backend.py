"""Accelerator backend API: where the compiler meets a peripheral.

Modelled on TVM's UMA backend class: one subclass per peripheral registers, in
its constructor, the patterns it can take (a region kind, whether it also takes the
requantization that follows, and a capability check), and the codegen hooks that turn
a matched region into a call of its C driver.  The region kinds themselves (their
relax.dpl patterns and how a match becomes a typed region) are a table in
`mlonmcu_lite.compiler.region_kinds`; the compiler runs one generic partition step
over them and knows nothing about any particular peripheral.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

RegionKind = Literal["conv2d", "dense", "eltwise", "pool"]
Rounding = Literal["double", "single"]


@dataclass(frozen=True)
class Requant:
    """TFLite's output rescale fused into a region: int32 accumulator -> int8.

    Per channel c (a 1-element tuple is per-tensor): `double` is MultiplyByQuantizedMultiplier
    with gemmlowp's two roundings (CONV_2D, DEPTHWISE_CONV_2D); `single` is
    `(x*M + 2^(30-s)) >> (31-s)` (ai-edge-litert 2.3's FULLY_CONNECTED).  Then `+ zero_point`,
    clamp to [lo, hi] (the fused activation), int8.  `shift` > 0 shifts left.
    """

    multiplier: tuple[int, ...]  # each in [0, 2^31)
    shift: tuple[int, ...]
    zero_point: int
    lo: int
    hi: int
    rounding: Rounding = "double"

    def per_channel(self, channels: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(multipliers, shifts), each `channels` long."""
        def widen(values: tuple[int, ...]) -> tuple[int, ...]:
            return values * channels if len(values) == 1 else values
        return widen(self.multiplier), widen(self.shift)


@dataclass(frozen=True)
class AddParams:
    """TFLite's int8 ADD (add.cc): both inputs offset by `-zero point`, shifted left by
    `left_shift`, rescaled (double rounding) to a common scale, summed, rescaled to the output,
    `+ zero_point`, clamped to [lo, hi].  Each (multiplier, shift) is one
    MultiplyByQuantizedMultiplier (multiplier in [0, 2^31), shift > 0 shifts left).  MUL uses
    `offsets` and `output` only: clamp(MBQM((a + oa)(b + ob), output) + zero_point)."""

    offsets: tuple[int, int]  # added to a / b (minus their zero points)
    left_shift: int
    inputs: tuple[tuple[int, int], tuple[int, int]]  # (multiplier, shift) of a, of b
    output: tuple[int, int]
    zero_point: int
    lo: int
    hi: int


@dataclass(frozen=True)
class Operand:
    """One tensor of a region: what the driver receives a pointer to."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    layout: str


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
    requant: Requant | None = None  # set when the region includes the requantization
    # with `requant`: the residual ADD that follows, the conv's int8 output as its input a
    # and a second int8 activation (same shape) as b; the output is the ADD's
    residual: AddParams | None = None

    @property
    def macs(self) -> int:
        n, oh, ow, oc = self.output_shape
        _, kh, kw, icg = self.weight_shape
        return n * oh * ow * oc * kh * kw * icg

    @property
    def output_dtype(self) -> str:
        return "int8" if self.requant is not None else "int32"

    def operands(self) -> tuple[Operand, ...]:
        return (Operand("input", self.input_shape, "int8", "NHWC"),
                Operand("weight", self.weight_shape, "int8", "OHWI"),
                Operand("bias", (self.weight_shape[0],), "int32", "O"),
                Operand("output", self.output_shape, self.output_dtype, "NHWC"),
                *((Operand("residual", self.output_shape, "int8", "NHWC"),) if self.residual else ()))


@dataclass(frozen=True)
class DenseRegion:
    """An integer fully connected (+bias) region: out[m, n] = bias[n] + sum_k
    (x[m, k] + input_offset) * (w[n, k] + weight_offset); weights [N][K] (TFLite's layout),
    output int32 [M][N], or int8 with `requant`."""

    layer: str
    input_shape: tuple[int, int]  # M, K
    weight_shape: tuple[int, int]  # N, K
    output_shape: tuple[int, int]  # M, N
    input_offset: int = 0
    weight_offset: int = 0
    kind: RegionKind = "dense"
    requant: Requant | None = None

    @property
    def macs(self) -> int:
        return self.input_shape[0] * self.weight_shape[0] * self.weight_shape[1]

    @property
    def output_dtype(self) -> str:
        return "int8" if self.requant is not None else "int32"

    def operands(self) -> tuple[Operand, ...]:
        return (Operand("input", self.input_shape, "int8", "MK"),
                Operand("weight", self.weight_shape, "int8", "NK"),
                Operand("bias", (self.weight_shape[0],), "int32", "N"),
                Operand("output", self.output_shape, self.output_dtype, "MN"))


@dataclass(frozen=True)
class EltwiseRegion:
    """TFLite int8 ADD or MUL of two int8 tensors of one shape, elementwise, with the output
    rescale and activation clamp (`params`); nothing else is read (no weights, no bias)."""

    layer: str
    shape: tuple[int, ...]
    op: Literal["add", "mul"]
    params: AddParams
    kind: RegionKind = "eltwise"
    requant: None = None  # the output rescale is part of the op

    @property
    def count(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def macs(self) -> int:
        return 0

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.shape

    @property
    def output_dtype(self) -> str:
        return "int8"

    def operands(self) -> tuple[Operand, ...]:
        return (Operand("a", self.shape, "int8", "any"), Operand("b", self.shape, "int8", "any"),
                Operand("output", self.shape, "int8", "any"))


@dataclass(frozen=True)
class PoolRegion:
    """TFLite int8 AVERAGE_POOL_2D (sum of the window's valid taps divided by their count,
    rounding half away from zero) or MAX_POOL_2D (max of the valid taps), NHWC batch 1,
    then the clamp [lo, hi]; padded positions are skipped, never read."""

    layer: str
    input_shape: tuple[int, int, int, int]
    output_shape: tuple[int, int, int, int]
    pool_size: tuple[int, int]
    strides: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, left, bottom, right
    mode: Literal["avg", "max"]
    lo: int = -128
    hi: int = 127
    kind: RegionKind = "pool"
    requant: None = None

    @property
    def macs(self) -> int:
        return 0

    @property
    def output_dtype(self) -> str:
        return "int8"

    def operands(self) -> tuple[Operand, ...]:
        return (Operand("input", self.input_shape, "int8", "NHWC"),
                Operand("output", self.output_shape, "int8", "NHWC"))


Region = ConvRegion | DenseRegion | EltwiseRegion | PoolRegion


@dataclass(frozen=True)
class CArgs:
    """C expressions (pointers) the compiler provides for an offloaded region."""

    input: str
    weight: str
    bias: str
    output: str
    multiplier: str | None = None  # int32[C], with a fused requantization
    shift: str | None = None  # int32[C]
    second: str | None = None  # the second int8 activation: a residual, an element-wise op's b


@dataclass(frozen=True)
class OffloadPattern:
    """A named pattern: the region kind it matches and a capability check.

    `check(region)` returns None to accept, or a short reason why not
    (reported per layer, e.g. "groups=8 unsupported").  With `requant`, the compiler
    offers the region together with the requantization that follows it (when the
    frontend's requantize chain is there), so `region.requant` is set and the device
    writes int8; a region without that chain is offered as plain int32.
    """

    name: str
    kind: RegionKind
    check: Callable[[Region], str | None]
    requant: bool = False
    residual: bool = False  # with `requant`: also the residual ADD that follows (conv2d)


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

    def kinds(self) -> set[str]:
        return {p.kind for p in self._patterns}

    def accepts(self, region: Region) -> tuple[OffloadPattern | None, str | None]:
        """First pattern of the region's kind that accepts it, else the last reason.
        A region with `requant` set only goes to a pattern declaring `requant`."""
        reason: str | None = f"no {region.kind} pattern"
        for pattern in self._patterns:
            if pattern.kind != region.kind or (region.requant is not None and not pattern.requant):
                continue
            reason = pattern.check(region)
            if reason is None:
                return pattern, None
        return None, reason

    def offer(self, region: Region, fused: Region | None = None,
              residual: Region | None = None) -> tuple[OffloadPattern | None, Region, str | None]:
        """The compiler's question: the first pattern that takes `region` (or, for a
        pattern declaring `requant`, `fused`: the same region with its requantization; for
        one declaring `residual` too, `residual`: fused with the ADD that follows), the
        region it took, else the last reason.  A pattern refusing the residual variant is
        asked for the fused one."""
        reason: str | None = f"no {region.kind} pattern"
        for pattern in self._patterns:
            if pattern.kind != region.kind:
                continue
            candidates = [fused if pattern.requant and fused is not None else region]
            if pattern.requant and pattern.residual and residual is not None:
                candidates.insert(0, residual)
            for candidate in candidates:
                reason = pattern.check(candidate)
                if reason is None:
                    return pattern, candidate, None
        return None, region, reason

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

    def emit_call(self, region: Region, args: CArgs) -> str:
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
