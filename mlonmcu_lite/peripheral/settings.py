"""Typed, validated peripheral settings and the `name:key=value` override syntax.

Every peripheral declares a pydantic model of its tunable parameters (at least
the cost model).  Overrides from the command line (`qvanilla:macs_per_cycle=32`)
are parsed here and validated against that model: an unknown key is an error
that lists the valid keys, a wrong type or range is an error naming the key.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import PeripheralConfigError

S = TypeVar("S", bound=BaseModel)


class CostSettings(BaseModel):
    """Base class of every peripheral's settings: the busy-time model
    `cycles = setup_cycles + ceil(MACs / macs_per_cycle)`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    setup_cycles: int = Field(32, ge=0, le=1_000_000, description="fixed cycles per job")
    macs_per_cycle: int = Field(16, ge=1, le=65_536, description="MAC throughput")

    def job_cycles(self, macs: int) -> int:
        return self.setup_cycles + -(-macs // self.macs_per_cycle)


CODEGEN = {"codegen": True}  # `Field(json_schema_extra=CODEGEN)`: the setting changes the firmware


def codegen_settings(settings: BaseModel) -> dict[str, Any]:
    """The settings that reach the generated C (header); the others only configure the VP
    model, so e.g. a `macs_per_cycle` sweep reuses one firmware build."""
    return {key: getattr(settings, key) for key, info in type(settings).model_fields.items()
            if (info.json_schema_extra or {}).get("codegen")}


def parse_peripheral_arg(text: str) -> tuple[str, dict[str, str]]:
    """`"qvanilla:macs_per_cycle=32,setup_cycles=8"` -> ("qvanilla", {...}).

    Keys are separated by `,` or `:`; a bare name gives no overrides.
    """
    name, _, rest = text.strip().partition(":")
    if not name:
        raise PeripheralConfigError(f"peripheral argument {text!r} has no name")
    overrides: dict[str, str] = {}
    for item in rest.replace(":", ",").split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise PeripheralConfigError(
                f"{name}: override {item!r} is not key=value (in {text!r})")
        if key in overrides:
            raise PeripheralConfigError(f"{name}: setting {key!r} given twice")
        overrides[key] = value.strip()
    return name, overrides


def settings_label(name: str, values: dict[str, Any]) -> str:
    """`name:key=value,...` with keys sorted and booleans as `true`/`false`: the canonical
    spelling of a peripheral's settings (the `-p` syntax, so it can be pasted back)."""
    if not values:
        return name
    text = {True: "true", False: "false"}
    return f"{name}:" + ",".join(
        f"{key}={text[v] if isinstance(v, bool) else v}" for key, v in sorted(values.items()))


def describe_settings(model: type[BaseModel]) -> str:
    """`key (type, default X: description)` for every setting, for error messages and help."""
    parts = []
    for key, info in model.model_fields.items():
        if get_origin(info.annotation) is Literal:
            ann = "|".join(map(str, get_args(info.annotation)))
        else:
            ann = getattr(info.annotation, "__name__", None) or str(info.annotation)
        desc = f": {info.description}" if info.description else ""
        parts.append(f"{key} ({ann}, default {info.default!r}{desc})")
    return "; ".join(parts)


def validate_settings(name: str, model: type[S], overrides: dict[str, Any]) -> S:
    """Build `model` from overrides, turning pydantic errors into one clear message."""
    unknown = sorted(set(overrides) - set(model.model_fields))
    if unknown:
        raise PeripheralConfigError(
            f"{name}: unknown setting{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; valid settings: {describe_settings(model)}")
    try:
        return model(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(settings)"
            value = overrides.get(key, err.get("input"))
            problems.append(f"{key}={value!r}: {err['msg']}")
        raise PeripheralConfigError(f"{name}: invalid setting {'; '.join(problems)}") from None
