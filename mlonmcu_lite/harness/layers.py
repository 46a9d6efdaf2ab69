"""Per-layer profile of one run: the VP's call events matched to the steps of run().

The VP reports one call event per call out of the glue code (`mlml_model_run` and `main`)
with its exact instruction count (callees included).  Each kernel step of plan.json is one
call of its kernel symbol (two steps may share a kernel: order tells them apart); an
offloaded step is the calls of its peripheral's driver; anything else the compiler emitted
inline in run() (argument set-up, output copies) is "(glue)".  Accelerator jobs are charged
to the layer whose call event retired the instruction that started them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mlonmcu_lite.errors import ToolError

GLUE = "(glue)"
GLUE_FUNCTIONS = ("mlml_model_run", "main")
_COPY_FUNCTIONS = ("memcpy", "memmove")


class LayerAttributionError(ToolError):
    """The call events of a run do not match the steps of its plan."""


@dataclass
class LayerProfile:
    """One layer (a call in run()) of one run; figures exact except `acc_*` (cost model)."""

    index: int            # position in run(); -1 for the glue entry
    layer: str            # "03 CONV_2D+ADD"
    op: str               # TFLite operator(s) it implements, e.g. "CONV_2D+ADD"
    tflite_ops: str       # their indices in the TFLite graph, e.g. "2,3"
    kernel: str           # the C function called
    instructions: int
    cycles: int | None = None  # CPU cycles under the run's core profile (a model)
    macs: int = 0         # the layer's MACs (TFLite count; on its anchor step)
    peripheral: str | None = None  # the peripheral that ran it
    reason: str | None = None      # why each active peripheral rejected it
    acc_jobs: int = 0
    acc_macs: int = 0
    acc_ops: int | None = None  # element operations (element-wise / pooling engines), not MACs
    acc_cycles: int = 0
    acc_stall_cycles: int = 0
    acc_bytes: int | None = None
    # detailed cost model (None otherwise): compute and bus cycles, useful MACs per PE-cycle
    acc_compute_cycles: int | None = None
    acc_dma_cycles: int | None = None
    acc_utilisation: float | None = None
    live_arena_bytes: int | None = None
    _pe_cycles: int = 0
    _events: tuple[int, ...] = ()  # indices of its call events (re-costing core profiles)

    def to_dict(self) -> dict[str, Any]:
        """The public fields (all scalars: a shallow copy; re-costing makes thousands)."""
        return {name: getattr(self, name) for name in _PUBLIC}

    def charge(self, device: str, job: dict) -> None:
        """Add one accelerator job (a device's `job_log` record) to the layer's figures."""
        self.acc_jobs += 1
        self.acc_macs += job.get("macs", 0)
        if "ops" in job:  # an element-wise / pooling engine's element operations
            self.acc_ops = (self.acc_ops or 0) + job["ops"]
        self.acc_cycles += job["cycles"]
        self.acc_stall_cycles += job["stall_cycles"]
        if "bytes" in job:
            self.acc_bytes = (self.acc_bytes or 0) + job["bytes"]
        if "compute_cycles" in job:  # peripheral/cost_detailed.py's breakdown
            self.acc_compute_cycles = (self.acc_compute_cycles or 0) + job["compute_cycles"]
            self.acc_dma_cycles = (self.acc_dma_cycles or 0) + job["load_cycles"] + job["store_cycles"]
            self._pe_cycles += job["pe_cycles"]
            self.acc_utilisation = round(self.acc_macs / self._pe_cycles, 4)
        if self.peripheral is None:
            self.peripheral = device

    def without_jobs(self) -> "LayerProfile":
        """The layer with no accelerator job charged (re-costing charges the replayed ones)."""
        return dataclasses.replace(self, acc_jobs=0, acc_macs=0, acc_ops=None, acc_cycles=0, acc_stall_cycles=0,
                                   acc_bytes=None, acc_compute_cycles=None, acc_dma_cycles=None,
                                   acc_utilisation=None, _pe_cycles=0)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "LayerProfile":
        return cls(**record)


_PUBLIC = tuple(f.name for f in dataclasses.fields(LayerProfile) if not f.name.startswith("_"))


def _function(image, address: int) -> str:
    name = image.function_at(address) or f"0x{address:08x}"
    return name.split("+")[0]


def _assign(steps: list[dict], names: list[str]) -> list[list[int]]:
    """Event indices per step; raises LayerAttributionError on any mismatch."""
    owned: list[list[int]] = [[] for _ in steps]
    e = 0
    for i, step in enumerate(steps):
        kind = step["kind"]
        if kind == "kernel":
            if e >= len(names) or names[e] != step["func"]:
                got = names[e] if e < len(names) else "no further call"
                raise LayerAttributionError(f"step {i} should call {step['func']}, the run called {got}")
            owned[i].append(e)
            e += 1
        elif kind == "extern":
            backend = (step.get("offload") or {}).get("offloaded_to") or ""
            if e < len(names) and backend and not names[e].startswith(backend):
                raise LayerAttributionError(f"offloaded step {i} should call the {backend} driver, "
                                            f"the run called {names[e]}")
            stop = _next_boundary(steps, i + 1)
            first = True
            while e < len(names) and (first or not _starts(names[e], stop)):
                owned[i].append(e)
                e, first = e + 1, False
        else:  # an output copy: inline, or a memcpy call (glue either way)
            while e < len(names) and names[e] in _COPY_FUNCTIONS:
                e += 1
    if e != len(names):
        raise LayerAttributionError(f"{len(names) - e} calls out of run() match no step "
                                    f"(first: {names[e]})")
    return owned


def _next_boundary(steps: list[dict], start: int) -> tuple[str, str] | None:
    """What the call after an offloaded step's driver calls looks like: (kind, name)."""
    for step in steps[start:]:
        if step["kind"] == "kernel":
            return ("kernel", step["func"])
        if step["kind"] == "extern":
            return ("extern", (step.get("offload") or {}).get("offloaded_to") or "")
    return None


def _starts(name: str, boundary: tuple[str, str] | None) -> bool:
    if boundary is None:
        return False
    kind, what = boundary
    return name == what if kind == "kernel" else bool(what) and name.startswith(what)


def profile_layers(steps: list[dict], events, image, run_instructions: int,
                   job_logs: dict[str, list[dict]], run_cycles: int | None = None) -> list[LayerProfile]:
    """Layer profiles (plus the glue entry) whose instructions sum to `run_instructions`."""
    names = [_function(image, ev.target) for ev in events]
    owned = _assign(steps, names)
    profiles: list[LayerProfile] = []
    by_event: dict[int, LayerProfile] = {}
    for i, (step, evs) in enumerate(zip(steps, owned)):
        if step["kind"] == "copy":
            continue
        offload = step.get("offload") or {}
        op = step.get("name") or "(unknown)"
        kernel = step["func"] if step["kind"] == "kernel" else (names[evs[0]] if evs else step["func"])
        profile = LayerProfile(
            index=i, layer=f"{i:02d} {op}", op=op,
            tflite_ops=",".join(str(j) for j in step.get("ops", [])), kernel=kernel,
            instructions=sum(events[k].instructions for k in evs),
            cycles=sum(events[k].cycles for k in evs) if run_cycles is not None else None,
            macs=int(step.get("macs") or 0),
            peripheral=offload.get("offloaded_to"), reason=offload.get("reason"),
            live_arena_bytes=step.get("live_arena_bytes"), _events=tuple(evs))
        profiles.append(profile)
        for k in evs:
            by_event[k] = profile
    for device, jobs in job_logs.items():
        for job in jobs:
            profile = _owner(events, by_event, job["start"])
            if profile is None:
                raise LayerAttributionError(f"{device} job started at instruction {job['start']} "
                                            "outside every layer's calls")
            job["layer"] = profile.index  # kept for re-costing (harness/recost.py)
            profile.charge(device, job)
    glue = run_instructions - sum(p.instructions for p in profiles)
    if glue < 0:
        raise LayerAttributionError(f"layers retired {-glue} more instructions than the region")
    glue_cycles = None if run_cycles is None else run_cycles - sum(p.cycles for p in profiles)
    profiles.append(LayerProfile(index=-1, layer=GLUE, op=GLUE, tflite_ops="", kernel="mlml_model_run",
                                 instructions=glue, cycles=glue_cycles))
    return profiles


def _owner(events, by_event: dict, start: int):
    """The layer whose call event retired instruction number `start` (1-based count)."""
    for k, ev in enumerate(events):
        if ev.start < start <= ev.start + ev.instructions:
            return by_event.get(k)
    return None
