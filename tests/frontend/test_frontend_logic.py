"""Comparisons, logic, SELECT, CAST, shape folding, EMBEDDING_LOOKUP, CUMSUM (frontend/logic.py, zoo/static_shapes.py):
each single-op model bit-exact against ai-edge-litert BUILTIN_REF on the host, on its samples (values
near the zero points, so rescaled comparisons tie) and on random inputs (full range; ids valid rows).
The committed chains (chain_logic, chain_index_math, chain_shape_reshape, embedding_gather) run as
firmware on both ISAs in tests/harness/test_e2e_runs.py."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.frontend import FrontendError, import_tflite
from mlonmcu_lite.harness.inputs import random_input
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import resolve_model
from mlonmcu_lite.zoo.reference import reference_outputs_many
from mlonmcu_lite.zoo.static_shapes import folded_bytes
from mlonmcu_lite.zoo.tflite_info import OP_NAMES

from tests.helpers.e2e import run_one
from tests.helpers.variants import assert_bit_exact_on_host, variant

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.logic_models import LOGIC_OPS, LOGIC_SINGLE  # noqa: E402

REJECTED = {"cumsum_int8", "zeros_like_int8"}  # the reference has no int8 CUMSUM / ZEROS_LIKE (see below)


def _write(name: str, out: Path) -> Path:
    model = {**LOGIC_SINGLE, **LOGIC_OPS}[name].generate()
    path = out / f"{name}.tflite"
    path.write_bytes(model.tflite)
    return path


def _samples(path: Path, name: str) -> list[list[np.ndarray]]:
    model = {**LOGIC_SINGLE, **LOGIC_OPS}[name].generate()
    own = [[x[k] for x in model.samples] for k in range(len(model.samples[0]))]
    return own + [random_input(resolve_model(path).inputs, seed) for seed in range(2)]


@pytest.mark.parametrize("name", [n for n in LOGIC_SINGLE if n not in REJECTED])
def test_logic_op_bit_exact(name, tmp_path):
    path = _write(name, tmp_path)
    assert_bit_exact_on_host(path, samples=_samples(path, name))


def test_int8_comparison_ties_depend_on_the_rescale(tmp_path):
    """Inputs of different scales compare in ComparisonWithScaling's domain: the samples hold equal
    results (values that round onto each other), so a raw or a float comparison would differ."""
    path = _write("equal_int8", tmp_path)
    samples = _samples(path, "equal_int8")[:3]
    outs = [o[0] for o in reference_outputs_many(path, samples)]
    assert any(o.any() for o in outs)
    raw = [np.equal(a, b) for a, b in samples]
    assert any(not np.array_equal(r, o) for r, o in zip(raw, outs))


@pytest.mark.parametrize("name,dtype", [(n, "uint8") for n in ("equal_int8", "less_equal_int8", "chain_logic")]
                         + [(n, d) for n in ("select", "select_v2", "embedding_gather")
                            for d in ("uint8", "int16")]
                         + [("chain_logic", "int16"), ("chain_index_math", "int16"), ("mask_select", "uint8")])
def test_logic_op_variant_bit_exact(name, dtype, tmp_path):
    path = variant(_write(name, tmp_path), dtype, tmp_path)
    assert_bit_exact_on_host(path, samples=[random_input(resolve_model(path).inputs, seed) for seed in range(3)])


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_int8_op_without_a_reference_kernel_is_rejected_at_load(name, tmp_path):
    op = name.removesuffix("_int8").upper()
    with pytest.raises(FrontendError, match=rf"{op} with int8 input .*reference {op} has int32/int64 only.* {name}"):
        import_tflite(_write(name, tmp_path))


def test_shape_idiom_is_folded_to_constants(tmp_path):
    """SHAPE -> STRIDED_SLICE -> PACK, BROADCAST_ARGS -> FILL -> ZEROS_LIKE become constant tensors;
    the RESHAPE, the CAST of the int8 data and the int32 ADDs of activations stay."""
    raw = _write("chain_shape_reshape", tmp_path).read_bytes()
    model = S.ModelT.InitFromPackedBuf(folded_bytes(raw), 0)
    sub = model.subgraphs[0]
    ops = [OP_NAMES[model.operatorCodes[o.opcodeIndex].builtinCode] for o in sub.operators]
    assert ops == ["RESHAPE", "CAST", "ADD", "ADD"]
    reshape = sub.operators[0]
    shape = np.frombuffer(bytes(model.buffers[sub.tensors[reshape.inputs[1]].buffer].data), np.int32)
    assert shape.tolist() == [1, 24, 8]
    unfoldable = _write("select", tmp_path).read_bytes()
    assert folded_bytes(unfoldable) is unfoldable


def test_id_input_samples_valid_rows():
    info = resolve_model("embedding_gather")
    assert info.inputs[0].dtype == "int32" and info.inputs[0].value_range == (0, 9)
    ids = random_input(info.inputs, 0)[0]
    assert ids.min() >= 0 and ids.max() <= 9 and len(set(ids.tolist())) > 1


@pytest.mark.parametrize("name,match", [("chain_index_math", r"CAST with uint8 input .*not shift-invariant"),
                                        ("floor_div_int8", r"FLOOR_DIV with uint8 tensors \(only its int8")])
def test_uint8_op_on_raw_values_is_rejected_at_load(name, match, tmp_path):
    """uint8 is computed as int8 - 128: ops on the raw values (CAST, FLOOR_DIV) would differ."""
    path = variant(_write(name, tmp_path), "uint8", tmp_path)
    with pytest.raises(FrontendError, match=rf"{match}.* {name}_uint8"):
        import_tflite(path)


@pytest.mark.parametrize("name", ["tf_text_classifier", "tf_mask_idioms"])
def test_real_converter_idioms_run_exact_on_the_vp(name, tmp_path):
    """The TFLite converter's own output (models/realworld/make_logic_realworld.py): int32 token ids into
    GATHER, the CAST(bool -> float32) -> QUANTIZE mask idiom, SELECT_V2, a dynamic-batch Flatten folded."""
    info = resolve_model(name)
    assert {"CAST", "QUANTIZE"} <= set(info.ops) and info.numerics == "quantized"
    assert "SHAPE" not in info.ops  # folded at load
    row = run_one(name, tmp_path)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["validated_samples"] == 2
