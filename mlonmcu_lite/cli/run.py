"""`bench run`: compile, build, simulate and validate models, CPU vs CPU+accelerator."""

from __future__ import annotations

import click

from . import Command

from .session import (arch_choice, check_models, execute, executor_options, make_executor, peripheral_requests,
                      session_options, workspace_for)


@click.command(cls=Command)
@click.argument("models", nargs=-1)
@click.option("--study", "study_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Run the study in this TOML file (models, archs, peripherals, settings, sweep grids), "
                   "e.g. a session's own reports/<session>/study.toml; -s settings apply on top.")
@click.option("--cpu-only", is_flag=True, help="Only the CPU run per model (no accelerator run).")
@click.option("-p", "--peripheral", "peripherals", multiple=True, metavar="NAME[:key=value,...]",
              help="Peripheral for the accelerated run (repeat for several; default: qvanilla). "
                   "Settings after a colon, e.g. qvanilla:macs_per_cycle=32.")
@click.option("--arch", "arches", multiple=True, type=arch_choice(), default=("rv32imc",),
              show_default=True, help="ISA variant (repeat for several).")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="Input tensor(s) for the measured inference: .npy, .npz or raw .bin.")
@click.option("--layers", "show_layers", is_flag=True,
              help="Print each run's per-layer table after the study table.")
@session_options
@executor_options
@click.pass_context
def run(ctx, models, study_path, cpu_only, peripherals, arches, input_path, show_layers, peripheral_path, reports_dir,
        cache_dir, jobs, assignments, as_json, no_progress, executor, scheduler):
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
      bench run --study reports/20260101-120000/study.toml

    Exit status is non-zero when any run fails; the other runs still complete and the
    partial report is written.
    """
    from mlonmcu_lite.harness.session import RunGroup, SessionRequest
    from mlonmcu_lite.harness.settings import build_settings

    runner = make_executor(executor, scheduler, jobs)
    if study_path:
        execute(study_request(ctx, study_path, assignments, reports_dir, cache_dir), jobs, as_json, no_progress,
                show_layers, executor=runner)
        return
    if not models:
        raise click.UsageError("give MODELS or --study FILE")
    settings = build_settings(assignments)
    accelerated = () if cpu_only else peripheral_requests(tuple(peripherals) or ("qvanilla",), peripheral_path)
    group = RunGroup(models=check_models(models), archs=tuple(dict.fromkeys(arches)), peripherals=accelerated,
                     peripherals_default=not peripherals)
    request = SessionRequest(groups=(group,), settings=settings, peripheral_path=tuple(peripheral_path),
                             input_path=input_path, workspace=workspace_for(reports_dir, cache_dir))
    execute(request, jobs, as_json, no_progress, show_layers, executor=runner)


# options that describe runs: a study file holds them, so they cannot be given beside it
STUDY_CONFLICTS = ("models", "cpu_only", "peripherals", "arches", "input_path", "peripheral_path")


def study_request(ctx: click.Context, path: str, assignments, reports_dir, cache_dir):
    """The request of a study file; `-s` settings override the file's."""
    from click.core import ParameterSource

    from mlonmcu_lite.harness.settings import build_settings
    from mlonmcu_lite.harness.study import Study

    given = [name for name in STUDY_CONFLICTS if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT]
    if given:
        raise click.UsageError(f"--study holds the runs; {', '.join(given)} cannot be given beside it "
                               "(edit the study file, or use -s for run settings)")
    study = Study.load(path)
    study = study.model_copy(update={"settings": build_settings(assignments, study.settings).model_dump()})
    return study.request(workspace_for(reports_dir, cache_dir))
