"""`bench run`: compile, build, simulate and validate models, CPU vs CPU+accelerator."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mlonmcu_lite.harness.settings import RunSettings, SettingsError, build_settings
from mlonmcu_lite.harness.spec import ARCHES


@click.command()
@click.argument("models", nargs=-1, required=True)
@click.option("--cpu-only", is_flag=True, help="Only the CPU run per model (no accelerator run).")
@click.option("-p", "--peripheral", "peripherals", multiple=True, metavar="NAME[:key=value,...]",
              help="Peripheral for the accelerated run (repeat for several; default: qvanilla). "
                   "Settings after a colon, e.g. qvanilla:macs_per_cycle=32.")
@click.option("--peripheral-path", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Extra directory holding peripheral folders.")
@click.option("--arch", "arches", multiple=True, type=click.Choice(ARCHES), default=("rv32imc",),
              show_default=True, help="ISA variant (repeat for several).")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="Input tensor(s) for the measured inference: .npy, .npz or raw .bin.")
@click.option("--out", "reports_dir", type=click.Path(file_okay=False), default=None,
              help="Reports directory (default: reports/); the session writes <out>/<timestamp>/.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel worker processes (default: number of cores).")
@click.option("-s", "--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help=f"Run setting (repeatable). Valid: {', '.join(RunSettings.model_fields)}.")
@click.option("--json", "as_json", is_flag=True, help="Print the result rows as a JSON list on stdout.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def run(models, cpu_only, peripherals, peripheral_path, arches, input_path, reports_dir, jobs,
        assignments, as_json, no_progress):
    """Run MODELS (zoo names such as resnet, vww, aww, toycar, or paths to .tflite files).

    For each model this compiles the int8 TFLite model with TVM to C, builds RV32 firmware,
    runs it on the virtual platform and checks the output bit for bit against the TFLite
    reference kernels: once on the CPU alone and once with the peripheral(s) (paired runs:
    same flags, same input). Results go to reports/<timestamp>/ (CSV, JSON, Markdown, HTML).

    \b
    Examples:
      bench run resnet vww aww
      bench run aww --cpu-only --json
      bench run my_model.tflite --input x.npy -p qvanilla:macs_per_cycle=32

    Exit status is non-zero when any run fails; the other runs still complete and the
    partial report is written.
    """
    from mlonmcu_lite.harness.session import SessionRequest, run_session
    from mlonmcu_lite.workspace import default_workspace
    from mlonmcu_lite.harness.results import report_session

    try:
        settings = build_settings(assignments)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    chosen = tuple(peripherals) or ("qvanilla",)
    if not cpu_only:
        _check_peripherals(chosen, peripheral_path)
    request = SessionRequest(
        models=tuple(models),
        peripherals=chosen,
        cpu_only=cpu_only,
        arches=tuple(dict.fromkeys(arches)),
        peripheral_path=tuple(peripheral_path),
        input_path=input_path,
        settings=settings,
        reports_dir=Path(reports_dir) if reports_dir else default_workspace().reports_dir,
    )
    out_dir, rows = run_session(request, jobs=jobs, progress=not no_progress)
    df, files, table = report_session(rows, out_dir)
    if as_json:
        from mlonmcu_lite.reports import records

        click.echo(json.dumps(records(df), indent=1, default=str))
        click.echo(f"report: {out_dir}", err=True)
    else:
        click.echo(table)
        click.echo(f"\nreport: {files.get('html', out_dir)}")
    failing = df[df["failing"]]
    for _, bad in failing.iterrows():
        click.echo(f"FAILED {bad['run_id']}: {bad['reason']}", err=True)
    sys.exit(1 if len(failing) else 0)


def _check_peripherals(specs: tuple[str, ...], search_path: tuple[str, ...]) -> None:
    """Validate peripheral names and settings before any work starts."""
    from mlonmcu_lite.peripheral import load_backend

    for spec in specs:
        try:
            load_backend(spec, search_path=[Path(p) for p in search_path])
        except (ValueError, LookupError) as exc:
            raise click.UsageError(f"--peripheral {spec}: {exc}") from None
