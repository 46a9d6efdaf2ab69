"""Energy ESTIMATE per run: a table of energies per event class (`EnergyTable`, TOML files
in `vp/energy_tables/` or the user's own, `-s energy=NAME|FILE`).

CPU: every retired instruction of the inference region costs its class's energy
(`instruction_pj`, classes of `rv32_decode.InsnClass`), every CPU cycle (stalls included)
`cpu_cycle_pj`, and every cycle the CPU waits on an accelerator `cpu_idle_cycle_pj`.
Accelerator: `mac_pj` per MAC, `bus_pj_per_byte` per byte moved over the shared bus,
`sram_pj_per_byte` twice per such byte (written into and read out of a local buffer) and
`acc_cycle_pj` per busy cycle.  Linear in counts the VP measures exactly; the energies
themselves are an estimate (the default table says how it was composed).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlonmcu_lite.errors import UserError

from .rv32_decode import InsnClass

TABLES_DIR = Path(__file__).resolve().parent / "energy_tables"
DEFAULT_TABLE = "horowitz45"


class EnergyTableError(UserError):
    """An energy table that does not exist or does not validate."""


class EnergyTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    instruction_pj: dict[str, float]
    cpu_cycle_pj: float = Field(ge=0)
    cpu_idle_cycle_pj: float = Field(ge=0)
    mac_pj: float = Field(ge=0)
    bus_pj_per_byte: float = Field(ge=0)
    sram_pj_per_byte: float = Field(ge=0)
    acc_cycle_pj: float = Field(ge=0)

    @model_validator(mode="after")
    def _every_class(self) -> "EnergyTable":
        names = {c.name.lower() for c in InsnClass}
        missing, unknown = sorted(names - set(self.instruction_pj)), sorted(set(self.instruction_pj) - names)
        if missing or unknown:
            raise ValueError(f"instruction_pj: missing classes {missing}, unknown classes {unknown}")
        if any(v < 0 for v in self.instruction_pj.values()):
            raise ValueError("instruction_pj: energies must be >= 0")
        return self


@dataclass(frozen=True)
class EnergyEstimate:
    """Microjoules of one run, CPU and accelerator apart (an estimate)."""

    cpu_uj: float
    acc_uj: float | None

    @property
    def total_uj(self) -> float:
        return self.cpu_uj + (self.acc_uj or 0.0)


def estimate(table: EnergyTable, *, classes: dict[str, int], cpu_cycles: int, stall_cycles: int = 0,
             macs: int | None = None, bus_bytes: int = 0, acc_cycles: int = 0) -> EnergyEstimate:
    """The energy of a run from its event counts (`macs=None`: no accelerator)."""
    cpu = (sum(table.instruction_pj[name] * n for name, n in classes.items())
           + table.cpu_cycle_pj * cpu_cycles + table.cpu_idle_cycle_pj * stall_cycles)
    acc = None
    if macs is not None:
        acc = (table.mac_pj * macs + (table.bus_pj_per_byte + 2 * table.sram_pj_per_byte) * bus_bytes
               + table.acc_cycle_pj * acc_cycles)
    return EnergyEstimate(cpu * 1e-6, None if acc is None else acc * 1e-6)


def builtin_tables() -> list[str]:
    return sorted(p.stem for p in TABLES_DIR.glob("*.toml"))


def load_table(spec: str | Path | None = None) -> EnergyTable:
    """A built-in table by name (`builtin_tables()`), or a table TOML file by path."""
    spec = str(spec or DEFAULT_TABLE)
    path = TABLES_DIR / f"{spec}.toml" if spec in builtin_tables() else Path(spec).expanduser()
    return _load(str(path.resolve()) if path.exists() else str(path))


@lru_cache(maxsize=16)
def _load(path: str) -> EnergyTable:
    file = Path(path)
    if not file.is_file():
        raise EnergyTableError(f"energy table {path!r}: not a built-in table "
                               f"({', '.join(builtin_tables())}) nor a .toml file")
    try:
        return EnergyTable(**tomllib.loads(file.read_text()))
    except tomllib.TOMLDecodeError as exc:
        raise EnergyTableError(f"energy table {file}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(table)'}: {e['msg']}" for e in exc.errors())
        raise EnergyTableError(f"energy table {file}: {problems}") from None
