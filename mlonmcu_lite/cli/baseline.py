"""`bench baseline`: regenerate the committed baseline of the tracked set (reports/baseline/)."""

from __future__ import annotations

from pathlib import Path

import click

from . import Command

from .outputs import output_options
from .session import execute


@click.command(cls=Command, name="baseline")
@click.argument("out_dir", required=False, type=click.Path(file_okay=False))
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Build cache (default: build/cache, or $MLML_CACHE_DIR).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Parallel workers.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON on stdout.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar (only drawn on a terminal anyway).")
@output_options
def baseline(out_dir, cache_dir, jobs, as_json, no_progress):
    """Run the tracked set (zoo models x rv32imc/rv32gc, CPU and CPU+QVanilla) into OUT_DIR
    (default: reports/baseline/, the baseline `bench compare` and CI gate against).

    Regenerate it only after an intended change of the figures, and commit the result.
    """
    from mlonmcu_lite.harness.baseline import tracked_request
    from mlonmcu_lite.workspace import Workspace

    workspace = Workspace.from_env(cache_dir=cache_dir)
    execute(tracked_request(Path(out_dir) if out_dir else None, workspace), jobs, as_json, no_progress)
