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
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

typedef struct {
    uint64_t addr;
    uint32_t size; /* 0: empty slot */
    uint32_t n;
} mlml_entry;

#define MLML_MAX_GLUE 4

typedef struct {
    uint64_t target;  /* address of the first block after glue code */
    uint64_t site;    /* end of the last glue block: the call's return address */
    uint64_t start;   /* instructions before the event's first block */
    uint64_t insns;   /* instructions of the event's blocks */
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
} mlml_counter;

static void track_event(mlml_counter *c, uint64_t address, uint32_t size, uint32_t n) {
    for (uint32_t g = 0; g < c->n_glue; ++g) {
        if (address >= c->glue_lo[g] && address < c->glue_hi[g]) {
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
        c->cur = c->n_events++;
    }
    if (c->cur >= 0) c->events[c->cur].insns += n;
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
        c->misses++;
        if (++c->used * 2 > c->mask) {
            uint32_t n = e->n;
            grow(c);
            c->before = c->count;
            c->count += n;
            goto done;
        }
    }
    c->before = c->count;
    c->count += e->n;
done:
    if (c->n_glue) track_event(c, address, size, (uint32_t)(c->count - c->before));
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

/* Copies up to `max` events (4 x uint64 each) to `out`; returns how many exist, or -1 if
 * any were dropped for lack of memory. */
int64_t mlml_counter_events(const mlml_counter *c, uint64_t *out, uint32_t max) {
    for (uint32_t i = 0; i < c->n_events && i < max; ++i) {
        out[4 * i] = c->events[i].target;
        out[4 * i + 1] = c->events[i].site;
        out[4 * i + 2] = c->events[i].start;
        out[4 * i + 3] = c->events[i].insns;
    }
    return c->events_dropped ? -1 : (int64_t)c->n_events;
}

int mlml_counter_abi(void) { return (int)sizeof(mlml_counter); }
