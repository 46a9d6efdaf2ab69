"""CPU micro-kernel pass: `conv/FC -> bias -> requantize` chains -> calls of specialised C kernels.

Runs on the integer Relax `main` after the accelerator offload pass and before TVM's lowering.
A chain `[pad] -> conv2d | matmul -> add(bias) -> requantize -> int8` (the frontend's canonical
form) becomes one `call_dps_packed` of a kernel from `cpu_kernels`, and the requantization of
an accelerator's int32 output becomes a call of the requant kernel.  The call is an ordinary
Relax value, so TVM still plans the arena (StaticPlanBlockMemory) and lowers and fuses every
other op; the AOT emitter prints the call.  Tensors between layers stay int8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tvm import relax
from tvm.relax.expr_functor import PyExprMutator, mutator

from . import cpu_kernels as ck
from .patterns import ConvMatch, constant, match_conv, op_name
from .requant_match import RequantMatch, match_add, match_mul, match_requant


@dataclass
class CpuKernels:
    """The rewritten module, the C definitions (one per distinct kernel) and call emitters."""

    mod: object
    definitions: dict[str, str] = field(default_factory=dict)
    layers: dict[str, str] = field(default_factory=dict)  # root var name -> kernel symbol
    in_place: dict[str, tuple[int, ...]] = field(default_factory=dict)  # kernel -> inputs it may overwrite

    def emitters(self) -> dict[str, Callable[[list[str], list[str]], str]]:
        def emitter(symbol: str):
            return lambda inputs, outputs: f"  {symbol}({', '.join(inputs + outputs)});"
        return {symbol: emitter(symbol) for symbol in self.definitions}

    def source(self) -> str:
        return "\n\n".join(['/* CPU micro-kernels (mlonmcu_lite/compiler/cpu_kernels.py). Do not edit. */',
                            '#include "cpu_kernels.h"', ck.HELPERS, *self.definitions.values(), ""])

    def header(self) -> str:
        protos = [re.search(rf"void {s}\([^)]*\)", d).group(0) + ";" for s, d in self.definitions.items()]
        return "\n".join(["/* Prototypes of the CPU micro-kernels. Do not edit. */", "#ifndef MLML_CPU_KERNELS_H",
                          "#define MLML_CPU_KERNELS_H", "#include <stdint.h>", "", *protos, "", "#endif", ""])


def _spec(rq: RequantMatch, acc_bound: np.ndarray | None = None) -> ck.RequantSpec | None:
    """The kernel's requantization; the fast form when `acc_bound` (|acc| per channel) proves
    it.  None for a per-channel single rounding without that proof (TVM's kernel runs it)."""
    if rq.single and rq.multiplier.size > 1:  # per channel: only the table form
        if acc_bound is None or not ck.fast_single(rq.multiplier, rq.shift, rq.zero_point, acc_bound):
            return None
        return ck.RequantSpec(rq.zero_point, rq.lo, rq.hi, True, False, fast=True)
    if rq.single:
        return ck.RequantSpec(rq.zero_point, rq.lo, rq.hi, True, False, int(31 - rq.shift[0]))
    fast = acc_bound is not None and ck.fast_requant(rq.multiplier, rq.shift, rq.zero_point, acc_bound)
    return ck.RequantSpec(rq.zero_point, rq.lo, rq.hi, False, bool(np.any(rq.shift > 0)), fast=fast)


def _acc_bound(weights: np.ndarray, bias: np.ndarray, axis: int) -> np.ndarray:
    """|acc| per output channel: |bias| + 128 * sum |w| (int8 inputs, pad values included)."""
    other = tuple(a for a in range(weights.ndim) if a != axis)
    return np.abs(bias.astype(np.int64)) + 128 * np.abs(weights.astype(np.int64)).sum(axis=other)


def _requant_tables(rq: RequantMatch, spec: ck.RequantSpec, channels: int) -> tuple:
    """(multiplier, shift) constants in the layout the kernel's requantization reads."""
    if spec.fast:
        tables = ck.fast_single_tables if spec.single else ck.fast_requant_tables
        mult, shift = tables(rq.multiplier, rq.shift, rq.zero_point, channels)
    else:
        mult, shift = _per_channel(rq.multiplier, channels), _per_channel(rq.shift, channels)
    return relax.const(mult), relax.const(shift)


def _bias(add, acc_var, channels: int) -> np.ndarray | None:
    if op_name(add) != "relax.add" or not add.args[0].same_as(acc_var):
        return None
    value = constant(add.args[1])
    if value is None or value.dtype != np.int32 or value.size != channels:
        return None
    return value.reshape(channels)


def _per_channel(values: np.ndarray, channels: int) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(values.reshape(-1), (channels,))).astype(np.int32)


@dataclass(frozen=True)
class _Plan:
    symbol: str
    definition: str
    args: tuple  # relax exprs: data first, then constants
    fuse: Callable | None = None  # Residual -> (symbol, definition) of the conv+ADD kernel


# Repacked weights keep the layer's weight shape (OHWI, or [K, N]) though their bytes are in
# the kernel's order: the plan's MAC accounting (layer_map) reads that shape.
class _Planner:
    def __init__(self, func: relax.Function):
        self.var2val = relax.analysis.get_var2val(func)
        self.uses: dict = {}
        for block in func.body.blocks:
            if isinstance(block, relax.DataflowBlock):
                for var, users in relax.analysis.udchain(block).items():
                    self.uses[var] = len(users)

    def n_uses(self, var) -> int:
        return self.uses.get(var, 0)

    def plan(self, root) -> _Plan | None:
        rq = match_requant(root, self.var2val.get, self.n_uses)
        if rq is None or not isinstance(rq.acc, relax.Var):
            return None
        if rq.single and not np.all((1 <= 31 - rq.shift) & (31 - rq.shift <= 62)):
            return None
        acc_value = self.var2val.get(rq.acc)
        if op_name(acc_value) == "relax.call_dps_packed":
            return self._requant(rq)
        if op_name(acc_value) != "relax.add" or self.n_uses(rq.acc) != 1:
            return None
        producer = acc_value.args[0]
        if not isinstance(producer, relax.Var) or self.n_uses(producer) != 1:
            return None
        call = self.var2val.get(producer)
        if op_name(call) == "relax.nn.conv2d":
            return self._conv(rq, acc_value, producer, call)
        if op_name(call) == "relax.matmul":
            return self._fc(rq, acc_value, producer, call)
        return None

    def _conv(self, rq: RequantMatch, add, producer, call) -> _Plan | None:
        match = match_conv(call, self.var2val.get)
        if not isinstance(match, ConvMatch) or match.geometry.dilation != (1, 1):
            return None
        n, h, w, c = match.input_shape
        _, oh, ow, oc = match.output_shape
        bias = _bias(add, producer, oc)
        if n != 1 or bias is None or str(call.args[0].ty.dtype) != "int8":
            return None
        g = match.geometry
        weights = match.weight_ohwi
        geo = ck.ConvGeo(h, w, c, oh, ow, oc, weights.shape[1], weights.shape[2], *g.strides,
                         g.padding[0], g.padding[1], g.pad_value)
        spec = _spec(rq, _acc_bound(weights, bias, 0))
        if spec is None:
            return None
        if g.groups == 1:
            symbol, definition = ck.conv_kernel(geo, spec)
            packed = ck.pack_conv_weights(weights).reshape(weights.shape)
        elif g.groups == c == oc and weights.shape[3] == 1:
            symbol, definition = ck.dwconv_kernel(geo, spec)
            packed = np.ascontiguousarray(weights).astype(np.int8)
        else:
            return None
        args = (match.data, relax.const(packed), relax.const(bias.astype(np.int32)),
                *_requant_tables(rq, spec, oc))
        fuse = (lambda res: ck.conv_kernel(geo, spec, res)) if g.groups == 1 else None
        return _Plan(symbol, definition, args, fuse)

    def _fc(self, rq: RequantMatch, add, producer, call) -> _Plan | None:
        x, wexpr = call.args
        weights = constant(wexpr)
        if weights is None or weights.ndim != 2 or str(x.ty.dtype) != "int8" or len(x.ty.shape) != 2:
            return None
        m_rows = int(x.ty.shape[0])
        k, n = weights.shape
        bias = _bias(add, producer, n)
        if bias is None:
            return None
        spec = _spec(rq, _acc_bound(weights, bias, 1))
        if spec is None:
            return None
        if spec.per_channel:
            mult, shift = _requant_tables(rq, spec, n)
        else:
            mult, shift = relax.const(rq.multiplier.astype(np.int32)), relax.const(rq.shift.astype(np.int32))
        symbol, definition = ck.fc_kernel(m_rows, k, n, spec)
        args = (x, relax.const(ck.pack_fc_weights(weights).reshape(weights.shape)), relax.const(bias.astype(np.int32)),
                mult, shift)
        return _Plan(symbol, definition, args)

    def plan_add(self, root, planned: dict) -> tuple[_Plan, object | None, tuple] | None:
        """The ADD at `root`: fused into the conv producing one input when that conv's output
        is used only here (then it runs at the ADD's place and writes over the other input),
        else a standalone kernel.  Returns (plan, fused conv root or None, in-place positions)."""
        add = match_add(root, self.var2val.get, self.n_uses)
        if add is None:
            return None
        sides = [(k, side) for k, side in enumerate((add.a, add.b)) if isinstance(side, relax.Var)
                 and side in planned and planned[side][1].fuse is not None and self.n_uses(side) == 1
                 and not (add.a.same_as(add.b))]
        if sides:
            k, side = max(sides, key=lambda ks: planned[ks[1]][2])  # the later-computed input
            other = (add.a, add.b)[1 - k]
            conv_plan = planned[side][1]
            res = ck.Residual((add.zero_points[k], *add.inputs[k]), (add.zero_points[1 - k], *add.inputs[1 - k]),
                              add.left_shift, add.output, add.zero_point, add.lo, add.hi)
            symbol, definition = conv_plan.fuse(res)
            args = conv_plan.args + (other,)
            return _Plan(symbol, definition, args), side, (len(args) - 1,)
        size = int(np.prod([int(d) for d in root.ty.shape]))
        spec = ck.AddSpec(size, add.zero_points, add.left_shift, add.inputs, add.output, add.zero_point,
                          add.lo, add.hi)
        return _Plan(*ck.add_kernel(spec), (add.a, add.b)), None, (0, 1)

    def plan_mul(self, root) -> tuple[_Plan, None, tuple] | None:
        """A MUL at `root` (same shapes, or squeeze-excite's per-channel gate broadcast over the
        pixels): its own int8 kernel, which may write over the full-shape input."""
        mul = match_mul(root, self.var2val.get, self.n_uses, broadcast=True)
        if mul is None:
            return None
        channels = int(np.prod([int(d) for d in mul.b.ty.shape]))
        pixels = int(np.prod([int(d) for d in root.ty.shape])) // channels
        spec = ck.MulSpec(pixels, channels, mul.zero_points, mul.output, mul.zero_point, mul.lo, mul.hi)
        return _Plan(*ck.mul_kernel(spec), (mul.a, mul.b)), None, (0,)

    def _requant(self, rq: RequantMatch) -> _Plan | None:
        shape = [int(d) for d in rq.acc.ty.shape]
        channels = shape[-1]
        if rq.multiplier.size not in (1, channels) or rq.single:
            return None
        per_channel = rq.multiplier.size == channels
        spec = _spec(rq)
        symbol, definition = ck.requant_kernel(int(np.prod(shape[:-1])), channels, per_channel, spec)
        return _Plan(symbol, definition, (rq.acc, relax.const(rq.multiplier.astype(np.int32)),
                                          relax.const(rq.shift.astype(np.int32))))


@mutator
class _Rewriter(PyExprMutator):
    def visit_call_(self, call):
        plan = next((p for value, p in self.plans if value.same_as(call)), None)
        if plan is not None:
            args = [self.visit_expr(a) for a in plan.args]
            out_ty = relax.TensorType([int(d) for d in call.ty.shape], "int8")
            return relax.call_dps_packed(relax.ExternFunc(plan.symbol), relax.Tuple(args), out_ty=out_ty)
        return super().visit_call_(call)


def cpu_kernel_pass(mod) -> CpuKernels:
    """Rewrite `main`'s conv/FC/requant chains into CPU micro-kernel calls."""
    func = mod["main"]
    planner = _Planner(func)
    planned: dict = {}  # root var -> (bound value, plan, binding index)
    result = CpuKernels(mod)
    index = 0
    for block in func.body.blocks:
        for binding in block.bindings:
            index += 1
            value = binding.value
            if op_name(value) != "relax.astype":
                continue
            plan = planner.plan(binding.var)
            if plan is None:
                found = planner.plan_add(binding.var, planned) or planner.plan_mul(binding.var)
                if found is None:
                    continue
                plan, fused_conv, positions = found
                if fused_conv is not None:
                    del planned[fused_conv]
                result.in_place[plan.symbol] = positions
            planned[binding.var] = (value, plan, index)
    plans = [(value, plan) for value, plan, _ in planned.values()]
    for var, (_, plan, _) in planned.items():
        result.definitions.setdefault(plan.symbol, plan.definition)
        result.layers[str(var.name)] = plan.symbol
    if not plans:
        return result
    rewriter = _Rewriter(mod)
    rewriter.plans = plans
    new_func = rewriter.visit_expr(func)
    rewriter.builder_.update_func(mod.get_global_var("main"), new_func)
    result.mod = relax.transform.DeadCodeElimination()(rewriter.builder_.get())
    return result


def share_in_place(graph, in_place: dict[str, tuple[int, ...]]) -> int:
    """Let an in-place-safe kernel write over an input whose last use it is (same size).

    Why: a residual ADD otherwise needs both inputs and its output live at once; writing
    the sum over the dying input saves one activation of arena.  Returns how many shared.
    """
    last_use: dict[int, int] = {}
    for i, step in enumerate(graph.steps):
        for t in step.inputs + step.outputs:
            last_use[id(t.root)] = i
    shared = 0
    for i, step in enumerate(graph.steps):
        if step.kind != "extern" or step.func not in in_place:
            continue
        out = step.outputs[0]
        if out.root is not out or out.kind != "activation":
            continue
        for t in (step.inputs[k] for k in in_place[step.func]):
            root = t.root
            if (root.kind == "activation" and last_use[id(root)] == i and root.nbytes == out.nbytes
                    and root.dtype == out.dtype):
                out.alias_of = root
                shared += 1
                break
    return shared
