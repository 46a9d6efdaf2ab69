"""Design-space points: knobs, and the grid, random or Latin-hypercube points over them.

Each point is a mapping of knob -> value applied to the first peripheral of the session
(see `session.expand`), and names the point in the report, so sweep rows are ordinary
report rows.  Cost parameters do not enter the build-cache key, so every point of a cost
sweep reuses one firmware (and with `--recost`, one simulation).

A knob is `name=v1,v2,...` (choices) or `name=lo..hi` (a range: integers when both ends
are, `name=lo..hi:log` for a log-uniform draw).  Ranges need a sampler (`random`, `lhs`
or the `nsga2` search); the grid takes choices only.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
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

SAMPLERS = ("grid", "random", "lhs", "nsga2")


@dataclass(frozen=True)
class Knob:
    """One swept setting: `choices`, or the range `low..high` (`integer`, `log` scale)."""

    name: str
    choices: tuple[str, ...] = ()
    low: float = 0.0
    high: float = 0.0
    integer: bool = True
    log: bool = False

    @property
    def is_range(self) -> bool:
        return not self.choices

    def at(self, u: float) -> str:
        """The knob's value at `u` in [0, 1) (uniform over choices or over the range)."""
        u = min(max(u, 0.0), math.nextafter(1.0, 0.0))
        if self.choices:
            return self.choices[int(u * len(self.choices))]
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high + (1 if self.integer else 0))
                                                       - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low + (1 if self.integer else 0))
        return str(min(int(value), int(self.high))) if self.integer else repr(min(value, self.high))


def parse_knob(item: str) -> Knob:
    """`"macs_per_cycle=8,16"` / `"macs_per_cycle=1..256:log"` -> Knob (SettingsError if malformed)."""
    key, sep, text = item.partition("=")
    key, text = key.strip(), text.strip()
    if not sep or not key or not text:
        raise SettingsError(f"malformed --param {item!r}: expected name=v1,v2,... or name=lo..hi[:log]")
    if ".." in text:
        body, _, scale = text.partition(":")
        lo_text, _, hi_text = body.partition("..")
        try:
            lo, hi = float(lo_text), float(hi_text)
        except ValueError:
            raise SettingsError(f"--param {item!r}: range ends must be numbers") from None
        if scale not in ("", "log") or hi < lo or (scale == "log" and lo <= 0):
            raise SettingsError(f"--param {item!r}: expected lo..hi with lo <= hi (and lo > 0 for :log)")
        integer = lo.is_integer() and hi.is_integer() and "." not in lo_text + hi_text
        return Knob(key, low=lo, high=hi, integer=integer, log=scale == "log")
    choices = tuple(v.strip() for v in text.split(",") if v.strip())
    if not choices:
        raise SettingsError(f"malformed --param {item!r}: no values")
    return Knob(key, choices=choices)


def parse_params(params: tuple[str, ...]) -> list[Knob]:
    knobs = [parse_knob(item) for item in params]
    names = [k.name for k in knobs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SettingsError(f"--param {', '.join(repeated)} given more than once")
    return knobs


def grid_points(knobs: list[Knob] | Mapping[str, list[Any]]) -> list[dict[str, str]]:
    """Every combination of the knobs' choices (a mapping name -> values, e.g. a study
    file's `sweep`, is read as choices)."""
    if isinstance(knobs, Mapping):
        knobs = [Knob(name, choices=tuple(str(v) for v in values)) for name, values in knobs.items()]
    ranges = [k.name for k in knobs if k.is_range]
    if ranges:
        raise SettingsError(f"--param {', '.join(ranges)}: a range needs --sample random, lhs or nsga2 "
                            "(the grid takes lists of values)")
    return [dict(zip([k.name for k in knobs], combo)) for combo in itertools.product(*(k.choices for k in knobs))]


def sample_points(knobs: list[Knob], method: str, count: int, seed: int = 0) -> list[dict[str, str]]:
    """`count` points drawn uniformly (`random`) or as a Latin hypercube (`lhs`, scipy's
    qmc: every knob's range cut into `count` strata, each hit once); duplicates dropped."""
    import numpy as np

    if count < 1:
        raise SettingsError("--points must be at least 1")
    if method == "random":
        units = np.random.default_rng(seed).random((count, len(knobs)))
    elif method == "lhs":
        from scipy.stats import qmc

        units = qmc.LatinHypercube(d=len(knobs), seed=seed).random(count)
    else:
        raise SettingsError(f"unknown sampler {method!r}; valid: random, lhs")
    points = [{k.name: k.at(float(u)) for k, u in zip(knobs, row)} for row in units]
    unique = {tuple(p.items()): p for p in points}
    return list(unique.values())


def typed_points(first, points: list[dict[str, Any]], search_path=None) -> tuple[dict[str, Any], ...]:
    """Each point validated against the first peripheral's settings and kept typed (only the
    swept knobs, `"16"` -> 16), before any run: `first` is its `PeripheralRequest`; raises
    the peripheral's config error naming a bad value.  Run-setting knobs (`core`, `energy`)
    are validated against the run settings."""
    from pathlib import Path

    search = [Path(p) for p in search_path or ()]
    typed_peripherals = first.with_points([split_point(point)[1] for point in points], search)
    out = []
    for point, typed_peripheral in zip(points, typed_peripherals, strict=True):
        run_knobs = split_point(point)[0]
        typed = {**dict(typed_peripheral.settings),
                 **(point_settings(RunSettings(), run_knobs).model_dump() if run_knobs else {})}
        out.append({key: typed[key] for key in point})
    return tuple(out)
