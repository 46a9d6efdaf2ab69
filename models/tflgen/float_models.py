"""float32 and dynamic-range ("hybrid") versions of op and zoo models (issue 20).

`<model>_f32`: the same graph and weights unquantized (float32 activations, weights, bias);
`<model>_hyb`: the converter's dynamic-range quantization (int8 conv / depthwise / FC
weights, float32 activations).  A variant keeps its base model's seed and builder, so the
float model and the int8 one are the same network: `bench run resnet_f32 resnet` compares
what quantization gains.  The op variants are committed (models/float/); the zoo variants
are written only when named (`models/generate.py resnet_f32 vww_f32 aww_f32 toycar_f32`),
as their float weights are 4x the int8 zoo.
"""

from __future__ import annotations

from dataclasses import replace

from .dtype_models import EXTRA, _spec
from .op_models import BODIES, OPS
from .spec import ModelSpec
from .zoo_models import ZOO

SUFFIX = {"float32": ("f32", "float32 (unquantized)"),
          "hybrid": ("hyb", "dynamic-range: int8 weights, float32 activations")}
# Every op of the int8 list with a float kernel, in few models (the suite stays fast).
FLOAT_PLAN = ("chain_conv_avgpool_fc_softmax", "chain_dw_maxpool", "multi_io", "chain_movement", "chain_residual",
              "mul", "sub", "logistic", "tanh", "mean_hw", "prelu", "hard_swish", "leaky_relu", "relu", "relu6",
              "concat", "padv2", "resize_bilinear_half",
              "conv_dilated", "dwconv_mult2_relu", "fc_keep_dims", "split_v_concat", "slice", "squeeze", "expand_dims",
              "minimum_broadcast", "strided_slice_shrink", "resize_nearest_align")
HYBRID_PLAN = ("chain_conv_avgpool_fc_softmax", "chain_dw_pw", "chain_fc_fc")


def _variant(spec: ModelSpec, scheme: str) -> ModelSpec:
    suffix, what = SUFFIX[scheme]
    return replace(spec, name=f"{spec.name}_{suffix}", description=f"{spec.description}; {what}", scheme=scheme,
                   io="native")


def _base(name: str) -> ModelSpec:
    if name in OPS:
        return OPS[name]
    description, body = {**BODIES, **EXTRA}[name]
    return _spec(name, description, body)


FLOAT_OPS: dict[str, ModelSpec] = {
    **{s.name: s for s in (_variant(_base(n), "float32") for n in FLOAT_PLAN)},
    **{s.name: s for s in (_variant(_base(n), "hybrid") for n in HYBRID_PLAN)},
}
FLOAT_ZOO: dict[str, ModelSpec] = {s.name: s for s in (_variant(spec, "float32") for spec in ZOO.values())}
