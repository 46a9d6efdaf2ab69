"""What a generated model is: a graph builder, its input distribution and seeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .graph import Graph

InputMaker = Callable[[np.random.Generator, tuple[int, ...], int], np.ndarray]


def smooth_images(rng: np.random.Generator, shape: tuple[int, ...], n: int) -> np.ndarray:
    """Images in [0, 1]: low-frequency colour blobs plus pixel noise (gives convs structure)."""
    _, h, w, c = shape
    low = rng.uniform(0.0, 1.0, (n, 4, 4, c))
    up = np.repeat(np.repeat(low, -(-h // 4), axis=1), -(-w // 4), axis=2)[:, :h, :w]
    return np.clip(up + rng.normal(0.0, 0.15, (n, h, w, c)), 0.0, 1.0)


def gaussian(rng: np.random.Generator, shape: tuple[int, ...], n: int) -> np.ndarray:
    """Feature maps (MFCC / log-mel like): standard normal values."""
    return rng.standard_normal((n,) + tuple(shape[1:]))


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    build: Callable[[], Graph]
    make_input: InputMaker = gaussian
    input_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    calibration_size: int = 16
    seed: int = 0  # calibration data and normalization; samples use seed + 1000
    input_gains: tuple[float, ...] = ()  # per-input multipliers (e.g. ADD operands of different scales)
    scheme: str = "int8"  # quantize.SCHEMES: int8 | uint8 | int16 (16x8)
    io: str = "native"  # writer.IO_WRAPPERS: native | float (QUANTIZE/DEQUANTIZE) | uint8 (input)

    def batch(self, graph: Graph, n: int, seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        gains = self.input_gains or (1.0,) * len(graph.inputs)
        return [self.make_input(rng, graph.shape(name), n) * g for name, g in zip(graph.inputs, gains)]
