"""Sequence ops (frontend/lstm.py, frontend/fixedpoint16.py): the int8 integer LSTM bit-exact
against ai-edge-litert BUILTIN_REF on the host with full-range random inputs (the committed
`lstm_fc` runs as firmware on both ISAs in test_e2e_runs), its gemmlowp activations checked on
every int16 input, and the LSTM variants that are not lowered rejected at load."""

from __future__ import annotations

import hashlib
import sys

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S

from mlonmcu_lite.frontend import FrontendError, import_tflite
from mlonmcu_lite.frontend.fixedpoint16 import NumpyBackend, logistic, tanh
from mlonmcu_lite.workspace import default_workspace

from tests.helpers.variants import assert_bit_exact_on_host, generated

sys.path.insert(0, str(default_workspace().models_dir))
from tflgen.seq_models import SEQ_SINGLE  # noqa: E402

# sha256 of gemmlowp::logistic (Q3.12 in) then gemmlowp::tanh for 0..6 integer bits, each over all
# 65536 int16 raw inputs in order, as int16 little endian: measured from gemmlowp's fixedpoint.h
# (FixedPoint<int16_t, k>, scalar path) compiled with g++.
GEMMLOWP_INT16_SHA256 = "f581e3c051f4b74d6d0a2e6034f3d7c3e375176e0217c7f2233f5f318867fe2c"


def test_int16_logistic_and_tanh_equal_gemmlowp_on_every_input():
    x = np.arange(-32768, 32768, dtype=np.int32)
    o = NumpyBackend()
    table = np.stack([logistic(o, x, 3), *(tanh(o, x, k) for k in range(7))]).astype("<i2")
    assert hashlib.sha256(table.tobytes()).hexdigest() == GEMMLOWP_INT16_SHA256


def test_int16_logistic_and_tanh_known_points():
    o = NumpyBackend()
    x = np.array([-32768, -4096, 0, 4096, 32767], np.int32)  # Q3.12: -8, -1, 0, 1, ~8
    assert logistic(o, x, 3).tolist() == [11, 8815, 16384, 23952, 32756]  # gemmlowp, as measured
    assert tanh(o, x, 3).tolist() == [-32767, -24964, 0, 24964, 32767]


@pytest.mark.slow  # ~30 s under load: an unrolled 7-step LSTM compiled for the host
def test_lstm_cifg_with_cell_clip_bit_exact(tmp_path):
    assert_bit_exact_on_host(generated(SEQ_SINGLE["lstm_cifg_clip"], tmp_path), count=4)


@pytest.mark.slow  # ~30 s under load: 3 unrolled GRU steps (16 FULLY_CONNECTED) compiled for the host
def test_gru_replica_from_tflm_ops_bit_exact(tmp_path):
    """GRU as converters unroll it (FC + ADD + LOGISTIC / TANH + MUL + SUB over SPLIT frames)."""
    assert_bit_exact_on_host(generated(SEQ_SINGLE["gru_unrolled"], tmp_path), count=6)


def _with_projection(path):
    """The LSTM with its recurrent forget weights also wired in as projection weights (slot 16)."""
    model = S.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    op = model.subgraphs[0].operators[0]
    op.inputs = [*op.inputs[:16], op.inputs[6], *op.inputs[17:]]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(bytes(builder.Output()))
    return path


def test_lstm_with_projection_is_rejected_at_load_naming_the_op(tmp_path):
    path = _with_projection(generated(SEQ_SINGLE["lstm_seq"], tmp_path))
    with pytest.raises(FrontendError, match=r"UNIDIRECTIONAL_SEQUENCE_LSTM with projection weights .* lstm_seq"
                                            r".*operator #0"):
        import_tflite(path)


def _edited(path, edit, out_dir):
    model = S.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out = out_dir / path.name
    out.write_bytes(bytes(builder.Output()))
    return out


def _fc_as_batch_matmul(model):
    """lstm_fc's FULLY_CONNECTED opcode renamed BATCH_MATMUL (an int8 BATCH_MATMUL, as read at load)."""
    code = model.operatorCodes[model.subgraphs[0].operators[2].opcodeIndex]
    code.builtinCode = code.deprecatedBuiltinCode = S.BuiltinOperator.BATCH_MATMUL


def _with_call_once(model):
    """A second (init) subgraph and a CALL_ONCE in front of the main graph, as TF writes stateful models."""
    init = S.SubGraphT()
    init.tensors, init.inputs, init.outputs, init.operators, init.name = [], [], [], [], "init"
    model.subgraphs.append(init)
    code = S.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode = S.BuiltinOperator.CALL_ONCE, 127  # 127: "see builtinCode"
    code.version = 1
    model.operatorCodes.append(code)
    op = S.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = len(model.operatorCodes) - 1, [], []
    op.builtinOptionsType = S.BuiltinOptions.CallOnceOptions
    op.builtinOptions = S.CallOnceOptionsT()
    op.builtinOptions.initSubgraphIndex = 1
    model.subgraphs[0].operators.insert(0, op)


@pytest.mark.parametrize("edit,message", [
    (_fc_as_batch_matmul, r"unsupported op BATCH_MATMUL \(int8/int16 BATCH_MATMUL is not lowered .*\) at operator #2"),
    (_with_call_once, r"unsupported op CALL_ONCE \(a stateful model: .*resource variables .*\) at operator #0"),
])
def test_sequence_model_parts_not_lowered_are_rejected_with_the_reason(edit, message, repo, tmp_path):
    with pytest.raises(FrontendError, match=message):
        import_tflite(_edited(repo / "models" / "ops" / "lstm_fc.tflite", edit, tmp_path))
