"""uint8 and int16 variants of the data-movement and elementwise op models (and uint8
CONCATENATION that rescales), checked bit for bit against ai-edge-litert BUILTIN_REF on the
host; a few of them also as firmware on both ISAs (tests/harness/test_e2e_runs.py)."""

from __future__ import annotations

import numpy as np
import pytest

from mlonmcu_lite.frontend.converter import concat_rescale_table, nearest_indices

from tests.helpers.variants import assert_bit_exact_on_host, rescaled_concat_inputs, variant

MOVEMENT_MODELS = ["concat", "split_concat", "split_v_concat", "unpack_pack", "slice", "strided_slice",
                   "strided_slice_shrink", "pad", "padv2", "maximum", "minimum_broadcast", "relu", "relu6",
                   "transpose", "resize_nearest", "resize_nearest_align", "resize_nearest_half_pixel", "squeeze",
                   "expand_dims", "gather"]


@pytest.mark.parametrize("dtype", ["uint8", "int16"])
@pytest.mark.parametrize("name", MOVEMENT_MODELS)
def test_variant_bit_exact(name, dtype, tmp_path):
    assert_bit_exact_on_host(variant(name, dtype, tmp_path))


def test_uint8_concatenation_rescales_differently_quantized_inputs(tmp_path):
    assert_bit_exact_on_host(variant("concat", "uint8", tmp_path, rescaled_concat_inputs), count=6)


def test_concat_rescale_table_identity_and_saturation():
    same = concat_rescale_table(0.1, -3, 0.1, -3)
    np.testing.assert_array_equal(same, np.arange(-128, 128))
    wide = concat_rescale_table(1.0, -128, 0.01, -128)  # 100x: everything above 2 saturates
    assert wide[0] == -128 and wide[1] == -28 and wide[2] == 72 and (wide[3:] == 127).all()


def test_nearest_indices_follow_tflite_rounding():
    np.testing.assert_array_equal(nearest_indices(7, 13, True, False), [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
    np.testing.assert_array_equal(nearest_indices(5, 11, False, False), [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(nearest_indices(5, 12, False, True), [0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4])
