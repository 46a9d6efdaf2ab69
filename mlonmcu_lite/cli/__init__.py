"""The `bench` command line.

Subcommands live in their own modules and are imported only when invoked
(click's documented lazy-loading pattern), so one broken subcommand never
takes the others down and `bench --help` stays fast (no TVM import).

Exit codes, mapped here for every command from the two error roots (`errors.py`):
0 success; 1 a run failed or a regression was found (the command decides);
2 bad input (`UserError`, and click's usage errors); 3 a tool failed (`ToolError`);
130 interrupted by Ctrl-C.
`bench sim` passes the firmware's own exit code through (125 for a fault).
"""

from __future__ import annotations

import importlib
import logging

import click

from mlonmcu_lite.errors import MlmlError, ToolError, UserError

EXIT_CODES: dict[type[MlmlError], int] = {UserError: 2, ToolError: 3}

# command name -> "module:attribute" (module relative to this package)
COMMANDS: dict[str, str] = {
    "doctor": "doctor:doctor",
    "sim": "sim:sim",
    "perf": "perf:perf",
    "models": "models:models",
    "run": "run:run",
    "compare": "compare:compare",
    "baseline": "baseline:baseline",
    "sweep": "sweep:sweep",
    "peripheral": "peripheral:peripheral",
    "cache": "cache:cache",
}

HELP_SUMMARY: dict[str, str] = {
    "doctor": "Report the cross toolchain, libc and host compiler found.",
    "sim": "Run a bare-metal RV32 ELF on the virtual platform.",
    "perf": "Benchmark the virtual platform (MIPS with exact counting).",
    "models": "List the model zoo (name, ops, MACs, weight bytes).",
    "run": "Compile, build, simulate and validate models.",
    "compare": "Compare a report against a baseline (CI regression gate).",
    "baseline": "Regenerate the committed baseline (reports/baseline/).",
    "sweep": "Run a design-space sweep over peripheral parameters.",
    "peripheral": "Create and inspect accelerator peripherals.",
    "cache": "Show (info) or empty (clear) the build cache.",
}


class CommandError(click.ClickException):
    """A harness error shown as `Error: <message> (run ..., stage ...)` with its exit code."""

    def __init__(self, error: MlmlError) -> None:
        where = error.where()
        super().__init__(f"{error}" + (f" ({where})" if where else ""))
        self.exit_code = next((code for cls, code in EXIT_CODES.items() if isinstance(error, cls)), 1)


class Interrupted(click.ClickException):
    """Ctrl-C outside a session's own handling: a clear line and status 130, not click's
    "Aborted!" with status 1 (a session writes its partial report before it gets here)."""

    exit_code = 130  # 128 + SIGINT, as the README's exit-code table says

    def __init__(self) -> None:
        super().__init__("Interrupted by Ctrl-C")


def _mapped(invoke, ctx: click.Context):
    try:
        return invoke(ctx)
    except MlmlError as error:
        raise CommandError(error) from error
    except KeyboardInterrupt:
        raise Interrupted() from None


class Command(click.Command):
    """Every `bench` command: harness errors leave it as `CommandError` (the one mapping)."""

    def invoke(self, ctx: click.Context):
        return _mapped(super().invoke, ctx)


class Group(click.Group):
    """A command group whose subcommands are `Command`s."""

    command_class = Command

    def invoke(self, ctx: click.Context):
        return _mapped(super().invoke, ctx)


class LazyGroup(Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{module_name}":
                return _unavailable(name)
            raise
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP_SUMMARY.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str) -> click.Command:
    @click.command(name=name, help=HELP_SUMMARY.get(name, ""))
    def _cmd() -> None:
        raise click.ClickException(f"`bench {name}` is not available in this build yet")

    return _cmd


def _print_versions(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`bench --version`: this tool and every tool that shapes a figure (as provenance.json)."""
    if not value or ctx.resilient_parsing:
        return
    from mlonmcu_lite.harness.provenance import tool_versions

    versions = tool_versions()
    click.echo(f"mlonmcu-lite {versions.pop('mlonmcu-lite')}")
    width = max(map(len, versions))
    for name, version in versions.items():
        click.echo(f"  {name:<{width}}  {version}")
    ctx.exit()


def configure_logging(verbosity: int) -> None:
    """Standard logging on stderr: -v info, -vv debug, default warnings, -q errors only,
    -qq critical only.  Python warnings (e.g. a corrupted cache entry) follow the level."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        verbosity, logging.DEBUG if verbosity > 1 else logging.CRITICAL)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    logging.captureWarnings(True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_versions,
              help="Show the versions of mlonmcu-lite, TVM, unicorn, clang, lld, ai-edge-litert and exit.")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
@click.option("-q", "--quiet", count=True, help="Less log output (-q errors only, -qq none).")
def main(verbose: int, quiet: int) -> None:
    """mlonmcu-lite: benchmark int8 TFLite models on a RISC-V virtual platform,
    CPU-only and with modelled accelerators.

    \b
    Typical use:
      bench run resnet vww aww          CPU vs CPU+QVanilla, report in reports/
      bench models                      what the zoo holds
      bench sim firmware.elf --json     run any bare-metal RV32 ELF

    \b
    Shell completion (bash; zsh/fish alike, see click's docs):
      eval "$(_BENCH_COMPLETE=bash_source bench)"
    """
    configure_logging(verbose - quiet)
