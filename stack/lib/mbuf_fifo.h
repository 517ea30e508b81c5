/*
 * mbuf_fifo.h - a growable FIFO of mbufs, each with a time stamp (ns; 0
 * when the user has no use for one). Used by the fake device and the fault
 * injector to hold frames.
 */
#ifndef SLUICE_MBUF_FIFO_H
#define SLUICE_MBUF_FIFO_H

#include <stdint.h>

struct rte_mbuf;

struct mbuf_fifo_entry {
    struct rte_mbuf *m;
    uint64_t t;
};

struct mbuf_fifo {
    struct mbuf_fifo_entry *v; /* ring of cap entries */
    unsigned cap, head, len;
};

/* Appends m (ownership passes) stamped t. 0, or -ENOMEM (m not taken). */
int mbuf_fifo_push(struct mbuf_fifo *f, struct rte_mbuf *m, uint64_t t);
/* The i-th entry from the head; i < len. */
struct mbuf_fifo_entry *mbuf_fifo_at(const struct mbuf_fifo *f, unsigned i);
/* Takes the oldest mbuf (the caller owns it), or NULL when empty. */
struct rte_mbuf *mbuf_fifo_pop(struct mbuf_fifo *f);
/* Frees every mbuf held and the ring; f is empty and reusable after. */
void mbuf_fifo_free(struct mbuf_fifo *f);

#endif
