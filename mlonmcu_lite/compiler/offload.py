"""Offload pass: canonical conv chains -> extern calls of an accelerator's C driver.

For each `[pad] -> conv2d -> add(bias)` chain in `main` we build a `ConvRegion` (NHWC input,
OHWI weights, pad_value = the pad's value, input_offset = 0, the folded int32 bias) and ask
the backends in order; the first that accepts gets the region as
`call_dps_packed("mlml_offload_<n>", (x, w_ohwi, bias))`, which the AOT emitter prints with
`backend.emit_call`.  Requantization stays on the CPU.  Every conv/FC layer is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax.expr_functor import PyExprMutator, mutator

from mlonmcu_lite.peripheral.backend import AcceleratorBackend, CArgs, ConvRegion, LayerOffload

from .patterns import ConvMatch, constant, match_conv, op_name


@dataclass(frozen=True)
class OffloadedCall:
    backend: AcceleratorBackend
    region: ConvRegion
    pattern: str

    def emit(self, inputs: list[str], outputs: list[str]) -> str:
        """C text for the AOT run(); const is cast away so any driver signature compiles."""
        x, w, b = (_nonconst(e) for e in inputs)
        text = self.backend.emit_call(self.region, CArgs(input=x, weight=w, bias=b, output=_nonconst(outputs[0])))
        return "\n".join("  " + line for line in text.strip().splitlines())


def _nonconst(expr: str) -> str:
    if expr.startswith("(const "):
        return "(" + expr[len("(const "):]
    if expr.startswith("mlml_const_"):
        return f"(void*){expr}"
    return expr


@dataclass
class OffloadResult:
    mod: object
    layers: list[LayerOffload] = field(default_factory=list)
    calls: dict[str, OffloadedCall] = field(default_factory=dict)

    def emitters(self) -> dict[str, Callable[[list[str], list[str]], str]]:
        return {name: call.emit for name, call in self.calls.items()}


def _bias(add: relax.Call, conv_var: relax.Var, out_channels: int) -> np.ndarray | None:
    if op_name(add) != "relax.add":
        return None
    a, b = add.args
    other = b if a.same_as(conv_var) else a if b.same_as(conv_var) else None
    value = constant(other) if other is not None else None
    if value is None or value.dtype != np.int32 or value.size != out_channels:
        return None
    if value.ndim > 1 and value.shape[-1] != out_channels:
        return None
    return value.reshape(out_channels)


def _region(name: str, match: ConvMatch) -> ConvRegion:
    g = match.geometry
    return ConvRegion(
        layer=name,
        input_shape=match.input_shape,
        weight_shape=tuple(int(d) for d in match.weight_ohwi.shape),
        output_shape=match.output_shape,
        strides=g.strides,
        padding=g.padding,
        dilation=g.dilation,
        groups=g.groups,
        pad_value=g.pad_value,
        input_offset=0,
        weight_offset=0,
    )


def _dense_macs(call: relax.Call) -> int:
    a, b = (tuple(int(d) for d in arg.ty.shape) for arg in call.args)
    return int(np.prod(a[:-1])) * a[-1] * b[-1]


@dataclass(frozen=True)
class _Decision:
    add: relax.Call
    symbol: str
    match: ConvMatch
    bias: np.ndarray


def _decide(func: relax.Function, backends: list[AcceleratorBackend]):
    """Walk main's bindings in order: one LayerOffload per conv/FC, offload decisions."""
    var2val = relax.analysis.get_var2val(func)
    users = _users(func)
    layers: list[LayerOffload] = []
    decisions: list[_Decision] = []
    calls: dict[str, OffloadedCall] = {}
    for block in func.body.blocks:
        for binding in block.bindings:
            var, value = binding.var, binding.value
            name = f"layer{len(layers)}"
            if op_name(value) == "relax.matmul":
                layers.append(LayerOffload(f"{name}_dense", "dense", _dense_macs(value), eligible_kinds=False,
                                           reason="fully connected: no accelerator pattern"))
                continue
            if op_name(value) != "relax.nn.conv2d":
                continue
            name = f"{name}_conv2d"
            match = match_conv(value, var2val.get)
            if not isinstance(match, ConvMatch):
                layers.append(LayerOffload(name, "conv2d", 0, eligible_kinds=True,
                                           reason=f"unsupported conv: {match}"))
                continue
            region = _region(name, match)
            layer = LayerOffload(name, "conv2d", region.macs, eligible_kinds=True)
            layers.append(layer)
            dtypes = (str(match.data.ty.dtype), str(match.weight_ohwi.dtype))
            if dtypes != ("int8", "int8"):
                layer.reason = f"{dtypes[0]} x {dtypes[1]} conv: the accelerator contract is int8 x int8"
                continue
            uses = users.get(var, [])
            add = var2val.get(uses[0]) if len(uses) == 1 else None
            bias = _bias(add, var, region.weight_shape[0]) if add is not None else None
            if bias is None:
                layer.reason = "conv is not followed by a single int32 bias add"
                continue
            if not backends:
                layer.reason = "no accelerator configured"
                continue
            reasons = []
            for backend in backends:
                pattern, reason = backend.accepts(region)
                if pattern is None:
                    reasons.append(f"{backend.name}: {reason}")
                    continue
                symbol = f"mlml_offload_{len(calls)}"
                calls[symbol] = OffloadedCall(backend, region, pattern.name)
                decisions.append(_Decision(add, symbol, match, bias))
                layer.offloaded_to = backend.name
                layer.extra = {"pattern": pattern.name, "symbol": symbol}
                break
            else:
                layer.reason = "; ".join(reasons)
    return layers, decisions, calls


@mutator
class _Offloader(PyExprMutator):
    """Replace each decided bias add (and with it its conv and pad) by the extern call."""

    def visit_call_(self, call):
        for decision in self.decisions:
            if decision.add.same_as(call):
                match = decision.match
                args = [self.visit_expr(match.data), relax.const(match.weight_ohwi), relax.const(decision.bias)]
                out_ty = relax.TensorType(match.output_shape, "int32")
                return relax.call_dps_packed(relax.ExternFunc(decision.symbol), relax.Tuple(args), out_ty=out_ty)
        return super().visit_call_(call)


def _users(func: relax.Function) -> dict:
    users: dict = {}
    for block in func.body.blocks:
        if isinstance(block, relax.DataflowBlock):
            for var, uses in relax.analysis.udchain(block).items():
                users[var] = list(uses)
    return users


def offload_regions(mod, backends: list[AcceleratorBackend]) -> OffloadResult:
    """Rewrite `main`; returns the new module, the per-layer decisions and the extern calls."""
    func = mod["main"]
    layers, decisions, calls = _decide(func, backends)
    if not decisions:
        return OffloadResult(mod, layers, {})
    offloader = _Offloader(mod)
    offloader.decisions = decisions
    new_func = offloader.visit_expr(func)
    offloader.builder_.update_func(mod.get_global_var("main"), new_func)
    new_mod = relax.transform.DeadCodeElimination()(offloader.builder_.get())
    return OffloadResult(new_mod, layers, calls)
