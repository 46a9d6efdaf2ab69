"""`bench sim FIRMWARE.elf`: run any bare-metal RV32 ELF on the virtual platform."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import Command

from ..vp import SimConfig, SimFault, VirtualPlatform
from ..vp.counting import COUNTING_MODES

FAULT_EXIT_CODE = 125  # distinct from a firmware's own small exit codes


def _exit_status(code: int) -> int:
    """A process exit status for a firmware exit code (non-zero stays non-zero)."""
    status = code & 0xFF
    return 1 if code != 0 and status == 0 else status


@click.command(cls=Command, name="sim")
@click.argument("firmware", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--max-instructions", type=click.IntRange(min=1),
              default=SimConfig.max_instructions, show_default=True,
              help="Instruction budget (fault when exceeded).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
              default=SimConfig.timeout_s, show_default=True, help="Wall-clock limit in seconds.")
@click.option("--counting", type=click.Choice(COUNTING_MODES), default="auto", show_default=True,
              help="Instruction counter: native block hook, Python block hook, or single-step.")
def sim(firmware: Path, as_json: bool, max_instructions: int, timeout_s: float,
        counting: str) -> None:
    """Run FIRMWARE (a bare-metal RV32 ELF) on the VP; print its console, exit code and counts.

    Besides the platform's UART/exit/region devices the VP honours `ecall` with a7=64
    (write to fd 1/2) and a7=93 (exit). The exit status is the firmware's exit code;
    a fault prints its cause and exits with 125.
    """
    config = SimConfig(max_instructions=max_instructions, timeout_s=timeout_s, counting=counting)
    try:
        vp = VirtualPlatform(firmware, config=config, run_name=firmware.name)
        result = vp.run()
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    except SimFault as fault:
        if as_json:
            click.echo(json.dumps({
                "error": type(fault).__name__, "message": str(fault), "pc": fault.pc,
                "function": fault.function, "address": fault.address,
                "total_instructions": fault.total_instructions,
                "run_instructions": fault.run_instructions, "console": fault.console}, indent=2))
        else:
            click.echo(fault.console, nl=False)
            click.echo(f"error: {fault}", err=True)
        sys.exit(FAULT_EXIT_CODE)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(result.console, nl=False)
        if result.console and not result.console.endswith("\n"):
            click.echo()
        run = "-" if result.run_instructions is None else f"{result.run_instructions:,}"
        click.echo(f"exit code:          {result.exit_code}")
        click.echo(f"total instructions: {result.total_instructions:,}")
        click.echo(f"run instructions:   {run}")
        click.echo(f"simulation:         {result.sim_seconds:.3f} s, {result.mips:.1f} MIPS "
                   f"({result.counting} counting)")
    sys.exit(_exit_status(result.exit_code))
