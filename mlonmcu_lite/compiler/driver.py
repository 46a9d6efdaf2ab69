"""compile_model: IntegerModel -> model.c/model.h/kernels.c + arena plan (plan.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import tvm

from mlonmcu_lite.frontend.float_quantize import C_HELPERS
from mlonmcu_lite.peripheral.backend import AcceleratorBackend

from . import aot
from .ccodegen import kernels_to_c, libm_prototypes, plain_c_function
from .cpu_pass import CpuKernels, cpu_kernel_pass, share_in_place
from .graph import Graph, walk_main
from .layer_map import map_layers
from .lower import lower_relax
from .model import CompiledModel, IOBuffer
from .narrow import narrowable_params
from .offload import offload_regions
from .planner import Interval, plan_arena
from .schedule import schedule_kernel
from .settings import CompilerSettings


def _kernel_symbols(graph: Graph) -> dict[str, str]:
    """PrimFunc name -> short, unique, prefixed C symbol (mlml_k03_conv2d_add)."""
    symbols: dict[str, str] = {}
    for step in graph.steps:
        if step.kind == "kernel" and step.func not in symbols:
            short = "_".join(step.func.removeprefix("fused_").split("_")[:3])
            short = re.sub(r"[^A-Za-z0-9_]", "_", short)
            symbols[step.func] = f"mlml_k{len(symbols):02d}_{short}"
    return symbols


def _intervals(graph: Graph, align: int, io_in_arena: bool) -> list[Interval]:
    """Arena buffers and their lifetimes (step indices, inclusive).

    With `io_in_arena` the model's inputs and outputs are arena buffers too, as TFLite
    Micro's tensors are: an input lives from the start to its last read, an output from its
    first write to the end, so their bytes serve other tensors the rest of the time.
    """
    spans: dict[str, list[int]] = {}
    sizes: dict[str, int] = {}
    last = max(len(graph.steps) - 1, 0)
    if io_in_arena:
        for t in graph.inputs:  # live from the start, even if no step reads it
            spans[aot.symbol(t)], sizes[aot.symbol(t)] = [0, 0], t.nbytes
    for i, step in enumerate(graph.steps):
        for t in step.inputs + step.outputs:
            root = t.root
            if root.kind == "activation":
                name = root.name
            elif io_in_arena and root.kind in ("input", "output"):
                name = aot.symbol(root)
            else:
                continue
            span = spans.setdefault(name, [i, i])
            span[0], span[1] = min(span[0], i), max(span[1], i)
            if root.kind == "output":
                span[1] = last
            sizes[name] = root.nbytes
    return [Interval(name, sizes[name], s, e, align) for name, (s, e) in spans.items()]


def _unique_activation_names(graph: Graph) -> None:
    seen: set[str] = set()
    for t in graph.activations():
        base = re.sub(r"[^A-Za-z0-9_]", "_", t.name)
        name, k = base, 1
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        t.name = name


def _io(tensors, names, kind) -> list[IOBuffer]:
    out = []
    for i, t in enumerate(tensors):
        name = names[i] if i < len(names) else t.name
        out.append(IOBuffer(str(name), f"mlml_{kind}_{i}", tuple(t.shape), t.dtype, t.nbytes))
    return out


def _names(specs) -> list[str]:
    return [str(getattr(s, "name", s)) for s in (specs or [])]


def compile_model(im, out_dir: Path, settings: CompilerSettings = CompilerSettings(),
                  backends: Sequence[AcceleratorBackend] = ()) -> CompiledModel:
    """Lower `im.mod` (integer Relax) to plain C with an AOT `mlml_model_run()` in `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = str(getattr(im, "name", "model"))
    offload = offload_regions(im.mod, list(backends))
    cpu = cpu_kernel_pass(offload.mod) if settings.cpu_kernels else CpuKernels(offload.mod)
    fused = lower_relax(cpu.mod, settings)
    graph = walk_main(fused)
    share_in_place(graph, {**offload.in_place, **cpu.in_place})
    _unique_activation_names(graph)

    symbols = _kernel_symbols(graph)
    fused_names = {i: s.func for i, s in enumerate(graph.steps)}
    scheduled = {sym: schedule_kernel(fused[func], settings.unroll, settings.block_channels) for func, sym in symbols.items()}
    source = kernels_to_c(scheduled, settings.hoist_bounds)
    n_inputs = {symbols[s.func]: len(s.inputs) for s in graph.steps if s.kind == "kernel"}
    for step in graph.steps:
        if step.kind == "kernel":
            step.func = symbols[step.func]
        elif step.kind == "extern" and step.func in cpu.definitions:
            step.kind = "kernel"  # a plain C call like a TIR kernel (run() and layer profiles)
    narrowed = narrowable_params(graph) if settings.narrow_constants else {}
    protos, defs = [], []
    for sym in scheduled:
        proto, definition = plain_c_function(source, sym, n_inputs[sym], frozenset(narrowed.get(sym, ())))
        protos.append(proto)
        defs.append(definition)

    step_layers = map_layers(graph, fused_names, list(getattr(im, "op_infos", None) or []), offload.layers)
    intervals = _intervals(graph, settings.arena_align, settings.io_in_arena)
    plan = plan_arena(intervals)
    includes = sorted({inc for b in backends for inc in b.c_includes()})
    sources = [out_dir / "model.c", out_dir / "kernels.c"]
    if cpu.definitions:
        includes.append("cpu_kernels.h")
        (out_dir / "cpu_kernels.h").write_text(cpu.header())
        (out_dir / "cpu_kernels.c").write_text(cpu.source())
        sources.append(out_dir / "cpu_kernels.c")
    emitted = aot.emit(graph, plan.offsets, plan.arena_bytes, {**offload.emitters(), **cpu.emitters()},
                       includes, name)

    (out_dir / "model.h").write_text(emitted.model_h)
    (out_dir / "model.c").write_text(emitted.model_c)
    (out_dir / "kernels.h").write_text(_kernels_h(libm_prototypes(defs) + protos, defs))
    (out_dir / "kernels.c").write_text(_kernels_c(defs, name, getattr(im, "numerics", "quantized")))

    include_dirs = [out_dir]
    for backend in backends:
        include_dirs += [Path(p) for p in backend.include_dirs(out_dir / f"backend_{backend.name}")]
    constants = {id(t.root): t.root for s in graph.steps for t in s.inputs if t.root.kind == "constant"}
    plan_dict = {
        "model": name,
        "settings": settings.to_dict(),
        "settings_hash": settings.settings_hash(),
        "arena_bytes": plan.arena_bytes,
        "arena_lower_bound": plan.lower_bound,
        "arena_sum_all": sum(i.size for i in intervals),
        "strategy": plan.strategy,
        "weight_bytes": sum(t.nbytes for t in constants.values()),
        "buffers": [{"name": i.name, "bytes": i.size, "offset": plan.offsets[i.name],
                     "first_step": i.start, "last_step": i.end} for i in intervals],
        "steps": [{"kind": s.kind, "func": s.func, "inputs": [aot.symbol(t) for t in s.inputs],
                   "outputs": [aot.symbol(t) for t in s.outputs], "fused": fused_names[i],
                   "live_arena_bytes": sum(iv.size for iv in intervals if iv.start <= i <= iv.end),
                   **{k: v for k, v in layer.to_dict().items() if k not in ("step", "kind", "func")}}
                  for i, (s, layer) in enumerate(zip(graph.steps, step_layers))],
        "layers": [vars(layer) for layer in offload.layers],
        "cpu_kernels": cpu.layers,
    }
    (out_dir / "plan.json").write_text(json.dumps(plan_dict, indent=1, default=str))
    return CompiledModel(
        name=name,
        out_dir=out_dir,
        sources=sources,
        include_dirs=include_dirs,
        arena_bytes=plan.arena_bytes,
        arena_lower_bound=plan.lower_bound,
        inputs=_io(graph.inputs, _names(getattr(im, "inputs", None)), "input"),
        outputs=_io(graph.outputs, _names(getattr(im, "outputs", None)), "output"),
        layers=offload.layers,
        kernels=len(scheduled),
        plan=plan_dict,
        settings=settings,
        backend_sources=[Path(p) for b in backends for p in b.c_sources()],
        weight_bytes=plan_dict["weight_bytes"],
    )


_HARD_FLOAT = ["#ifdef __riscv_fdiv", "#define MLML_HARD_FLOAT() 1", "#else", "#define MLML_HARD_FLOAT() 0",
               "#endif", *(f"static inline {helper}" for helper in C_HELPERS), ""]


def _kernels_h(protos: list[str], defs: list[str]) -> str:
    """Prototypes; the float-I/O QUANTIZE helpers only where a kernel calls them (an int8 model's
    C stays free of float)."""
    helpers = _HARD_FLOAT if any("MLML_HARD_FLOAT" in d or "mlml_f32_bits" in d for d in defs) else []
    return "\n".join(["/* Generated kernel prototypes. Do not edit. */", "#ifndef MLML_KERNELS_H",
                      "#define MLML_KERNELS_H", "#include <stdint.h>", "#include <stdbool.h>", "",
                      *helpers,  # frontend/float_quantize.py divides when MLML_HARD_FLOAT() is 1
                      *protos, "", "#endif", ""])


def _kernels_c(defs: list[str], name: str, numerics: str = "quantized") -> str:
    """A quantized model's float islands (uint8 RESIZE_BILINEAR, float-I/O QUANTIZE) must round each
    step as TFLite's kernels do, so its kernels are compiled without fused multiply-add; a float32 /
    hybrid model keeps clang's default contraction (validated within tolerances, as a user would
    build it), so its rv32gc figures are not inflated by split fmul + fadd."""
    contract = ["#ifdef __clang__\n#pragma STDC FP_CONTRACT OFF\n#endif"] if numerics == "quantized" else []  # gcc (host): ISO C is off
    return "\n\n".join([f"/* Kernels of model `{name}`, lowered by TVM {tvm.__version__}. Do not edit. */\n"
                        '#include "kernels.h"', *contract, *defs, ""])
