"""Which TFLite operators each call of the AOT run() implements (written to plan.json).

TVM's fused kernels carry no trace of the TFLite operators they came from, so the map is
rebuilt from facts both sides share:
  * anchors: a step that computes a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (a conv or
    matmul kernel, or an offloaded conv) is matched to the first unmatched TFLite op of that
    family with the same MAC count (MACs from the weight constant and output shape); a conv
    kernel or offloaded conv that also reads a second activation and whose TFLite output feeds
    an ADD covers that ADD too (the residual add fused into the conv);
  * a step after an offloaded conv that consumes its int32 result (an accelerator without
    fused requantization), or an intermediate derived from it, continues it (e.g. the CPU requantize after an offloaded conv; with a second
    activation input it also takes the residual ADD that follows); the other steps implement
    the unmatched TFLite ops between the anchors (pools, reshapes, softmax pieces), or, with
    none there, belong to the next anchor (e.g. a pad).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .graph import Graph, Step

_CONV_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")


@dataclass
class StepLayer:
    """One call of run(): the TFLite operators it implements and, for anchors, its offload."""

    step: int
    kind: str  # kernel | extern | copy
    func: str
    ops: list[int] = field(default_factory=list)
    op_names: list[str] = field(default_factory=list)
    macs: int = 0
    offload: dict | None = None  # the compiler's LayerOffload record (anchors only)

    @property
    def name(self) -> str:
        return "+".join(dict.fromkeys(self.op_names)) or "(unknown)"

    def to_dict(self) -> dict:
        return {**asdict(self), "name": self.name}


def _weight(step: Step):
    """The step's weight constant: the largest int8/int16 (float32: float model) constant of rank >= 2."""
    weights = [t for t in step.inputs if t.root.kind == "constant" and len(t.shape) >= 2
               and t.dtype in ("int8", "int16", "float32")]
    return max(weights, key=lambda t: int(np.prod(t.shape))) if weights else None


def _anchor_kind(step: Step, kernel_name: str) -> str | None:
    if step.kind == "extern":  # an offloaded conv (OHWI weights) or fully connected layer
        weight = _weight(step)
        return None if weight is None else ("conv" if len(weight.shape) == 4 else "dense")
    if step.kind != "kernel":
        return None
    if "conv2d" in kernel_name or kernel_name.startswith(("mlml_cpu_conv_", "mlml_cpu_dw_")):
        return "conv"
    if "matmul" in kernel_name or kernel_name.startswith("mlml_cpu_fc_"):
        return "dense"
    return None


def _step_macs(step: Step) -> int:
    """Output elements x (weight elements per output channel): conv OHWI (depthwise I = 1)
    and fully connected weights alike."""
    weight, out = _weight(step), step.outputs[0]
    if weight is None or not out.shape or not out.shape[-1]:
        return 0
    return int(np.prod(out.shape)) * int(np.prod(weight.shape)) // int(out.shape[-1])


def map_layers(graph: Graph, kernel_names: dict[int, str], ops: list, offloads: list) -> list[StepLayer]:
    """One `StepLayer` per step of `graph`.  `kernel_names[i]`: the fused PrimFunc name of
    step i; `ops`: the model's `OpInfo`s (TFLite order); `offloads`: the offload pass's
    `LayerOffload`s (conv/dense in Relax order)."""
    layers = [StepLayer(i, s.kind, s.func) for i, s in enumerate(graph.steps)]
    producer_op: dict[int, int] = {}  # TFLite tensor index -> producing op index
    for op in ops:
        for t in op.outputs:
            producer_op[t] = op.index
    consumers: dict[int, list[int]] = {}
    for op in ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op.index)
    matched: set[int] = set()
    pending_offloads = list(offloads)
    anchors: list[int] = []
    for i, step in enumerate(graph.steps):
        anchor = _anchor_kind(step, kernel_names.get(i, step.func))
        if anchor is None:
            continue
        macs = _step_macs(step)
        family = _CONV_OPS if anchor == "conv" else ("FULLY_CONNECTED",)
        op = next((o for o in ops if o.index not in matched and o.op in family and o.macs == macs), None)
        if op is None:
            continue
        matched.add(op.index)
        layer = layers[i]
        layer.ops, layer.macs = [op.index], macs
        if anchor == "conv":  # a CPU conv+ADD kernel, or an engine with the residual ADD fused
            add = next((c for c in consumers.get(op.outputs[0], []) if ops[c].op == "ADD"
                        and c not in matched), None)
            activations = [t for t in step.inputs if t.root.kind != "constant"]
            # the kernel reads a second activation, or the add's other operand is the conv's
            # own input (one argument serves both)
            if add is not None and (len(activations) >= 2 or
                                    set(ops[add].inputs) - set(op.outputs) <= set(op.inputs)):
                matched.add(add)
                layer.ops.append(add)
        layer.offload = _take_offload(pending_offloads, step, macs)
        anchors.append(i)
    _fill_between(graph, layers, anchors, ops, matched)
    for i, step in enumerate(graph.steps):  # weightless offloads (element-wise ops, pools)
        if step.kind == "extern" and layers[i].offload is None:
            layers[i].offload = _take_offload(pending_offloads, step, 0)
    for layer in layers:
        layer.ops.sort()
        layer.op_names = [ops[j].op for j in layer.ops]
    return layers


def _take_offload(pending: list, step: Step, macs: int) -> dict | None:
    """The offload record of an anchor: by symbol for extern calls, else by MACs in order."""
    for k, rec in enumerate(pending):
        symbol = (rec.extra or {}).get("symbol")
        if (step.kind == "extern" and symbol == step.func) or (
                step.kind == "kernel" and not rec.offloaded_to and rec.macs == macs):
            del pending[k]
            return asdict(rec)
    return None


def _fill_between(graph: Graph, layers: list[StepLayer], anchors: list[int], ops: list,
                  matched: set[int]) -> None:
    bounds = [-1, *anchors, len(graph.steps)]
    for lo, hi in zip(bounds, bounds[1:]):
        run = [i for i in range(lo + 1, hi) if graph.steps[i].kind != "copy"]
        if not run:
            continue
        first_op = max(layers[lo].ops) + 1 if lo >= 0 and layers[lo].ops else 0
        last_op = min(layers[hi].ops) - 1 if hi < len(graph.steps) and layers[hi].ops else len(ops) - 1
        between = [o.index for o in ops[first_op:last_op + 1] if o.index not in matched]
        rest = list(between)
        # only an offloaded conv leaves work (the requantize) to following CPU kernels:
        # intermediate tensor -> the ops of the step that wrote it
        chain = ({id(t.root): layers[lo].ops for t in graph.steps[lo].outputs if t.dtype != "int8"}
                 if lo >= 0 and graph.steps[lo].kind == "extern" else {})
        for i in run:
            step = graph.steps[i]
            source = next((chain[id(t.root)] for t in step.inputs if id(t.root) in chain), None)
            if source is not None:
                layers[i].ops = list(source)
                activations = [t for t in step.inputs if t.root.kind != "constant"]
                if rest and ops[rest[0]].op == "ADD" and len(activations) >= 2:
                    layers[i].ops.append(rest.pop(0))  # requantize fused with the residual add
                out = step.outputs[0]
                if out.dtype != "int8" and out.shape != graph.steps[lo].outputs[0].shape:
                    layers[i].ops += rest  # ... and with the start of the next op (a pool's sum)
                    rest = []
                chain.update({id(t.root): layers[i].ops for t in step.outputs if t.dtype != "int8"})
            elif rest:
                layers[i].ops = list(rest)
            elif hi < len(graph.steps):
                layers[i].ops = list(layers[hi].ops)
            elif lo >= 0:
                layers[i].ops = list(layers[lo].ops)
        matched.update(between)

