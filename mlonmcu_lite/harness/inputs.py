"""Model inputs for runs: a user's file, or a seeded random tensor of the right type."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from mlonmcu_lite.errors import UserError


class InputError(UserError):
    """An input file that does not fit the model."""


def load_user_input(path: Path, specs) -> list[np.ndarray]:
    """Read `.npy` (one input), `.npz` (arrays in input order) or raw `.bin` bytes."""
    if not path.exists():
        raise InputError(f"input file {path} does not exist")
    try:
        arrays = _read_arrays(path, specs)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:  # numpy's damaged-file errors
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path}: unreadable {path.suffix or 'raw'} input file "
                         f"({type(exc).__name__}: {str(exc)[:160]})") from exc
    if len(arrays) != len(specs):
        raise InputError(f"{path}: {len(arrays)} arrays, the model has {len(specs)} inputs")
    out = []
    for array, spec in zip(arrays, specs):
        if array.size != int(np.prod(spec.shape)) or array.dtype != np.dtype(spec.dtype):
            raise InputError(
                f"{path}: input {spec.name!r} needs {spec.dtype}{list(spec.shape)}, "
                f"got {array.dtype}{list(array.shape)}"
            )
        out.append(array.reshape(spec.shape))
    return out


def _read_arrays(path: Path, specs) -> list[np.ndarray]:
    if path.suffix == ".npy":
        return [np.load(path)]
    if path.suffix == ".npz":
        with np.load(path) as data:
            return [data[k] for k in data.files]
    raw = path.read_bytes()
    arrays, offset = [], 0
    for spec in specs:
        n = int(np.prod(spec.shape)) * np.dtype(spec.dtype).itemsize
        arrays.append(np.frombuffer(raw[offset:offset + n], dtype=spec.dtype))
        offset += n
    if offset != len(raw):
        raise InputError(f"{path}: {len(raw)} bytes, the model's inputs need {offset}")
    return arrays


def random_input(specs, seed: int) -> list[np.ndarray]:
    """A deterministic random input covering the full range of each input's dtype.

    A float32 input covers the range its QUANTIZE maps onto int8 (spec.scale, zero point); a
    float model's input (no quantization, scale 0) covers [-1, 1].
    """
    refused = [f"{spec.name!r} ({spec.random_refusal})" for spec in specs if getattr(spec, "random_refusal", "")]
    if refused:  # qlogic: values the reference rejects would crash the golden run, not test anything
        raise InputError(f"no valid random values for int input {', '.join(refused)}: "
                         f"give the model's inputs with --input FILE.npy/.npz")
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        if spec.dtype == "float32" and spec.scale == 0:  # a float model's input: no quantized range
            arrays.append(rng.uniform(-1.0, 1.0, size=spec.shape).astype(np.float32))
            continue
        if spec.dtype == "float32":
            lo, hi = spec.scale * (-128 - spec.zero_point), spec.scale * (127 - spec.zero_point)
            arrays.append(rng.uniform(lo, hi, size=spec.shape).astype(np.float32))
            continue
        if spec.dtype == "bool":  # a mask
            arrays.append(rng.integers(0, 1, size=spec.shape, endpoint=True).astype(bool))
            continue
        lo, hi = spec.value_range or (np.iinfo(spec.dtype).min, np.iinfo(spec.dtype).max)
        arrays.append(rng.integers(lo, hi, size=spec.shape, endpoint=True, dtype=spec.dtype))  # ids: valid rows
    return arrays
