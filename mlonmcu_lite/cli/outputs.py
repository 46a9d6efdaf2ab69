"""CI outputs and console conventions shared by the commands: `--markdown`,
`--markdown-file FILE`, `--junit FILE`, and whether a progress bar is drawn.

`--markdown` (a flag) prints Markdown on stdout instead of the text table (and appends it to
`$GITHUB_STEP_SUMMARY` when that is set); `--markdown-file FILE` writes it to FILE, appending
when FILE is `$GITHUB_STEP_SUMMARY` (several steps share that file).  Two options, not one
with an optional value: `bench run --markdown resnet` must not read the model as FILE.
`--junit FILE` writes JUnit XML, one test case per result row.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import click

from mlonmcu_lite.errors import UserError

STDOUT = "-"
_META = "mlml.outputs"


@dataclass(frozen=True)
class CiOutputs:
    """Where the Markdown summary and the JUnit XML go (None: not asked for)."""

    markdown: str | None = None
    junit: str | None = None

    @property
    def markdown_on_stdout(self) -> bool:
        return self.markdown == STDOUT


def markdown_option(**extra) -> Callable:
    """`--markdown` (value "-": stdout) and `--markdown-file FILE` (value `markdown_file`)."""
    flag = click.option(
        "--markdown", "markdown", is_flag=True, flag_value=STDOUT, default=None,
        help="Markdown summary on stdout instead of the text table (also appended to "
             "$GITHUB_STEP_SUMMARY when set).", **extra)
    to_file = click.option(
        "--markdown-file", "markdown_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
        help="Write the Markdown summary to FILE (appended when FILE is $GITHUB_STEP_SUMMARY); "
             "the text table stays on stdout.", **extra)
    return lambda command: flag(to_file(command))


def markdown_destination(markdown: str | None, markdown_file: str | None) -> str | None:
    """Where the Markdown goes: "-" (stdout), a file, or None; both options at once is a usage error."""
    if markdown and markdown_file:
        raise click.UsageError("--markdown (stdout) and --markdown-file FILE exclude each other")
    return markdown or markdown_file


def junit_option(**extra) -> Callable:
    return click.option("--junit", "junit", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                        help="Write JUnit XML to FILE: one test case per result row.", **extra)


def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    outputs = ctx.meta.get(_META, CiOutputs())
    if param.name == "junit":
        outputs = replace(outputs, junit=value)
    elif value is not None:  # --markdown or --markdown-file, whichever comes first
        outputs = replace(outputs, markdown=markdown_destination(outputs.markdown, value))
    ctx.meta[_META] = outputs


def output_options(command: Callable) -> Callable:
    """`--markdown`/`--markdown-file`/`--junit` for session commands; read back with `ci_outputs()` so the
    commands' own signatures stay as they are."""
    command = junit_option(expose_value=False, callback=_remember)(command)
    return markdown_option(expose_value=False, callback=_remember)(command)


def ci_outputs() -> CiOutputs:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_META, CiOutputs()) if ctx is not None else CiOutputs()


def write_markdown(text: str, dest: str | None) -> None:
    """Send a Markdown summary where `--markdown` said (see the module docstring)."""
    if dest is None:
        return
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if dest == STDOUT:
        click.echo(text, nl=False)
        if summary:
            _write(Path(summary), text, append=True)
        return
    _write(Path(dest), text, append=bool(summary) and _same(dest, summary))


def write_junit(xml: str, dest: str | None) -> None:
    if dest is not None:
        _write(Path(dest), xml, append=False)


def show_progress(no_progress: bool) -> bool:
    """A progress bar only on a terminal: never when stdout or stderr (the bar's stream) is
    redirected, as in CI logs and pipes, nor with --no-progress."""
    return not no_progress and sys.stdout.isatty() and sys.stderr.isatty()


def _same(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _write(path: Path, text: str, append: bool) -> None:
    try:
        with path.open("a" if append else "w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
