"""FrontendError: what a user sees when a model cannot be imported (never a TVM traceback)."""

from __future__ import annotations

from mlonmcu_lite.zoo import ModelError


class FrontendError(ModelError):
    """An unsupported op, op variant or tensor type in a TFLite model (names op and model)."""
