"""Model registry: a zoo name (`resnet`, `vww`, `aww`, `toycar`, or an op-family
test model such as `conv_s2_same`) or a path to any user .tflite -> `ModelInfo`.

All structural facts come from the .tflite itself (`tflite_info`); sample inputs
and golden outputs come from `<stem>.samples.npz` / `<stem>.golden.npz` beside the
file when they exist (the generator writes them for every committed model).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlonmcu_lite.workspace import Workspace, default_workspace

from .tflite_info import SUPPORTED_OPS, ModelError, TensorSpec, UnsupportedOpError, read_tflite

__all__ = ["ModelInfo", "ModelError", "UnsupportedOpError", "TensorSpec", "SUPPORTED_OPS",
           "resolve_model", "list_models", "families"]

ZOO_ORDER = ("resnet", "vww", "aww", "toycar")  # MLPerf Tiny order

Sample = list[np.ndarray]  # one array per model input (or output)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    description: str
    ops: list[str]
    macs: int
    weight_bytes: int
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    samples: list[Sample] | None
    goldens: list[Sample] | None
    numerics: str = "quantized"  # tflite_info.TFLiteInfo.numerics: quantized | float32 | hybrid


def families(workspace: Workspace | None = None) -> dict[str, Path]:
    """Model family -> its folder: "zoo" (MLPerf Tiny models), "ops" (op-family tests) and
    "float" (float32 / hybrid op models, plus float zoo models once generated) and "realworld"
    (replicas of public vision models, made by the real TFLite converter)."""
    workspace = workspace or default_workspace()
    return {"zoo": workspace.zoo_dir, "ops": workspace.ops_dir, "float": workspace.float_dir,
            "realworld": workspace.realworld_dir}  # vision: TFLite-converter replicas


def list_models(family: str = "zoo", workspace: Workspace | None = None) -> list[str]:
    """Names of the committed models of a family ("zoo" or "ops")."""
    folders = families(workspace)
    if family not in folders:
        raise ModelError(f"unknown model family {family!r}; known: {', '.join(folders)}")
    names = sorted(p.name[: -len(".tflite")] for p in folders[family].glob("*.tflite"))
    first = [n for n in ZOO_ORDER if n in names]
    return first + [n for n in names if n not in first]


def _model_path(name_or_path: str | Path, workspace: Workspace | None) -> Path:
    text = str(name_or_path)
    for directory in families(workspace).values():
        candidate = directory / f"{text}.tflite"
        if "/" not in text and candidate.is_file():
            return candidate
    path = Path(text)
    if path.is_file():
        return path
    if path.suffix == ".tflite" or "/" in text:
        raise ModelError(f"{path}: no such model file")
    raise ModelError(f"unknown model {text!r}: not a zoo model ({', '.join(list_models(workspace=workspace))}), "
                     f"not an op-family model (see `bench models --all`) and not a .tflite path")


def _arrays(path: Path, prefix: str, specs: list[TensorSpec]) -> list[Sample] | None:
    """Per-sample lists from `<prefix>_<i>` arrays of shape [samples, *tensor shape]."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            stacks = [npz[f"{prefix}_{i}"] for i in range(len(specs))]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: unreadable or missing '{prefix}_<i>' arrays ({exc})") from exc
    for stack, spec in zip(stacks, specs):
        if stack.dtype != np.dtype(spec.dtype) or tuple(stack.shape[1:]) != spec.shape:
            raise ModelError(f"{path}: {prefix} for {spec.name!r} is {stack.dtype}{list(stack.shape[1:])}, "
                             f"the model wants {spec.dtype}{list(spec.shape)}")
    counts = {len(s) for s in stacks}
    if len(counts) != 1:
        raise ModelError(f"{path}: {prefix} arrays hold different sample counts {sorted(counts)}")
    return [[stack[k] for stack in stacks] for k in range(counts.pop())]


def _description(path: Path, from_file: str) -> str:
    meta = path.with_suffix(".json")
    if meta.is_file():
        try:
            return str(json.loads(meta.read_text()).get("description", from_file))
        except (json.JSONDecodeError, AttributeError):
            pass
    return from_file


def resolve_model(name_or_path: str | Path, workspace: Workspace | None = None) -> ModelInfo:
    """A zoo/op-family name or a .tflite path -> validated `ModelInfo` (raises ModelError)."""
    path = _model_path(name_or_path, workspace)
    info = read_tflite(path)
    base = path.with_suffix("")
    samples = _arrays(base.parent / f"{base.name}.samples.npz", "input", info.inputs)
    goldens = _arrays(base.parent / f"{base.name}.golden.npz", "output", info.outputs)
    if samples is not None and goldens is not None and len(samples) != len(goldens):
        raise ModelError(f"{path}: {len(samples)} samples but {len(goldens)} goldens")
    return ModelInfo(name=base.name, path=path, description=_description(path, info.description),
                     ops=info.op_names, macs=info.macs, weight_bytes=info.weight_bytes,
                     inputs=info.inputs, outputs=info.outputs, samples=samples, goldens=goldens,
                     numerics=info.numerics)
