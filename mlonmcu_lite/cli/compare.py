"""`bench compare BASELINE CURRENT`: relative figures and the CI regression gate.

Exit codes: 0 = compared (and, with --fail-on-regression, nothing got worse
beyond the threshold); 1 = regression found; 2 = unusable input (missing
file, other schema version, unknown metric: a `UserError`, mapped by `cli`).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from . import Command

from ..errors import UserError
from ..reports.io import load_results, resolve_results_path
from ..reports.regression import DEFAULT_METRICS, compare_frames
from ..reports.regression_table import render_comparison


def _metrics(values: tuple[str, ...]) -> tuple[str, ...]:
    names = [m.strip() for v in values for m in v.split(",") if m.strip()]
    return tuple(names) or DEFAULT_METRICS


def _layer_changes(baseline: Path, current: Path, markdown: bool) -> str:
    """Per-layer deltas when both sides wrote layers data (layers.parquet / layers.csv)."""
    from ..reports.layers import layer_delta_table, load_layers

    base, cur = load_layers(baseline.parent), load_layers(current.parent)
    if base.empty or cur.empty:
        return ""
    return "\n" + layer_delta_table(base, cur, markdown=markdown)


@click.command(cls=Command, name="compare")
@click.argument("baseline", type=click.Path(path_type=Path))
@click.argument("current", type=click.Path(path_type=Path))
@click.option(
    "--fail-on-regression", "threshold", type=click.FloatRange(min=0), default=None, metavar="PCT",
    help="Exit 1 when a tracked metric is worse than the baseline by more than PCT %, "
    "a validation is no longer exact, a run now fails, or a baseline row is missing.",
)
@click.option("--markdown", is_flag=True, help="Print a Markdown table (also appended to $GITHUB_STEP_SUMMARY).")
@click.option(
    "--metrics", multiple=True, metavar="NAME[,NAME...]",
    help=f"Tracked metrics (repeatable or comma-separated). Default: {','.join(DEFAULT_METRICS)}.",
)
def compare(baseline: Path, current: Path, threshold: float | None, markdown: bool, metrics: tuple[str, ...]) -> None:
    """Compare CURRENT results against BASELINE.

    Each is a results.json or results.csv, a report directory, or a reports
    root (then its newest session directory is used).

    Rows are matched on (model, config, arch); each tracked metric gets a
    relative column (current / baseline).  Lower is better except for mips,
    saved_pct and speedup.
    """
    try:
        baseline, current = resolve_results_path(baseline), resolve_results_path(current)
        frames = load_results(baseline), load_results(current)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc
    cmp = compare_frames(*frames, _metrics(metrics), threshold or 0.0)
    click.echo(f"baseline: {baseline}\ncurrent:  {current}", err=True)
    text = render_comparison(cmp, markdown=markdown)
    text += _layer_changes(baseline, current, markdown)
    click.echo(text, nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if markdown and summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    if threshold is not None and cmp.blocking:
        lines = "\n".join(f"  {f}" for f in cmp.blocking)
        raise click.ClickException(
            f"{len(cmp.blocking)} regression(s) of {current} against {baseline} "
            f"(threshold {threshold:g}%):\n{lines}"
        )
