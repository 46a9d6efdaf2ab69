"""`bench sweep`: a design-space grid over peripheral parameters."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mlonmcu_lite.harness.settings import RunSettings, SettingsError, build_settings
from mlonmcu_lite.harness.spec import ARCHES


@click.command()
@click.argument("models", nargs=-1, required=True)
@click.option("-p", "--peripheral", "peripherals", multiple=True, required=True,
              metavar="NAME[:key=value,...]",
              help="Peripheral to sweep (the grid applies to the first; repeat to add fixed ones).")
@click.option("--param", "params", multiple=True, required=True, metavar="NAME=V1,V2,...",
              help="A knob and its values (repeat for a multi-dimensional grid).")
@click.option("--peripheral-path", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Extra directory holding peripheral folders.")
@click.option("--arch", type=click.Choice(ARCHES), default="rv32imc", show_default=True)
@click.option("--out", "reports_dir", type=click.Path(file_okay=False), default=None,
              help="Reports directory (default: reports/).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Parallel workers.")
@click.option("-s", "--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help=f"Run setting. Valid: {', '.join(RunSettings.model_fields)}.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON on stdout.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def sweep(models, peripherals, params, peripheral_path, arch, reports_dir, jobs, assignments,
          as_json, no_progress):
    """Sweep peripheral knobs over MODELS and plot estimated cycles against each knob.

    Every grid point is an ordinary, validated run; knobs that only change the cost model
    (e.g. macs_per_cycle) reuse one cached firmware, so only the emulation repeats.

    \b
    Example:
      bench sweep resnet -p qvanilla --param macs_per_cycle=8,16,32,64
    """
    from mlonmcu_lite.harness.results import report_session
    from mlonmcu_lite.harness.session import SessionRequest, new_session_name
    from mlonmcu_lite.workspace import default_workspace
    from mlonmcu_lite.harness.pool import run_many
    from mlonmcu_lite.harness.sweep import expand_sweep, grid_points, parse_params, with_params
    from mlonmcu_lite.peripheral import load_backend
    from mlonmcu_lite.reports import records
    from mlonmcu_lite.reports.sweep import sweep_table, write_sweep_plots

    try:
        settings = build_settings(assignments)
        grid = parse_params(params)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    search = [Path(p) for p in peripheral_path]
    for point in grid_points(grid):  # validate every point before any work
        try:
            load_backend(with_params(peripherals[0], point), search_path=search)
        except (ValueError, LookupError) as exc:
            raise click.UsageError(f"--param {point}: {exc}") from None
    request = SessionRequest(models=tuple(models), peripherals=tuple(peripherals), arches=(arch,),
                             peripheral_path=tuple(peripheral_path), settings=settings,
                             reports_dir=Path(reports_dir) if reports_dir else default_workspace().reports_dir)
    session = new_session_name() + "-sweep"
    out_dir = Path(request.reports_dir) / session
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = run_many(expand_sweep(request, grid, session, out_dir), jobs=jobs, progress=not no_progress)
    df, files, _ = report_session(rows, out_dir)
    plots = write_sweep_plots(df, out_dir)
    if as_json:
        click.echo(json.dumps(records(df), indent=1, default=str))
    else:
        click.echo(sweep_table(df))
        for name, path in plots.items():
            click.echo(f"plot {name}: {path}")
        click.echo(f"report: {files.get('html', out_dir)}")
    failing = df[df["failing"]]
    for _, bad in failing.iterrows():
        click.echo(f"FAILED {bad['run_id']}: {bad['reason']}", err=True)
    sys.exit(1 if len(failing) else 0)
