"""Design-space sweeps: the grid of peripheral parameter values, as ordinary runs.

Each grid point is a mapping of knob -> value applied to the first peripheral of the
session (see `session.expand`), and names the point in the report, so sweep rows are
ordinary report rows.  Cost parameters do not enter the build-cache key, so every point of
a cost sweep reuses one firmware and only the emulation runs again.
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping

from mlonmcu_lite.harness.settings import RunSettings, SettingsError

# run settings a sweep may vary (the others are limits, not design knobs); every other
# knob is a setting of the first peripheral
RUN_KNOBS = ("core", "energy")


def split_point(point: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run-setting knobs, peripheral knobs) of a grid point."""
    run = {k: v for k, v in point.items() if k in RUN_KNOBS}
    return run, {k: v for k, v in point.items() if k not in RUN_KNOBS}


def point_settings(settings: RunSettings, run_knobs: Mapping[str, Any]) -> RunSettings:
    """`settings` with a point's run-setting knobs, validated."""
    if not run_knobs:
        return settings
    try:
        return RunSettings(**{**settings.model_dump(), **run_knobs})
    except ValueError as exc:
        raise SettingsError(f"invalid sweep point {dict(run_knobs)}: {exc}") from None


def parse_params(params: tuple[str, ...]) -> dict[str, list[str]]:
    """`("macs_per_cycle=8,16", "setup_cycles=0,10")` -> {name: [values]} (order kept)."""
    grid: dict[str, list[str]] = {}
    for item in params:
        key, sep, values = item.partition("=")
        split = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not split:
            raise SettingsError(f"malformed --param {item!r}: expected name=v1,v2,...")
        grid[key.strip()] = split
    return grid


def grid_points(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def typed_points(first, points: list[dict[str, Any]], search_path=None) -> tuple[dict[str, Any], ...]:
    """Each point validated against the first peripheral's settings and kept typed (only the
    swept knobs), before any run: `first` is its `PeripheralRequest`."""
    out = []
    for point in points:
        run_knobs, peripheral_knobs = split_point(point)
        typed = {**dict(first.with_settings(peripheral_knobs, search_path).settings),
                 **point_settings(RunSettings(), run_knobs).model_dump()}
        out.append({key: typed[key] for key in point})
    return tuple(out)
