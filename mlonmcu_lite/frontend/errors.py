"""FrontendError: what a user sees when a model cannot be imported (never a TVM traceback)."""

from __future__ import annotations

from mlonmcu_lite.errors import gist
from mlonmcu_lite.zoo import ModelError


class FrontendError(ModelError):
    """An unsupported op, op variant or tensor type in a TFLite model (names op and model)."""


__all__ = ["FrontendError", "at_operator", "gist"]


def at_operator(err: BaseException, op_name: str, index: int | None) -> FrontendError:
    """`err` raised while converting one TFLite operator, as a FrontendError naming it."""
    where = f"{op_name} (operator #{index})" if index is not None else op_name
    if isinstance(err, FrontendError) and "operator #" in str(err):
        return err
    detail = str(err) if isinstance(err, FrontendError) else gist(err)
    return FrontendError(f"{where}: {detail}")
