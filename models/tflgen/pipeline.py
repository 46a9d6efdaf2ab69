"""Spec -> calibrated, quantized model bytes + metadata + int8 sample inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibrate import calibrate
from .quantize import FLOAT_SCHEMES, QTensor, float_tensors, quantize, quantize_input
from .spec import ModelSpec
from .writer import write_model

SAMPLES = 3
SAMPLE_SEED_OFFSET = 1000


@dataclass
class GeneratedModel:
    name: str
    tflite: bytes
    metadata: dict
    samples: list[np.ndarray]  # one int8 array per graph input: [SAMPLES, *tensor shape]


def _spec_json(t: QTensor) -> dict:
    if t.scale is None:
        return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.lower()}
    return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.lower(),
            "scale": float(t.scale[0]), "zero_point": int(t.zero_point[0])}


def _sample(x: np.ndarray, t: QTensor, io: str) -> np.ndarray:
    """One input's samples in the dtype the model's boundary takes."""
    if io == "float":
        return np.asarray(x, np.float32)
    if io == "uint8":
        return quantize_input(x, float(t.scale[0]), int(t.zero_point[0]) + 128, "UINT8")
    return quantize_input(x, float(t.scale[0]), int(t.zero_point[0]), t.dtype)


def generate(spec: ModelSpec) -> GeneratedModel:
    graph = spec.build()
    # Calibration also folds the BatchNorm-like normalization into the weights: a float model
    # runs it too, so that it is the same network as its int8 version.
    cal = calibrate(graph, spec.batch(graph, spec.calibration_size, spec.seed), spec.seed)
    if spec.scheme in FLOAT_SCHEMES:  # float32 / dynamic-range: float I/O, no activation ranges
        qt = float_tensors(graph, spec.scheme)
    else:
        qt = quantize(graph, cal, spec.input_ranges, spec.scheme)
    raw = spec.batch(graph, SAMPLES, spec.seed + SAMPLE_SEED_OFFSET)
    io = "float" if spec.scheme in FLOAT_SCHEMES else spec.io
    samples = [_sample(x, qt[n], io).reshape((SAMPLES,) + graph.shape(n)) for n, x in zip(graph.inputs, raw)]
    tflite = write_model(graph, qt, spec.io)
    boundary = _boundary(qt, graph, spec.io)
    metadata = {
        "name": spec.name,
        "description": spec.description,
        "inputs": [_spec_json(t) for t in boundary[0]],
        "outputs": [_spec_json(t) for t in boundary[1]],
        "macs": graph.macs(),
        "ops": [node.op for node in graph.nodes],
        "weight_bytes": int(sum(t.data.nbytes for t in qt.values() if t.data is not None)),
        "samples": f"{spec.name}.samples.npz",
        "goldens": f"{spec.name}.golden.npz",
    }
    return GeneratedModel(spec.name, tflite, metadata, samples)


def _boundary(qt: dict[str, QTensor], graph, io: str) -> tuple[list[QTensor], list[QTensor]]:
    """The subgraph's input and output tensors after the I/O wrapper (see writer._wrap_io)."""
    ins, outs = [qt[n] for n in graph.inputs], [qt[n] for n in graph.outputs]
    if io == "float":
        ins = [QTensor(f"{t.name}_float", t.shape, "FLOAT32") for t in ins]
        outs = [QTensor(f"{t.name}_float", t.shape, "FLOAT32") for t in outs]
    elif io == "uint8":
        ins = [QTensor(f"{t.name}_uint8", t.shape, "UINT8", t.scale, t.zero_point + 128) for t in ins]
    return ins, outs
