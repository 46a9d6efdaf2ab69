"""Offload pass: canonical conv chains go to the first accepting backend as driver calls.

The backend here is a test double with a real driver: plain C that computes the ConvRegion
semantics (NHWC, OHWI, pad_value, groups, strides, dilation), compiled for the host, so
offloaded models must stay bit-exact with TFLite's goldens and with TVM's VM.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.helpers.compiler_modules import conv_chain_module
from mlonmcu_lite.compiler import compile_model
from mlonmcu_lite.compiler.hostrun import build_host_library, tvm_reference
from mlonmcu_lite.frontend import import_tflite
from mlonmcu_lite.peripheral.backend import AcceleratorBackend, ConvRegion, OffloadPattern
from mlonmcu_lite.zoo import resolve_model

DRIVER_H = """#include <stdint.h>
void hostconv_run(const int8_t* x, const int8_t* w, const int32_t* b, int32_t* out, const int32_t* d);
"""

DRIVER_C = """#include "hostconv.h"
/* d: N H W C  O KH KW ICG  OH OW  SH SW  PT PL  DH DW  G PAD IN_OFF W_OFF */
void hostconv_run(const int8_t* x, const int8_t* w, const int32_t* b, int32_t* out, const int32_t* d) {
  int32_t H = d[1], W = d[2], C = d[3], O = d[4], KH = d[5], KW = d[6], ICG = d[7];
  int32_t OH = d[8], OW = d[9], G = d[16], OCG = O / G;
  for (int32_t n = 0; n < d[0]; ++n)
  for (int32_t oy = 0; oy < OH; ++oy)
  for (int32_t ox = 0; ox < OW; ++ox)
  for (int32_t o = 0; o < O; ++o) {
    int32_t acc = b[o];
    for (int32_t ky = 0; ky < KH; ++ky)
    for (int32_t kx = 0; kx < KW; ++kx)
    for (int32_t i = 0; i < ICG; ++i) {
      int32_t y = oy * d[10] + ky * d[14] - d[12], xx = ox * d[11] + kx * d[15] - d[13];
      int32_t c = (o / OCG) * ICG + i;
      int32_t v = (y < 0 || y >= H || xx < 0 || xx >= W) ? d[17] : x[((n * H + y) * W + xx) * C + c];
      acc += (v + d[18]) * (w[((o * KH + ky) * KW + kx) * ICG + i] + d[19]);
    }
    out[((n * OH + oy) * OW + ox) * O + o] = acc;
  }
}
"""


class HostConvBackend(AcceleratorBackend):
    """Takes groups == 1 convs (or anything, with `max_groups`), runs them in plain C."""

    def __init__(self, driver_dir: Path, name: str = "hostconv", max_groups: int = 1, accept: bool = True):
        super().__init__()
        self.name = name
        self.driver_dir = driver_dir
        self.calls = 0
        self.accept = accept
        driver_dir.mkdir(parents=True, exist_ok=True)
        (driver_dir / "hostconv.h").write_text(DRIVER_H)
        (driver_dir / "hostconv.c").write_text(DRIVER_C)

        def check(region: ConvRegion) -> str | None:
            if not accept:
                return "disabled for this test"
            return None if region.groups <= max_groups else f"groups={region.groups} unsupported"

        self.register_pattern(OffloadPattern("conv2d_bias", "conv2d", check))

    def c_includes(self) -> list[str]:
        return ["hostconv.h"]

    def c_sources(self) -> list[Path]:
        return [self.driver_dir / "hostconv.c"] if self.accept else []

    def include_dirs(self, build_dir: Path) -> list[Path]:
        return [self.driver_dir]

    def emit_call(self, region: ConvRegion, args) -> str:
        self.calls += 1
        dims = [*region.input_shape, *region.weight_shape, *region.output_shape[1:3], *region.strides,
                *region.padding[:2], *region.dilation, region.groups, region.pad_value,
                region.input_offset, region.weight_offset]
        table = f"{region.layer}_dims"
        return (f"{{ static const int32_t {table}[] = {{{', '.join(map(str, dims))}}};\n"
                f"  hostconv_run({args.input}, {args.weight}, {args.bias}, {args.output}, {table}); }}")


def _run_goldens(name: str, tmp_path: Path, backends):
    info = resolve_model(name)
    cm = compile_model(import_tflite(info.path), tmp_path / "model", backends=backends)
    host = build_host_library(cm, tmp_path / "model.so")
    for sample, golden in zip(info.samples, info.goldens, strict=True):
        for got, want in zip(host.run(sample), golden, strict=True):
            np.testing.assert_array_equal(got, np.asarray(want).reshape(got.shape))
    return cm


@pytest.mark.parametrize("name", ["conv_s2_same", "conv_5x3_s2_same", "conv_1x5_valid", "chain_residual",
                                  "chain_dw_pw", "chain_conv_avgpool_fc_softmax", "resnet"])
def test_offloaded_models_stay_bit_exact(name, tmp_path):
    backend = HostConvBackend(tmp_path / "driver")
    cm = _run_goldens(name, tmp_path, [backend])
    convs = [layer for layer in cm.layers if layer.kind == "conv2d"]
    assert convs
    model_c = (cm.out_dir / "model.c").read_text()
    assert '#include "hostconv.h"' in model_c
    offloaded = [layer for layer in convs if layer.offloaded_to == "hostconv"]
    assert model_c.count("hostconv_run(") == len(offloaded) == backend.calls
    for layer in convs:
        if layer.offloaded_to is None:
            assert "groups=" in layer.reason  # only depthwise convs stay on the CPU
    assert offloaded, "no conv was offloaded"
    # the offloaded convs left the CPU kernels (their requantize stays there)
    steps = cm.plan["steps"]
    assert sum(s["kind"] == "extern" and s["func"].startswith("mlml_offload_") for s in steps) == len(offloaded)
    cpu_convs = [s for s in steps if (s["kind"] == "kernel" and "conv2d" in s["func"])
                 or s["func"].startswith(("mlml_cpu_conv", "mlml_cpu_dw"))]
    assert len(cpu_convs) == len(convs) - len(offloaded)
    # each offloaded conv's int32 output is requantized by a CPU micro-kernel, not int64 TIR
    assert sum(s["func"].startswith("mlml_cpu_rq") for s in steps) == len(offloaded)


def test_depthwise_offloaded_when_backend_takes_groups(tmp_path):
    backend = HostConvBackend(tmp_path / "driver", max_groups=1 << 20)
    cm = _run_goldens("dwconv_mult2_relu", tmp_path, [backend])
    assert [layer.offloaded_to for layer in cm.layers] == ["hostconv"]


def test_first_accepting_backend_wins_and_reasons_are_recorded(tmp_path):
    refuse = HostConvBackend(tmp_path / "d1", name="refuser", accept=False)
    small = HostConvBackend(tmp_path / "d2", name="small")
    mod = conv_chain_module()
    im = SimpleNamespace(name="chain", mod=mod, inputs=[], outputs=[])
    cm = compile_model(im, tmp_path / "model", backends=[refuse, small])
    host = build_host_library(cm, tmp_path / "model.so")
    x = np.random.default_rng(5).integers(-128, 128, (1, 10, 9, 3)).astype(np.int8)
    np.testing.assert_array_equal(host.run([x])[0], tvm_reference(mod, [x])[0])
    kinds = [(layer.kind, layer.offloaded_to) for layer in cm.layers]
    # conv, conv (HWIO weights, transformed to OHWI), depthwise (refused by both), 1x1, FC
    assert kinds == [("conv2d", "small"), ("conv2d", "small"), ("conv2d", None), ("conv2d", "small"),
                     ("dense", None)]
    assert cm.layers[2].reason == "refuser: disabled for this test; small: groups=8 unsupported"
    assert cm.layers[4].eligible_kinds is False and "fully connected" in cm.layers[4].reason
    assert refuse.calls == 0 and small.calls == 3
    assert cm.plan["layers"][0]["offloaded_to"] == "small"


def test_without_backends_every_layer_is_recorded(tmp_path):
    im = SimpleNamespace(name="chain", mod=conv_chain_module(), inputs=[], outputs=[])
    cm = compile_model(im, tmp_path)
    assert all(layer.offloaded_to is None for layer in cm.layers)
    assert {layer.reason for layer in cm.layers if layer.kind == "conv2d"} == {"no accelerator configured"}
    assert all(layer.macs > 0 for layer in cm.layers)
