"""Trace re-costing: sweep points that differ only in accelerator cost settings get their
rows from one simulated run's timing trace instead of emulating again.

Why this is exact.  Cost settings (macs_per_cycle, setup_cycles, the detailed model's
lanes, bandwidth, ..., and the energy table) do not reach the firmware (`settings.codegen_settings`), so every
such point runs the same ELF on the same input: the same instructions, MMIO accesses and
outputs.  Only the devices' busy times differ, and with them what the CPU observes of
them: a blocking WAIT answers "done" whatever the busy time (the stall absorbs it), so
the instruction stream is unchanged; a polled STATUS may answer differently.  The trace
(`AcceleratorDevice.trace`) holds every timing event in order: job starts with the job,
WAITs, STATUS polls with their answers, the end of the program.  Re-costing builds the
peripheral's own device with the point's settings and replays the events through its
`account` / `wait_at` / `finish_at` (the code a simulation runs), then fills the row with
the runner's own `accelerator_metrics`.  A poll that would now answer differently means
the firmware would have taken another path: `TraceDiverged`, and the point is simulated.

The core profile (`-s core=`) does not reach the firmware either; it prices the same
instruction stream.  A run simulated with `record_events` (vp/event_record.py) keeps the
profile-independent event counts at each cycle reading, so another profile gives the
region's cycles, each layer's, and the cycle of every trace event (which the replay then
uses: the accelerator's stalls change with the CPU's clock).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mlonmcu_lite.harness.spec import RunSpec
from mlonmcu_lite.reports.schema import RunResult

COST_FIELDS = ("acc_cost_model", "acc_compute_cycles", "acc_pe_cycles", "acc_utilisation",
               "acc_dma_bytes", "acc_dma_cycles")


class TraceDiverged(Exception):
    """The point's timing would change what the firmware does: it must be simulated."""


@dataclass
class _Replayed:
    """The part of a `SimResult` that `runner.accelerator_metrics` reads."""

    run_cycles: int
    devices: dict[str, dict[str, Any]]
    run_classes: dict | None = None


class Recoster:
    """Re-costs points against simulated runs.  Peripheral classes are resolved once per
    name (loading a peripheral folder costs ~1 ms; a replay ~0.1 ms)."""

    def __init__(self) -> None:
        self._backend_classes: dict[tuple[str, tuple[str, ...]], type] = {}
        self._costed: dict[tuple[str, str], Any] = {}  # (base run, core) -> its CostedRecord

    def _backend(self, request, search: tuple[str, ...]):
        key = (request.name, search)
        cls = self._backend_classes.get(key)
        if cls is None:
            backend = request.backend([Path(p) for p in search])
            self._backend_classes[key] = type(backend)
            return backend
        spec = getattr(cls, "spec", None)
        if spec is None:  # not a SpecBackend: the general (slower) path
            return request.backend([Path(p) for p in search])
        return cls(spec.settings(**dict(request.settings)))

    def key(self, spec: RunSpec) -> tuple | None:
        """Specs with equal keys run the same firmware on the same input (CPU-only runs
        too: they differ only by core profile)."""
        from mlonmcu_lite.peripheral.settings import codegen_settings

        firmware = tuple((p.name, tuple(sorted(codegen_settings(self._backend(p, spec.peripheral_path)
                                                                .settings).items())))
                         for p in spec.peripherals)
        # the energy table only prices the counts, the core profile only the events: re-costing
        # knobs like the cost settings
        settings = spec.settings.model_dump_json(exclude={"energy", "core"})
        return (spec.model, spec.model_name, spec.arch, spec.input_path, spec.peripheral_path,
                settings, spec.require_offload, firmware)

    def recost(self, spec: RunSpec, base: RunResult) -> RunResult:
        """The row `spec` would get from a full simulation, from `base`'s trace."""
        from mlonmcu_lite.harness.runner import accelerator_metrics, energy_metrics, identity

        if base.trace is None:
            raise TraceDiverged(f"base run {base.run_id} has no trace ({base.reason or 'no accelerator'})")
        backends = [self._backend(p, spec.peripheral_path) for p in spec.peripherals]
        trace = base.trace
        costed = self._core_costs(spec, base)
        run_cycles = trace["run_cycles"] if costed is None else costed.run_cycles
        reports = {}
        for backend in backends:
            recorded = trace["devices"].get(backend.name)
            if recorded is None:
                raise TraceDiverged(f"base run {base.run_id} has no trace of {backend.name}")
            nows = None if costed is None else costed.devices.get(backend.name)
            if costed is not None and nows is None:
                raise TraceDiverged(f"base run {base.run_id} kept no event counts of {backend.name}'s "
                                    "timing events (too many: a polling driver)")
            reports[backend.name] = _replay(backend.device(), recorded, nows)
        row = copy.copy(base)  # a valid row; only its identity, cycles and accelerator figures change
        row.__dict__.update(identity(spec), sim_seconds=None, mips=None, recosted_from=base.run_id, trace=None,
                            reason=None, **{key: None for key in COST_FIELDS})
        if costed is not None:
            row.__dict__.update(core=costed.core, cpu_cycles=run_cycles,
                                cpi=round(run_cycles / row.run_instructions, 4) if row.run_instructions else None)
        replayed = _Replayed(run_cycles, reports, trace.get("run_classes"))
        accelerator_metrics(spec, row, replayed, backends, trace["layers"], SimpleNamespace(numerics=trace["numerics"]))
        energy_metrics(spec, row, replayed, bool(backends))
        row.layers = _layers(base.layers, reports, trace, costed)
        return row

    @staticmethod
    def same_core(spec: RunSpec, base: RunResult) -> bool:
        """`spec` runs the core profile `base` ran (its cycles stand as they are)."""
        import json

        return json.loads(base.settings).get("core", "ideal") == spec.settings.core

    def _core_costs(self, spec: RunSpec, base: RunResult):
        """The base run's recorded events costed under the point's core profile (None: the
        base ran that core; its own cycles stand)."""
        from mlonmcu_lite.vp.core_timing import UnsupportedInstruction, load_profile
        from mlonmcu_lite.vp.event_record import EventRecord

        core = spec.settings.core
        if self.same_core(spec, base):
            return None
        key = (base.run_id, core)
        if key not in self._costed:
            record = base.trace.get("events")
            if record is None:
                raise TraceDiverged(f"base run {base.run_id} recorded no event counts (core {core})")
            try:
                self._costed[key] = EventRecord.from_dict(record).cost(load_profile(core))
            except UnsupportedInstruction as exc:  # the simulation fails it, naming the PC
                raise TraceDiverged(str(exc)) from exc
        return self._costed[key]


def _replay(device, recorded: dict[str, Any], nows: list[int] | None = None) -> dict[str, Any]:
    """`device` (fresh, with the point's settings) taken through the recorded events (at
    cycles `nows` under another core profile)."""
    events = recorded["events"]
    if nows is not None:
        events = [(kind, now, payload) for (kind, _, payload), now in zip(events, nows, strict=True)]
    for kind, now, payload in events:
        if kind == "start":
            if device.timer.busy(now):
                raise TraceDiverged(f"{device.name}: START at instruction {now} while busy")
            device.account(now, *payload)
        elif kind == "wait":
            device.wait_at(now)
        elif kind == "poll":
            if device.timer.poll(now) != payload:
                raise TraceDiverged(f"{device.name}: STATUS at instruction {now} answers differently")
        elif kind == "finish":
            if device.timer.busy(now):  # a simulation fails such a run ("still busy at exit")
                raise TraceDiverged(f"{device.name}: job still busy at exit")
            device.finish_at(now)
    report = device.report()
    report.update({key: recorded[key] for key in ("mmio_reads", "mmio_writes", "checked_jobs")})
    return report


def _layers(base_layers: list[dict] | None, reports: dict[str, dict], trace: dict, costed=None
            ) -> list[dict] | None:
    """The base run's layer profiles with the replayed jobs charged to their layers (the
    same `LayerProfile.charge` a simulation's attribution uses: cycles, stalls, bytes and
    the detailed model's compute / DMA cycles and utilisation), and under another core
    profile each layer's CPU cycles from its call events (the glue: the rest of the region)."""
    from mlonmcu_lite.harness.layers import LayerProfile

    if base_layers is None:
        return None
    layers = [LayerProfile.from_dict(layer) for layer in base_layers]
    layers = [layer.without_jobs() if layer.acc_jobs else layer for layer in layers]
    by_index = {layer.index: layer for layer in layers}
    for name, report in reports.items():
        for job, index in zip(report["job_log"], trace["devices"][name]["job_layers"], strict=True):
            by_index[index].charge(name, job)
    if costed is not None and costed.run_cycles is not None:
        owned = {int(index): events for index, events in trace["layer_events"].items()}
        for layer in layers:
            if layer.index != -1:
                layer.cycles = sum(costed.call_events[k] for k in owned[layer.index])
        glue = by_index.get(-1)
        if glue is not None:
            glue.cycles = costed.run_cycles - sum(layer.cycles for layer in layers if layer.index != -1)
    return [layer.to_dict() for layer in layers]


def plan(specs: list[RunSpec], recoster: Recoster, known: set | frozenset = frozenset()
         ) -> tuple[list[int], dict[int, tuple]]:
    """(indices to simulate, {index to re-cost: its firmware key}): the first spec of each
    firmware group not in `known` (keys simulated earlier) is simulated, the rest re-costed."""
    simulate: list[int] = []
    recost: dict[int, tuple] = {}
    seen = set(known)
    for index, spec in enumerate(specs):
        key = recoster.key(spec)
        if key is None or key not in seen:
            simulate.append(index)
            if key is not None:
                seen.add(key)
        else:
            recost[index] = key
    return simulate, recost
