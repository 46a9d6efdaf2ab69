"""A failure while one TFLite operator is converted names the model, the op and its index,
with TVM's C++ backtrace reduced to the check that failed."""

from __future__ import annotations

import numpy as np
import pytest
from tvm import relax

from mlonmcu_lite.frontend import FrontendError, import_tflite
from mlonmcu_lite.frontend.converter import Converter
from mlonmcu_lite.frontend.errors import gist
from mlonmcu_lite.zoo import resolve_model


def test_tvm_failure_inside_an_op_names_model_op_and_index(monkeypatch):
    """A real TVM shape check failing while FULLY_CONNECTED is converted (mismatched matmul)."""
    def bad_fc(self, op):
        (x, *_) = self.get_input_tensors(op)
        expr = self.get_tensor_expr(x)
        return relax.op.matmul(expr, relax.const(np.zeros((3, 5), np.int8)))

    monkeypatch.setattr(Converter, "convert_fully_connected", bad_fc)
    with pytest.raises(FrontendError) as info:
        import_tflite(resolve_model("fc").path)
    msg = str(info.value)
    assert msg.startswith("fc.tflite: FULLY_CONNECTED (operator #0): ")
    assert "Traceback" not in msg and "\n" not in msg and len(msg) < 400
    assert "reduction dimensions" in msg and "Metadata omitted" not in msg


def test_python_error_inside_an_op_is_named_too(monkeypatch):
    def overflow(self, op):
        raise OverflowError("Python int too large to convert to C long")

    monkeypatch.setattr(Converter, "convert_fully_connected", overflow)
    with pytest.raises(FrontendError, match=r"^fc\.tflite: FULLY_CONNECTED \(operator #0\): OverflowError: Python int"):
        import_tflite(resolve_model("fc").path)


def test_gist_keeps_the_failed_check_not_the_backtrace():
    err = RuntimeError("Traceback (most recent call last):\n  2: tvm::relax::Normalize\n        at src/relax/ir.cc:12\n"
                       "  File \"x.py\", line 3, in f\nInternalError: Check failed: (a == b) is false: shapes differ")
    assert gist(err) == "RuntimeError: InternalError: Check failed: (a == b) is false: shapes differ"
    assert gist(ValueError("")) == "ValueError"


def test_failure_inside_an_integer_rewrite_names_model_and_op_family(monkeypatch):
    """A Python error in a rewrite callback would reach the user as TVM's FFI RuntimeError."""
    import dataclasses

    from mlonmcu_lite.frontend import rewrite

    def overflow(root, matchings):
        raise OverflowError("int32 bias overflow")

    broken = [dataclasses.replace(r, build=overflow) if r.name.startswith("fully_connected") else r
              for r in rewrite.REWRITES]
    monkeypatch.setattr(rewrite, "REWRITES", broken)
    with pytest.raises(FrontendError) as info:
        import_tflite(resolve_model("fc").path)
    msg = str(info.value)
    assert msg.startswith("fc.tflite: integer rewrite of fully_connected") and "(output shape [1, 16])" in msg
    assert msg.endswith("failed: OverflowError: int32 bias overflow")
