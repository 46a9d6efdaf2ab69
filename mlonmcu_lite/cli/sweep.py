"""`bench sweep`: a design-space grid over peripheral parameters."""

from __future__ import annotations

from pathlib import Path

import click

from . import Command

from .session import (arch_choice, check_models, execute, executor_options, make_executor, peripheral_requests,
                      session_options, workspace_for)


@click.command(cls=Command)
@click.argument("models", nargs=-1, required=True)
@click.option("-p", "--peripheral", "peripherals", multiple=True, required=True,
              metavar="NAME[:key=value,...]",
              help="Peripheral to sweep (the grid applies to the first; repeat to add fixed ones).")
@click.option("--param", "params", multiple=True, required=True, metavar="NAME=V1,V2,...",
              help="A knob and its values (repeat for a multi-dimensional grid).")
@click.option("--arch", type=arch_choice(), default="rv32imc", show_default=True)
@click.option("--recost", is_flag=True,
              help="Simulate once per firmware and re-cost the other points from its timing trace "
                   "(exact for cost knobs; a point whose timing changes the firmware's path is simulated).")
@session_options
@executor_options
def sweep(models, peripherals, params, arch, recost, peripheral_path, reports_dir, cache_dir, jobs, assignments,
          as_json, no_progress, executor, scheduler):
    """Sweep peripheral knobs over MODELS and plot estimated cycles against each knob.

    Every grid point is an ordinary, validated run; knobs that only change the cost model
    (e.g. macs_per_cycle) reuse one cached firmware, so only the emulation repeats.

    \b
    Example:
      bench sweep resnet -p qvanilla --param macs_per_cycle=8,16,32,64
    """
    from mlonmcu_lite.harness.session import RunGroup, SessionRequest
    from mlonmcu_lite.harness.settings import build_settings
    from mlonmcu_lite.harness.sweep import grid_points, parse_params

    settings = build_settings(assignments)
    runner = make_executor(executor, scheduler, jobs)
    requests = peripheral_requests(tuple(peripherals), peripheral_path)
    search = [Path(p) for p in peripheral_path]
    grid = grid_points(parse_params(params))
    points = [{key: dict(typed.settings)[key] for key in point}  # every point validated before any work
              for point, typed in zip(grid, requests[0].with_points(grid, search), strict=True)]
    group = RunGroup(models=check_models(models), archs=(arch,), peripherals=requests, points=tuple(points))
    request = SessionRequest(groups=(group,), settings=settings, peripheral_path=tuple(peripheral_path),
                             workspace=workspace_for(reports_dir, cache_dir), suffix="-sweep", recost=recost)
    execute(request, jobs, as_json, no_progress, executor=runner)
