"""The lowered static graph: `main` after FuseTIR, walked into an ordered list of calls.

Every Relax value becomes a `Tensor`; reshapes become aliases of their source (no copy);
constants become ROM arrays; the rest are activations that the arena planner places.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tvm
from tvm import relax

from mlonmcu_lite.errors import UserError

from .patterns import constant, op_name


class UnsupportedGraph(UserError):
    """The lowered `main` holds a construct the AOT emitter cannot express."""


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str
    kind: str  # "input" | "output" | "activation" | "constant"
    index: int = -1  # input/output position
    alias_of: "Tensor | None" = None
    value: np.ndarray | None = None  # constants only

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    @property
    def root(self) -> "Tensor":
        return self.alias_of.root if self.alias_of is not None else self


@dataclass
class Step:
    """One call in `mlml_model_run`: a TIR kernel, an extern (offloaded) call or a copy."""

    kind: str  # "kernel" | "extern" | "copy"
    func: str
    inputs: list[Tensor]
    outputs: list[Tensor]


@dataclass
class Graph:
    inputs: list[Tensor]
    outputs: list[Tensor]
    steps: list[Step] = field(default_factory=list)
    constants: list[Tensor] = field(default_factory=list)

    def activations(self) -> list[Tensor]:
        seen: dict[int, Tensor] = {}
        for step in self.steps:
            for t in step.inputs + step.outputs:
                if t.root.kind == "activation":
                    seen.setdefault(id(t.root), t.root)
        return list(seen.values())


def _tensor_type(expr) -> tuple[tuple[int, ...], str]:
    ty = expr.ty
    if not hasattr(ty, "shape") or ty.shape is None:
        raise UnsupportedGraph(f"value {expr} has no static tensor shape")
    return tuple(int(d) for d in ty.shape), str(ty.dtype)


class _Walker:
    def __init__(self, func: relax.Function):
        self.func = func
        self.tensors: dict = {}  # relax.Var -> Tensor
        self.tuples: dict = {}  # relax.Var bound to a Tuple -> its field Tensors (multi-output graphs)
        self.const_tensors: list[tuple[object, Tensor]] = []
        self.graph = Graph(inputs=[], outputs=[])

    def tensor_of(self, expr) -> Tensor:
        if isinstance(expr, relax.Var):
            if expr not in self.tensors:
                raise UnsupportedGraph(f"use of unbound value {expr.name}")
            return self.tensors[expr]
        value = constant(expr)
        if value is None:
            raise UnsupportedGraph(f"unsupported argument {type(expr).__name__}: {expr}")
        for known, tensor in self.const_tensors:
            if known.same_as(expr):
                return tensor
        shape, dtype = _tensor_type(expr)
        tensor = Tensor(f"mlml_const_{len(self.const_tensors)}", shape, dtype, "constant",
                        value=np.ascontiguousarray(value.reshape(shape)).astype(dtype))
        self.const_tensors.append((expr, tensor))
        self.graph.constants.append(tensor)
        return tensor

    def new_activation(self, var: relax.Var) -> Tensor:
        shape, dtype = _tensor_type(var)
        return Tensor(var.name, shape, dtype, "activation")

    def walk(self) -> Graph:
        for i, param in enumerate(self.func.params):
            shape, dtype = _tensor_type(param)
            tensor = Tensor(param.name, shape, dtype, "input", index=i)
            self.tensors[param] = tensor
            self.graph.inputs.append(tensor)
        body = self.func.body
        for block in body.blocks:
            for binding in block.bindings:
                self.bind(binding.var, binding.value)
        for i, tensor in enumerate(self.fields_of(body.body)):
            self.mark_output(i, tensor)
        return self.graph

    def fields_of(self, expr) -> list[Tensor]:
        """The tensors of a result: a Tuple, a var bound to one, or a single tensor."""
        if isinstance(expr, relax.Tuple):
            return [self.tensor_of(f) for f in expr.fields]
        if isinstance(expr, relax.Var) and expr in self.tuples:
            return self.tuples[expr]
        return [self.tensor_of(expr)]

    def bind(self, var, value) -> None:
        name = op_name(value)
        if isinstance(value, relax.Var) and value in self.tuples:
            self.tuples[var] = self.tuples[value]
        elif isinstance(value, relax.Var):
            self.tensors[var] = self.tensor_of(value)
        elif isinstance(value, relax.Tuple):
            self.tuples[var] = [self.tensor_of(f) for f in value.fields]
        elif isinstance(value, relax.TupleGetItem):
            self.tensors[var] = self.fields_of(value.tuple_value)[int(value.index)]
        elif name in ("relax.call_tir", "relax.call_dps_packed"):
            callee, args = value.args[0], value.args[1]
            if len(value.args) > 2:
                raise UnsupportedGraph(f"symbolic TIR arguments in call of {callee}")
            out = self.new_activation(var)
            self.tensors[var] = out
            kind = "kernel" if name == "relax.call_tir" else "extern"
            func = callee.name_hint if kind == "kernel" else str(callee.global_symbol)
            self.graph.steps.append(Step(kind, func, [self.tensor_of(a) for a in args.fields], [out]))
        elif name in ("relax.reshape", "relax.memory.view"):
            shape, dtype = _tensor_type(var)
            source = self.tensor_of(value.args[0])
            self.tensors[var] = Tensor(var.name, shape, dtype, source.kind, source.index,
                                       alias_of=source, value=None)
        else:
            what = name or type(value).__name__
            raise UnsupportedGraph(f"cannot emit `{what}` in the AOT run(): {value}")

    def mark_output(self, index: int, tensor: Tensor) -> None:
        root = tensor.root
        out = Tensor(f"output{index}", tensor.shape, tensor.dtype, "output", index)
        if root.kind == "activation" and not any(o.root is root for o in self.graph.outputs):
            # The producing kernel writes straight into the output buffer.
            root.kind, root.index, root.name = "output", index, out.name
            self.graph.outputs.append(tensor)
        else:
            self.graph.steps.append(Step("copy", "copy", [tensor], [out]))
            self.graph.outputs.append(out)


def walk_main(mod: tvm.IRModule) -> Graph:
    """Ordered calls of the static `main` of a fused module."""
    return _Walker(mod["main"]).walk()
