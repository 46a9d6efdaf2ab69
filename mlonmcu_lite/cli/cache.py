"""`bench cache`: where the build cache is, what it holds, and emptying it."""

from __future__ import annotations

from collections import Counter

import click

from . import Group

CACHE_DIR = click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                         help="Build cache (default: build/cache, or $MLML_CACHE_DIR).")


@click.group(cls=Group)
def cache():
    """Inspect or empty the build cache (TVM output and firmware, keyed by content)."""


def _cache(cache_dir):
    from mlonmcu_lite.harness.cache import BuildCache
    from mlonmcu_lite.workspace import Workspace

    return BuildCache(Workspace.from_env(cache_dir=cache_dir).cache_dir)


@cache.command("info")
@CACHE_DIR
def info(cache_dir):
    """Location, size and entries of the cache (removes debris of killed builds)."""
    store = _cache(cache_dir)
    debris = store.clean_debris()
    entries = store.entries()
    size = sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file())
    kinds = Counter(entry.name.split("-", 1)[0] for entry in entries)
    click.echo(f"location: {store.root}")
    click.echo(f"size: {size / 1e6:.1f} MB ({size} bytes)")
    click.echo(f"entries: {len(entries)}" + "".join(f"  {kind}: {n}" for kind, n in sorted(kinds.items())))
    for folder in store.side_folders():
        files = sum(1 for p in folder.iterdir())
        click.echo(f"also: {folder.name}/ ({files} item{'s' if files != 1 else ''}, not counted as entries)")
    if debris:
        click.echo(f"removed {debris} temporary folder(s) of interrupted builds")


@cache.command("clear")
@CACHE_DIR
def clear(cache_dir):
    """Remove every entry: the next runs rebuild what they need."""
    store = _cache(cache_dir)
    side = [f"{folder.name}/" for folder in store.side_folders()]
    click.echo(f"removed {store.clear()} entries" + (f" and {', '.join(side)}" if side else "") + f" from {store.root}")
