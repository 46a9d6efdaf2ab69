"""A peripheral asked for by a run: its name and its settings, validated once.

The command line says `qvanilla:macs_per_cycle=32`; `PeripheralRequest.parse` checks the
name and validates the settings against the peripheral's own settings model and keeps
the typed values, so the request crosses into worker processes as plain data (the
settings model itself lives in a dynamically imported module and does not pickle) and the
worker builds the backend from typed values instead of parsing text again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .backend import AcceleratorBackend
from .loader import instantiate_backend
from .settings import parse_peripheral_arg, settings_label

SearchPath = Iterable[Path | str] | None


@dataclass(frozen=True)
class PeripheralRequest:
    """`name` with the settings the user overrode (typed values, in the order given), and
    `effective`: every setting the peripheral will use, defaults included (sorted by key;
    filled by `parse`/`build`, so reports show `macs_per_cycle=16` even when nobody typed it)."""

    name: str
    settings: tuple[tuple[str, Any], ...] = ()
    effective: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, text: str, search_path: SearchPath = None) -> "PeripheralRequest":
        """`"qvanilla:macs_per_cycle=32"` -> a validated request (PeripheralConfigError if not)."""
        name, overrides = parse_peripheral_arg(text)
        return cls.build(name, overrides, search_path)

    @classmethod
    def build(cls, name: str, overrides: Mapping[str, Any],
              search_path: SearchPath = None) -> "PeripheralRequest":
        """Validate `overrides` (text or typed) for peripheral `name`; keep the typed values."""
        backend = instantiate_backend(name, overrides, search_path)
        typed = getattr(backend, "settings", None)
        return cls(name, tuple((key, getattr(typed, key)) for key in overrides),
                   effective=tuple(sorted(_dump(typed).items())))

    def with_settings(self, point: Mapping[str, Any], search_path: SearchPath = None) -> "PeripheralRequest":
        """This request with `point`'s values on top (a sweep point), validated."""
        return PeripheralRequest.build(self.name, {**dict(self.settings), **point}, search_path)

    def with_points(self, points: Iterable[Mapping[str, Any]],
                    search_path: SearchPath = None) -> list["PeripheralRequest"]:
        """`with_settings` for many points (a sweep), the peripheral folder loaded once."""
        from .loader import load_backend_class
        from .settings import validate_settings

        spec = getattr(load_backend_class(self.name, search_path), "spec", None)
        if spec is None:  # not a SpecBackend: validate through the backend, point by point
            return [self.with_settings(point, search_path) for point in points]
        out = []
        for point in points:
            overrides = {**dict(self.settings), **point}
            typed = validate_settings(self.name, spec.settings, overrides)
            out.append(PeripheralRequest(self.name, tuple((key, getattr(typed, key)) for key in overrides),
                                         effective=tuple(sorted(_dump(typed).items()))))
        return out

    def backend(self, search_path: SearchPath = None) -> AcceleratorBackend:
        return instantiate_backend(self.name, dict(self.settings), search_path)

    @property
    def effective_label(self) -> str:
        """`qvanilla:fused_requant=true,macs_per_cycle=16,...`: every effective setting, sorted
        (a valid `-p` argument; what reports show and `bench compare` keys on)."""
        return settings_label(self.name, dict(self.effective))

    @property
    def label(self) -> str:
        """`qvanilla` or `qvanilla:macs_per_cycle=32,setup_cycles=8` (the report's spelling)."""
        if not self.settings:
            return self.name
        return f"{self.name}:" + ",".join(f"{key}={value}" for key, value in self.settings)


def _dump(settings: Any) -> dict[str, Any]:
    """A settings model's values that take effect, as plain JSON-ready data (enums and paths
    as text); a model may leave out settings without effect (`effective_settings`)."""
    if settings is None:
        return {}
    effective = getattr(settings, "effective_settings", None)
    return effective() if callable(effective) else settings.model_dump(mode="json")
