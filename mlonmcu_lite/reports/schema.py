"""The results schema: one `RunResult` per run, one DataFrame row per result.

The dataclass is the single source of the column names, their order and their
dtypes; readers (CSV/JSON loaders, `bench compare`) coerce through `coerce_frame`
so a file read back compares equal to the frame that was written.  Metrics that
do not apply to a run (accelerator counters of a CPU-only run, sizes of a run
that failed before linking) are None/NaN, never 0, so a 0 always means "measured
zero".
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlonmcu_lite.errors import UserError

# Bump when a column is renamed, removed, or changes meaning; files record it and
# readers refuse other versions instead of comparing apples with pears.
SCHEMA_VERSION = 1
# Columns added to version 1 after files were written with it (additions do not bump the
# version): a reader fills them with missing values when a file predates them.
ADDED_COLUMNS: frozenset[str] = frozenset({
    "acc_cost_model", "acc_compute_cycles", "acc_pe_cycles", "acc_utilisation", "acc_dma_bytes",
    "acc_dma_cycles", "rom_data_init", "ram_noinit", "stack_bytes", "arena_lower_bound",
    "validation_detail", "io_dtype", "peripheral_settings", "framework", "backend", "target",
    "platform", "numerics", "max_abs_err", "max_rel_err", "top1_agreement", "topk_agreement",
    "core", "cpu_cycles", "cpi", "predictions", "cpu_energy_uj", "acc_energy_uj", "energy_uj", "recosted_from",
    "acc_ops"})

# "allclose": a float32 / hybrid model within the float tolerances (settings float_atol, ...).
VALIDATIONS = ("exact", "allclose", "mismatch", "skipped")
# How tables label a passing accelerated run that offloaded no layer (its default peripheral
# took none; the runner's note in `reason` lists the rejections).
NO_OFFLOAD = "no layer offloaded"
CONFIG_RE = re.compile(r"^cpu(\+[A-Za-z][A-Za-z0-9_]*)*$")


class SchemaError(UserError):
    """Results data that do not follow this schema (version, columns, values)."""


@dataclass(kw_only=True)
class RunResult:
    """Everything reported about one run (one model, one configuration, one input).

    `config` is derived from `peripheral` when omitted ("cpu" or
    "cpu+<peripheral>[+...]"); `settings` may be given as a mapping and is stored
    as canonical JSON (sorted keys).  A failing run must carry a `reason` naming
    the stage, e.g. "timeout after 60 s @ run".

    The runner fills every field it measures.  `layers` (per-layer profiles, see
    harness/layers.py) is not a column: one row is one run; the session writes the layers
    to layers.csv/.parquet (one row per run x layer).  Dropped on purpose: the raw device
    counters that are summed into the `acc_*` fields (MMIO reads and writes -> `mmio_accesses`).
    """

    session: str | None = None
    run_id: str | None = None  # e.g. "resnet__cpu+qvanilla__rv32imc"
    model: str
    config: str | None = None
    arch: str | None = None
    peripheral: str | None = None
    input: str | None = None
    point: str | None = None  # sweep grid point, e.g. "macs_per_cycle=16"
    # every effective setting of the run's peripherals, defaults included, sorted:
    # "qvanilla:fused_requant=true,macs_per_cycle=16,setup_cycles=32,wait_mode=stall"
    # ("+" between peripherals; None for CPU-only runs).  `bench compare` keys on it.
    peripheral_settings: str | None = None
    # the flow, in MLonMCU's terms (Framework / Backend / Target / Platform)
    framework: str | None = None  # "tvm"
    backend: str | None = None    # "tvmaot-c": TVM kernels in plain C, ahead-of-time graph
    target: str | None = None     # "unicorn-vp": the virtual platform that ran it
    platform: str | None = None   # "mlml-baremetal": platform/ (startup, libc, linker script)
    io_dtype: str | None = None  # the model's I/O dtypes: "int8", "float32", "uint8", "uint8->int8"
    numerics: str | None = None  # quantized | float32 | hybrid (int8 weights, float32 activations)
    # instruction counts (exact, retired instructions)
    run_instructions: int | None = None
    total_instructions: int | None = None
    instr_per_mac: float | None = None
    macs: int | None = None
    # CPU cycles of the inference region under the core timing profile `core` (a model:
    # vp/core_timing.py; `ideal` = one cycle per instruction) and cycles per instruction
    core: str | None = None
    cpu_cycles: int | None = None
    cpi: float | None = None
    # energy ESTIMATE of the inference region (vp/energy.py, table `-s energy=`), microjoules:
    # CPU (instructions per class, cycles, idle cycles) and accelerator (MACs, bytes, cycles)
    cpu_energy_uj: float | None = None
    acc_energy_uj: float | None = None
    energy_uj: float | None = None
    # accelerator counters (None for CPU-only runs)
    acc_jobs: int | None = None
    acc_macs: int | None = None
    # element operations of element-wise / pooling engines (one per output element of ADD /
    # MUL, one per window tap of a pool): not multiply-accumulates, so never in acc_macs
    acc_ops: int | None = None
    acc_cycles: int | None = None
    acc_stall_cycles: int | None = None
    mmio_accesses: int | None = None
    layers_total: int | None = None
    layers_eligible: int | None = None
    layers_offloaded: int | None = None
    est_cycles: int | None = None
    # detailed cost model (peripheral/cost_detailed.py; None unless a device uses it). A model.
    acc_cost_model: str | None = None  # e.g. "qdepthwise:detailed"
    acc_compute_cycles: int | None = None
    acc_pe_cycles: int | None = None
    acc_utilisation: float | None = None  # useful MACs per PE-cycle
    acc_dma_bytes: int | None = None
    acc_dma_cycles: int | None = None
    # filled by add_comparisons() for accelerated rows
    saved_pct: float | None = None
    speedup: float | None = None
    # memory (bytes, from ELF sections / arena plan)
    rom_bytes: int | None = None
    ram_bytes: int | None = None
    rom_code: int | None = None
    rom_rodata: int | None = None
    ram_data: int | None = None
    ram_bss: int | None = None
    rom_data_init: int | None = None  # .data load image (also counted in ram_data)
    ram_noinit: int | None = None     # I/O buffers (MLML_NOINIT)
    stack_bytes: int | None = None    # the stack window (not in ram_bytes)
    rom_kib: int | None = None        # the VP's ROM / RAM the firmware is linked for: the user's
    ram_kib: int | None = None        # limits, or (unset) grown from 4096 / 1024 KiB to fit the model
    arena_bytes: int | None = None
    arena_lower_bound: int | None = None  # the planner's lower bound for the arena
    # validation and timing
    validation: str = "skipped"
    validated_samples: int | None = None
    validation_detail: str | None = None  # which sample/output differs, by how much
    # float32 / hybrid models vs the reference, over the validated samples (None for quantized)
    max_abs_err: float | None = None
    max_rel_err: float | None = None  # max |err| / max |ref| of the output
    top1_agreement: float | None = None  # fraction of samples whose arg-max agrees (first output)
    topk_agreement: float | None = None  # fraction whose top-k sets agree (k = min(5, classes))
    predictions: str | None = None  # firmware's arg-max of the first output per validated sample ("3,7,1")
    sim_seconds: float | None = None
    mips: float | None = None
    compile_seconds: float | None = None
    build_seconds: float | None = None
    cached: bool | None = None
    # a sweep point re-costed from the trace of this simulated run (same firmware, same
    # instruction count; only the accelerator cost settings differ; harness/recost.py)
    recosted_from: str | None = None
    measured: str | None = None
    settings: str = "{}"
    failing: bool = False
    reason: str | None = None
    # per-layer profiles (LayerProfile.to_dict() each, glue last); not a column
    layers: list[dict] | None = dataclasses.field(default=None, metadata={"column": False})
    # what re-costing needs of a simulated accelerated run, or of any run that recorded its
    # event counts (other core profiles; harness/recost.py); not a column
    trace: dict | None = dataclasses.field(default=None, metadata={"column": False}, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.settings, Mapping):
            self.settings = json.dumps(dict(self.settings), sort_keys=True)
        if self.config is None:
            self.config = config_name(self.peripheral)
        _check(self)


def config_name(peripheral: str | None) -> str:
    """"cpu" for no peripheral, "cpu+qvanilla" (or "cpu+a+b") otherwise."""
    return "cpu" if not peripheral else f"cpu+{peripheral}"


def _check(r: RunResult) -> None:
    problems = []
    if not r.model:
        problems.append("model is empty")
    if not CONFIG_RE.match(r.config or ""):
        problems.append(f"config {r.config!r} is not 'cpu' or 'cpu+<peripheral>[+...]'")
    elif r.config != config_name(r.peripheral):
        problems.append(
            f"config {r.config!r} does not match peripheral {r.peripheral!r} "
            f"(expected {config_name(r.peripheral)!r})"
        )
    if r.validation not in VALIDATIONS:
        problems.append(f"validation {r.validation!r} is not one of {', '.join(VALIDATIONS)}")
    if r.failing and not r.reason:
        problems.append("a failing run needs a reason ('<error> @ <stage>')")
    try:
        json.loads(r.settings)
    except (TypeError, ValueError):
        problems.append(f"settings {r.settings!r} is not a JSON string")
    if problems:
        raise SchemaError(f"RunResult for model {r.model!r}: " + "; ".join(problems))


_DTYPE_OF_TYPE = {int: "Int64", float: "float64", bool: "boolean", str: "str"}


def _column_dtypes() -> dict[str, str]:
    """Column -> pandas dtype, from the dataclass annotations (one source of truth)."""
    hints = typing.get_type_hints(RunResult)
    dtypes = {}
    for f in dataclasses.fields(RunResult):
        if not f.metadata.get("column", True):
            continue
        base = [a for a in typing.get_args(hints[f.name]) if a is not type(None)] or [hints[f.name]]
        dtypes[f.name] = _DTYPE_OF_TYPE[base[0]]
    dtypes["failing"] = "bool"  # never missing
    return dtypes


COLUMN_DTYPES: dict[str, str] = _column_dtypes()
COLUMNS: tuple[str, ...] = tuple(COLUMN_DTYPES)
INT_COLUMNS = tuple(c for c, d in COLUMN_DTYPES.items() if d == "Int64")
FLOAT_COLUMNS = tuple(c for c, d in COLUMN_DTYPES.items() if d == "float64")
NUMERIC_COLUMNS = INT_COLUMNS + FLOAT_COLUMNS


def to_dataframe(results: Iterable[RunResult]) -> pd.DataFrame:
    """One row per run, columns in schema order; `df.attrs["schema_version"]` set.

    Integer metrics use pandas' nullable Int64, so large counts stay exact and a
    missing one is <NA> rather than a float NaN that turns 57312456 into 5.7e7.
    """
    results = list(results)
    for r in results:
        if not isinstance(r, RunResult):
            raise SchemaError(f"to_dataframe expects RunResult objects, got {type(r).__name__}")
    data = {
        col: pd.array([getattr(r, col) for r in results], dtype=dtype)
        for col, dtype in COLUMN_DTYPES.items()
    }
    df = pd.DataFrame(data, columns=list(COLUMNS))
    df.attrs["schema_version"] = SCHEMA_VERSION
    return df


def coerce_frame(raw: pd.DataFrame, *, source: str, version: Any) -> pd.DataFrame:
    """Check version and columns of data read from a file; return it in schema dtypes."""
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"{source}: results schema version {version!r}, but this tool reads version "
            f"{SCHEMA_VERSION}; regenerate it with `bench run` of this version"
        )
    missing = [c for c in COLUMNS if c not in raw.columns and c not in ADDED_COLUMNS]
    if missing:
        raise SchemaError(f"{source}: missing columns {', '.join(missing)}")
    data = {}
    for col, dtype in COLUMN_DTYPES.items():
        column = raw[col].tolist() if col in raw.columns else [None] * len(raw)
        values = [None if _is_missing(v) else v for v in column]
        try:
            data[col] = pd.array(values, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"{source}: column {col!r} does not hold {dtype} values ({exc})") from exc
    df = pd.DataFrame(data, columns=list(COLUMNS))
    df.attrs["schema_version"] = SCHEMA_VERSION
    return df


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
