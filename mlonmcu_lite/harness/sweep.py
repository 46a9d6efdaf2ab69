"""Design-space sweeps: the grid of peripheral parameter values, as ordinary runs.

Each grid point is a peripheral spec string (`qvanilla:macs_per_cycle=16,...`)
and a tag naming the point, so sweep rows are ordinary report rows.  Cost
parameters do not enter the build-cache key, so every point of a cost sweep
reuses one firmware and only the emulation runs again.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from mlonmcu_lite.harness.session import SessionRequest, expand
from mlonmcu_lite.harness.settings import SettingsError
from mlonmcu_lite.harness.spec import RunSpec


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


def with_params(peripheral: str, point: dict[str, str]) -> str:
    """Append a grid point's values to a peripheral spec string."""
    extra = ",".join(f"{k}={v}" for k, v in point.items())
    return f"{peripheral},{extra}" if ":" in peripheral else f"{peripheral}:{extra}"


def expand_sweep(request: SessionRequest, grid: dict[str, list[str]], session: str,
                 out_dir: Path) -> list[RunSpec]:
    """One CPU run per model/arch, then one accelerated run per grid point.

    The grid applies to the first peripheral; further peripherals stay fixed.
    """
    base = expand(replace(request, cpu_only=True), session, out_dir)
    first, *rest = request.peripherals
    runs = list(base)
    for point in grid_points(grid):
        tag = ",".join(f"{k}={v}" for k, v in point.items())
        point_request = replace(request, peripherals=(with_params(first, point), *rest))
        runs += [replace(spec, tag=tag) for spec in expand(point_request, session, out_dir)
                 if spec.peripherals]
    return runs
