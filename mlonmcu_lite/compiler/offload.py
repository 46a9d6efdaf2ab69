"""Offload pass: one generic partition of `main` over the active backends' region kinds.

The region kinds (relax.dpl patterns and their typed regions) are data in `region_kinds`.
For each binding of a kind's anchor op (conv2d, matmul) we record one `LayerOffload`,
match the kind's pattern `anchor -> add(bias)` and, when the frontend's requantize chain
follows, that tail too (`requant_of`); then we offer the region (and its fused variant) to the
backends in order.  The first that accepts gets it as
`call_dps_packed("mlml_offload_<n>", (x, w, bias[, multiplier, shift]))` replacing the bias
add (int32 out) or the requantization's final cast (int8 out); the AOT emitter prints the
call with `backend.emit_call`.  A layer nobody takes keeps every backend's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax.expr_functor import PyExprMutator, mutator

from mlonmcu_lite.peripheral.backend import (AcceleratorBackend, CArgs, ConvRegion, DenseRegion, LayerOffload,
                                             Region)

from .patterns import op_name
from .region_kinds import (KINDS, OP_KINDS, Anchor, OpKindSpec, RegionKindSpec, add_params, bias_of, requant_of,
                           weight_zero_point_of)
from .requant_match import match_add


@dataclass(frozen=True)
class OffloadedCall:
    backend: AcceleratorBackend
    region: Region
    pattern: str

    def emit(self, inputs: list[str], outputs: list[str]) -> str:
        """C text for the AOT run(); const is cast away so any driver signature compiles."""
        ptrs = [_nonconst(e) for e in inputs]
        out = _nonconst(outputs[0])
        if isinstance(self.region, (ConvRegion, DenseRegion)):
            x, w, b, *rest = ptrs
            second = rest.pop() if getattr(self.region, "residual", None) is not None else None
            mult, shift = rest if rest else (None, None)
            args = CArgs(input=x, weight=w, bias=b, output=out, multiplier=mult, shift=shift, second=second)
        else:  # weightless: the activations only (an element-wise op's a and b, a pool's input)
            args = CArgs(input=ptrs[0], weight="0", bias="0", output=out,
                         second=ptrs[1] if len(ptrs) > 1 else None)
        text = self.backend.emit_call(self.region, args)
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
    in_place: dict[str, tuple[int, ...]] = field(default_factory=dict)  # symbol -> inputs it may overwrite

    def emitters(self) -> dict[str, Callable[[list[str], list[str]], str]]:
        return {name: call.emit for name, call in self.calls.items()}


@dataclass(frozen=True)
class _Decision:
    root: relax.Call  # the call replaced: the bias add, the requant's (or the ADD's) final astype
    symbol: str
    args: tuple  # relax exprs (activations) and numpy arrays (constants), in call order
    out_ty: relax.TensorType


def _users(func: relax.Function) -> dict:
    users: dict = {}
    for block in func.body.blocks:
        if isinstance(block, relax.DataflowBlock):
            for var, uses in relax.analysis.udchain(block).items():
                users[var] = list(uses)
    return users


def _tail_root(acc: relax.Var, users: dict, var2val: dict, limit: int = 40) -> relax.Var | None:
    """The int8 cast ending the chain that `acc` alone feeds (nothing else reads its
    intermediates), else None; `requant_of` then checks the chain is a requantization."""
    seen, frontier, roots = {acc}, [acc], []
    while frontier:
        var = frontier.pop()
        value = var2val.get(var)
        if var is not acc and op_name(value) == "relax.astype" and str(value.ty.dtype) == "int8":
            roots.append(var)
            continue
        for user in users.get(var, []):
            if user not in seen:
                if len(seen) >= limit or user not in var2val:
                    return None
                seen.add(user)
                frontier.append(user)
        if not users.get(var):
            return None  # an intermediate leaves the block
    return roots[0] if len(roots) == 1 else None


class _Partition:
    def __init__(self, func: relax.Function, backends: list[AcceleratorBackend]):
        self.var2val = relax.analysis.get_var2val(func)
        self.users = _users(func)
        self.backends = backends
        self.kinds = {k for b in backends for k in b.kinds()}
        self.layers: list[LayerOffload] = []
        self.decisions: list[_Decision] = []
        self.calls: dict[str, OffloadedCall] = {}
        self.in_place: dict[str, tuple[int, ...]] = {}
        self.absorbed: set = set()  # a weight zero point's all-ones conv: part of its conv's layer

    def n_uses(self, var) -> int:
        return len(self.users.get(var, []))

    def visit(self, var: relax.Var, value) -> None:
        kind = next((k for k in KINDS if op_name(value) == k.anchor_op), None)
        if var in self.absorbed:
            return
        if kind is None:
            self._visit_op(var, value)
            return
        name = f"layer{len(self.layers)}_{kind.name}"
        eligible = kind.always_eligible or kind.name in self.kinds
        if not eligible:
            self.layers.append(LayerOffload(name, kind.name, kind.macs(value), eligible_kinds=False,
                                            reason=kind.no_backend_reason))
            return
        anchor = kind.anchor_info(name, value, self.var2val)
        if isinstance(anchor, str):
            self.layers.append(LayerOffload(name, kind.name, kind.macs(value), eligible_kinds=True, reason=anchor))
            return
        region = anchor.region
        layer = LayerOffload(name, kind.name, region.macs, eligible_kinds=True)
        self.layers.append(layer)
        layer.reason = self._offer(kind, var, value, anchor, layer)

    def _offer(self, kind: RegionKindSpec, var, value, anchor: Anchor, layer: LayerOffload) -> str | None:
        if anchor.dtypes != ("int8", "int8"):
            return f"{anchor.dtypes[0]} x {anchor.dtypes[1]} {kind.name}: the accelerator contract is int8 x int8"
        uses = self.users.get(var, [])
        add_var = uses[0] if len(uses) == 1 else None
        add = self.var2val.get(add_var) if add_var is not None else None
        region = anchor.region
        bias = bias_of(kind, add, value, self.var2val, anchor.weight.shape[0]) if add is not None else None
        if bias is None:
            return f"{kind.name} is not followed by a single int32 bias add" if kind.name != "conv2d" \
                else "conv is not followed by a single int32 bias add"
        acc_var, acc = add_var, add
        if (w_zp := weight_zero_point_of(add_var, anchor, self.var2val, self.users)) is not None:
            self.absorbed.add(w_zp.window)  # legacy uint8: the device adds the weight offset itself
            acc_var, acc = w_zp.acc, self.var2val[w_zp.acc]
            region = replace(region, weight_offset=w_zp.weight_offset)
        if not self.backends:
            return "no accelerator configured"
        root_var = _tail_root(acc_var, self.users, self.var2val)
        requant = requant_of(root_var, acc_var, self.var2val, self.n_uses) if root_var is not None else None
        fused = _with_requant(region, requant) if requant is not None else None
        residual = self._residual(fused, root_var, anchor.data) if fused is not None else None
        reasons = []
        for backend in self.backends:
            pattern, taken, reason = backend.offer(region, fused, residual[0] if residual else None)
            if pattern is None:
                reasons.append(f"{backend.name}: {reason}")
                continue
            symbol = f"mlml_offload_{len(self.calls)}"
            self.calls[symbol] = OffloadedCall(backend, taken, pattern.name)
            args: tuple = (anchor.data, anchor.weight, bias)
            root = acc
            if taken.requant is not None:
                channels = anchor.weight.shape[0]
                mult, shift = taken.requant.per_channel(channels)
                args += (np.asarray(mult, np.int32), np.asarray(shift, np.int32))
                root = self.var2val[root_var]
            if getattr(taken, "residual", None) is not None:
                _, add_root, other, in_place = residual
                args += (other,)
                root = self.var2val[add_root]
                if in_place:
                    self.in_place[symbol] = (len(args) - 1,)
            out_ty = relax.TensorType(region.output_shape, taken.output_dtype)
            self.decisions.append(_Decision(root, symbol, args, out_ty))
            layer.offloaded_to = backend.name
            layer.extra = {"pattern": pattern.name, "symbol": symbol,
                           **({("banded_requant" if pattern.banded else "fused_requant"): True}
                              if taken.requant is not None else {}),
                           **({"fused_residual": True} if getattr(taken, "residual", None) else {})}
            if (jobs := backend.device_jobs(taken)) != 1:
                layer.extra["device_jobs"] = jobs
            return None
        return "; ".join(reasons)

    def _residual(self, fused: Region, requant_root: relax.Var, data: relax.Expr):
        """(region with the residual ADD, the ADD's root var, its other input, in place?) when
        the conv's int8 result feeds only a TFLite ADD of the same shape, else None."""
        if not isinstance(fused, ConvRegion) or self.n_uses(requant_root) != 1:
            return None
        add_root = _tail_root(requant_root, self.users, self.var2val)
        add = match_add(add_root, self.var2val.get, self.n_uses) if add_root is not None else None
        if add is None or add.a.same_as(add.b) or not any(s.same_as(requant_root) for s in (add.a, add.b)):
            return None
        if any(d.root.same_as(self.var2val[add_root]) for d in self.decisions):
            return None  # both inputs are convs: the first one offloaded takes the ADD
        if add.b.same_as(requant_root):  # the conv's output is input a of the device's ADD
            add = replace(add, a=add.b, b=add.a, zero_points=add.zero_points[::-1], inputs=add.inputs[::-1])
        other = add.b
        # writing over the other input is safe unless the conv also reads it
        in_place = not other.same_as(data)
        return replace(fused, residual=add_params(add)), add_root, other, in_place

    def _visit_op(self, var: relax.Var, value) -> None:
        """A weightless kind's root (element-wise op, pool), when some backend declares it."""
        name = op_name(value)
        kinds: list[OpKindSpec] = [k for k in OP_KINDS if k.anchor_op == name and k.name in self.kinds]
        if not kinds or any(d.root.same_as(value) for d in self.decisions):
            return
        layer_name = f"layer{len(self.layers)}"
        match = next((m for k in kinds if (m := k.match(f"{layer_name}_{k.name}", var, self.var2val,
                                                         self.n_uses)) is not None), None)
        if match is None:
            return
        region = match.region
        layer = LayerOffload(region.layer, region.kind, 0, eligible_kinds=True)
        self.layers.append(layer)
        if not _chain_private(var, value, match.inputs, self.var2val, self.users):
            layer.reason = f"{region.kind}: an intermediate value is used elsewhere"
            return
        reasons = []
        for backend in self.backends:
            pattern, taken, reason = backend.offer(region)
            if pattern is None:
                reasons.append(f"{backend.name}: {reason}")
                continue
            symbol = f"mlml_offload_{len(self.calls)}"
            self.calls[symbol] = OffloadedCall(backend, taken, pattern.name)
            out_ty = relax.TensorType(region.output_shape, "int8")
            self.decisions.append(_Decision(value, symbol, tuple(match.inputs), out_ty))
            if region.kind == "eltwise":  # elementwise: the output may overwrite a dying input
                self.in_place[symbol] = tuple(range(len(match.inputs)))
            layer.offloaded_to = backend.name
            layer.extra = {"pattern": pattern.name, "symbol": symbol}
            return
        layer.reason = "; ".join(reasons) or "no accelerator configured"


def _chain_private(root_var, root_value, inputs, var2val: dict, users: dict) -> bool:
    """Every value computed between `inputs` and the root is read only inside that chain."""
    chain, stack = {root_var}, [root_value]
    while stack:
        call = stack.pop()
        for arg in getattr(call, "args", ()):
            if isinstance(arg, relax.Tuple):
                continue
            if not isinstance(arg, relax.Var) or any(arg.same_as(i) for i in inputs) or arg in chain:
                continue
            if arg not in var2val:
                return False  # a function parameter that is not one of the inputs
            chain.add(arg)
            stack.append(var2val[arg])
    return all(all(u in chain for u in users.get(v, [])) for v in chain if v is not root_var)


def _with_requant(region: Region, requant) -> Region:
    return replace(region, requant=requant)


@mutator
class _Offloader(PyExprMutator):
    """Replace each decided root (and with it its chain) by the extern call."""

    def visit_call_(self, call):
        for decision in self.decisions:
            if decision.root.same_as(call):
                args = [relax.const(a) if isinstance(a, np.ndarray) else self.visit_expr(a) for a in decision.args]
                return relax.call_dps_packed(relax.ExternFunc(decision.symbol), relax.Tuple(args),
                                             out_ty=decision.out_ty)
        return super().visit_call_(call)


def offload_regions(mod, backends: list[AcceleratorBackend]) -> OffloadResult:
    """Rewrite `main`; returns the new module, the per-layer decisions and the extern calls."""
    func = mod["main"]
    part = _Partition(func, list(backends))
    for block in func.body.blocks:
        for binding in block.bindings:
            part.visit(binding.var, binding.value)
    if not part.decisions:
        return OffloadResult(mod, part.layers, {})
    offloader = _Offloader(mod)
    offloader.decisions = part.decisions
    new_func = offloader.visit_expr(func)
    offloader.builder_.update_func(mod.get_global_var("main"), new_func)
    new_mod = relax.transform.DeadCodeElimination()(offloader.builder_.get())
    return OffloadResult(new_mod, part.layers, part.calls, part.in_place)
