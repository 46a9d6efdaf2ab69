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
from mlonmcu_lite.harness.inputs import InputError, random_input
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import resolve_model
from mlonmcu_lite.zoo.reference import reference_outputs_many
from mlonmcu_lite.zoo.static_shapes import folded_bytes
from mlonmcu_lite.zoo.tflite_info import OP_NAMES

from tests.helpers.e2e import run_one
from tests.helpers.variants import assert_bit_exact_on_host, variant

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.logic_models import LOGIC_OPS, LOGIC_SINGLE, QA, Net  # noqa: E402

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


def _net_file(net: Net, name: str, out: Path) -> Path:
    path = out / f"{name}.tflite"
    path.write_bytes(net.tflite())
    return path


def test_flatten_range_and_reduce_prod_are_folded(tmp_path):
    """The converter's Flatten (SHAPE -> REDUCE_PROD of the tail -> PACK -> RESHAPE) and a RANGE of
    positions into GATHER fold to constants; the result equals BUILTIN_REF on the unfolded file."""
    n = Net()
    x = n.input("input", (1, 4, 6, 8), "INT8", QA)
    shape = n.shape_of(x, "shape")
    tail = n.strided_slice(shape, "tail", [1], [4], [1], (3,))
    reducer = S.ReducerOptionsT()
    count = n.op("REDUCE_PROD", [tail, n.const("axes", [0])], "count", (), "INT32", options=reducer)
    flat = n.reshape(x, n.pack([n.const("batch", 1), count], "flat_shape"), "flat", (1, 192))
    positions = n.op("RANGE", [n.const("start", 0), n.const("limit", 6), n.const("delta", 1)], "positions", (6,),
                     "INT32", options=S.RangeOptionsT())
    table = n.const("table", np.random.default_rng(3).integers(-128, 128, (6, 8)), "INT8", QA)
    n.output(flat, n.op("GATHER", [table, positions], "gather", (6, 8), "INT8", QA, S.GatherOptionsT()))
    path = _net_file(n, "flatten_range", tmp_path)
    model = S.ModelT.InitFromPackedBuf(folded_bytes(path.read_bytes()), 0)
    assert [OP_NAMES[model.operatorCodes[o.opcodeIndex].builtinCode] for o in model.subgraphs[0].operators] \
        == ["RESHAPE", "GATHER"]
    assert_bit_exact_on_host(path, samples=[random_input(resolve_model(path).inputs, 0)])


def _int_input_net(path_to_ids: str) -> Net:
    """An int32 input `ids` read by GATHER through RESHAPE (rows valid), as a FLOOR_DIV divisor, or
    through ADD (its ids unbounded here)."""
    n = Net()
    ids = n.input("ids", (2, 3), "INT32")
    table = n.const("table", np.arange(40).reshape(10, 4), "INT8", QA)
    if path_to_ids == "divisor":
        n.output(n.arith("FLOOR_DIV", n.const("num", [[7, -7, 100]]), ids, "quotient"))
        return n
    flat = n.reshape(ids, n.const("six", [6]), "flat", (6,)) if path_to_ids == "reshape" \
        else n.arith("ADD", n.reshape(ids, n.const("six", [6]), "flat", (6,)), n.const("one", [1]), "shifted")
    n.output(n.op("GATHER", [table, flat], "gather", (6, 4), "INT8", QA, S.GatherOptionsT()))
    return n


@pytest.mark.parametrize("path_to_ids,valid", [("reshape", (0, 9)), ("divisor", (1, 2**31 - 1))])
def test_int32_input_random_values_stay_valid_for_the_reference(path_to_ids, valid, tmp_path):
    path = _net_file(_int_input_net(path_to_ids), path_to_ids, tmp_path)
    spec = resolve_model(path).inputs[0]
    assert spec.value_range == valid and not spec.random_refusal
    samples = [random_input([spec], seed) for seed in range(3)]
    assert all(valid[0] <= s[0].min() and s[0].max() <= valid[1] for s in samples)
    assert len(reference_outputs_many(path, samples)) == 3  # the reference accepts every one


def test_int32_input_computed_into_ids_refuses_random_values(tmp_path):
    """ids + 1 into GATHER: no range of the input is known valid, so the run asks for --input."""
    spec = resolve_model(_net_file(_int_input_net("add"), "ids_add", tmp_path)).inputs[0]
    assert spec.value_range is None and "GATHER (operator 2) input 1" in spec.random_refusal
    with pytest.raises(InputError, match=r"'ids' \(it reaches GATHER .*give the model's inputs with --input"):
        random_input([spec], 0)
