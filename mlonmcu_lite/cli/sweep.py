"""`bench sweep`: a design-space grid over peripheral parameters."""

from __future__ import annotations

from pathlib import Path

import click

from . import Command

from .session import arch_choice, check_models, execute, peripheral_requests, session_options, workspace_for


@click.command(cls=Command)
@click.argument("models", nargs=-1, required=True)
@click.option("-p", "--peripheral", "peripherals", multiple=True, required=True,
              metavar="NAME[:key=value,...]",
              help="Peripheral to sweep (the grid applies to the first; repeat to add fixed ones).")
@click.option("--param", "params", multiple=True, required=True, metavar="NAME=V1,V2,...",
              help="A knob and its values (repeat for a multi-dimensional grid).")
@click.option("--arch", type=arch_choice(), default="rv32imc", show_default=True)
@session_options
def sweep(models, peripherals, params, arch, peripheral_path, reports_dir, cache_dir, jobs, assignments,
          as_json, no_progress):
    """Sweep peripheral knobs over MODELS and plot estimated cycles against each knob.

    Every grid point is an ordinary, validated run; knobs that only change the cost model
    (e.g. macs_per_cycle, dma_bytes_per_cycle) reuse one cached firmware, so only the
    emulation repeats.  `core` and `energy` are run-setting knobs (core timing profile,
    energy table): the CPU-only runs repeat once per value.

    \b
    Example:
      bench sweep resnet -p qvanilla --param macs_per_cycle=8,16,32,64
      bench sweep resnet -p qvanilla:cost_model=detailed --param dma_bytes_per_cycle=4,8,16 --param core=ideal,cv32e40p
    """
    from mlonmcu_lite.harness.session import RunGroup, SessionRequest
    from mlonmcu_lite.harness.settings import build_settings
    from mlonmcu_lite.harness.sweep import grid_points, parse_params, typed_points

    settings = build_settings(assignments)
    requests = peripheral_requests(tuple(peripherals), peripheral_path)
    # every point validated before any work
    points = typed_points(requests[0], grid_points(parse_params(params)), [Path(p) for p in peripheral_path])
    group = RunGroup(models=check_models(models), archs=(arch,), peripherals=requests, points=points)
    request = SessionRequest(groups=(group,), settings=settings, peripheral_path=tuple(peripheral_path),
                             workspace=workspace_for(reports_dir, cache_dir), suffix="-sweep")
    execute(request, jobs, as_json, no_progress)
