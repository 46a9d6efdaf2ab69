"""FrontendError: what a user sees when a model cannot be imported (never a TVM traceback)."""

from __future__ import annotations

try:  # the zoo's error type, when the registry is present, so callers catch one class
    from mlonmcu_lite.zoo import ModelError as _Base
except ImportError:  # pragma: no cover - the zoo package lands separately
    _Base = ValueError


class FrontendError(_Base):
    """An unsupported op, op variant or tensor type in a TFLite model (names op and model)."""
