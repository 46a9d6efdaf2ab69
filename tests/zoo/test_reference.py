"""ai-edge-litert (BUILTIN_REF kernels) runs every committed model and reproduces the goldens."""

from __future__ import annotations

import numpy as np
import pytest

from mlonmcu_lite.zoo.reference import reference_outputs, reference_outputs_many
from mlonmcu_lite.zoo import ModelError, list_models, resolve_model

ALL = list_models("zoo") + list_models("ops")


@pytest.mark.parametrize("name", ALL)
def test_reference_reproduces_committed_goldens(name):
    info = resolve_model(name)
    assert info.samples and info.goldens
    outs = reference_outputs_many(info.path, info.samples)
    for got, want in zip(outs, info.goldens, strict=True):
        for g, w, spec in zip(got, want, info.outputs, strict=True):
            assert g.dtype == np.dtype(spec.dtype) and g.shape == spec.shape
            np.testing.assert_array_equal(g, w)


def test_reference_single_inference_and_sample_sensitivity():
    info = resolve_model("aww")
    first = reference_outputs(info.path, info.samples[0])
    np.testing.assert_array_equal(first[0], info.goldens[0][0])
    assert not np.array_equal(first[0], reference_outputs(info.path, info.samples[1])[0])


def test_reference_rejects_wrong_inputs():
    info = resolve_model("resnet")
    with pytest.raises(ModelError, match=r"resnet\.tflite: input 'input' wants int8\[1, 32, 32, 3\]"):
        reference_outputs(info.path, [np.zeros((1, 32, 32, 3), np.float32)])
    with pytest.raises(ModelError, match="has 1 input"):
        reference_outputs(info.path, [])
