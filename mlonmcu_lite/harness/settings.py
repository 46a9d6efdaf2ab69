"""Typed run settings: `--set key=value` on the command line.

The field complaint about MLonMCU is an untyped `-c key=value` that silently
ignores unknown keys; here every key is declared, typed and range-checked,
and an unknown key is an error that lists the valid ones.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlonmcu_lite.errors import UserError

MAX_INSTRUCTIONS = 10**15  # ~1 month of emulation at 400 MIPS
MAX_SECONDS = 1e6  # ~11.6 days
# the memory a firmware is first linked for when rom_kib / ram_kib are unset (a VP need not
# refuse a model: the map grows to fit it); firmware that fits keeps this map and its cache keys
FIT_ROM_KIB = 4096
FIT_RAM_KIB = 1024
MAX_ROM_KIB = 256 * 1024  # vp.memory_map.MAX_ROM_SIZE (ROM ends below the UART); not imported: unicorn is heavy


class SettingsError(UserError):
    """A setting that does not exist or does not validate."""


class RunSettings(BaseModel):
    """Settings shared by every run of a session."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Upper bounds: what the limits can hold (a 64-bit counter, Unicorn's microsecond timeout);
    # inf/nan would pass `gt=0` as floats and fail every run later.
    max_instructions: int = Field(4_000_000_000, gt=0, le=MAX_INSTRUCTIONS,
                                  description="instruction budget per emulation")
    sim_timeout_s: float = Field(300.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False,
                                 description="wall-clock limit per emulation")
    run_timeout_s: float = Field(1800.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False,
                                 description="wall-clock limit per run (compile+build+sims)")
    validate_samples: int = Field(0, ge=0, description="sample inputs validated per run (0 = all available)")
    seed: int = Field(0, ge=0, description="seed of the random input for models without samples")
    check_peripherals: bool = Field(False, description="compare each accelerator job's raw result "
                                    "with the peripheral's reference computation (slower)")
    opt: str = Field("-O2", pattern=r"^-O[0123sz]$", description="cross-compiler optimisation level")
    # Unset (None): the VP's memory grows to fit the firmware (from FIT_ROM_KIB / FIT_RAM_KIB up);
    # set: a hard limit, as on a real MCU, and a model that does not fit is refused naming it.
    rom_kib: int | None = Field(None, gt=0, multiple_of=4, le=MAX_ROM_KIB,
                                description="VP ROM limit in KiB (multiple of 4; unset: grows to fit the model)")
    ram_kib: int | None = Field(None, gt=0, multiple_of=4, le=1 << 20,
                                description="VP RAM limit in KiB (multiple of 4; unset: grows to fit the model)")
    # float32 / hybrid models are not bit-exact by nature (summation order, libm): tolerances.
    float_atol: float = Field(1e-5, ge=0, le=1e6, allow_inf_nan=False,
                              description="float32 model: absolute tolerance |got - ref| <= atol + rtol*|ref|")
    float_rtol: float = Field(1e-4, ge=0, le=1e6, allow_inf_nan=False, description="float32 model: relative tolerance")
    hybrid_tol: float = Field(0.05, ge=0, le=1e6, allow_inf_nan=False,
                              description="hybrid model: max |got - ref| relative to max |ref| per output "
                                          "(the reference quantizes activations at run time, we do not)")

    core: str = Field("ideal", description="core timing profile: a built-in core (ideal, ibex-small, "
                      "cv32e40p) or a profile .toml file (vp/core_timing.py)")

    @field_validator("core")
    @classmethod
    def _known_core(cls, value: str) -> str:
        from mlonmcu_lite.vp.core_timing import load_profile

        load_profile(value)  # raises a clear error naming the built-in cores
        return value

    energy: str = Field("horowitz45", description="energy table of the estimate: a built-in table "
                        "(horowitz45) or a table .toml file (vp/energy.py)")

    @field_validator("energy")
    @classmethod
    def _known_energy_table(cls, value: str) -> str:
        from mlonmcu_lite.vp.energy import load_table

        load_table(value)
        return value

    def memory_map(self):
        """The VP memory map a firmware is first linked for: the limits, or the floor it grows from."""
        from mlonmcu_lite.vp.memory_map import KiB, MemoryMap

        return MemoryMap(rom_size=(self.rom_kib or FIT_ROM_KIB) * KiB, ram_size=(self.ram_kib or FIT_RAM_KIB) * KiB)

    def growable(self) -> tuple[str, ...]:
        """The linker regions without a user limit: the link grows them to fit the firmware."""
        return tuple(region for region, limit in (("ROM", self.rom_kib), ("RAM", self.ram_kib)) if limit is None)

    @classmethod
    def describe(cls) -> str:
        return ", ".join(
            f"{name} ({getattr(field.annotation, '__name__', None) or field.annotation}, default {field.default!r})"
            for name, field in cls.model_fields.items()
        )


def parse_assignments(pairs: Iterable[str], what: str = "setting") -> dict[str, str]:
    """`["a=1", "b=x"]` -> `{"a": "1", "b": "x"}`; malformed items are errors."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"malformed {what} {pair!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out


def build_settings(pairs: Iterable[str], base: Mapping[str, Any] | None = None) -> RunSettings:
    """Validate `key=value` strings (over `base`, e.g. a study file's settings) into
    RunSettings with errors a user can act on."""
    return settings_from({**(base or {}), **parse_assignments(pairs)})


def settings_from(values: Mapping[str, Any]) -> RunSettings:
    """Validate a mapping (text or typed values: the Python API, a study file) into RunSettings."""
    unknown = sorted(set(values) - set(RunSettings.model_fields))
    if unknown:
        raise SettingsError(
            f"unknown setting(s) {', '.join(unknown)}; valid settings: {RunSettings.describe()}"
        )
    try:
        return RunSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"invalid setting: {problems}") from None
