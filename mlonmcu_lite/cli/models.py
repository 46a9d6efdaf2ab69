"""`bench models`: what the zoo holds (name, ops, MACs, weight bytes)."""

from __future__ import annotations

import json
from collections import Counter

import click

from . import EXIT_CODES, Command

from ..errors import UserError
from ..zoo import ModelError, ModelInfo, list_models, resolve_model


def _op_summary(ops: list[str]) -> str:
    """CONV_2D x9, ADD x3, ... in first-use order."""
    counts = Counter(ops)
    return ", ".join(f"{op}x{n}" if n > 1 else op for op, n in counts.items())


def _as_json(m: ModelInfo) -> dict:
    def spec(t):
        return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype, "scale": t.scale, "zero_point": t.zero_point}

    return {"name": m.name, "path": str(m.path), "description": m.description, "macs": m.macs,
            "weight_bytes": m.weight_bytes, "ops": m.ops, "inputs": [spec(t) for t in m.inputs],
            "outputs": [spec(t) for t in m.outputs], "samples": len(m.samples or []),
            "goldens": m.goldens is not None}


@click.command(cls=Command, name="models")
@click.argument("models", nargs=-1)
@click.option("--all", "show_all", is_flag=True, help="Also list the op-family test models.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
def models(models: tuple[str, ...], show_all: bool, as_json: bool) -> None:
    """List the model zoo, or describe MODELS (zoo names or .tflite paths).  A model that
    cannot be read is an error line (exit 2) after the others are listed."""
    names = list(models) or list_models() + (list_models("realworld") + list_models("ops") + list_models("float")
                                             if show_all else [])
    infos, errors = [], []
    for name in names:
        try:
            infos.append(resolve_model(name))
        except ModelError as exc:
            errors.append(exc)
    if as_json:
        click.echo(json.dumps([_as_json(m) for m in infos], indent=2))
    else:
        width = max([len(m.name) for m in infos] + [4])
        click.echo(f"{'name':<{width}}  {'MACs':>12}  {'weight B':>9}  ops")
        for m in infos:
            click.echo(f"{m.name:<{width}}  {m.macs:>12,}  {m.weight_bytes:>9,}  {_op_summary(m.ops)}")
    for error in errors:
        click.echo(f"Error: {error}", err=True)
    if errors:
        raise SystemExit(EXIT_CODES[UserError])
