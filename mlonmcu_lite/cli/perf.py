"""`bench perf`: VP speed (MIPS) with exact instruction counting on a ~50M-instruction program."""

from __future__ import annotations

import json
import statistics

import click

from . import Command

from ..firmware import toolchain
from ..vp import SimConfig, VirtualPlatform
from ..workspace import default_workspace

PERF_SOURCE = "bench/perf_kernel.c"  # below the platform folder


@click.command(cls=Command, name="perf")
@click.option("--arch", type=click.Choice(toolchain.available_archs()),
              default=toolchain.DEFAULT_ARCH, show_default=True)
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True,
              help="Emulations to run (each on a fresh VP).")
@click.option("--python-hook", is_flag=True,
              help="Also measure the Python block-hook fallback (one run, ~20 s).")
@click.option("--core", default="ideal", show_default=True, metavar="NAME|FILE",
              help="Core timing profile costing the cycles (built-in name or .toml file).")
@click.option("--record-events", is_flag=True,
              help="Also record the event counts other core profiles are re-costed from (what "
                   "`bench sweep --recost` does in the run it simulates).")
@click.option("--json", "as_json", is_flag=True)
def perf(arch: str, repeat: int, python_hook: bool, core: str, record_events: bool, as_json: bool) -> None:
    """Build and run a ~50M-instruction int8 kernel; print instructions, cycles, seconds and MIPS."""
    from ..vp.core_timing import load_profile

    load_profile(core)  # a bad name fails before the build
    workspace = default_workspace()
    out_dir = workspace.cache_dir / "perf" / arch
    build = toolchain.build_firmware([workspace.platform_dir / PERF_SOURCE], out_dir, arch=arch, werror=True,
                                     name="perf", workspace=workspace)
    modes = [("native", repeat)] + ([("python", 1)] if python_hook else [])
    rows = []
    for mode, runs in modes:
        for i in range(runs):
            res = VirtualPlatform(build.elf, config=SimConfig(counting=mode, core=core,
                                                                    record_events=record_events),
                                  run_name=f"perf/{arch}").run()
            rows.append({"counting": res.counting, "run": i, "instructions": res.total_instructions,
                         "cycles": res.total_cycles, "seconds": res.sim_seconds, "mips": res.mips})
            if not as_json:
                click.echo(f"{res.counting:>7} run {i}: {res.total_instructions:,} instructions, "
                           f"{res.total_cycles:,} cycles ({res.core}) in {res.sim_seconds:.3f} s = "
                           f"{res.mips:.1f} MIPS")
    native = [r["mips"] for r in rows if r["counting"] == "native"]
    summary = {"arch": arch, "core": core, "record_events": record_events, "elf": str(build.elf),
               "native_mips_best": max(native),
               "native_mips_median": statistics.median(native), "runs": rows}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(f"native counting: best {max(native):.1f} MIPS, median "
                   f"{statistics.median(native):.1f} MIPS ({arch}, exact counts"
                   f"{', event counts recorded' if record_events else ''})")
