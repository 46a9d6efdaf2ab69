"""Core timing profiles: cycles per instruction class of a documented RV32 core.

A profile (`CoreProfile`, a TOML file in `vp/cores/` or the user's own) gives the cycles
of each instruction class (`rv32_decode.InsnClass`), of a conditional branch taken and not
taken, an extra cycle for a jump or taken branch whose target is a 32-bit instruction that
is not word aligned (a fetch-alignment stall), and hazards: extra cycles when an
instruction reads the register written by the instruction just before it.

The model is exact for what it states and states what it leaves out: memory is zero-wait,
data-dependent latencies (division, slow multipliers, misaligned accesses) take the value
the profile documents for them, FPU latencies are fixed, and nothing else (interrupts,
caches, prefetch-buffer refills) is modelled.

Cycles are a linear function of event counts (`EventCounts`: instructions per class,
branches taken / not taken, redirects to misaligned targets, hazard pairs), so a trace's
counts can be re-costed under any profile without emulating again: `EventCounts.cycles`
(or `cost_events(profile, counts)`) is the pure function for that, and
`block_events(code)` gives a block's static counts.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator,
                      model_validator)

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.workspace import PACKAGE_DIR

from .rv32_decode import N_CLASSES, Insn, InsnClass, decode_block

CORES_DIR = PACKAGE_DIR / "vp" / "cores"  # package data (workspace.py owns paths from __file__)
DEFAULT_CORE = "ideal"
STATIC_CLASSES = tuple(c for c in InsnClass if c is not InsnClass.BRANCH)  # branch: dynamic
TAIL_NONE, TAIL_BRANCH, TAIL_JUMP = 0, 1, 2


class CoreProfileError(UserError):
    """A core profile that does not exist or does not validate."""


class Hazard(BaseModel):
    """`penalty` extra cycles when an instruction of a `consumers` class reads the register
    written by the instruction just before it, of a `producers` class ("any": every class)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producers: list[str] | str = "any"
    consumers: list[str] | str = "any"
    penalty: int = Field(ge=0, le=1000)
    note: str = ""

    def classes(self, side: str) -> list[InsnClass]:
        names = getattr(self, side)
        if names == "any":
            return list(InsnClass)
        return [_class(name) for name in ([names] if isinstance(names, str) else names)]


def _class(name: str) -> InsnClass:
    try:
        return InsnClass[name.upper()]
    except KeyError:
        raise ValueError(f"unknown instruction class {name!r}; classes: "
                         f"{', '.join(c.name.lower() for c in InsnClass)}") from None


class CoreProfile(BaseModel):
    """Cycles per instruction class of one core (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    sources: list[str] = Field(default_factory=list, description="public documentation cited")
    isa: str = "rv32imc"
    # class name (lower case, no "branch") -> cycles; "none" (TOML has no null): no such unit
    cycles: dict[str, int | None]
    branch_taken: int = Field(ge=0, le=1000)
    branch_not_taken: int = Field(ge=0, le=1000)
    misaligned_target: int = Field(0, ge=0, le=1000, description="extra cycles when a jump or "
                                   "taken branch lands on a 32-bit instruction at an address = 2 mod 4")
    hazards: list[Hazard] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="what is and is not modelled")
    _matrix: tuple[tuple[int, ...], ...] = PrivateAttr(default=())

    @field_validator("cycles", mode="before")
    @classmethod
    def _none(cls, value):
        return {k: None if v in (None, "none") else v for k, v in dict(value).items()}

    @model_validator(mode="after")
    def _complete(self) -> "CoreProfile":
        names = {c.name.lower() for c in STATIC_CLASSES}
        unknown = sorted(set(self.cycles) - names)
        missing = sorted(names - set(self.cycles))
        if unknown or missing:
            raise ValueError(f"cycles: unknown classes {unknown}, missing classes {missing} "
                             f"(give every one of {sorted(names)}; null = no such unit)")
        for name, value in self.cycles.items():
            if value is not None and not 0 <= value <= 100_000:
                raise ValueError(f"cycles.{name}={value} out of range 0..100000")
        m = [[0] * N_CLASSES for _ in range(N_CLASSES)]
        for hz in self.hazards:
            for p in hz.classes("producers"):
                for c in hz.classes("consumers"):
                    m[p][c] = max(m[p][c], hz.penalty)
        self._matrix = tuple(tuple(row) for row in m)
        return self

    # -- tables the counters use --------------------------------------------------------
    def static_cost(self, cls: InsnClass) -> int:
        """Cycles of one instruction of `cls` before dynamic effects (a branch: 0)."""
        if cls is InsnClass.BRANCH:
            return 0
        value = self.cycles[cls.name.lower()]
        if value is None:
            raise UnsupportedInstruction(self.name, cls)
        return value

    @property
    def hazard_matrix(self) -> tuple[tuple[int, ...], ...]:
        """[producer][consumer] -> extra cycles (the largest matching rule)."""
        return self._matrix

    def hazard(self, producer: Insn, consumer: Insn) -> int:
        if producer.rd == 0 or not (consumer.reads >> producer.rd) & 1:
            return 0
        return self.hazard_matrix[producer.cls][consumer.cls]

    def cycles_of(self, counts: "EventCounts") -> int:
        return counts.cycles(self)


class UnsupportedInstruction(CoreProfileError):
    """The firmware executed an instruction of a class the core does not have."""

    def __init__(self, core: str, cls: InsnClass) -> None:
        super().__init__(f"core profile {core!r} has no {cls.name.lower()} unit (cycles."
                         f"{cls.name.lower()} = null) but the firmware executes such an "
                         "instruction; pick a core for this arch (-s core=...)")


# -- event counts: the profile-independent view of a trace ---------------------------------


@dataclass
class EventCounts:
    """Timing events of a trace, independent of any profile.  `cycles(profile)` costs them:
    sum(count[c] * cycles[c]) + taken * branch_taken + not_taken * branch_not_taken
    + misaligned * misaligned_target + sum(hazards[p, c] * matrix[p][c])."""

    classes: Counter = field(default_factory=Counter)  # InsnClass -> instructions
    taken: int = 0
    not_taken: int = 0
    misaligned: int = 0  # redirects onto a non-word-aligned 32-bit instruction
    hazards: Counter = field(default_factory=Counter)  # (producer, consumer) -> adjacent pairs

    def add(self, other: "EventCounts", times: int = 1) -> None:
        for key, value in other.classes.items():
            self.classes[key] += value * times
        for key, value in other.hazards.items():
            self.hazards[key] += value * times
        self.taken += other.taken * times
        self.not_taken += other.not_taken * times
        self.misaligned += other.misaligned * times

    @property
    def instructions(self) -> int:
        return sum(self.classes.values())

    def cycles(self, profile: CoreProfile) -> int:
        matrix = profile.hazard_matrix
        total = sum(profile.static_cost(InsnClass(c)) * n for c, n in self.classes.items() if n)
        total += self.taken * profile.branch_taken + self.not_taken * profile.branch_not_taken
        total += self.misaligned * profile.misaligned_target
        total += sum(matrix[p][c] * n for (p, c), n in self.hazards.items())
        return total


def cost_events(profile: CoreProfile, counts: EventCounts) -> int:
    """Cycles of a trace's event counts under `profile` (pure; for re-costing traces)."""
    return counts.cycles(profile)


def block_events(code: bytes) -> EventCounts:
    """The static events of one block (classes and hazard pairs inside it); the branch at its
    end, redirects and hazards with the previous block are dynamic (not included)."""
    insns = decode_block(code)
    counts = EventCounts(classes=Counter(InsnClass(i.cls) for i in insns))
    for a, b in zip(insns, insns[1:]):
        if a.rd and (b.reads >> a.rd) & 1:
            counts.hazards[(a.cls, b.cls)] += 1
    return counts


# -- per-block static timing (what the native hook caches) ---------------------------------


@dataclass(frozen=True)
class BlockTiming:
    """A translated block under a profile: static cycles (hazards inside it included), the
    cumulative cycles through each instruction, and what the next block's entry needs."""

    insns: int
    cycles: int
    through: tuple[int, ...]  # cycles from block start through instruction i (inclusive)
    offsets: tuple[int, ...]  # byte offset of instruction i
    tail_kind: int            # TAIL_NONE / TAIL_BRANCH / TAIL_JUMP
    tail_class: int
    tail_rd: int
    head_class: int
    head_reads: int
    head_wide: bool           # the first instruction is 32 bits wide
    classes: tuple[int, ...] = ()  # InsnClass of instruction i

    def at(self, offset: int) -> tuple[int, int]:
        """(cycles before, cycles through) the instruction at byte `offset` of the block."""
        i = self.offsets.index(offset)
        return (self.through[i - 1] if i else 0), self.through[i]


def block_timing(profile: CoreProfile, code: bytes) -> BlockTiming:
    insns = decode_block(code)
    through, offsets, total, offset = [], [], 0, 0
    for k, insn in enumerate(insns):
        if k:
            total += profile.hazard(insns[k - 1], insn)
        if insn.cls is InsnClass.BRANCH and k != len(insns) - 1:
            total += profile.branch_not_taken  # fell through inside the block
        else:
            total += profile.static_cost(insn.cls)
        through.append(total)
        offsets.append(offset)
        offset += insn.size
    last, first = insns[-1], insns[0]
    kind = (TAIL_BRANCH if last.cls is InsnClass.BRANCH else
            TAIL_JUMP if last.cls is InsnClass.JUMP else TAIL_NONE)
    return BlockTiming(len(insns), total, tuple(through), tuple(offsets), kind, int(last.cls),
                       last.rd, int(first.cls), first.reads, first.size == 4,
                       tuple(int(i.cls) for i in insns))


# -- loading profiles ------------------------------------------------------------------


def builtin_cores() -> list[str]:
    return sorted(p.stem for p in CORES_DIR.glob("*.toml"))


def load_profile(spec: str | Path | CoreProfile | None = None) -> CoreProfile:
    """A built-in core by name (`builtin_cores()`), or a profile TOML file by path."""
    if isinstance(spec, CoreProfile):
        return spec
    spec = str(spec or DEFAULT_CORE)
    path = CORES_DIR / f"{spec}.toml" if spec in builtin_cores() else Path(spec).expanduser()
    return _load_file(str(path.resolve()) if path.exists() else str(path))


@lru_cache(maxsize=32)
def _load_file(path: str) -> CoreProfile:
    file = Path(path)
    if not file.is_file():
        raise CoreProfileError(f"core {path!r}: not a built-in core ({', '.join(builtin_cores())}) "
                               "nor a profile file (.toml)")
    try:
        data = tomllib.loads(file.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CoreProfileError(f"core profile {file}: {exc}") from None
    try:
        return CoreProfile(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(profile)'}: {e['msg']}"
                             for e in exc.errors())
        raise CoreProfileError(f"core profile {file}: {problems}") from None
