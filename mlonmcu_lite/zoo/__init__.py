"""The model zoo: resolving a name or .tflite path to a `ModelInfo` (registry), reading
a .tflite's structure (tflite_info) and its golden outputs from ai-edge-litert (reference)."""

from .registry import (SUPPORTED_OPS, ZOO_ORDER, ModelError, ModelInfo, Sample, TensorSpec, UnsupportedOpError,
                       families, list_models, resolve_model)

__all__ = ["ModelInfo", "ModelError", "UnsupportedOpError", "TensorSpec", "SUPPORTED_OPS", "Sample",
           "resolve_model", "list_models", "families", "ZOO_ORDER"]
