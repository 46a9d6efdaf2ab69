"""Float forward pass: folds a BatchNorm-like per-channel normalization into
each weighted layer, then records every activation's range.

Random He weights alone give dead or exploding channels; normalizing each
output channel on the calibration batch (what a trained, BN-folded network looks
like) keeps every activation non-degenerate, and different per-channel gains
make per-channel quantization matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import floatops
from .graph import Graph

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def snap(v: float) -> float:
    """Round to 6 significant digits so ranges are identical on every machine."""
    return float(f"{v:.6g}")


@dataclass
class Calibration:
    ranges: dict[str, tuple[float, float]]  # activation tensor -> (min, max) over the batch
    outputs: list[np.ndarray]  # float outputs on the calibration batch


def _normalize(graph: Graph, node, x: np.ndarray, rng: np.random.Generator) -> None:
    """Fold z' = gamma * (z - mean) / std + beta into the node's weights and bias (BN folding)."""
    wt, bt = (graph.tensors[n] for n in node.inputs[1:])
    z = floatops.linear(node, x, wt.data, bt.data)
    axes = tuple(range(z.ndim - 1))
    mean = z.mean(axis=axes)
    # one layer-wide std (RMS over channels): dividing each channel by its own std
    # would amplify the quantization noise of weak channels layer after layer
    std = max(float(np.sqrt(z.var(axis=axes).mean())), 1e-6)
    channels = z.shape[-1]
    gamma = rng.uniform(0.5, 1.5, channels)
    beta = rng.normal(0.0, 0.3, channels) if node.attrs["act"] != "NONE" else np.zeros(channels)
    gain = gamma / std
    axis = wt.quant_axis if wt.quant_axis is not None else 0
    shape = [1] * wt.data.ndim
    shape[axis] = channels
    wt.data = wt.data * gain.reshape(shape)
    bt.data = (bt.data - mean) * gain + beta


def calibrate(graph: Graph, batch: list[np.ndarray], seed: int) -> Calibration:
    """Run the float graph on `batch` (one array per graph input, batch-first)."""
    rng = np.random.default_rng(seed)
    env = {name: np.asarray(x, np.float64) for name, x in zip(graph.inputs, batch)}
    for node in graph.nodes:
        if node.op in WEIGHTED:
            _normalize(graph, node, env[node.inputs[0]], rng)
        env.update(floatops.bind(node, floatops.run_node(graph, node, env)))
    ranges = {name: (snap(float(v.min())), snap(float(v.max()))) for name, v in env.items()}
    return Calibration(ranges, [env[o] for o in graph.outputs])
