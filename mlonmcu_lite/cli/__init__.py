"""The `bench` command line.

Subcommands live in their own modules and are imported only when invoked
(click's documented lazy-loading pattern), so one broken subcommand never
takes the others down and `bench --help` stays fast (no TVM import).
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" (module relative to this package)
COMMANDS: dict[str, str] = {
    "doctor": "doctor:doctor",
    "sim": "sim:sim",
    "perf": "perf:perf",
    "models": "models:models",
    "run": "run:run",
    "compare": "compare:compare",
    "sweep": "sweep:sweep",
    "peripheral": "peripheral:peripheral",
}

HELP_SUMMARY: dict[str, str] = {
    "doctor": "Report the cross toolchain, libc and host compiler found.",
    "sim": "Run a bare-metal RV32 ELF on the virtual platform.",
    "perf": "Benchmark the virtual platform (MIPS with exact counting).",
    "models": "List the model zoo (name, ops, MACs, weight bytes).",
    "run": "Compile, build, simulate and validate models.",
    "compare": "Compare a report against a baseline (CI regression gate).",
    "sweep": "Run a design-space sweep over peripheral parameters.",
    "peripheral": "Create and inspect accelerator peripherals.",
}


class LazyGroup(click.Group):
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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mlonmcu-lite")
def main() -> None:
    """mlonmcu-lite: benchmark int8 TFLite models on a RISC-V virtual platform,
    CPU-only and with modelled accelerators.

    \b
    Typical use:
      bench run resnet vww aww          CPU vs CPU+QVanilla, report in reports/
      bench models                      what the zoo holds
      bench sim firmware.elf --json     run any bare-metal RV32 ELF
    """
