/* Exact retired-instruction counting for the RV32 VP, as a native Unicorn
 * block hook (a Python block hook costs ~0.7 us per block).
 *
 * At each translation-block entry the hook adds the block's instruction
 * count, computed once per (address, size) from the instruction lengths
 * (RVC: low two bits != 0b11 -> 2 bytes, else 4) and cached in an
 * open-addressing table.  `before` and `block` let the VP correct the count
 * to an exact one at any PC inside the current block (MMIO, ecall, faults).
 *
 * Call events (per-layer counts at native speed, nothing added to the firmware):
 * given "glue" address ranges (the AOT run() and main()), every entry from glue
 * code into other code opens an event recording the callee's entry address,
 * the end of the calling glue block (the call's return address) and the count
 * before it; all instructions until the next glue block (callees of callees,
 * libc, drivers) add to that event.
 *
 * Cycles under a core timing profile (vp/core_timing.py): a block's static cycles
 * (instruction classes and hazards inside it) come once per translated block from the
 * `info` callback (the Python decoder); at each block entry only the dynamic parts are
 * added: the previous block's conditional branch, taken or not (is this block its
 * fall-through?), an extra cycle for a redirect onto a misaligned 32-bit instruction, and
 * a hazard between the previous block's last and this block's first instruction.  The
 * direction-dependent cycles belong to the previous block's owner (event or glue).
 *
 * Event recording (mlml_counter_set_record; off by default, it costs a few adds per block):
 * the profile-independent counts cycles are a linear function of (vp/core_timing.py
 * EVENT_DIMS: instructions per class, branches taken / not taken, misaligned redirects,
 * adjacent hazard pairs per producer/consumer class), kept as one running vector `ev` at
 * the current block's base (its entry stall and static events are added at the next
 * entry), and snapshotted when a call event opens and closes, so any profile can cost the
 * run, its call events and its MMIO accesses afterwards (harness/recost.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

/* What the info callback reports for a block (mirrored in counting.py). */
typedef struct {
    uint64_t head_reads;  /* registers read by the first instruction (bit r; f regs 32..63) */
    uint32_t cycles;      /* static cycles: classes and hazards inside the block */
    uint8_t tail_kind;    /* 0 none, 1 conditional branch, 2 jump */
    uint8_t tail_class;   /* class of the last instruction */
    uint8_t tail_rd;      /* its destination register (0: none) */
    uint8_t head_class;   /* class of the first instruction */
    uint8_t head_wide;    /* the first instruction is 32 bits */
    uint8_t pad[7];
    uint32_t vec_n;       /* event recording: (dimension, count) pairs of the block's */
    uint32_t pad2;        /* static events, owned by the caller for the counter's life */
    const uint32_t *vec;
} mlml_block_info;

typedef int (*mlml_info_fn)(uint64_t address, const uint8_t *code, uint32_t size,
                            mlml_block_info *out);

#define MLML_CLASSES 16

typedef struct {
    uint64_t addr;
    uint32_t size; /* 0: empty slot */
    uint32_t n;
    uint64_t hits;  /* times the block was entered */
    mlml_block_info info;
} mlml_entry;

#define MLML_MAX_GLUE 4

typedef struct {
    uint64_t target;  /* address of the first block after glue code */
    uint64_t site;    /* end of the last glue block: the call's return address */
    uint64_t start;   /* instructions before the event's first block */
    uint64_t insns;   /* instructions of the event's blocks */
    uint64_t cycles;  /* cycles of the event's blocks */
    int64_t snap_open, snap_close;  /* event recording: snapshots at its base and end */
} mlml_event;

typedef struct {
    uint64_t count;   /* instructions of all blocks entered so far (current one whole) */
    uint64_t before;  /* count before the current block */
    uint64_t block;   /* start address of the current block */
    uint64_t limit;   /* stop once count exceeds this; 0 = no limit */
    uint64_t blocks;  /* blocks executed */
    uint32_t size;    /* size in bytes of the current block */
    uint32_t limit_hit;
    uint64_t misses;  /* blocks decoded (cache misses) */
    uint64_t cycles;       /* cycles of all blocks entered (current one whole) */
    uint64_t cycles_base;  /* cycles before the current block's first instruction */
    uint32_t stall;        /* hazard stall of the current block's first instruction */
    uint32_t info_error;   /* the info callback failed: cycles are not valid */
    uint32_t taken_cost, not_taken_cost, misaligned_cost;
    mlml_info_fn info;     /* NULL: cycles = instructions */
    uint8_t hazard[MLML_CLASSES][MLML_CLASSES];
    uint8_t pend_kind, pend_class, pend_rd;
    uint64_t pend_fall;    /* fall-through address of the previous block */
    mlml_entry *table;
    uint64_t mask;
    uint64_t used;
    /* call events (see top); n_glue == 0 disables them */
    uint32_t n_glue;
    uint64_t glue_lo[MLML_MAX_GLUE], glue_hi[MLML_MAX_GLUE];
    int64_t cur;         /* current event, -1 in glue, -2 before the first glue block */
    uint64_t glue_end;   /* end of the last glue block */
    mlml_event *events;
    uint32_t n_events, cap_events, events_dropped;
    /* event recording (see top); ev == NULL: off */
    uint64_t *ev;          /* event counts before the current block (after its entry's
                              branch / redirect events, before its entry stall) */
    uint32_t ev_dims, ev_classes;
    int64_t ev_stall;      /* dimension of the current block's entry hazard pair, -1: none */
    const uint32_t *ev_vec;  /* the current block's static events, added at the next entry */
    uint32_t ev_vec_n, ev_error;
    uint64_t *snaps;       /* ev_dims values per snapshot */
    uint32_t n_snaps, cap_snaps;
} mlml_counter;

static int64_t snapshot(mlml_counter *c) {
    if (c->ev == NULL) return -1;
    if (c->n_snaps == c->cap_snaps) {
        uint32_t cap = c->cap_snaps ? c->cap_snaps * 2 : 256;
        uint64_t *snaps = realloc(c->snaps, (size_t)cap * c->ev_dims * sizeof *snaps);
        if (snaps == NULL) { c->ev_error = 1; return -1; }
        c->snaps = snaps;
        c->cap_snaps = cap;
    }
    memcpy(c->snaps + (size_t)c->n_snaps * c->ev_dims, c->ev, c->ev_dims * sizeof *c->ev);
    return c->n_snaps++;
}

static void track_event(mlml_counter *c, uint64_t address, uint32_t size, uint32_t n,
                        uint64_t cycles) {
    for (uint32_t g = 0; g < c->n_glue; ++g) {
        if (address >= c->glue_lo[g] && address < c->glue_hi[g]) {
            if (c->cur >= 0) c->events[c->cur].snap_close = snapshot(c);
            c->cur = -1;
            c->glue_end = address + size;
            return;
        }
    }
    if (c->cur == -2) return;
    if (c->cur == -1) {
        if (c->n_events == c->cap_events) {
            uint32_t cap = c->cap_events ? c->cap_events * 2 : 256;
            mlml_event *ev = realloc(c->events, cap * sizeof *ev);
            if (ev == NULL) { c->events_dropped++; return; }
            c->events = ev;
            c->cap_events = cap;
        }
        mlml_event *e = &c->events[c->n_events];
        e->target = address;
        e->site = c->glue_end;
        e->start = c->before;
        e->insns = 0;
        e->cycles = 0;
        e->snap_open = snapshot(c);
        e->snap_close = -1;
        c->cur = c->n_events++;
    }
    if (c->cur >= 0) {
        c->events[c->cur].insns += n;
        c->events[c->cur].cycles += cycles;
    }
}

static uint32_t count_insns(uc_engine *uc, uint64_t address, uint32_t size) {
    uint8_t stack_buf[4096];
    uint8_t *buf = size <= sizeof stack_buf ? stack_buf : malloc(size);
    uint32_t n = 0;
    if (buf == NULL || uc_mem_read(uc, address, buf, size) != UC_ERR_OK) {
        if (buf != stack_buf) free(buf);
        return 0;
    }
    for (uint32_t i = 0; i < size; i += ((buf[i] & 3u) == 3u) ? 4u : 2u) n++;
    if (buf != stack_buf) free(buf);
    return n;
}

static void grow(mlml_counter *c) {
    uint64_t new_cap = (c->mask + 1) * 2;
    mlml_entry *table = calloc(new_cap, sizeof *table);
    if (table == NULL) return; /* keep probing the full-ish old table */
    for (uint64_t i = 0; i <= c->mask; ++i) {
        mlml_entry *e = &c->table[i];
        if (!e->size) continue;
        uint64_t j = (e->addr >> 1) * 0x9E3779B97F4A7C15ull & (new_cap - 1);
        while (table[j].size) j = (j + 1) & (new_cap - 1);
        table[j] = *e;
    }
    free(c->table);
    c->table = table;
    c->mask = new_cap - 1;
}

static void fill_info(mlml_counter *c, uc_engine *uc, mlml_entry *e) {
    memset(&e->info, 0, sizeof e->info);
    if (c->info == NULL) {
        e->info.cycles = e->n;
        return;
    }
    uint8_t stack_buf[4096];
    uint8_t *buf = e->size <= sizeof stack_buf ? stack_buf : malloc(e->size);
    if (buf == NULL || uc_mem_read(uc, e->addr, buf, e->size) != UC_ERR_OK
        || c->info(e->addr, buf, e->size, &e->info) != 0) {
        c->info_error = 1;
        uc_emu_stop(uc);
    }
    if (buf != stack_buf) free(buf);
}

/* The running event vector at a block entry (before `pend_*` move on to this block). */
static void record_entry(mlml_counter *c, const mlml_entry *e, uint64_t address, int redirect) {
    uint64_t *ev = c->ev;
    uint32_t k = c->ev_classes;
    for (uint32_t i = 0; i < c->ev_vec_n; ++i) ev[c->ev_vec[2 * i]] += c->ev_vec[2 * i + 1];
    if (c->ev_stall >= 0) ev[c->ev_stall]++;
    if (c->pend_kind == 1) ev[redirect ? k : k + 1]++;
    if (redirect && (address & 2) && e->info.head_wide) ev[k + 2]++;
    c->ev_stall = (c->pend_rd && ((e->info.head_reads >> c->pend_rd) & 1))
                      ? (int64_t)(k + 3 + c->pend_class * k + e->info.head_class) : -1;
    c->ev_vec = e->info.vec;
    c->ev_vec_n = e->info.vec_n;
}

static void block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    mlml_counter *c = user_data;
    uint64_t j = (address >> 1) * 0x9E3779B97F4A7C15ull & c->mask;
    mlml_entry *e;
    for (;;) {
        e = &c->table[j];
        if (e->size == 0 || (e->addr == address && e->size == size)) break;
        j = (j + 1) & c->mask;
    }
    if (e->size == 0) {
        e->addr = address;
        e->size = size;
        e->n = count_insns(uc, address, size);
        fill_info(c, uc, e);
        c->misses++;
        if (++c->used * 2 > c->mask) {
            uint64_t addr = e->addr;
            grow(c);
            j = (addr >> 1) * 0x9E3779B97F4A7C15ull & c->mask;
            while (c->table[j].addr != addr || c->table[j].size != size) j = (j + 1) & c->mask;
            e = &c->table[j];
        }
    }
    e->hits++;
    /* dynamic cycles of the previous block's last instruction: its owner's */
    uint64_t extra = 0;
    int redirect = c->pend_kind == 2;
    if (c->pend_kind == 1) {
        redirect = address != c->pend_fall;
        extra += redirect ? c->taken_cost : c->not_taken_cost;
    }
    if (redirect && (address & 2) && e->info.head_wide) extra += c->misaligned_cost;
    if (c->ev) record_entry(c, e, address, redirect);
    c->cycles += extra;
    if (extra && c->n_glue && c->cur >= 0) c->events[c->cur].cycles += extra;
    /* a hazard between the previous block's last and this block's first instruction */
    uint64_t stall = 0;
    if (c->pend_rd && ((e->info.head_reads >> c->pend_rd) & 1))
        stall = c->hazard[c->pend_class][e->info.head_class];
    c->cycles_base = c->cycles;
    c->stall = (uint32_t)stall;
    c->cycles += stall + e->info.cycles;
    c->pend_kind = e->info.tail_kind;
    c->pend_class = e->info.tail_class;
    c->pend_rd = e->info.tail_rd;
    c->pend_fall = address + size;

    c->before = c->count;
    c->count += e->n;
    if (c->n_glue) track_event(c, address, size, e->n, stall + e->info.cycles);
    c->block = address;
    c->size = size;
    c->blocks++;
    if (c->limit && c->count > c->limit) {
        c->limit_hit = 1;
        uc_emu_stop(uc);
    }
}

mlml_counter *mlml_counter_create(void) {
    mlml_counter *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->mask = 4095;
    c->cur = -2;
    c->table = calloc(c->mask + 1, sizeof *c->table);
    if (c->table == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void mlml_counter_destroy(mlml_counter *c) {
    if (c == NULL) return;
    free(c->table);
    free(c->events);
    free(c->ev);
    free(c->snaps);
    free(c);
}

int mlml_counter_install(uc_engine *uc, mlml_counter *c, uc_hook *hh) {
    return (int)uc_hook_add(uc, hh, UC_HOOK_BLOCK, (void *)block_hook, c, 1, 0);
}

int mlml_counter_set_glue(mlml_counter *c, uint32_t n, const uint64_t *lo, const uint64_t *hi) {
    if (n > MLML_MAX_GLUE) return -1;
    for (uint32_t i = 0; i < n; ++i) {
        c->glue_lo[i] = lo[i];
        c->glue_hi[i] = hi[i];
    }
    c->n_glue = n;
    return 0;
}

/* Timing: the info callback (NULL: cycles = instructions), branch and redirect costs, and
 * the hazard matrix [producer class][consumer class] (MLML_CLASSES^2 bytes). */
int mlml_counter_set_timing(mlml_counter *c, mlml_info_fn info, uint32_t taken,
                            uint32_t not_taken, uint32_t misaligned, const uint8_t *hazard) {
    c->info = info;
    c->taken_cost = taken;
    c->not_taken_cost = not_taken;
    c->misaligned_cost = misaligned;
    memcpy(c->hazard, hazard, sizeof c->hazard);
    return MLML_CLASSES;
}

/* Copies up to `max` events (5 x uint64 each) to `out`; returns how many exist, or -1 if
 * any were dropped for lack of memory. */
int64_t mlml_counter_events(const mlml_counter *c, uint64_t *out, uint32_t max) {
    for (uint32_t i = 0; i < c->n_events && i < max; ++i) {
        out[5 * i] = c->events[i].target;
        out[5 * i + 1] = c->events[i].site;
        out[5 * i + 2] = c->events[i].start;
        out[5 * i + 3] = c->events[i].insns;
        out[5 * i + 4] = c->events[i].cycles;
    }
    return c->events_dropped ? -1 : (int64_t)c->n_events;
}

/* Copies up to `max` translated blocks (address, size, times entered: 3 x uint64 each) to
 * `out`; returns how many exist (per-class instruction counts come from these). */
int64_t mlml_counter_blocks(const mlml_counter *c, uint64_t *out, uint64_t max) {
    uint64_t k = 0;
    for (uint64_t i = 0; i <= c->mask; ++i) {
        const mlml_entry *e = &c->table[i];
        if (!e->size) continue;
        if (k < max) {
            out[3 * k] = e->addr;
            out[3 * k + 1] = e->size;
            out[3 * k + 2] = e->hits;
        }
        k++;
    }
    return (int64_t)k;
}

/* Event recording over `dims` dimensions, the first `classes` of them instruction classes
 * (then taken, not taken, misaligned, classes^2 hazard pairs).  Before the run. */
int mlml_counter_set_record(mlml_counter *c, uint32_t dims, uint32_t classes) {
    if (classes > MLML_CLASSES || dims != classes + 3 + classes * classes) return -1;
    c->ev = calloc(dims, sizeof *c->ev);
    if (c->ev == NULL) return -1;
    c->ev_dims = dims;
    c->ev_classes = classes;
    c->ev_stall = -1;
    return 0;
}

/* The recorded vectors: `which` >= 0 a snapshot, -1 the running vector at the current
 * block's base, -2 its entry stall's hazard dimension (out[0]; -1 none).  Returns 0, or
 * -1 when recording is off or failed (out of memory) or `which` does not exist. */
int mlml_counter_record(const mlml_counter *c, int64_t which, uint64_t *out) {
    if (c->ev == NULL || c->ev_error) return -1;
    if (which == -2) {
        out[0] = (uint64_t)c->ev_stall;
        return 0;
    }
    if (which == -1) {
        memcpy(out, c->ev, c->ev_dims * sizeof *out);
        return 0;
    }
    if (which >= c->n_snaps) return -1;
    memcpy(out, c->snaps + (size_t)which * c->ev_dims, c->ev_dims * sizeof *out);
    return 0;
}

/* Snapshot indices (open, close; -1: none) of up to `max` call events. */
int64_t mlml_counter_event_snaps(const mlml_counter *c, int64_t *out, uint32_t max) {
    for (uint32_t i = 0; i < c->n_events && i < max; ++i) {
        out[2 * i] = c->events[i].snap_open;
        out[2 * i + 1] = c->events[i].snap_close;
    }
    return (int64_t)c->n_events;
}

int mlml_counter_abi(void) { return (int)sizeof(mlml_counter); }
