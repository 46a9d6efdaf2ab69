"""Corrupt .tflite files (truncated, bytes overwritten): every load ends in a `ModelError`
naming the file, or in a model whose inputs can be made; never another exception, a crash,
a hang or a host-sized allocation (tflite_info's structure and window checks)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mlonmcu_lite.harness.inputs import random_input
from mlonmcu_lite.workspace import default_workspace
from mlonmcu_lite.zoo import ModelError, resolve_model
from mlonmcu_lite.zoo.tflite_info import MAX_TENSOR_BYTES

OPS_DIR = default_workspace().ops_dir
SOURCES = ("conv_dilated", "fc", "add", "avgpool_3x3_s1_same")  # small: conv, dense, add, pool
ORIGINAL = {name: (OPS_DIR / f"{name}.tflite").read_bytes() for name in SOURCES}
HEADER = 8  # root offset + "TFL3": damage there is the "not a TFLite file" case, tested elsewhere


@st.composite
def corrupt(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(SOURCES))
    data = bytearray(ORIGINAL[name])
    edits = draw(st.lists(st.tuples(st.integers(HEADER, len(data) - 1), st.integers(0, 255)), min_size=1, max_size=4))
    for position, value in edits:
        data[position] = value
    if draw(st.booleans()):
        data = data[:draw(st.integers(HEADER, len(data) - 1))]
    return name, bytes(data)


def _load(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.tflite"
        path.write_bytes(data)
        try:
            info = resolve_model(path)
        except ModelError as error:
            assert str(path) in str(error), error
            return
        arrays = random_input(info.inputs, 0)  # what a run does next with what loaded
        assert sum(a.nbytes for a in arrays) <= len(arrays) * MAX_TENSOR_BYTES


@settings(max_examples=150, deadline=2000, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate), suppress_health_check=[HealthCheck.too_slow])
@given(corrupt())
def test_a_damaged_model_loads_or_fails_with_a_model_error(case):
    _load(case[1])


def _options(model):
    return model.subgraphs[0].operators[0].builtinOptions


def _tensor(model, index=0):
    return model.subgraphs[0].tensors[index]


@pytest.mark.parametrize("source, edit, message", [
    # found by the property test: an IndexError, a MemoryError, a hang or a TVM error before
    ("avgpool_3x3_s1_same", lambda m: setattr(_options(m), "filterHeight", -989855741),
     r"operator #0 AVERAGE_POOL_2D: option filterHeight = -989855741 is outside 1\.\.4096"),
    ("avgpool_3x3_s1_same", lambda m: setattr(_options(m), "strideH", -3), "option strideH = -3"),
    ("add", lambda m: setattr(_tensor(m), "shape", [1, 8, 8, 738197520]), "more than an RV32 target can hold"),
    ("conv_dilated", lambda m: setattr(_tensor(m), "shape", [1, -8, 8, 4]), r"has shape \[1, -8, 8, 4\]"),
    ("conv_dilated", lambda m: setattr(_tensor(m), "buffer", 999), "names buffer 999, the file has"),
    ("avgpool_3x3_s1_same", lambda m: setattr(m.subgraphs[0].operators[0], "outputs", [77]),
     "operator #0 output names tensor 77"),
    ("fc", lambda m: setattr(m, "description", b"\xc5\x01"), "corrupt TFLite file"),
])
def test_damage_found_by_the_property_test_is_named(source, edit, message, tmp_path):
    from tests.zoo.test_zoo_errors import mutated

    path = mutated(tmp_path, source, edit)
    with pytest.raises(ModelError, match=message) as info:
        resolve_model(path)
    assert str(path) in str(info.value)


def test_bench_models_lists_the_readable_and_names_the_damaged(tmp_path):
    from click.testing import CliRunner

    from mlonmcu_lite.cli import main

    bad = tmp_path / "damaged.tflite"
    bad.write_bytes(ORIGINAL["fc"][: len(ORIGINAL["fc"]) // 2])
    result = CliRunner().invoke(main, ["models", "fc", str(bad), "add"])
    assert result.exit_code == 2, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["fc", "add"]
    assert f"Error: {bad}: " in result.stderr and "Traceback" not in result.output
