"""Multi-objective design-space search: optuna's NSGA-II proposes points, runs measure them.

The search asks optuna for one population of points at a time, runs them as ordinary
sweep points (so `--recost` and the Dask executor apply), tells it each point's
objectives (minimised; a failing run is a failed trial), and stops after `budget`
points.  Every measured point is a row of the session, so the report's Pareto front is
taken over all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlonmcu_lite.errors import UserError
from mlonmcu_lite.harness.sweep import Knob, typed_points
from mlonmcu_lite.reports.sweep import point_values


@dataclass(frozen=True)
class SearchSpec:
    """NSGA-II over `knobs`, minimising `objectives` (numeric row columns or knobs)."""

    knobs: tuple[Knob, ...]
    budget: int
    population: int = 16
    seed: int = 0


def _distribution(knob: Knob):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if knob.choices:
        return CategoricalDistribution(knob.choices)
    if knob.integer:
        return IntDistribution(int(knob.low), int(knob.high), log=knob.log)
    return FloatDistribution(knob.low, knob.high, log=knob.log)


def run_search(request, runs, out_dir: Path) -> list:
    """All rows of the search, in the order they ran (CPU runs first)."""
    import optuna

    from mlonmcu_lite.harness.session import expand
    from mlonmcu_lite.peripheral.errors import PeripheralConfigError

    search: SearchSpec = request.search
    (group,) = request.groups
    if len(group.models) != 1 or len(group.archs) != 1:
        raise UserError("the nsga2 search optimises one model on one arch (got "
                        f"{len(group.models)} models, {len(group.archs)} archs)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["minimize"] * len(request.objectives),
                                sampler=optuna.samplers.NSGAIISampler(population_size=search.population,
                                                                      seed=search.seed))
    distributions = {knob.name: _distribution(knob) for knob in search.knobs}
    rows: dict[str, Any] = {}  # run_id -> row, in order
    asked = 0
    while asked < search.budget:
        trials = [study.ask(distributions) for _ in range(min(search.population, search.budget - asked))]
        asked += len(trials)
        batch: list[tuple[Any, dict]] = []
        for trial in trials:
            point = {name: str(trial.params[name]) for name in distributions}
            try:
                (typed,) = typed_points(group.peripherals[0], [point], request.peripheral_path)
            except PeripheralConfigError:  # e.g. lanes that do not divide the multipliers
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            batch.append((trial, typed))
        if not batch:
            continue
        sub = replace(request, groups=(replace(group, points=tuple(p for _, p in batch)),))
        specs = [s for s in expand(sub, out_dir.name, out_dir) if s.run_id not in rows]
        rows.update((spec.run_id, row) for spec, row in zip(specs, runs.run(specs), strict=True))
        by_point = {row.point: row for row in rows.values() if row.point}
        for trial, point in batch:
            row = by_point[_label(point)]
            values = objective_values(row, request.objectives)
            if row.failing or values is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, values)
    return list(rows.values())


def _label(point: dict) -> str:
    from mlonmcu_lite.harness.spec import point_label

    return point_label(point)


def objective_values(row, objectives: tuple[str, ...]) -> list[float] | None:
    """Each objective's value for `row`: a knob of its point, else its column (None if missing)."""
    knobs = point_values(row.point)
    values = []
    for name in objectives:
        value = knobs.get(name, getattr(row, name, None))
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if math.isnan(number):
            return None
        values.append(number)
    return values
