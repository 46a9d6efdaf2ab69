"""`bench sweep`: a design-space exploration over peripheral knobs (grid, sampled, or searched)."""

from __future__ import annotations

import click

from . import Command

from .session import (arch_choice, check_models, execute, executor_options, make_executor, peripheral_requests,
                      session_options, workspace_for)


@click.command(cls=Command)
@click.argument("models", nargs=-1, required=True)
@click.option("-p", "--peripheral", "peripherals", multiple=True, required=True,
              metavar="NAME[:key=value,...]",
              help="Peripheral to sweep (the points apply to the first; repeat to add fixed ones).")
@click.option("--param", "params", multiple=True, required=True, metavar="NAME=V1,V2,...|NAME=LO..HI[:log]",
              help="A knob: its values, or a range for --sample random/lhs/nsga2 (repeat for several).")
@click.option("--arch", type=arch_choice(), default="rv32imc", show_default=True)
@click.option("--sample", type=click.Choice(["grid", "random", "lhs", "nsga2"]), default="grid", show_default=True,
              help="grid: every combination; random / lhs (Latin hypercube): --points draws; nsga2: "
                   "optuna's multi-objective search over the --objective's, --points runs in all.")
@click.option("--points", "count", type=click.IntRange(min=1), default=100, show_default=True,
              help="Points drawn (random, lhs) or the search budget (nsga2).")
@click.option("--population", type=click.IntRange(min=2), default=16, show_default=True,
              help="nsga2: points per generation.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampler / search.")
@click.option("--objective", "objectives", multiple=True, metavar="NAME",
              help="Minimise this numeric column (e.g. est_cycles, acc_dma_bytes) or knob (e.g. "
                   "macs_per_cycle as an area proxy); two or more give the report's Pareto front "
                   "(plot, table, pareto.csv). Default for nsga2: est_cycles and macs_per_cycle.")
@click.option("--recost", is_flag=True,
              help="Simulate once per firmware and re-cost the other points from its timing trace "
                   "(exact for cost knobs; a point whose timing changes the firmware's path is simulated).")
@session_options
@executor_options
def sweep(models, peripherals, params, arch, sample, count, population, seed, objectives, recost, peripheral_path,
          reports_dir, cache_dir, jobs, assignments, as_json, no_progress, executor, scheduler):
    """Explore peripheral knobs over MODELS: every point is an ordinary, validated run.

    Knobs that only change the cost model (e.g. macs_per_cycle, dma_bytes_per_cycle) reuse one
    cached firmware; with --recost they reuse one simulation too (thousands of points per
    minute).  `core` and `energy` are run-setting knobs (core timing profile, energy table):
    the CPU-only runs repeat once per value.

    \b
    Examples:
      bench sweep resnet -p qvanilla --param macs_per_cycle=8,16,32,64
      bench sweep resnet -p qvanilla --param macs_per_cycle=1..256:log --param setup_cycles=0..200 \\
          --sample lhs --points 5000 --recost --objective est_cycles --objective macs_per_cycle
      bench sweep resnet -p qvanilla --param macs_per_cycle=1..256:log --param setup_cycles=0..200 \\
          --sample nsga2 --points 400 --recost
      bench sweep resnet -p qvanilla:cost_model=detailed --param dma_bytes_per_cycle=4,8,16 --param core=ideal,cv32e40p
    """
    from mlonmcu_lite.errors import UserError
    from mlonmcu_lite.harness.search import SearchSpec
    from mlonmcu_lite.harness.session import RunGroup, SessionRequest
    from mlonmcu_lite.harness.settings import build_settings
    from mlonmcu_lite.harness.sweep import grid_points, parse_params, sample_points, typed_points
    from mlonmcu_lite.reports.schema import NUMERIC_COLUMNS

    settings = build_settings(assignments)
    runner = make_executor(executor, scheduler, jobs)
    requests = peripheral_requests(tuple(peripherals), peripheral_path)
    knobs = parse_params(params)
    if sample == "nsga2" and not objectives:
        objectives = ("est_cycles", "macs_per_cycle")
    measurable = set(NUMERIC_COLUMNS) - {"saved_pct", "speedup"}  # those two are derived after the runs
    unknown = [o for o in objectives if o not in measurable and o not in {k.name for k in knobs}]
    if unknown:
        raise UserError(f"--objective {', '.join(unknown)}: not a numeric column or a swept knob "
                        f"(columns: {', '.join(sorted(measurable))})")
    if sample == "nsga2" and len(objectives) < 2:
        raise UserError("--sample nsga2 needs two or more --objective's")
    search = None
    if sample == "nsga2":
        points: list = []
        search = SearchSpec(knobs=tuple(knobs), budget=count, population=population, seed=seed)
    else:
        drawn = grid_points(knobs) if sample == "grid" else sample_points(knobs, sample, count, seed)
        points = typed_points(requests[0], drawn, peripheral_path)  # every point validated before any work
    group = RunGroup(models=check_models(models), archs=(arch,), peripherals=requests, points=tuple(points))
    request = SessionRequest(groups=(group,), settings=settings, peripheral_path=tuple(peripheral_path),
                             workspace=workspace_for(reports_dir, cache_dir), suffix="-sweep", recost=recost,
                             objectives=tuple(objectives), search=search)
    execute(request, jobs, as_json, no_progress, executor=runner)
