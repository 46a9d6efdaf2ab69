"""floatops: the float LSTM variants a converter writes (CIFG, peephole, projection, clipping, time-major),
compiled to C and run on the host against BUILTIN_REF (the committed lstm_f32 runs as firmware)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mlonmcu_lite.compiler import compile_model
from mlonmcu_lite.compiler.hostrun import build_host_library
from mlonmcu_lite.frontend import import_tflite
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo.reference import reference_outputs_many

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.float_only_models import LSTM_VARIANTS  # noqa: E402


@pytest.mark.parametrize("name", list(LSTM_VARIANTS))
def test_float_lstm_variant_matches_reference(name, tmp_path):
    spec = LSTM_VARIANTS[name]
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(spec.tflite())
    samples = [[s[k] for s in spec.samples()] for k in range(3)]
    host = build_host_library(compile_model(import_tflite(path), tmp_path / "c"), tmp_path / "model.so")
    for inputs, want in zip(samples, reference_outputs_many(path, samples)):
        (got,) = host.run(inputs)
        assert np.abs(want[0]).max() > 0.05  # a live sequence, not a saturated or zeroed one
        np.testing.assert_allclose(got, want[0], rtol=1e-4, atol=1e-5)
