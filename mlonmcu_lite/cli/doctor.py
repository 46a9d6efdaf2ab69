"""`bench doctor`: what the build and the VP will use, or exactly what to install."""

from __future__ import annotations

import sys

import click

from . import Command

from ..firmware import toolchain
from ..vp import counting
from ..workspace import default_workspace


@click.command(cls=Command, name="doctor")
def doctor() -> None:
    """Report the cross toolchain, libc, ISA variants, host compiler and unicorn found."""
    ok = True
    try:
        tc = toolchain.find_toolchain()
        click.echo(f"toolchain:     {tc.clang} ({tc.clang_version})")
        click.echo(f"linker:        {tc.lld} ({tc.lld_version})")
    except toolchain.ToolchainMissing as exc:
        ok = False
        click.echo(f"toolchain:     MISSING - {exc}")
    try:
        runtime = ", ".join(str(toolchain.runtime_library(a.march, a.mabi))
                            for a in map(toolchain.load_arch, toolchain.available_archs()))
        click.echo(f"runtime:       {runtime}")
    except toolchain.ToolchainMissing as exc:
        ok = False
        click.echo(f"runtime:       MISSING - {exc}")
    libm = [toolchain.math_library(a.march, a.mabi) for a in map(toolchain.load_arch, toolchain.available_archs())]
    if all(libm):
        click.echo(f"libm:          picolibc (newlib libm; float models' expf/tanhf): {', '.join(map(str, libm))}")
    else:  # only float models with softmax / logistic / tanh need it: not a failure of the set-up
        click.echo(f"libm:          MISSING - float models with softmax/logistic/tanh will not link; "
                   f"install it with: {toolchain.INSTALL_COMMAND}")
    workspace = default_workspace()
    libc = ", ".join(p.name for p in toolchain.platform_sources(workspace))
    click.echo(f"libc:          mlonmcu-lite platform libc ({workspace.platform_dir}: {libc})")
    archs = ", ".join(f"{a} ({toolchain.load_arch(a).mabi})" for a in toolchain.available_archs())
    click.echo(f"ISA variants:  {archs}; default {toolchain.DEFAULT_ARCH}")
    click.echo(f"cache:         {workspace.cache_dir} (MLML_CACHE_DIR)")
    dist = counting.unicorn_dist()
    click.echo(f"unicorn:       {dist.version} ({dist.library})")
    cc = counting.find_host_compiler()
    if cc is None:
        click.echo("host compiler: MISSING - the VP falls back to the slow Python counting hook; "
                   "install one with: sudo apt-get install -y gcc")
    else:
        try:
            lib = counting.build_native_library()
            counting.load_native_library()
            click.echo(f"host compiler: {cc} (native counting hook: {lib})")
        except counting.NativeHookUnavailable as exc:
            ok = False
            click.echo(f"host compiler: {cc}, but the native counting hook failed: {exc}")
    click.echo("status:        ok" if ok else f"status:        missing parts; run: "
               f"{toolchain.INSTALL_COMMAND}")
    sys.exit(0 if ok else 1)
