"""Ops from TFLite Micro's op resolver list beyond the first op families, and the uint8 / int16
variants of earlier ops now verified: each bit-exact against ai-edge-litert BUILTIN_REF on the
host with full-range random inputs (the committed chains run as firmware in test_e2e_runs)."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest

from mlonmcu_lite.frontend import FrontendError, import_tflite
from mlonmcu_lite.frontend.movement import mirror_indices
from mlonmcu_lite.workspace import default_workspace

from tests.helpers.variants import assert_bit_exact_on_host, edit_in_place, generated, output_scale, variant

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.op_models import OPS  # noqa: E402
from tflgen.tflm_models import SINGLE_SPECS  # noqa: E402


@pytest.mark.parametrize("name", list(SINGLE_SPECS))
def test_tflm_op_bit_exact(name, tmp_path):
    assert_bit_exact_on_host(generated(SINGLE_SPECS[name], tmp_path))


# Rejected at load: TFLite has no int16 DEPTH_TO_SPACE / SPACE_TO_DEPTH / ARG_MAX / ARG_MIN and no uint8
# EXP / LOG / SQUARED_DIFFERENCE kernel; the int16 table ops (EXP, LOG, GELU) are not lowered.
NOT_IN = {"uint8": {"exp", "log", "squared_difference"},
          "int16": {"depth_to_space", "space_to_depth", "arg_max", "arg_min", "exp", "log", "gelu", "gelu_approximate",
                    "squared_difference"}}
VARIANTS = [(name, dtype) for name in SINGLE_SPECS for dtype in ("uint8", "int16") if name not in NOT_IN[dtype]]


@pytest.mark.parametrize("name,dtype", VARIANTS)
def test_tflm_op_variant_bit_exact(name, dtype, tmp_path):
    assert_bit_exact_on_host(variant(generated(SINGLE_SPECS[name], tmp_path), dtype, tmp_path))


def test_chain_space_ops_uint8_bit_exact(tmp_path):
    assert_bit_exact_on_host(variant("chain_space_ops", "uint8", tmp_path))


def test_int16_depth_to_space_is_rejected_at_load(tmp_path):
    path = variant(generated(SINGLE_SPECS["depth_to_space"], tmp_path), "int16", tmp_path)
    with pytest.raises(FrontendError, match=r"DEPTH_TO_SPACE with int16 tensors .* depth_to_space_int16"):
        import_tflite(path)


# uint8 / int16 variants of earlier op models, lowered by the int8 rewrites (uint8 shifted to int8).
VERIFIED = [("tanh", "uint8"), ("mean_hw", "uint8"), ("mean_c", "uint8"), ("sub", "uint8"),
            ("sub_bcast_relu6", "uint8"), ("hard_swish", "uint8"), ("leaky_relu", "uint8"),
            ("sub", "int16"), ("sub_bcast_relu6", "int16"), ("prelu", "int16"), ("leaky_relu", "int16")]


@pytest.mark.parametrize("name,scheme", VERIFIED)
def test_earlier_op_in_other_scheme_bit_exact(name, scheme, tmp_path):
    spec = replace(OPS[name], name=f"{name}_{scheme}", scheme=scheme)
    assert_bit_exact_on_host(generated(spec, tmp_path), count=6)


def test_mirror_indices_reflect_and_symmetric():
    assert mirror_indices(4, 2, 3, symmetric=False).tolist() == [2, 1, 0, 1, 2, 3, 2, 1, 0]
    assert mirror_indices(4, 2, 3, symmetric=True).tolist() == [1, 0, 0, 1, 2, 3, 3, 2, 1]


def test_reduce_max_with_a_rescaled_output_is_rejected_naming_the_op(tmp_path):
    """TFLite's REDUCE_MAX refuses an output quantized unlike its input; so does the frontend, at load."""
    path = edit_in_place(generated(SINGLE_SPECS["reduce_max"], tmp_path), output_scale(0.5))
    with pytest.raises(FrontendError, match=r"REDUCE_MAX with an output quantized unlike its input .* reduce_max"):
        import_tflite(path)
