"""`bench compare BASELINE CURRENT`: relative figures and the CI regression gate.

Rows are keyed by model, config, arch, the effective peripheral settings and the sweep
point.  Files written before rows carried their effective settings get them back-filled
from the peripheral labels they recorded (defaults of the peripherals found now).

Exit codes: 0 = compared (and, with --fail-on-regression, nothing got worse
beyond the threshold); 1 = regression found; 2 = unusable input (missing
file, other schema version, unknown metric: a `UserError`, mapped by `cli`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from . import Command
from .outputs import junit_option, markdown_destination, markdown_option, write_junit, write_markdown

from ..errors import MlmlError, UserError
from ..reports.io import load_results, resolve_results_path
from ..reports.regression import DEFAULT_METRICS, compare_frames, matched_runs
from ..reports.ci import junit_comparison
from ..reports.regression_table import render_comparison


def _metrics(values: tuple[str, ...]) -> tuple[str, ...]:
    names = [m.strip() for v in values for m in v.split(",") if m.strip()]
    return tuple(names) or DEFAULT_METRICS


def _layer_changes(baseline: Path, current: Path, frames: list[pd.DataFrame], markdown: bool) -> str:
    """Per-layer deltas of the runs both sides have (matched on the comparison's key), when
    both sides wrote layers data (layers.parquet / layers.csv)."""
    from ..reports.layers import layer_delta_table, load_layers

    base, cur = load_layers(baseline.parent), load_layers(current.parent)
    if base.empty or cur.empty:
        return ""
    pairs = matched_runs(*frames)
    base = base[base["run_id"].isin(pairs["run_id_base"])]
    cur = cur[cur["run_id"].isin(pairs["run_id"])]
    if base.empty and cur.empty:
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
@click.option("--subset", is_flag=True,
              help="Compare and gate only the rows both sides have (a partial run against a full baseline).")
@markdown_option()
@junit_option()
@click.option(
    "--metrics", multiple=True, metavar="NAME[,NAME...]",
    help=f"Tracked metrics (repeatable or comma-separated). Default: {','.join(DEFAULT_METRICS)}.",
)
def compare(baseline: Path, current: Path, threshold: float | None, subset: bool, markdown: str | None,
            markdown_file: str | None, junit: str | None, metrics: tuple[str, ...]) -> None:
    """Compare CURRENT results against BASELINE.

    Each is a results.json or results.csv, a report directory, or a reports
    root (then its newest session directory is used).

    Rows are matched on (model, config, arch, effective peripheral settings, sweep
    point), so e.g. QVanilla at its default and at macs_per_cycle=32 are two rows;
    each tracked metric gets a relative column (current / baseline).  Lower is
    better except for mips, saved_pct and speedup.

    \b
    CI use:
      bench compare reports/baseline reports --fail-on-regression 2 --subset \\
          --markdown-file "$GITHUB_STEP_SUMMARY" --junit compare.xml
    """
    markdown = markdown_destination(markdown, markdown_file)
    try:
        baseline, current = resolve_results_path(baseline), resolve_results_path(current)
        frames = [with_effective_settings(load_results(path)) for path in (baseline, current)]
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc
    cmp = compare_frames(*frames, _metrics(metrics), threshold or 0.0, subset=subset)
    click.echo(f"baseline: {baseline}\ncurrent:  {current}", err=True)
    on_stdout = markdown == "-"
    text = render_comparison(cmp, markdown=on_stdout) + _layer_changes(baseline, current, frames, on_stdout)
    if on_stdout:
        write_markdown(text, markdown)
    else:
        click.echo(text, nl=False)
        if markdown:
            write_markdown(render_comparison(cmp, markdown=True)
                           + _layer_changes(baseline, current, frames, True), markdown)
    write_junit(junit_comparison(cmp, gate=threshold is not None), junit)
    if threshold is not None and cmp.blocking:
        lines = "\n".join(f"  {f}" for f in cmp.blocking)
        raise click.ClickException(
            f"{len(cmp.blocking)} regression(s) of {current} against {baseline} "
            f"(threshold {threshold:g}%):\n{lines}"
        )


def with_effective_settings(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of an older file carry only the peripheral labels the user typed (`settings`'s
    "peripherals"); key them like new rows: every effective setting, from the peripheral."""
    missing = df["peripheral_settings"].isna() & df["peripheral"].notna()
    if not missing.any():
        return df
    out = df.copy()
    out.loc[missing, "peripheral_settings"] = [_effective(text) for text in df.loc[missing, "settings"]]
    return out


def _effective(settings: str) -> str | None:
    from ..peripheral.request import PeripheralRequest

    labels = json.loads(settings or "{}").get("peripherals") or []
    try:
        return "+".join(PeripheralRequest.parse(label).effective_label for label in labels) or None
    except MlmlError:  # a peripheral not found here: key on what the file says
        return "+".join(labels) or None
