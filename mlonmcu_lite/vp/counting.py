"""Retired-instruction counters for the VP.

Three interchangeable counters, all exact:
  * `NativeBlockCounter` - a C block hook (native/block_counter.c) compiled
    once with the host compiler against the unicorn wheel's own library and
    headers and cached under ~/.cache/mlonmcu-lite/native/ (500+ MIPS);
  * `PythonBlockCounter` - the same algorithm as a Python block hook, the
    fallback when no host compiler exists (~10 MIPS);
  * `StepCounter` - a per-instruction `UC_HOOK_CODE` hook: the slow reference
    the tests compare the others against.

Block counters add a whole block at its entry; `count_at(pc)` corrects that
to the exact count up to and including the instruction at `pc` by decoding
instruction lengths from the block start (RVC: low bits != 0b11 -> 2 bytes).

Cycles (`cycles`, `cycles_at`): every counter also costs the instructions under a core
timing profile (vp/core_timing.py; default `ideal`, where cycles equal instructions).
The block counters take a block's static cycles from `BlockTiming` (once per translated
block) and add only the dynamic parts at block entry (branch direction, misaligned
redirect, hazard across blocks); the step counter applies the profile instruction by
instruction (`StepTiming`), the independent reference the tests compare against.

Call events (`set_glue`, `events`): given "glue" address ranges (the AOT run()
and main()), each entry from glue into other code opens a `CallEvent` that
collects every instruction until glue code runs again (the callee and all it
calls).  Per-layer counts come from these without adding anything to the
firmware; all three counters implement them (the step counter per instruction,
the reference the tests compare against).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import unicorn
from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, Uc

from mlonmcu_lite.errors import ToolError
from mlonmcu_lite.workspace import default_workspace

from .core_timing import (EVENT_DIMS, TAIL_BRANCH, TAIL_JUMP, BlockTiming, CoreProfile, block_timing,
                          insn_events, load_profile)
from .rv32_decode import N_CLASSES, InsnClass, decode, decode_block

NATIVE_SOURCE = "vp/native/block_counter.c"  # package data (Workspace.package_file)
HOST_COMPILERS = ("cc", "gcc", "clang-14", "clang")
COUNTING_MODES = ("auto", "native", "python", "step")


class NativeHookUnavailable(ToolError):
    """No host C compiler, or building the native hook failed."""


def insn_count(code: bytes) -> int:
    """Number of RV32 instructions that start in `code` (which begins at an instruction)."""
    n = i = 0
    while i < len(code):
        n += 1
        i += 4 if code[i] & 3 == 3 else 2
    return n


@dataclass(frozen=True)
class CallEvent:
    """One entry from glue code into other code, and the instructions it retired."""

    target: int  # first address executed outside the glue
    site: int    # end of the last glue block: the calling instruction's return address
    start: int   # instructions retired before the event's first instruction
    instructions: int
    cycles: int = 0  # under the counter's core profile (callees included, like instructions)


class _EventTracker:
    """The call-event state machine of block_counter.c, in Python (per block or instruction)."""

    def __init__(self) -> None:
        self.glue: tuple[tuple[int, int], ...] = ()
        self.events: list[list[int]] = []
        self._cur = -2  # -1 in glue, -2 before the first glue block
        self._glue_end = 0

    def charge(self, cycles: int) -> None:
        """Cycles of the previous instruction decided only now (branch direction, redirect)."""
        if self._cur >= 0:
            self.events[self._cur][4] += cycles

    def track(self, address: int, end: int, before: int, n: int, cycles: int = 0) -> None:
        for lo, hi in self.glue:
            if lo <= address < hi:
                self._cur, self._glue_end = -1, end
                return
        if self._cur == -2:
            return
        if self._cur == -1:
            self.events.append([address, self._glue_end, before, 0, 0])
            self._cur = len(self.events) - 1
        self.events[self._cur][3] += n
        self.events[self._cur][4] += cycles


class BlockTimings:
    """`BlockTiming` per translated block (address, size), computed once under a profile."""

    def __init__(self, profile: CoreProfile) -> None:
        self.profile = profile
        self._cache: dict[tuple[int, int], BlockTiming] = {}

    def get(self, address: int, code: bytes) -> BlockTiming:
        key = (address, len(code))
        timing = self._cache.get(key)
        if timing is None:
            timing = self._cache[key] = block_timing(self.profile, code)
        return timing

    def cached(self, address: int, size: int) -> BlockTiming | None:
        return self._cache.get((address, size))


class BlockDynamics:
    """The dynamic cycles at a block's entry (what block_counter.c does, in Python)."""

    def __init__(self, profile: CoreProfile) -> None:
        self.profile = profile
        self.kind = self.cls = self.rd = 0
        self.fall = 0

    def enter(self, address: int, size: int, timing: BlockTiming) -> tuple[int, int]:
        """(cycles of the previous block's last instruction, stall of this block's first)."""
        p = self.profile
        extra, redirect = 0, self.kind == TAIL_JUMP
        if self.kind == TAIL_BRANCH:
            redirect = address != self.fall
            extra += p.branch_taken if redirect else p.branch_not_taken
        if redirect and address & 2 and timing.head_wide:
            extra += p.misaligned_target
        stall = 0
        if self.rd and (timing.head_reads >> self.rd) & 1:
            stall = p.hazard_matrix[self.cls][timing.head_class]
        self.kind, self.cls, self.rd = timing.tail_kind, timing.tail_class, timing.tail_rd
        self.fall = address + size
        return extra, stall


class StepTiming:
    """The profile applied one instruction at a time: the single-step reference model."""

    def __init__(self, profile: CoreProfile) -> None:
        self.profile = profile
        self.prev = None  # (address, Insn) of the previous instruction

    def step(self, address: int, word: int) -> tuple[int, int]:
        """(cycles the previous instruction still owes, cycles of this one)."""
        p, insn = self.profile, decode(word)
        extra = stall = 0
        if self.prev is not None:
            prev_addr, prev = self.prev
            redirect = prev.cls is InsnClass.JUMP
            if prev.cls is InsnClass.BRANCH:
                redirect = address != prev_addr + prev.size
                extra += p.branch_taken if redirect else p.branch_not_taken
            if redirect and address & 2 and insn.size == 4:
                extra += p.misaligned_target
            stall = p.hazard(prev, insn)
        self.prev = (address, insn)
        return extra, stall + p.static_cost(insn.cls)


class _Counter:
    """Common interface: `total`, `count_at(uc, pc)`, `limit_hit`, `install`, call events,
    and cycles under `profile`: `cycles`, `cycles_at(uc, pc)`."""

    mode = "?"

    def __init__(self, profile: CoreProfile | None = None) -> None:
        self.profile = load_profile(profile)
        self.error: BaseException | None = None  # raised while costing (e.g. no FPU)

    def set_glue(self, ranges: list[tuple[int, int]]) -> None:
        """Address ranges [lo, hi) of glue code; enables call events.  Before `install`."""
        self._tracker = _EventTracker()
        self._tracker.glue = tuple(ranges)

    def events(self) -> list[CallEvent]:
        tracker = getattr(self, "_tracker", None)
        return [CallEvent(*e) for e in tracker.events] if tracker is not None else []

    def install(self, uc: Uc, limit: int | None) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def total(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def cycles(self) -> int:  # pragma: no cover - interface
        """Cycles of every instruction counted so far (a trailing branch's direction excluded)."""
        raise NotImplementedError

    @property
    def limit_hit(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def count_at(self, uc: Uc, pc: int) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def cycles_at(self, uc: Uc, pc: int) -> tuple[int, int]:  # pragma: no cover - interface
        """(cycles before, cycles through) the instruction at `pc`, the one being executed."""
        raise NotImplementedError

    def retired_at_limit(self, uc: Uc, pc: int) -> int:  # pragma: no cover - interface
        """Exact retired count after the limit stopped the CPU before the instruction at `pc`
        (the hook that stopped it had already added that instruction, or its whole block)."""
        raise NotImplementedError

    def class_counts(self, uc: Uc, pc: int, inclusive: bool) -> Counter:  # pragma: no cover
        """Instructions per `InsnClass` retired before (or through) the one at `pc`, the one
        being executed (called at region markers: energy per instruction class)."""
        raise NotImplementedError


class _BlockCounterBase(_Counter):
    """`count_at` / `cycles_at` for counters that know the current block and the counts
    before it."""

    def __init__(self, profile: CoreProfile | None = None) -> None:
        super().__init__(profile)
        self.timings = BlockTimings(self.profile)

    def _block_state(self) -> tuple[int, int, int]:  # before, block, size
        raise NotImplementedError

    def _cycle_state(self) -> tuple[int, int]:  # cycles before the block, its entry stall
        raise NotImplementedError

    def count_at(self, uc: Uc, pc: int) -> int:
        before, block, size = self._block_state()
        if not block <= pc < block + max(size, 1):
            return self.total  # pc outside the block just entered (e.g. a fetch fault)
        return before + insn_count(bytes(uc.mem_read(block, pc - block + 1)))

    def cycles_at(self, uc: Uc, pc: int) -> tuple[int, int]:
        _, block, size = self._block_state()
        timing = self.timings.cached(block, size)
        if timing is None or not block <= pc < block + size:
            return self.cycles, self.cycles
        base, stall = self._cycle_state()
        before, through = timing.at(pc - block)
        return base + (stall + before if pc > block else 0), base + stall + through

    def retired_at_limit(self, uc: Uc, pc: int) -> int:
        before, block, size = self._block_state()
        if not block <= pc < block + max(size, 1):
            return self.total
        return before + (insn_count(bytes(uc.mem_read(block, pc - block))) if pc > block else 0)

    def _block_hits(self) -> dict[tuple[int, int], int]:  # (address, size) -> times entered
        raise NotImplementedError

    def class_counts(self, uc: Uc, pc: int, inclusive: bool) -> Counter:
        counts: Counter = Counter()
        for (address, size), hits in self._block_hits().items():
            timing = self.timings.cached(address, size)
            if hits and timing is not None:
                for cls in timing.classes:
                    counts[cls] += hits
        _, block, size = self._block_state()
        timing = self.timings.cached(block, size)
        if timing is not None and block <= pc < block + size:  # the block was counted whole
            i = timing.offsets.index(pc - block) + (1 if inclusive else 0)
            for cls in timing.classes[i:]:
                counts[cls] -= 1
        return counts


class _PythonCounter(_Counter):
    """State shared by the Python hooks: the counts and the instruction budget."""

    def __init__(self, profile: CoreProfile | None = None) -> None:
        super().__init__(profile)
        self._hits: Counter = Counter()  # per block, or per InsnClass (step counter)
        self._count = 0
        self._cycles = 0
        self._limit = 0
        self._limit_hit = False

    def _add(self, uc: Uc, n: int) -> None:
        self._count += n
        if self._limit and self._count > self._limit:
            self._limit_hit = True
            uc.emu_stop()

    def _costing_failed(self, uc: Uc, exc: BaseException) -> None:
        self.error = self.error or exc
        uc.emu_stop()

    @property
    def total(self) -> int:
        return self._count

    @property
    def cycles(self) -> int:
        return self._cycles

    @property
    def limit_hit(self) -> bool:
        return self._limit_hit


class StepCounter(_PythonCounter):
    """One Python callback per instruction (the hook runs before the instruction); cycles
    by `StepTiming`, independent of the block counters' `BlockTiming` bookkeeping."""

    mode = "step"

    def install(self, uc: Uc, limit: int | None) -> None:
        self._limit = limit or 0
        self._timing = StepTiming(self.profile)
        self._last = 0
        uc.hook_add(UC_HOOK_CODE, self._hook)

    def _hook(self, uc: Uc, address: int, size: int, _user: object) -> None:
        try:
            extra, cost = self._timing.step(address, int.from_bytes(uc.mem_read(address, size), "little"))
        except Exception as exc:  # noqa: BLE001 - reported after the run
            return self._costing_failed(uc, exc)
        tracker = getattr(self, "_tracker", None)
        if tracker is not None:
            tracker.charge(extra)
            tracker.track(address, address + size, self._count, 1, cost)
        self._cycles += extra + cost
        self._last = cost
        self._last_class = self._timing.prev[1].cls
        self._hits[self._last_class] += 1
        self._add(uc, 1)

    def count_at(self, uc: Uc, pc: int) -> int:
        return self._count

    def cycles_at(self, uc: Uc, pc: int) -> tuple[int, int]:
        return self._cycles - self._last, self._cycles

    def class_counts(self, uc: Uc, pc: int, inclusive: bool) -> Counter:
        counts = Counter({int(k): v for k, v in self._hits.items()})
        if not inclusive:
            counts[int(self._last_class)] -= 1
        return counts

    def retired_at_limit(self, uc: Uc, pc: int) -> int:
        return self._count - 1  # the hooked instruction was counted, then stopped


class PythonBlockCounter(_PythonCounter, _BlockCounterBase):
    mode = "python"

    def __init__(self, profile: CoreProfile | None = None) -> None:
        super().__init__(profile)
        self._cache: dict[tuple[int, int], int] = {}
        self._before = self._block = self._size = 0
        self._base = self._stall = 0
        self._dynamics = BlockDynamics(self.profile)

    def install(self, uc: Uc, limit: int | None) -> None:
        self._limit = limit or 0
        uc.hook_add(UC_HOOK_BLOCK, self._hook)

    def _hook(self, uc: Uc, address: int, size: int, _user: object) -> None:
        n = self._cache.get((address, size))
        if n is None:
            code = bytes(uc.mem_read(address, size))
            n = self._cache[(address, size)] = insn_count(code)
            try:
                self.timings.get(address, code)
            except Exception as exc:  # noqa: BLE001 - reported after the run
                return self._costing_failed(uc, exc)
        timing = self.timings.cached(address, size)
        self._hits[(address, size)] += 1
        extra, stall = self._dynamics.enter(address, size, timing)
        tracker = getattr(self, "_tracker", None)
        if tracker is not None:
            tracker.charge(extra)
        self._base = self._cycles + extra
        self._stall = stall
        self._cycles = self._base + stall + timing.cycles
        self._before = self._count
        self._block, self._size = address, size
        if tracker is not None:
            tracker.track(address, address + size, self._count, n, stall + timing.cycles)
        self._add(uc, n)

    def _block_state(self) -> tuple[int, int, int]:
        return self._before, self._block, self._size

    def _cycle_state(self) -> tuple[int, int]:
        return self._base, self._stall

    def _block_hits(self) -> dict[tuple[int, int], int]:
        return self._hits


class _CounterStruct(ctypes.Structure):
    """Mirror of the leading fields of `mlml_counter` in block_counter.c."""

    _fields_ = [("count", ctypes.c_uint64), ("before", ctypes.c_uint64),
                ("block", ctypes.c_uint64), ("limit", ctypes.c_uint64),
                ("blocks", ctypes.c_uint64), ("size", ctypes.c_uint32),
                ("limit_hit", ctypes.c_uint32), ("misses", ctypes.c_uint64),
                ("cycles", ctypes.c_uint64), ("cycles_base", ctypes.c_uint64),
                ("stall", ctypes.c_uint32), ("info_error", ctypes.c_uint32)]


class _BlockInfo(ctypes.Structure):
    """Mirror of `mlml_block_info` in block_counter.c."""

    _fields_ = [("head_reads", ctypes.c_uint64), ("cycles", ctypes.c_uint32),
                ("tail_kind", ctypes.c_uint8), ("tail_class", ctypes.c_uint8),
                ("tail_rd", ctypes.c_uint8), ("head_class", ctypes.c_uint8),
                ("head_wide", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 7),
                ("vec_n", ctypes.c_uint32), ("pad2", ctypes.c_uint32),
                ("vec", ctypes.POINTER(ctypes.c_uint32))]


_INFO_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint8),
                            ctypes.c_uint32, ctypes.POINTER(_BlockInfo))
_NATIVE_CLASSES = 16  # MLML_CLASSES


class NativeBlockCounter(_BlockCounterBase):
    """The native hook; with `record`, it also keeps the profile-independent event vector
    (core_timing.EVENT_DIMS) that `vectors_at` / `event_vectors` read (re-costing other
    core profiles, harness/recost.py)."""

    mode = "native"

    def __init__(self, profile: CoreProfile | None = None, record: bool = False) -> None:
        super().__init__(profile)
        self._lib = load_native_library()
        ptr = self._lib.mlml_counter_create()
        if not ptr:
            raise MemoryError("mlml_counter_create failed")
        self._ptr = ptr
        self._state = ctypes.cast(ptr, ctypes.POINTER(_CounterStruct)).contents
        self._hook = ctypes.c_size_t(0)
        self._finalizer = None
        self._info = _INFO_FN(self._block_info)  # kept alive as long as the counter
        p = self.profile
        hazard = (ctypes.c_uint8 * (_NATIVE_CLASSES * _NATIVE_CLASSES))()
        for i in range(N_CLASSES):
            for j in range(N_CLASSES):
                hazard[i * _NATIVE_CLASSES + j] = min(p.hazard_matrix[i][j], 255)
        self._lib.mlml_counter_set_timing(ptr, self._info, p.branch_taken, p.branch_not_taken,
                                          p.misaligned_target, hazard)
        self.recording = record
        self._vectors: dict[tuple[int, int], ctypes.Array] = {}  # alive while the hook runs
        if record and self._lib.mlml_counter_set_record(ptr, EVENT_DIMS, N_CLASSES) != 0:
            raise MemoryError("mlml_counter_set_record failed")

    def _block_info(self, address: int, code, size: int, out) -> int:
        """The info callback: a block's `BlockTiming`, once per translated block."""
        try:
            t = self.timings.get(address, ctypes.string_at(code, size))
            info = out.contents
            info.cycles, info.tail_kind, info.tail_class = t.cycles, t.tail_kind, t.tail_class
            info.tail_rd, info.head_class = t.tail_rd, t.head_class
            info.head_reads, info.head_wide = t.head_reads, int(t.head_wide)
            if self.recording:
                static = Counter()
                for events in insn_events(decode_block(ctypes.string_at(code, size))):
                    static.update(dict(events))
                pairs = [v for dim, n in sorted(static.items()) for v in (dim, n)]
                vec = self._vectors[(address, size)] = (ctypes.c_uint32 * max(len(pairs), 1))(*pairs)
                info.vec_n, info.vec = len(static), ctypes.cast(vec, ctypes.POINTER(ctypes.c_uint32))
            return 0
        except Exception as exc:  # noqa: BLE001 - reported after the run
            self.error = self.error or exc
            return 1

    def set_glue(self, ranges: list[tuple[int, int]]) -> None:
        n = len(ranges)
        lo = (ctypes.c_uint64 * max(n, 1))(*[r[0] for r in ranges])
        hi = (ctypes.c_uint64 * max(n, 1))(*[r[1] for r in ranges])
        if self._lib.mlml_counter_set_glue(self._ptr, n, lo, hi) != 0:
            raise ValueError(f"at most 4 glue ranges, got {n}")

    def events(self) -> list[CallEvent]:
        n = self._lib.mlml_counter_events(self._ptr, None, 0)
        if n < 0:
            raise MemoryError("the native counter dropped call events (out of memory)")
        buf = (ctypes.c_uint64 * (5 * max(n, 1)))()
        self._lib.mlml_counter_events(self._ptr, buf, n)
        return [CallEvent(*buf[5 * i:5 * i + 5]) for i in range(n)]

    # -- event recording ------------------------------------------------------------------
    def _record(self, which: int) -> list[int]:
        out = (ctypes.c_uint64 * EVENT_DIMS)()
        if self._lib.mlml_counter_record(self._ptr, which, out) != 0:
            raise MemoryError("the native counter's event recording is off or failed")
        return list(out)

    def vectors_at(self, uc: Uc, pc: int | None) -> tuple[list[int], list[int]]:
        """Event vectors (before, through) the instruction at `pc`, the ones `cycles_at`
        costs; a `pc` outside the current block: the whole block (as `cycles`)."""
        base = self._record(-1)
        entered = list(base)
        stall = self._record(-2)[0]
        if stall < EVENT_DIMS:  # (uint64) -1: no hazard at the block's entry
            entered[stall] += 1
        _, block, size = self._block_state()
        inside = pc is not None and self.timings.cached(block, size) is not None and block <= pc < block + size
        insns = decode_block(bytes(uc.mem_read(block, size))) if size else []
        through, offset = list(entered), 0
        for insn, events in zip(insns, insn_events(insns)):
            before = base if offset == 0 else list(through)
            for dim, n in events:
                through[dim] += n
            if inside and offset == pc - block:
                return before, through
            offset += insn.size
        return through, through

    def event_vectors(self) -> list[list[int] | None]:
        """Per call event (`events()`), its event vector (None: it never closed)."""
        n = self._lib.mlml_counter_event_snaps(self._ptr, None, 0)
        buf = (ctypes.c_int64 * (2 * max(n, 1)))()
        self._lib.mlml_counter_event_snaps(self._ptr, buf, n)
        out = []
        for i in range(n):
            lo, hi = buf[2 * i], buf[2 * i + 1]
            if lo < 0 or hi < 0:
                out.append(None)
                continue
            opened, closed = self._record(lo), self._record(hi)
            out.append([b - a for a, b in zip(opened, closed)])
        return out

    def install(self, uc: Uc, limit: int | None) -> None:
        import weakref

        self._state.limit = limit or 0
        err = self._lib.mlml_counter_install(uc._uch, self._ptr, ctypes.byref(self._hook))
        if err:
            raise NativeHookUnavailable(f"uc_hook_add(UC_HOOK_BLOCK) failed: error {err}")
        # the hook must not outlive the engine, nor the counter the hook
        self._uc = uc
        self._finalizer = weakref.finalize(self, _destroy, self._lib, self._ptr, uc)

    def _block_state(self) -> tuple[int, int, int]:
        s = self._state
        return s.before, s.block, s.size

    def _cycle_state(self) -> tuple[int, int]:
        return self._state.cycles_base, self._state.stall

    def _block_hits(self) -> dict[tuple[int, int], int]:
        n = self._lib.mlml_counter_blocks(self._ptr, None, 0)
        buf = (ctypes.c_uint64 * (3 * max(n, 1)))()
        n = min(n, self._lib.mlml_counter_blocks(self._ptr, buf, n))
        return {(buf[3 * i], buf[3 * i + 1]): buf[3 * i + 2] for i in range(n)}

    @property
    def total(self) -> int:
        return self._state.count

    @property
    def cycles(self) -> int:
        return self._state.cycles

    @property
    def limit_hit(self) -> bool:
        return bool(self._state.limit_hit)

    @property
    def blocks(self) -> int:
        return self._state.blocks


def _destroy(lib: ctypes.CDLL, ptr: int, uc: Uc) -> None:
    del uc  # kept alive until here so the engine is released after its hook's data
    lib.mlml_counter_destroy(ptr)


def make_counter(mode: str = "auto", profile: CoreProfile | str | None = None,
                 record: bool = False) -> _Counter:
    """A counter for `mode` costing cycles under `profile` (default `ideal`); "auto" =
    native, else Python with a warning.  `record`: also record event vectors (native only;
    a Python counter does not record, and re-costing then simulates each profile)."""
    if mode not in COUNTING_MODES:
        raise ValueError(f"counting mode {mode!r} not in {COUNTING_MODES}")
    profile = load_profile(profile)
    if mode == "step":
        return StepCounter(profile)
    if mode == "python":
        return PythonBlockCounter(profile)
    try:
        return NativeBlockCounter(profile, record=record)
    except NativeHookUnavailable as exc:
        if mode == "native":
            raise
        warnings.warn(f"native instruction-count hook unavailable ({exc}); using the Python "
                      f"block hook (exact, ~50x slower)", RuntimeWarning, stacklevel=2)
        return PythonBlockCounter(profile)


# --- building the native hook ---------------------------------------------------------


@dataclass(frozen=True)
class UnicornDist:
    version: str
    include_dir: Path
    library: Path


def unicorn_dist() -> UnicornDist:
    pkg = Path(unicorn.__file__).resolve().parent
    return UnicornDist(unicorn.__version__, pkg / "include", pkg / "lib" / "libunicorn.so.2")


def find_host_compiler() -> str | None:
    """The host C compiler used for the native hook ($CC first), or None."""
    candidates = ([os.environ["CC"]] if os.environ.get("CC") else []) + list(HOST_COMPILERS)
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    return None


def native_library_path() -> Path:
    """Where the hook for this source + unicorn version + compiler is cached
    (`<cache>/native/`, the workspace's cache root: MLML_CACHE_DIR or build/cache)."""
    workspace = default_workspace()
    dist = unicorn_dist()
    key = hashlib.sha256(workspace.package_file(NATIVE_SOURCE).read_bytes())
    key.update(f"{dist.version}|{dist.library}|{find_host_compiler()}".encode())
    return workspace.cache_dir / "native" / f"block_counter-{dist.version}-{key.hexdigest()[:16]}.so"


def build_native_library() -> Path:
    path = native_library_path()
    if path.is_file():
        return path
    cc = find_host_compiler()
    if cc is None:
        raise NativeHookUnavailable("no host C compiler (cc, gcc or clang) on PATH; install one "
                                    "with: sudo apt-get install -y gcc")
    dist = unicorn_dist()
    if not (dist.include_dir / "unicorn" / "unicorn.h").is_file() or not dist.library.is_file():
        raise NativeHookUnavailable(f"the unicorn wheel ships no headers/library under "
                                    f"{dist.include_dir.parent}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    source = default_workspace().package_file(NATIVE_SOURCE)
    cmd = [cc, "-O2", "-shared", "-fPIC", "-std=c99", f"-I{dist.include_dir}", str(source),
           "-o", str(tmp), str(dist.library), f"-Wl,-rpath,{dist.library.parent}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise NativeHookUnavailable(f"building the native hook failed: {' '.join(cmd)}\n"
                                    f"{proc.stderr}")
    os.replace(tmp, path)
    return path


@functools.lru_cache(maxsize=1)
def load_native_library() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(build_native_library()))
    lib.mlml_counter_create.restype = ctypes.c_void_p
    lib.mlml_counter_destroy.argtypes = [ctypes.c_void_p]
    lib.mlml_counter_install.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.mlml_counter_install.restype = ctypes.c_int
    lib.mlml_counter_set_glue.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
    lib.mlml_counter_set_glue.restype = ctypes.c_int
    lib.mlml_counter_events.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32]
    lib.mlml_counter_events.restype = ctypes.c_int64
    lib.mlml_counter_set_timing.argtypes = [ctypes.c_void_p, _INFO_FN, ctypes.c_uint32, ctypes.c_uint32,
                                            ctypes.c_uint32, ctypes.c_void_p]
    lib.mlml_counter_set_timing.restype = ctypes.c_int
    lib.mlml_counter_blocks.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
    lib.mlml_counter_blocks.restype = ctypes.c_int64
    lib.mlml_counter_set_record.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.mlml_counter_set_record.restype = ctypes.c_int
    lib.mlml_counter_record.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p]
    lib.mlml_counter_record.restype = ctypes.c_int
    lib.mlml_counter_event_snaps.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32]
    lib.mlml_counter_event_snaps.restype = ctypes.c_int64
    return lib
