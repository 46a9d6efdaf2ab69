"""Real-world vision replicas (models/realworld/, made by the TFLite converter) load and run exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.frontend import support
from mlonmcu_lite.zoo.reference import reference_outputs
from mlonmcu_lite.zoo.registry import list_models, resolve_model
from mlonmcu_lite.zoo.static_shapes import folded_bytes
from mlonmcu_lite.zoo.tflite_info import OP_NAMES, UnsupportedOpError, read_tflite

from tests.helpers.e2e import run_one


def _builtin_ops(raw: bytes) -> list[str]:
    model = S.ModelT.InitFromPackedBuf(raw, 0)
    return [OP_NAMES[max(model.operatorCodes[o.opcodeIndex].builtinCode,
                         model.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode)]
            for o in model.subgraphs[0].operators]


def test_realworld_family_lists_the_replicas():
    names = list_models("realworld")
    assert {"mobilenet_v1_025_f32io", "yolo_tiny", "unet_small", "mobilenet_v1_025_64_quant"} <= set(names)


def test_dynamic_batch_shape_chains_fold_to_constants(tmp_path):
    """unet_small's Conv2DTranspose output shapes come from SHAPE -> STRIDED_SLICE -> PACK at run
    time in the converter's output; folded, the graph has none and computes the same outputs."""
    model = resolve_model("unet_small")
    raw = model.path.read_bytes()
    assert _builtin_ops(raw).count("SHAPE") == 3
    folded = folded_bytes(raw)
    assert {"SHAPE", "STRIDED_SLICE", "PACK"}.isdisjoint(_builtin_ops(folded))
    assert _builtin_ops(folded).count("TRANSPOSE_CONV") == 3
    assert {"SHAPE", "PACK"}.isdisjoint(read_tflite(model.path).op_names)
    copy = tmp_path / "folded.tflite"
    copy.write_bytes(folded)
    sample = model.samples[0]
    for got, want in zip(reference_outputs(copy, sample), reference_outputs(model.path, sample)):
        np.testing.assert_array_equal(got, want)


def test_a_graph_without_shape_ops_keeps_its_bytes():
    raw = resolve_model("yolo_tiny").path.read_bytes()
    assert folded_bytes(raw) is raw


@pytest.mark.parametrize("name, arch", [("mobilenet_v3s_u8io", "rv32imc"), ("upsampler_quant", "rv32imc"),
                                        ("upsampler_quant", "rv32gc")])  # rv32gc: hardware float, FMA
def test_replica_runs_exact(name, arch, tmp_path):
    """mobilenet_v3s_u8io: hard-swish, squeeze-excite (MEAN, MUL), 5x5 depthwise, uint8 I/O through
    QUANTIZE, a folded dynamic-batch RESHAPE.  upsampler_quant (TF1 legacy uint8): RESIZE_BILINEAR's
    float32 uint8 kernel (half-pixel and align-corners) and TRANSPOSE_CONV with asymmetric uint8
    weights and a fused RELU6 that does not clamp.  Both bit-exact with BUILTIN_REF on the VP (the
    float island too where the FPU could fuse a multiply-add)."""
    row = run_one(name, tmp_path, arch=arch)
    assert not row["failing"], row["reason"]
    assert row["validation"] == "exact" and row["validated_samples"] == 2
    assert row["run_instructions"] > 1_000_000 and row["io_dtype"] == "uint8"


def test_transpose_conv_fused_activation_only_when_it_does_not_clamp():
    """TVM's importer drops TRANSPOSE_CONV's fused activation: accepted only where TFLite's clamp
    range is the whole output range (RELU6 on a [0, 6] uint8 output), else named."""
    info = read_tflite(resolve_model("upsampler_quant").path)
    op = next(o for o in info.ops if o.op == "TRANSPOSE_CONV")
    assert op.options["fusedActivationFunction"] == "RELU6"
    assert support._transpose_conv(op, info) is None
    out = op.outputs[0]
    narrow = dataclasses.replace(info.tensors[out], scales=(info.tensors[out].scales[0] * 2,))
    tensors = [narrow if i == out else t for i, t in enumerate(info.tensors)]
    assert support._transpose_conv(op, dataclasses.replace(info, tensors=tensors)) == \
        "fused activation RELU6 that clamps the output range"


def test_ssd_detection_postprocess_is_refused_with_its_reason():
    """The converter's SSD export ends in the TFLite_Detection_PostProcess custom op (float boxes,
    classes, scores, count): refused at load naming the op, its index and why."""
    with pytest.raises(UnsupportedOpError) as err:
        resolve_model(resolve_model("yolo_tiny").path.parent / "unsupported" / "ssd_postprocess.tflite")
    text = str(err.value)
    assert "unsupported op CUSTOM:TFLite_Detection_PostProcess (SSD box decoding + non-max suppression" in text
    assert "at operator #19" in text and "raw box_encodings / class_predictions" in text
