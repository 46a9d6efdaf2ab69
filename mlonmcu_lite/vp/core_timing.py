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

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, field_validator,
                      model_validator)

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.workspace import PACKAGE_DIR

from .rv32_decode import N_CLASSES, Insn, InsnClass, decode_block
from .tables import builtin_names, load_named

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
    _weights: tuple[int | None, ...] = PrivateAttr(default=())

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
        classes = [0 if c is InsnClass.BRANCH else self.cycles[c.name.lower()] for c in InsnClass]
        self._weights = (*classes, self.branch_taken, self.branch_not_taken, self.misaligned_target,
                         *(v for row in m for v in row))
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

    @property
    def event_weights(self) -> tuple[int | None, ...]:
        """Cycles per event dimension (`EVENT_DIMS` layout); None: the core has no such unit."""
        return self._weights

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

    @classmethod
    def from_vector(cls, vector) -> "EventCounts":
        """The counts of an event vector (`EVENT_DIMS` layout, as the native recorder keeps)."""
        counts = cls()
        for dim, n in enumerate(vector):
            if n:
                counts._add_dim(dim, int(n))
        return counts

    def _add_dim(self, dim: int, n: int) -> None:
        if dim < N_CLASSES:
            self.classes[InsnClass(dim)] += n
        elif dim == TAKEN:
            self.taken += n
        elif dim == NOT_TAKEN:
            self.not_taken += n
        elif dim == MISALIGNED:
            self.misaligned += n
        else:
            self.hazards[divmod(dim - HAZARD0, N_CLASSES)] += n

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
    """The static events of one block (classes, hazard pairs and not-taken branches inside
    it); the branch at its end, redirects and hazards with the previous block are dynamic
    (not included)."""
    counts = EventCounts()
    for events in insn_events(decode_block(code)):
        for dim, n in events:
            counts._add_dim(dim, n)
    return counts


# -- event vectors: EventCounts as one flat vector (what the native recorder keeps) ---------

TAKEN, NOT_TAKEN, MISALIGNED = N_CLASSES, N_CLASSES + 1, N_CLASSES + 2
HAZARD0 = N_CLASSES + 3  # + producer * N_CLASSES + consumer: an adjacent hazard pair
EVENT_DIMS = HAZARD0 + N_CLASSES * N_CLASSES


def hazard_dim(producer: int, consumer: int) -> int:
    return HAZARD0 + producer * N_CLASSES + consumer


def insn_events(insns: list[Insn]) -> list[tuple[tuple[int, int], ...]]:
    """Per instruction of a block, the (dimension, count) events it adds: its class, a hazard
    pair with the instruction before it, and "not taken" for a branch inside the block (a
    block's last branch is decided at the next block's entry)."""
    out = []
    for k, insn in enumerate(insns):
        events = [(int(insn.cls), 1)]
        if k and insns[k - 1].rd and (insn.reads >> insns[k - 1].rd) & 1:
            events.append((hazard_dim(insns[k - 1].cls, insn.cls), 1))
        if insn.cls is InsnClass.BRANCH and k != len(insns) - 1:
            events.append((NOT_TAKEN, 1))
        out.append(tuple(events))
    return out


def events_cost(profile: CoreProfile, events) -> int:
    """Cycles of (dimension, count) events under `profile`."""
    weights, total = profile.event_weights, 0
    for dim, n in events:
        weight = weights[dim]
        if weight is None:
            raise UnsupportedInstruction(profile.name, InsnClass(dim))
        total += weight * n
    return total


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
    if not insns:  # the block's first instruction does not decode: it faults before retiring
        return BlockTiming(0, 0, (), (), TAIL_NONE, 0, 0, 0, 0, False)
    through, offsets, total, offset = [], [], 0, 0
    for insn, events in zip(insns, insn_events(insns)):
        total += events_cost(profile, events)
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
    return builtin_names(CORES_DIR)


def load_profile(spec: str | Path | CoreProfile | None = None) -> CoreProfile:
    """A built-in core by name (`builtin_cores()`), or a profile TOML file by path."""
    if isinstance(spec, CoreProfile):
        return spec
    return load_named(str(spec or DEFAULT_CORE), CORES_DIR, CoreProfile, CoreProfileError, "core profile")
