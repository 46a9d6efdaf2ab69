"""The model zoo: resolving a name or .tflite path to a `ModelInfo` (registry), reading
a .tflite's structure (tflite_info) and its golden outputs from ai-edge-litert (reference)."""

from .registry import (FAMILIES, MODELS_DIR, OPS_DIR, SUPPORTED_OPS, ZOO_DIR, ZOO_ORDER, ModelError,
                       ModelInfo, Sample, TensorSpec, UnsupportedOpError, list_models, resolve_model)

__all__ = ["ModelInfo", "ModelError", "UnsupportedOpError", "TensorSpec", "SUPPORTED_OPS", "Sample",
           "resolve_model", "list_models", "MODELS_DIR", "ZOO_DIR", "OPS_DIR", "FAMILIES", "ZOO_ORDER"]
