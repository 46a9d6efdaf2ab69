#!/usr/bin/env python3
"""Real-converter models of the structure / logic idioms (qlogic), made by the TFLite converter.

    /work/scratch/tf-venv/bin/python models/realworld/make_logic_realworld.py   # TF outside the project
    .venv/bin/python models/realworld/goldens.py tf_text_classifier tf_mask_idioms

* tf_text_classifier: int32 token ids -> tf.gather of an embedding (GATHER of an int8 table), a
  padding mask NOT_EQUAL(ids, 0) -> CAST bool->float32 -> QUANTIZE (the converter's mask idiom),
  masked mean, a reshape through tf.shape, dense.  Inputs: valid ids.
* tf_mask_idioms: a dynamic-batch conv -> tf.where(y > 0, y, 0.1 y) (GREATER, SELECT_V2), a
  Flatten through SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE, GREATER_EQUAL -> CAST -> QUANTIZE.
Weights and the representative data are random (fixed seeds): exact-arithmetic targets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from make_realworld import SAMPLES, save_npz  # noqa: E402  (same venv: TensorFlow)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
VOCAB, TOKENS = 50, 8


def _convert(fn, spec: tf.TensorSpec, rep, int8_input: bool) -> bytes:
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function(spec)], fn)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_input:
        conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def text_classifier() -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(11)
    emb = tf.constant(rng.standard_normal((VOCAB, 16)).astype(np.float32))
    w = tf.constant(rng.standard_normal((16, 4)).astype(np.float32) * 0.3)

    @tf.function
    def model(ids):
        x = tf.gather(emb, ids)
        x = x * tf.cast(tf.not_equal(ids, 0), tf.float32)[..., None]
        x = tf.reshape(x, [tf.shape(x)[0], -1, 16])
        return tf.matmul(tf.reduce_mean(x, axis=1), w)

    def rep():
        for _ in range(32):
            yield [rng.integers(0, VOCAB, (1, TOKENS)).astype(np.int32)]

    ids = np.random.default_rng(12).integers(0, VOCAB, (SAMPLES, 1, TOKENS)).astype(np.int32)
    ids[:, :, -3:] = 0  # padding
    return _convert(model, tf.TensorSpec([1, TOKENS], tf.int32), rep, False), ids


def mask_idioms() -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(21)
    k = tf.constant(rng.standard_normal((3, 3, 3, 8)).astype(np.float32) * 0.3)

    @tf.function
    def model(x):
        y = tf.nn.conv2d(x, k, 1, "SAME")
        y = tf.where(y > 0.0, y, 0.1 * y)
        y = tf.reshape(y, [tf.shape(y)[0], -1])
        return y * tf.cast(tf.greater_equal(y, 0.2), tf.float32)

    def rep():
        for _ in range(32):
            yield [rng.uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)]

    x = np.random.default_rng(22).integers(-128, 128, (SAMPLES, 1, 8, 8, 3)).astype(np.int8)
    return _convert(model, tf.TensorSpec([None, 8, 8, 3], tf.float32), rep, True), x


MODELS = {"tf_text_classifier": (text_classifier, "int32 token ids -> GATHER embedding, NOT_EQUAL padding mask -> "
                                 "CAST -> QUANTIZE, masked MEAN, FULLY_CONNECTED"),
          "tf_mask_idioms": (mask_idioms, "conv -> GREATER / SELECT_V2 (leaky where), dynamic-batch Flatten "
                             "(SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE), GREATER_EQUAL -> CAST -> QUANTIZE mask")}


def main(argv: list[str]) -> int:
    for name in argv or MODELS:
        build, description = MODELS[name]
        tflite, sample = build()
        (HERE / f"{name}.tflite").write_bytes(tflite)
        save_npz(HERE / f"{name}.samples.npz", {"input_0": sample})
        meta = {"name": name, "description": description, "made_by": "models/realworld/make_logic_realworld.py",
                "tensorflow": tf.__version__}
        (HERE / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"{name}: {len(tflite)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
