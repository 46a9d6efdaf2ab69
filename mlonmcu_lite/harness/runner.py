"""One run, stage by stage: load -> build -> compile -> run -> validate -> postprocess.

Runs in a worker process.  Any exception becomes a failing row whose reason
names the stage (`"<error> @ <stage>"`), so one broken run never takes the
others down.  Only the first sample's emulation is measured; the other
samples are validated in separate emulations whose counts are discarded, so no
validation inference is ever counted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from mlonmcu_lite.abi import IOBuffer
from mlonmcu_lite.errors import MlmlError, ToolError, gist
from mlonmcu_lite.harness.cache import BuildCache, FirmwareArtifacts, ModelArtifacts, cache_key, hash_tree
from mlonmcu_lite.harness.float_check import FloatAgreement
from mlonmcu_lite.harness.fit import check_rom
from mlonmcu_lite.harness.inputs import load_user_input, random_input
from mlonmcu_lite.harness.spec import RunSpec, Stage
from mlonmcu_lite.reports.schema import RunResult

MEASURED = ("exact retired instructions of the inference region (Unicorn, native block-hook counter); "
            "cpu_cycles: the core timing profile's model of them")
# The flow, named as MLonMCU names its columns (Framework / Backend / Target / Platform).
FLOW = {"framework": "tvm", "backend": "tvmaot-c", "target": "unicorn-vp", "platform": "mlml-baremetal"}


class RunFailure(ToolError):
    """A run-level check failed (e.g. an accelerator that was never used)."""


class _Stage:
    """The current stage, mirrored into `<run_dir>/stage` so a killed run still names it."""

    def __init__(self, run_dir: Path) -> None:
        self._file = run_dir / "stage"
        self.name = Stage.LOAD

    @property
    def name(self) -> Stage:
        return self._name

    @name.setter
    def name(self, value: Stage) -> None:
        self._name = Stage(value)
        _keep(self._file, self._name.value)


def _keep(path: Path, text: str) -> None:
    """Write one of the run folder's own records (stage, error.txt, result.json); a failure
    (disk full, folder gone) is logged, never the run's failure: the row still reaches the
    session, which writes the report."""
    try:
        path.write_text(text)
    except OSError as exc:
        logging.getLogger(__name__).warning("%s not written: %s", path, exc.strerror or exc)


def last_stage(run_dir: Path) -> Stage:
    try:
        return Stage((run_dir / "stage").read_text().strip() or Stage.LOAD)
    except (OSError, ValueError):
        return Stage.LOAD


def execute_run(spec: RunSpec) -> RunResult:
    """Execute one run; always returns its typed result (failing runs say why and where)."""
    run_dir = run_directory(spec)
    run_dir.mkdir(parents=True, exist_ok=True)
    stage = _Stage(run_dir)
    result = base_result(spec)
    try:
        _execute(spec, result, stage, run_dir)
    except Exception as exc:  # noqa: BLE001 - isolation is the point
        if isinstance(exc, MlmlError):
            exc.at(stage.name, spec.run_id)
        result.failing = True
        result.reason = f"{type(exc).__name__}: {_named(first_line(exc) + _raised_at(exc), spec)} @ {stage.name}"
        _keep(run_dir / "error.txt", traceback.format_exc())
    _keep(run_dir / "result.json", json.dumps(dataclasses.asdict(result), indent=1, default=str))
    return result


def run_directory(spec: RunSpec) -> Path:
    return Path(spec.out_dir) / "runs" / spec.run_id


def base_result(spec: RunSpec) -> RunResult:
    """The identifying fields of a run's result (also the result of a killed run)."""
    return RunResult(model=spec.model_name, measured=MEASURED, **FLOW, **identity(spec))


def identity(spec: RunSpec) -> dict[str, Any]:
    """What names a run in its row, model label aside (re-costing swaps these in)."""
    return dict(
        session=spec.session,
        run_id=spec.run_id,
        config=spec.config,
        arch=spec.arch,
        peripheral="+".join(p.name for p in spec.peripherals) or None,
        point=spec.tag or None,
        peripheral_settings="+".join(p.effective_label for p in spec.peripherals) or None,
        settings=json.dumps({"peripherals": [p.label for p in spec.peripherals],
                             "peripheral_settings": {p.name: dict(p.effective) for p in spec.peripherals},
                             **spec.settings.model_dump()}, sort_keys=True),
    )


def _named(message: str, spec: RunSpec) -> str:
    """The message, naming the model when it does not already (e.g. a compiler's output)."""
    return message if spec.model_name in message or spec.run_id in message else f"{message} [model {spec.model_name}]"


def _raised_at(exc: BaseException) -> str:
    """` (raised at core_timing.py:302 in block_timing)` for an error that is not ours (a defect:
    the reason shows where, the traceback is in error.txt); '' for ours, which say what went wrong."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, MlmlError) or not frames:
        return ""
    return f" (raised at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})"


def first_line(exc: BaseException) -> str:
    """The message of a run's failure: ours as written; another's (TVM's C++ errors carry a
    backtrace first) reduced to its gist, without repeating the type the reason starts with."""
    text = str(exc).strip()
    if "Traceback" in text and not isinstance(exc, MlmlError):
        text = gist(exc, 600).removeprefix(f"{type(exc).__name__}: ")
    text = text or "(no message)"
    return text if len(text) < 600 else text[:600] + "…"


def _set(result: RunResult, **values: Any) -> None:
    for key, value in values.items():
        setattr(result, key, value)


def _execute(spec: RunSpec, result: RunResult, stage: _Stage, run_dir: Path) -> None:
    from mlonmcu_lite.zoo import resolve_model

    stage.name = Stage.LOAD
    info = resolve_model(spec.model, spec.workspace)
    _set(result, model=spec.label or info.name, macs=info.macs, io_dtype=io_dtype(info),
         numerics=getattr(info, "numerics", "quantized"))
    if spec.settings.rom_kib is not None:  # a user limit; unset, the VP's ROM grows to fit
        check_rom(info.name, info.weight_bytes, getattr(info, "numerics", "quantized"), spec.settings.rom_kib)
    backends = [p.backend([Path(d) for d in spec.peripheral_path]) for p in spec.peripherals]
    samples, goldens = _select_inputs(spec, info)

    artifacts = _build(spec, info, backends, stage)
    model, firmware = artifacts.model, artifacts.firmware
    vp_map = firmware.memory_map(spec.settings)
    _set(result, **firmware.sizes, rom_kib=vp_map.rom_size // 1024, ram_kib=vp_map.ram_size // 1024)
    _set(result,
         arena_bytes=model.arena_bytes,
         arena_lower_bound=model.arena_lower_bound,
         compile_seconds=model.compile_seconds,
         build_seconds=firmware.build_seconds,
         cached=model.cached and firmware.cached,
         layers_total=len(model.layers),
         layers_eligible=sum(1 for layer in model.layers if layer.get("eligible_kinds")),
         layers_offloaded=sum(1 for layer in model.layers if layer.get("offloaded_to")))
    for name, target in (("model", model.directory), ("firmware", firmware.directory)):
        (run_dir / name).unlink(missing_ok=True)
        (run_dir / name).symlink_to(Path(target).resolve())

    stage.name = Stage.RUN
    measured, outputs = _simulate(spec, artifacts, backends, samples[0], run_dir)
    _set(result,
         total_instructions=measured.total_instructions,
         run_instructions=measured.run_instructions,
         sim_seconds=round(measured.sim_seconds, 4),
         mips=round(measured.mips, 1),
         instr_per_mac=round(measured.run_instructions / info.macs, 3) if info.macs else None,
         core=measured.core,
         cpu_cycles=measured.run_cycles,
         cpi=round(measured.run_cycles / measured.run_instructions, 4) if measured.run_instructions else None)
    stage.name = Stage.POSTPROCESS
    accelerator_metrics(spec, result, measured, backends, artifacts.model.layers, info)
    energy_metrics(spec, result, measured, bool(backends))
    profiles = _layer_profiles(measured, artifacts)
    result.layers = [p.to_dict() for p in profiles]
    _write_job_records(run_dir, measured)
    if backends or measured.events is not None:
        result.trace = timing_trace(measured, artifacts.model.layers, info, profiles, spec.settings.core)

    stage.name = Stage.VALIDATE
    _set(result, **_validate(spec, info, artifacts, backends, samples, goldens, outputs))
    if result.validation == "mismatch":
        raise RunFailure(f"output differs from the TFLite reference ({result.validation_detail})")


def io_dtype(info) -> str:
    """The dtypes a model takes and returns: "int8", "float32" (QUANTIZE/DEQUANTIZE inside the
    counted inference), "uint8", or "uint8->int8" when they differ."""
    ins = "/".join(sorted({t.dtype for t in info.inputs}))
    outs = "/".join(sorted({t.dtype for t in info.outputs}))
    return ins if ins == outs else f"{ins}->{outs}"


def _select_inputs(spec: RunSpec, info) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]] | None]:
    """Sample inputs (first = the measured one) and their goldens, if known."""
    if spec.input_path:
        return [load_user_input(Path(spec.input_path), info.inputs)], None
    if info.samples:
        limit = spec.settings.validate_samples or len(info.samples)
        return list(info.samples[:limit]), (list(info.goldens[:limit]) if info.goldens else None)
    return [random_input(info.inputs, spec.settings.seed)], None


@dataclass
class Artifacts:
    """The two cache levels a run uses: TVM's output and the ELF for this arch."""

    model: ModelArtifacts
    firmware: FirmwareArtifacts


def _build(spec: RunSpec, info, backends, stage: _Stage) -> Artifacts:
    workspace = spec.workspace
    cache = BuildCache(workspace.cache_dir)
    driver_dirs = [p for b in backends for p in _backend_dirs(b)]
    model_key = cache_key("model", workspace, model=hashlib.sha256(Path(info.path).read_bytes()).hexdigest(),
                          backends=[_fingerprint(b) for b in backends], drivers=hash_tree(driver_dirs))

    def build_model(directory: Path) -> ModelArtifacts:
        from mlonmcu_lite.compiler import CompilerSettings, compile_model
        from mlonmcu_lite.frontend import import_tflite

        start = time.perf_counter()
        with stderr_to(directory / "build.log"):  # TVM's C++ warnings go to the log, not the console
            model = import_tflite(Path(info.path))
            compiled = compile_model(model, directory / "model", settings=CompilerSettings(), backends=backends)
        return ModelArtifacts(
            directory=str(directory),
            sources=[str(p) for p in compiled.sources],
            backend_sources=[str(p) for p in compiled.backend_sources],
            include_dirs=[str(p) for p in compiled.include_dirs],
            inputs=[IOBuffer.of(b) for b in compiled.inputs],
            outputs=[IOBuffer.of(b) for b in compiled.outputs],
            layers=[_layer_dict(layer) for layer in compiled.layers],
            arena_bytes=int(compiled.arena_bytes),
            arena_lower_bound=int(compiled.arena_lower_bound),
            compile_seconds=round(time.perf_counter() - start, 3),
        )

    stage.name = Stage.BUILD
    model = ModelArtifacts.from_dict(cache.get_or_build(model_key, build_model))

    def build_elf(directory: Path) -> FirmwareArtifacts:
        from mlonmcu_lite.firmware import build_model_firmware, with_drivers

        start = time.perf_counter()
        sources, include_dirs = with_drivers([*model.sources, *model.backend_sources], model.include_dirs,
                                             backends, directory)
        firmware = build_model_firmware(sources, include_dirs, directory, arch=spec.arch,
                                        opt=spec.settings.opt, memory_map=spec.settings.memory_map(),
                                        grow=spec.settings.growable(), workspace=workspace)
        mm = firmware.memory_map
        return FirmwareArtifacts(directory=str(directory), elf=str(firmware.elf), sizes=_sizes(firmware),
                                 build_seconds=round(time.perf_counter() - start, 3),
                                 memory_kib={"rom_kib": mm.rom_size // 1024, "ram_kib": mm.ram_size // 1024})

    stage.name = Stage.COMPILE
    firmware_key = cache_key("fw", workspace, model=model_key, arch=spec.arch, opt=spec.settings.opt,
                             **_memory_key(spec.settings))
    firmware = FirmwareArtifacts.from_dict(cache.get_or_build(firmware_key, build_elf))
    return Artifacts(model, firmware)


def _memory_key(settings) -> dict[str, object]:
    """The map a firmware is first linked for and the regions it may grow enter the firmware key."""
    mm = settings.memory_map()
    return {"memory": [mm.rom_size, mm.ram_size], "grow": list(settings.growable())}


@contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Redirect file descriptor 2 (native libraries log there) into `path`."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _fingerprint(backend) -> str:
    fingerprint = getattr(backend, "codegen_fingerprint", None)
    return fingerprint() if callable(fingerprint) else f"{backend.name}:{backend!r}"


def _backend_dirs(backend) -> list[Path]:
    return sorted({Path(p).parent for p in backend.c_sources()})


def _layer_dict(layer) -> dict:
    from dataclasses import asdict, is_dataclass

    return asdict(layer) if is_dataclass(layer) else dict(layer)


def _sizes(firmware) -> dict[str, int]:
    keys = ("rom_bytes", "ram_bytes", "rom_code", "rom_rodata", "rom_data_init", "ram_data",
            "ram_bss", "ram_noinit", "stack_bytes")
    return {k: int(getattr(firmware, k)) for k in keys if getattr(firmware, k, None) is not None}


def _simulate(spec: RunSpec, artifacts: Artifacts, backends, inputs: list[np.ndarray],
              run_dir: Path | None = None):
    """One emulation with `inputs`; returns (SimResult, output arrays)."""
    from mlonmcu_lite.harness.layers import GLUE_FUNCTIONS
    from mlonmcu_lite.harness.fault_layer import called_from, layer_of, plan_steps
    from mlonmcu_lite.vp import SimConfig, SimFault, VirtualPlatform

    config = SimConfig(max_instructions=spec.settings.max_instructions,
                       timeout_s=spec.settings.sim_timeout_s, memory_map=artifacts.firmware.memory_map(spec.settings),
                       glue_functions=GLUE_FUNCTIONS, core=spec.settings.core,
                       record_events=spec.record_events and run_dir is not None)
    devices = [b.device() for b in backends]
    for device in devices:
        if spec.settings.check_peripherals:
            device.check_results = True
    vp = VirtualPlatform(Path(artifacts.firmware.elf), devices=devices, config=config, run_name=spec.run_id)
    for buffer, array in zip(artifacts.model.inputs, inputs, strict=True):
        data = np.ascontiguousarray(array, dtype=buffer.dtype).reshape(buffer.shape)
        vp.write_symbol(buffer.symbol, data.tobytes())
    try:
        result = vp.run()
    except SimFault as fault:
        steps = plan_steps(artifacts.model.directory)
        layer = layer_of(steps, fault.function) or called_from(steps, fault.caller)
        raise (fault.in_layer(layer) if layer else fault)
    if run_dir is not None:
        (run_dir / "console.txt").write_text(result.console)
    if result.exit_code != 0:
        raise RunFailure(f"firmware exited with code {result.exit_code}; console: {result.console[-300:]!r}")
    outputs = [
        np.frombuffer(vp.read_symbol(b.symbol, b.nbytes), dtype=b.dtype).reshape(b.shape)
        for b in artifacts.model.outputs
    ]
    return result, outputs


COST_TOTALS = ("compute_cycles", "pe_cycles", "dma_bytes", "dma_cycles")  # detailed cost model


def timing_trace(result, layers: list[dict], info=None, profiles=(), core: str = "ideal") -> dict[str, Any]:
    """What re-costing this run under other cost settings needs (harness/recost.py): the
    region's instruction and cycle counts, each accelerator's timing events and the layer
    each job ran for, its MMIO counters, and the offload decisions of the model's layers;
    with recorded event counts, those and the call events of each layer (other core
    profiles)."""
    devices = {}
    for name, report in result.devices.items():
        if isinstance(report, dict) and "trace" in report:
            devices[name] = {"events": report["trace"],
                             "job_layers": [job.get("layer") for job in report["job_log"]],
                             **{key: report[key] for key in ("mmio_reads", "mmio_writes", "checked_jobs")}}
    return {"run_instructions": result.run_instructions, "run_cycles": result.run_cycles,
            "run_classes": getattr(result, "run_classes", None), "devices": devices,
            "numerics": getattr(info, "numerics", "quantized"),
            "layers": [{key: layer.get(key) for key in ("offloaded_to", "reason")} for layer in layers],
            "events": _checked_events(result, devices, core),
            "layer_events": {p.index: list(p._events) for p in profiles}}


def _checked_events(result, devices: dict, core: str) -> dict | None:
    """The run's event record, if it costs back to the run's own cycles (region and every
    accelerator timing event) under the run's profile; else None (re-costing then
    simulates other core profiles) and a warning: the record would be wrong."""
    import logging

    from mlonmcu_lite.vp.core_timing import load_profile

    if result.events is None:
        return None
    costed = result.events.cost(load_profile(core))
    own = {name: [now for _, now, _ in devices[name]["events"]] for name, nows in costed.devices.items()
           if nows is not None}
    if costed.run_cycles != result.run_cycles or {k: v for k, v in costed.devices.items() if v is not None} != own:
        logging.getLogger(__name__).warning("%s: the recorded event counts do not reproduce the run's cycles; "
                                            "other core profiles will be simulated", result.run_name)
        return None
    return dataclasses.asdict(result.events)


def accelerator_metrics(spec: RunSpec, row: RunResult, result, backends, layers: list[dict], info=None) -> None:
    """Accelerator fields, and the loud failure when a configured accelerator was not used
    (a float32 / hybrid model has no integer layer: its row says so and passes).
    `result` has `run_cycles` and `devices` (each device's report); `layers` are the
    compiled model's layer records (offload decisions)."""
    row.est_cycles = result.run_cycles
    if not backends:
        return
    totals = {"jobs": 0, "macs": 0, "ops": 0, "busy_cycles": 0, "stall_cycles": 0, "mmio_reads": 0, "mmio_writes": 0}
    costed = {key: 0 for key in ("macs", *COST_TOTALS)}
    cost_models, notes = [], []
    for backend in backends:
        report = result.devices.get(backend.name, {})
        offloaded = sum(1 for layer in layers if layer.get("offloaded_to") == backend.name)
        # a layer tiled into bands (peripheral/requant.py BandSettings) runs one job per band
        jobs = sum((layer.get("extra") or {}).get("device_jobs", 1) for layer in layers
                   if layer.get("offloaded_to") == backend.name)
        if offloaded == 0:
            reasons = sorted({str(layer.get("reason")) for layer in layers if layer.get("reason")})
            rejections = f"rejections: {'; '.join(reasons) or 'no eligible layer kinds'}"
            numerics = getattr(info, "numerics", "quantized")
            if numerics != "quantized":  # not a misconfiguration: the model has nothing to offload
                notes.append(f"no offloadable layer: {numerics} model, {backend.name} takes integer layers only "
                             f"({rejections})")
            elif spec.require_offload:
                raise RunFailure(f"peripheral {backend.name} was configured but accepted no layer ({rejections})")
            else:
                notes.append(f"no layer offloaded: default peripheral {backend.name} accepted no layer ({rejections})")
        if report.get("jobs", 0) != jobs:
            raise RunFailure(
                f"peripheral {backend.name}: {offloaded} layers offloaded ({jobs} jobs) but the device ran "
                f"{report.get('jobs', 0)} jobs in the inference"
            )
        for key in totals:
            totals[key] += int(report.get(key, 0))
        if "cost_model" in report:  # a CostedAcceleratorDevice (peripheral/cost_detailed.py)
            cost_models.append(f"{backend.name}:{report['cost_model']}")
            for key in costed:
                costed[key] += int(report.get(key, 0))
    _set(row,
         acc_jobs=totals["jobs"],
         acc_macs=totals["macs"],
         acc_ops=totals["ops"] if any("ops" in r for r in result.devices.values() if isinstance(r, dict)) else None,
         acc_cycles=totals["busy_cycles"],
         acc_stall_cycles=totals["stall_cycles"],
         mmio_accesses=totals["mmio_reads"] + totals["mmio_writes"],
         est_cycles=result.run_cycles + totals["stall_cycles"])
    if notes:  # a passing row's reason is a note on what it did not do
        row.reason = "; ".join(notes)
    if cost_models:
        _set(row,
             acc_cost_model="+".join(cost_models),
             acc_compute_cycles=costed["compute_cycles"],
             acc_pe_cycles=costed["pe_cycles"],
             acc_utilisation=round(costed["macs"] / costed["pe_cycles"], 4) if costed["pe_cycles"] else None,
             acc_dma_bytes=costed["dma_bytes"],
             acc_dma_cycles=costed["dma_cycles"])


def energy_metrics(spec: RunSpec, row: RunResult, result, accelerated: bool) -> None:
    """The energy estimate of the inference region (vp/energy.py), CPU and accelerator apart."""
    from mlonmcu_lite.vp.energy import estimate, load_table

    if result.run_cycles is None or not result.run_classes:
        return
    energy = estimate(load_table(spec.settings.energy), classes=result.run_classes,
                      cpu_cycles=result.run_cycles, stall_cycles=row.acc_stall_cycles or 0,
                      # an element op is charged as one MAC (the table has no cheaper entry: an upper bound)
                      macs=(row.acc_macs or 0) + (row.acc_ops or 0) if accelerated else None,
                      bus_bytes=row.acc_dma_bytes or 0, acc_cycles=row.acc_cycles or 0)
    _set(row, cpu_energy_uj=round(energy.cpu_uj, 3),
         acc_energy_uj=None if energy.acc_uj is None else round(energy.acc_uj, 3),
         energy_uj=round(energy.total_uj, 3))


def _write_job_records(run_dir: Path, result) -> None:
    """Every accelerator job of the measured inference (start instruction, MACs, busy and
    stall cycles, bytes, and the cost model's breakdown) in `<run>/accelerator_jobs.json`."""
    jobs = {name: report["job_log"] for name, report in result.devices.items()
            if isinstance(report, dict) and report.get("job_log")}
    if jobs:
        (run_dir / "accelerator_jobs.json").write_text(json.dumps(jobs, indent=1))


def _layer_profiles(result, artifacts: Artifacts) -> list:
    """Per-layer figures from the measured emulation's call events (see harness/layers.py)."""
    from mlonmcu_lite.harness.layers import profile_layers
    from mlonmcu_lite.vp.elf import ElfImage

    plan = json.loads((Path(artifacts.model.directory) / "model" / "plan.json").read_text())
    job_logs = {name: report["job_log"] for name, report in result.devices.items()
                if isinstance(report, dict) and "job_log" in report}
    profiles = profile_layers(plan["steps"], result.call_events, ElfImage.load(Path(artifacts.firmware.elf)),
                              result.run_instructions, job_logs, run_cycles=result.run_cycles)
    return profiles


def _validate(spec: RunSpec, info, artifacts: Artifacts, backends, samples, goldens,
              first_outputs) -> dict[str, Any]:
    """Compare every selected sample's outputs with the TFLite reference (BUILTIN_REF):
    bit for bit for a quantized model, within tolerance for a float one (float_check.py)."""
    if goldens is None:
        from mlonmcu_lite.zoo.reference import reference_outputs

        goldens = [reference_outputs(Path(info.path), sample) for sample in samples]
    from mlonmcu_lite.harness.mismatch import exact_mismatch, output_label

    numerics = getattr(info, "numerics", "quantized")
    s = spec.settings
    check = FloatAgreement(numerics, s.float_atol, s.float_rtol, s.hybrid_tol) if numerics != "quantized" else None
    mismatches, predictions = [], []
    for index, (sample, golden) in enumerate(zip(samples, goldens, strict=True)):
        outputs = first_outputs if index == 0 else _simulate(spec, artifacts, backends, sample)[1]
        predictions.append(str(int(np.argmax(outputs[0]))))
        for out_index, (got, want) in enumerate(zip(outputs, golden, strict=True)):
            want = np.asarray(want).reshape(got.shape)
            label = output_label(out_index, getattr(info.outputs[out_index], "name", None)
                                 if out_index < len(info.outputs) else None)
            if check is not None:
                check.add(index, out_index, got, want, label=label)
            elif (mismatch := exact_mismatch(index, label, got, want)) is not None:
                mismatches.append(mismatch)
    if check is not None:
        return {**check.fields(len(samples)), "predictions": ",".join(predictions)}
    from mlonmcu_lite.zoo.reference import golden_note

    notes = [*mismatches, *filter(None, [golden_note(info.path)])]  # qmath: a golden not from BUILTIN_REF says so
    return {
        "validation": "mismatch" if mismatches else "exact",
        "validated_samples": len(samples),
        "validation_detail": "; ".join(notes) or None,
        "predictions": ",".join(predictions),
    }
