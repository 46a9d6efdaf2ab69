"""Profile-independent event counts of one emulation, taken where the run reads its cycles.

Cycles under a core profile are a linear function of event counts (core_timing.EventCounts,
flattened as `EVENT_DIMS`: instructions per class, branches taken / not taken, misaligned
redirects, adjacent hazard pairs).  With `SimConfig(record_events=True)` the native counter
keeps those counts as one running vector, and the VP takes it wherever a simulation would
read its cycle count: the region markers, each call event (per-layer cycles) and each
accelerator timing event (what its busy timer sees).  `EventRecord.cost(profile)` then
gives every one of those cycle counts under another profile, exactly as a simulation with
that profile computes them, as long as the instruction stream is the same (a polling
driver whose STATUS answers change is not: harness/recost.py replays and checks that).
"""

from __future__ import annotations

from dataclasses import dataclass

from .core_timing import CoreProfile, UnsupportedInstruction
from .rv32_decode import InsnClass

Vector = tuple[int, ...]


@dataclass(frozen=True)
class CostedRecord:
    """The cycle counts of an `EventRecord` under one profile."""

    core: str
    run_cycles: int | None
    call_events: list[int | None]
    devices: dict[str, list[int] | None]


@dataclass(frozen=True)
class EventRecord:
    """Vectors over `dims` (the dimensions the whole run touched; every other count is 0)."""

    dims: Vector
    final: Vector                            # the whole run (every entered block, whole)
    region: tuple[Vector, Vector] | None     # through the begin store, before the end store
    call_events: list[Vector | None]         # the region's call events, in order
    devices: dict[str, list[Vector] | None]  # per accelerator, one per trace event (None: too many kept)

    @classmethod
    def compact(cls, final: list[int], region, call_events, devices) -> "EventRecord":
        """From full `EVENT_DIMS` vectors (cumulative counts never leave `final`'s dims)."""
        dims = tuple(d for d, n in enumerate(final) if n)

        def pick(vector):
            return None if vector is None else tuple(int(vector[d]) for d in dims)

        return cls(dims, pick(final), None if region is None else (pick(region[0]), pick(region[1])),
                   [pick(v) for v in call_events],
                   {k: None if vs is None else [pick(v) for v in vs] for k, vs in devices.items()})

    @classmethod
    def from_dict(cls, record: dict) -> "EventRecord":
        """From `dataclasses.asdict` of a record (as a run's trace keeps it, JSON too)."""
        def vec(v):
            return None if v is None else tuple(v)

        region = record["region"]
        return cls(tuple(record["dims"]), vec(record["final"]),
                   None if region is None else (vec(region[0]), vec(region[1])),
                   [vec(v) for v in record["call_events"]],
                   {name: None if vs is None else [vec(v) for v in vs] for name, vs in record["devices"].items()})

    def weights(self, profile: CoreProfile) -> Vector:
        """The profile's cycles per recorded dimension; a class the core lacks but the run
        executed fails as the simulation would."""
        all_weights = profile.event_weights
        out = []
        for d in self.dims:
            if all_weights[d] is None:
                raise UnsupportedInstruction(profile.name, InsnClass(d))  # only classes lack a unit
            out.append(all_weights[d])
        return tuple(out)

    def cost(self, profile: CoreProfile) -> CostedRecord:
        w = self.weights(profile)

        def dot(vector):
            return None if vector is None else sum(a * b for a, b in zip(w, vector))

        region = None if self.region is None else dot(self.region[1]) - dot(self.region[0])
        return CostedRecord(profile.name, region, [dot(v) for v in self.call_events],
                            {name: None if vs is None else [dot(v) for v in vs] for name, vs in self.devices.items()})
