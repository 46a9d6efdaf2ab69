"""Spec -> calibrated, quantized model bytes + metadata + int8 sample inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibrate import calibrate
from .quantize import QTensor, quantize, quantize_input, to_int16, to_uint8
from .spec import ModelSpec
from .writer import write_model

SAMPLES = 3
SAMPLE_SEED_OFFSET = 1000


@dataclass
class GeneratedModel:
    name: str
    tflite: bytes
    metadata: dict
    samples: list[np.ndarray]  # one int8 (uint8) array per graph input: [SAMPLES, *tensor shape]


def _spec_json(t: QTensor) -> dict:
    return {"name": t.name, "shape": list(t.shape), "dtype": t.dtype.lower(),
            "scale": float(t.scale[0]), "zero_point": int(t.zero_point[0])}


def generate(spec: ModelSpec) -> GeneratedModel:
    graph = spec.build()
    cal = calibrate(graph, spec.batch(graph, spec.calibration_size, spec.seed), spec.seed)
    qt = quantize(graph, cal, spec.input_ranges)
    raw = spec.batch(graph, SAMPLES, spec.seed + SAMPLE_SEED_OFFSET)
    samples = [quantize_input(x, float(qt[n].scale[0]), int(qt[n].zero_point[0])).reshape((SAMPLES,) + graph.shape(n))
               for n, x in zip(graph.inputs, raw)]
    if spec.activation_dtype == "uint8":
        qt = to_uint8(graph, qt)
        samples = [(s.astype(np.int16) + 128).astype(np.uint8) for s in samples]
    elif spec.activation_dtype == "int16":
        qt = to_int16(graph, qt, cal, spec.input_ranges)
        samples = [np.clip(np.round(np.asarray(x, np.float64) / float(qt[n].scale[0])), -32768, 32767)
                   .astype(np.int16).reshape((SAMPLES,) + graph.shape(n)) for n, x in zip(graph.inputs, raw)]
    metadata = {
        "name": spec.name,
        "description": spec.description,
        "inputs": [_spec_json(qt[n]) for n in graph.inputs],
        "outputs": [_spec_json(qt[n]) for n in graph.outputs],
        "macs": graph.macs(),
        "ops": [node.op for node in graph.nodes],
        "weight_bytes": int(sum(t.data.nbytes for t in qt.values() if t.data is not None)),
        "samples": f"{spec.name}.samples.npz",
        "goldens": f"{spec.name}.golden.npz",
    }
    return GeneratedModel(spec.name, write_model(graph, qt), metadata, samples)
