"""What `bench run`, `bench sweep` and `bench baseline` share: their options, the checks
that turn arguments into one typed `SessionRequest`, and printing a session's outcome.

The three commands only build different requests for `harness.session.run_session`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import click

from mlonmcu_lite.errors import ToolError, UserError

from . import EXIT_CODES
from .outputs import ci_outputs, output_options, show_progress, write_junit, write_markdown
from mlonmcu_lite.harness.settings import RunSettings


def session_options(command: Callable) -> Callable:
    """Options of every command that runs a session."""
    options = [
        click.option("--peripheral-path", multiple=True, type=click.Path(exists=True, file_okay=False),
                     help="Extra directory holding peripheral folders (their Python code is "
                          "imported and run: trusted folders only)."),
        click.option("--out", "reports_dir", type=click.Path(file_okay=False), default=None,
                     help="Reports directory (default: reports/, or $MLML_REPORTS_DIR); "
                          "the session writes <out>/<timestamp>/."),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                     help="Build cache (default: build/cache, or $MLML_CACHE_DIR)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
                     help="Parallel worker processes (default: number of cores)."),
        click.option("-s", "--set", "assignments", multiple=True, metavar="KEY=VALUE",
                     help=f"Run setting (repeatable). Valid: {', '.join(RunSettings.model_fields)}."),
        click.option("--json", "as_json", is_flag=True, help="Print the result rows as a JSON list on stdout."),
        click.option("--no-progress", is_flag=True,
                     help="Hide the progress bar (it is only drawn on a terminal anyway)."),
    ]
    for option in reversed(options):
        command = option(command)
    return output_options(command)


def executor_options(command: Callable) -> Callable:
    """Where the runs execute (`bench run`, `bench sweep`)."""
    options = [
        click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help="local: a process pool on this machine (-j); dask: the workers of a "
                          "dask.distributed cluster (--scheduler). Workers need the workspace "
                          "(cache, models, reports) on a shared directory at the same path."),
        click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
                     help="Address of a running `dask scheduler` (with --executor dask)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_executor(executor: str, scheduler: str | None, jobs: int | None):
    from mlonmcu_lite.harness.executor import Executor

    return Executor(kind=executor, jobs=jobs, scheduler=scheduler)


def arch_choice() -> click.Choice:
    """The ISA variants of the workspace (platform/arch/*.json)."""
    from mlonmcu_lite.workspace import default_workspace

    return click.Choice(default_workspace().archs())


def workspace_for(reports_dir: str | None, cache_dir: str | None):
    from mlonmcu_lite.workspace import Workspace

    return Workspace.from_env(reports_dir=reports_dir, cache_dir=cache_dir)


def check_models(models: tuple[str, ...]) -> tuple[str, ...]:
    """Model arguments are names or paths: an empty one is an error before any work."""
    for model in models:
        if not model.strip():
            raise UserError("an empty model argument was given (a zoo name or a .tflite path is needed)")
    return tuple(models)


def peripheral_requests(texts: tuple[str, ...], search_path: tuple[str, ...]):
    """`-p` arguments -> validated `PeripheralRequest`s (typed settings)."""
    from mlonmcu_lite.peripheral.request import PeripheralRequest

    return tuple(PeripheralRequest.parse(text, [Path(p) for p in search_path]) for text in texts)


def execute(request, jobs: int | None, as_json: bool, no_progress: bool, show_layers: bool = False,
            executor=None) -> None:
    """Run the session, print its table (or JSON rows, each with its `layers` list), the
    per-layer tables when asked, and the failures; exit 1 if any run failed.  The CI files
    (`--junit`, `--markdown-file`) are written after the table: one that cannot be written
    is an error line and exit 2, never the loss of what the session printed."""
    import dataclasses

    from mlonmcu_lite.harness.session import run_session
    from mlonmcu_lite.reports.ci import junit_runs, run_summary_markdown
    from mlonmcu_lite.reports.io import json_rows

    outputs = ci_outputs()
    result = run_session(request, jobs=jobs, progress=show_progress(no_progress), executor=executor)
    if result.recost is not None:
        click.echo(result.recost.summary(), err=True)
    output_errors: list[str] = []

    def ci_file(write, *args) -> None:
        try:
            write(*args)
        except UserError as exc:
            output_errors.append(str(exc))

    summary = run_summary_markdown(result.frame, f"bench session {result.out_dir.name}")
    if outputs.markdown_on_stdout and not as_json:
        ci_file(write_markdown, summary, outputs.markdown)
    if as_json:
        layers = {r.run_id: r.layers for r in result.results}
        rows = [{**row, "layers": layers.get(row["run_id"])} for row in json_rows(result.frame)]
        click.echo(json.dumps(rows, indent=1, default=str))
        click.echo(f"report: {result.out_dir}", err=True)
    elif outputs.markdown_on_stdout:
        click.echo(f"\nreport: {result.files.get('html', result.out_dir)}", err=True)
    else:
        click.echo(result.table)
        if show_layers:
            from mlonmcu_lite.reports.layers import layers_frame, session_layer_tables

            click.echo(session_layer_tables(layers_frame([dataclasses.asdict(r) for r in result.results])))
        for name, path in result.files.items():
            if name.startswith("plot:"):
                click.echo(f"plot {name[5:]}: {path}")
        if not result.report_error:
            click.echo(f"\nreport: {result.files.get('html', result.out_dir)}")
    ci_file(write_junit, junit_runs(result.frame), outputs.junit)
    if outputs.markdown and not outputs.markdown_on_stdout:
        ci_file(write_markdown, summary, outputs.markdown)
    for bad in result.failing:
        click.echo(f"FAILED {bad.run_id}: {bad.reason}", err=True)
    for error in ([result.report_error] if result.report_error else []) + output_errors:
        click.echo(f"Error: {error}", err=True)
    if result.interrupted:
        from mlonmcu_lite.harness.pool import INTERRUPTED_EXIT

        click.echo("Interrupted by Ctrl-C: the report holds the runs that finished; the others are "
                   "marked Interrupted." if not result.report_error else
                   "Interrupted by Ctrl-C while the report was written (what was kept: the line above).",
                   err=True)
        sys.exit(INTERRUPTED_EXIT)
    if result.report_error:
        sys.exit(EXIT_CODES[ToolError])
    if output_errors:
        sys.exit(EXIT_CODES[UserError])
    sys.exit(1 if result.failing else 0)
