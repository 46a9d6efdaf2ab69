"""RV32IMAFDC(+Zicsr) instruction classes for the core timing model.

One decoder for every cost path: the native hook asks it once per translated block (through
a callback), the Python counters and the single-step reference per instruction.  It only
recovers what timing needs: the class (`InsnClass`), the destination register and the set
of registers read (integer x1..x31 as bits 1..31, float f0..f31 as bits 32..63; x0 is never
a dependency), and the instruction length.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class InsnClass(IntEnum):
    """Timing classes (the index is the native hook's hazard-matrix index)."""

    ALU = 0      # RV32I computational, lui/auipc, c.* arithmetic, unknown encodings
    MUL = 1      # mul
    MULH = 2     # mulh, mulhsu, mulhu
    DIV = 3      # div, divu, rem, remu
    LOAD = 4     # integer and float loads, AMOs / lr / sc
    STORE = 5    # integer and float stores
    BRANCH = 6   # conditional branches (cost: taken / not taken, known at run time)
    JUMP = 7     # jal, jalr and their compressed forms
    CSR = 8      # Zicsr instructions on ordinary CSRs
    CSR_M = 9    # Zicsr on machine trap / counter / debug CSRs (see CSR_M_NUMBERS)
    SYSTEM = 10  # ecall, ebreak, mret, wfi, fence, fence.i
    FPU = 11     # F/D arithmetic, fused multiply-add, compares, conversions, moves
    FPU_DIV = 12  # fdiv, fsqrt


N_CLASSES = len(InsnClass)

# CSRs that CV32E40P documents as 4-cycle accesses (mstatus, mtvec, mepc, mcause, counters,
# counter control, debug); other cores cost CSR_M like CSR.
CSR_M_NUMBERS = frozenset(
    {0x300, 0x305, 0x341, 0x342, 0x320, 0x7B0, 0x7B1, 0x7B2, 0x7B3, 0xB00, 0xB02, 0xB80, 0xB82}
    | set(range(0xB03, 0xB20)) | set(range(0xB83, 0xBA0)) | set(range(0x323, 0x340)))

F = 32  # offset of float registers in the register numbering


@dataclass(frozen=True, slots=True)
class Insn:
    cls: InsnClass
    size: int   # 2 or 4 bytes
    rd: int     # destination (0: none; 1..31 x, 32..63 f)
    reads: int  # bit mask of registers read


def _bit(r: int) -> int:
    return 0 if r == 0 else 1 << r


def _x(r: int) -> int:
    return _bit(r)


def _f(r: int) -> int:
    return 1 << (F + r)


def decode(word: int) -> Insn:
    """Classify the instruction whose first bytes are `word` (at least 16 valid bits;
    32 for a 32-bit instruction)."""
    if word & 3 != 3:
        return _decode16(word & 0xFFFF)
    return _decode32(word & 0xFFFF_FFFF)


def _decode32(w: int) -> Insn:
    op = w & 0x7F
    rd, f3, rs1, rs2, f7 = (w >> 7) & 31, (w >> 12) & 7, (w >> 15) & 31, (w >> 20) & 31, w >> 25
    C = InsnClass

    def make(cls: InsnClass, dest: int, reads: int) -> Insn:
        return Insn(cls, 4, dest, reads)

    if op in (0x37, 0x17):
        return make(C.ALU, rd, 0)
    if op == 0x6F:
        return make(C.JUMP, rd, 0)
    if op == 0x67:
        return make(C.JUMP, rd, _x(rs1))
    if op == 0x63:
        return make(C.BRANCH, 0, _x(rs1) | _x(rs2))
    if op == 0x03:
        return make(C.LOAD, rd, _x(rs1))
    if op == 0x23:
        return make(C.STORE, 0, _x(rs1) | _x(rs2))
    if op == 0x13:
        return make(C.ALU, rd, _x(rs1))
    if op == 0x33:
        if f7 == 1:
            cls = C.MUL if f3 == 0 else C.MULH if f3 < 4 else C.DIV
            return make(cls, rd, _x(rs1) | _x(rs2))
        return make(C.ALU, rd, _x(rs1) | _x(rs2))
    if op == 0x2F:
        return make(C.LOAD, rd, _x(rs1) | _x(rs2))
    if op == 0x0F:
        return make(C.SYSTEM, 0, 0)
    if op == 0x73:
        if f3 == 0:
            return make(C.SYSTEM, 0, 0)
        csr = w >> 20
        cls = C.CSR_M if csr in CSR_M_NUMBERS else C.CSR
        return make(cls, rd, _x(rs1) if f3 < 4 else 0)
    if op == 0x07:
        return make(C.LOAD, F + rd, _x(rs1))
    if op == 0x27:
        return make(C.STORE, 0, _x(rs1) | _f(rs2))
    if op in (0x43, 0x47, 0x4B, 0x4F):
        return make(C.FPU, F + rd, _f(rs1) | _f(rs2) | _f(w >> 27))
    if op == 0x53:
        f5 = w >> 27
        if f5 in (0x03, 0x0B):
            return make(C.FPU_DIV, F + rd, _f(rs1) | (_f(rs2) if f5 == 0x03 else 0))
        if f5 == 0x14:  # feq/flt/fle: int result
            return make(C.FPU, rd, _f(rs1) | _f(rs2))
        if f5 in (0x18, 0x1C):  # fcvt.w[u].*, fmv.x.w / fclass: int result
            return make(C.FPU, rd, _f(rs1))
        if f5 in (0x1A, 0x1E):  # fcvt.*.w[u], fmv.w.x: int source
            return make(C.FPU, F + rd, _x(rs1))
        if f5 in (0x08, 0x0B):  # fcvt.s.d / fcvt.d.s, fsqrt: one source
            return make(C.FPU, F + rd, _f(rs1))
        return make(C.FPU, F + rd, _f(rs1) | _f(rs2))
    return make(C.ALU, rd, 0)


def _decode16(h: int) -> Insn:
    q, f3 = h & 3, h >> 13
    C = InsnClass
    r = (h >> 7) & 31        # rd / rs1 (full)
    r2 = (h >> 2) & 31       # rs2 (full)
    rp1 = 8 + ((h >> 7) & 7)  # rs1' / rd'
    rp2 = 8 + ((h >> 2) & 7)  # rs2' / rd'

    def make(cls: InsnClass, dest: int, reads: int) -> Insn:
        return Insn(cls, 2, dest, reads)

    if q == 0:
        if f3 == 0:
            return make(C.ALU, rp2, _x(2))                    # c.addi4spn
        if f3 in (1, 3):
            return make(C.LOAD, F + rp2, _x(rp1))             # c.fld / c.flw
        if f3 == 2:
            return make(C.LOAD, rp2, _x(rp1))                 # c.lw
        if f3 in (5, 7):
            return make(C.STORE, 0, _x(rp1) | _f(rp2))        # c.fsd / c.fsw
        if f3 == 6:
            return make(C.STORE, 0, _x(rp1) | _x(rp2))        # c.sw
        return make(C.ALU, 0, 0)
    if q == 1:
        if f3 == 0:
            return make(C.ALU, r, _x(r))                      # c.addi / c.nop
        if f3 == 1:
            return make(C.JUMP, 1, 0)                         # c.jal
        if f3 == 2:
            return make(C.ALU, r, 0)                          # c.li
        if f3 == 3:
            return make(C.ALU, r, _x(2) if r == 2 else 0)     # c.addi16sp / c.lui
        if f3 == 4:
            if (h >> 10) & 3 == 3:                            # c.sub/xor/or/and
                return make(C.ALU, rp1, _x(rp1) | _x(rp2))
            return make(C.ALU, rp1, _x(rp1))                  # c.srli/srai/andi
        if f3 == 5:
            return make(C.JUMP, 0, 0)                         # c.j
        return make(C.BRANCH, 0, _x(rp1))                     # c.beqz / c.bnez
    # q == 2
    if f3 == 0:
        return make(C.ALU, r, _x(r))                          # c.slli
    if f3 in (1, 3):
        return make(C.LOAD, F + r, _x(2))                     # c.fldsp / c.flwsp
    if f3 == 2:
        return make(C.LOAD, r, _x(2))                         # c.lwsp
    if f3 == 4:
        if not (h >> 12) & 1:
            if r2 == 0:
                return make(C.JUMP, 0, _x(r))                 # c.jr
            return make(C.ALU, r, _x(r2))                     # c.mv
        if r == 0 and r2 == 0:
            return make(C.SYSTEM, 0, 0)                       # c.ebreak
        if r2 == 0:
            return make(C.JUMP, 1, _x(r))                     # c.jalr
        return make(C.ALU, r, _x(r) | _x(r2))                 # c.add
    if f3 in (5, 7):
        return make(C.STORE, 0, _x(2) | _f(r2))               # c.fsdsp / c.fswsp
    return make(C.STORE, 0, _x(2) | _x(r2))                   # c.swsp


def decode_block(code: bytes) -> list[Insn]:
    """The instructions of `code` (starting at an instruction), in order."""
    out, i = [], 0
    n = len(code)
    while i < n:
        word = int.from_bytes(code[i:i + 4], "little") if code[i] & 3 == 3 else code[i] | (code[i + 1] << 8 if i + 1 < n else 0)
        insn = decode(word)
        out.append(insn)
        i += insn.size
    return out
