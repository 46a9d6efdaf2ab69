"""The frontend's result: an integer-only Relax module plus its I/O quantization."""

from __future__ import annotations

from dataclasses import dataclass

import tvm


@dataclass(frozen=True)
class TensorSpec:
    """A graph input or output: int8 data with its TFLite quantization."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int


@dataclass
class IntegerModel:
    """`mod["main"]` takes the int8 inputs and returns the int8 output(s), integer ops only.

    Conv layout: NHWC activations, OHWI weights (see `frontend.conv`); `ops` lists the
    TFLite operators in execution order.
    """

    name: str
    mod: tvm.IRModule
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    ops: list[str]
