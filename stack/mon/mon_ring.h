/*
 * mon_ring.h - one side's in-order byte stream as a monitor keeps it (mOS's
 * receive ring buffer, mtcp_peek(3)): the newest cap bytes of the stream,
 * addressed by 64-bit stream offsets, with holes where bytes were lost.
 *
 * [head, tail) is held (tail is the in-order edge); [rd, tail) is unread.
 * A hole is a range of [head, tail) whose bytes the monitor never saw; its
 * ring space holds garbage. When an append needs room, head moves up; unread
 * bytes it passes become a pending gap, reported by the next peek (mOS:
 * "mtcp_peek() fails right after overwriting").
 */
#ifndef SLUICE_MON_RING_H
#define SLUICE_MON_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct rte_mbuf;

#define MON_RING_HOLES 8

struct mon_hole {
    uint64_t off, len;
};

struct mon_ring {
    uint8_t *b;             /* cap bytes, allocated at the first append; NULL while cap is 0 */
    uint32_t cap;
    uint64_t head, tail, rd;
    uint64_t pending_gap;   /* unread bytes skipped over, not yet reported */
    uint64_t overwritten;   /* unread real bytes dropped for room */
    struct mon_hole holes[MON_RING_HOLES]; /* sorted, disjoint, inside [rd, tail) */
    unsigned nholes;
};

/* An empty ring of cap bytes at stream offset 0 (no memory yet). */
void mon_ring_init(struct mon_ring *r, uint32_t cap);
/* Frees the memory; r must be re-initialised before use. */
void mon_ring_free(struct mon_ring *r);
/* Appends n bytes from the mbuf chain m starting at byte off (n may
 * exceed cap: only the last cap bytes stay). -ENOMEM when the ring's
 * memory cannot be allocated: the offsets still move and the bytes are a
 * hole. */
int mon_ring_append(struct mon_ring *r, const struct rte_mbuf *m, uint32_t off, uint32_t n);
/* Appends a hole of n bytes (lost). */
void mon_ring_skip(struct mon_ring *r, uint64_t n);
/* mon_peek's rule (mon.h). */
ssize_t mon_ring_peek(struct mon_ring *r, void *buf, size_t len, uint64_t *gap);
/* mon_ppeek's rule (mon.h). */
ssize_t mon_ring_ppeek(const struct mon_ring *r, void *buf, size_t len, uint64_t off);
/* Resizes to cap (mon_set_buf's rule); -ENOMEM leaves r unchanged. */
int mon_ring_resize(struct mon_ring *r, uint32_t cap);

#endif
