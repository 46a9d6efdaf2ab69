"""`bench peripheral`: scaffold and inspect accelerator peripherals."""

from __future__ import annotations

from pathlib import Path

import click

from . import Group


@click.group(cls=Group)
def peripheral():
    """Create and inspect accelerator peripherals (one folder each)."""


@peripheral.command("new")
@click.argument("name")
@click.option("--from", "template", default="qvanilla", show_default=True,
              help="Existing peripheral to copy.")
@click.option("--dir", "dest", type=click.Path(file_okay=False), default=None,
              help="Where to create it (default: the repository's peripherals/). Use "
                   "--peripheral-path DIR on later commands when it is elsewhere.")
@click.option("--from-rdl", "from_rdl", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Take the register map from this SystemRDL file (its top addrmap); it must "
                   "have the registers the template binds (see `bench peripheral export`).")
def new(name, template, dest, from_rdl):
    """Create peripherals/NAME/ from a template: declaration, VP model, driver, patterns, test.

    Templates per region kind: qvanilla (conv2d), qdepthwise (depthwise conv2d), qdense
    (fully connected).  The fresh copy gets the next free address window, builds, offloads
    its pattern and passes its test without edits; then change its declaration and model.
    """
    from mlonmcu_lite.peripheral.loader import search_dirs
    from mlonmcu_lite.peripheral.scaffold import scaffold

    target = Path(dest) if dest else search_dirs()[-1]
    folder = scaffold(name, target, template=template,
                      from_rdl=Path(from_rdl) if from_rdl else None)
    click.echo(f"created {folder}")
    hint = "" if not dest else f" --peripheral-path {dest}"
    click.echo(f"try it:  bench run aww -p {name}{hint}")


@peripheral.command("export")
@click.argument("name")
@click.option("--rdl", type=click.Path(dir_okay=False), default=None, help="Write SystemRDL here.")
@click.option("--ipxact", type=click.Path(dir_okay=False), default=None,
              help="Write IP-XACT (IEEE 1685-2014, by PeakRDL-ipxact) here.")
@click.option("--peripheral-path", multiple=True, type=click.Path(exists=True, file_okay=False))
def export(name, rdl, ipxact, peripheral_path):
    """Export NAME's register map as SystemRDL and/or IP-XACT, so the same map drives RTL."""
    from mlonmcu_lite.peripheral import load_backend
    from mlonmcu_lite.peripheral.rdl import export_ipxact, write_rdl

    if not rdl and not ipxact:
        raise click.UsageError("give --rdl FILE and/or --ipxact FILE")
    spec = load_backend(name, search_path=[Path(p) for p in peripheral_path]).spec
    for path in filter(None, (rdl and write_rdl(spec, Path(rdl)), ipxact and export_ipxact(spec, Path(ipxact)))):
        click.echo(f"wrote {path}")


@peripheral.command("list")
@click.option("--peripheral-path", multiple=True, type=click.Path(exists=True, file_okay=False))
def list_(peripheral_path):
    """List the peripherals found, with their address and settings.

    Listing imports every peripheral folder found (their Python code runs); a folder that
    fails to import is shown as BROKEN with the file and line, the others still listed.
    """
    from mlonmcu_lite.peripheral import PeripheralConfigError, available_peripherals, load_backend

    search = [Path(p) for p in peripheral_path]
    try:
        names = available_peripherals(search)
    except PeripheralConfigError as exc:
        raise click.ClickException(str(exc)) from None
    for name in names:
        try:
            backend = load_backend(name, search_path=search)
        except PeripheralConfigError as exc:
            click.echo(f"{name:12s} BROKEN  {exc}")
            continue
        spec = getattr(backend, "spec", None)
        base = f"0x{spec.base:08x}" if spec is not None else "?"
        settings = getattr(backend, "settings", None)
        shown = settings.model_dump() if settings is not None else {}
        click.echo(f"{name:12s} {base}  {', '.join(f'{k}={v}' for k, v in shown.items())}")
