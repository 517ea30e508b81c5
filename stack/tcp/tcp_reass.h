/*
 * tcp_reass.h - the receive side's out-of-order queue (RFC 9293 §3.10.7.4
 * "Seventh, process the segment text"; RFC 2018 §4 for the SACK blocks it
 * reports).
 *
 * Segments that arrive beyond rcv_nxt wait here, bounded by a number of
 * segments, until the hole before them fills. Overlaps are trimmed so that
 * every sequence number is held at most once (the bytes already held win:
 * RFC 9293 lets either copy be used, and keeping the old ones means a
 * duplicate costs nothing). Sequence numbers are host order; mbuf data are
 * the segment's payload bytes (chains allowed).
 */
#ifndef SLUICE_TCP_REASS_H
#define SLUICE_TCP_REASS_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_options.h"

struct rte_mbuf;

struct tcp_reass_seg {
    uint32_t seq, len;  /* bytes [seq, seq + len) */
    struct rte_mbuf *m; /* exactly len bytes */
    uint64_t stamp;     /* insertion order, for the SACK block order (a duplicate
                         * re-stamps the held entry it hit: RFC 2018 §4) */
};

struct tcp_reass {
    struct tcp_reass_seg *v; /* sorted by seq, disjoint; max_segs entries */
    unsigned n, max_segs;
    uint32_t bytes;          /* held */
    uint64_t next_stamp;
    bool fin;                /* a FIN was seen at fin_seq (after the data before it) */
    uint32_t fin_seq;
};

/* Sets up an empty queue holding at most max_segs (>= 1) segments; the
 * array of slots is allocated by the first insert that stores bytes (an
 * insert that cannot allocate it fails -ENOSPC). 0, or -ENOMEM for
 * max_segs 0. */
int tcp_reass_init(struct tcp_reass *r, unsigned max_segs);
/* Frees every held mbuf and the array; r may be re-initialised. */
void tcp_reass_free(struct tcp_reass *r);
/* Drops everything held (mbufs freed, the recorded FIN forgotten); r stays
 * usable. */
void tcp_reass_clear(struct tcp_reass *r);

/* Holds segment [seq, seq + len) with len = rte_pktmbuf_pkt_len(m) (m
 * taken in every case) given the current rcv_nxt (seq is beyond it:
 * seq_gt(seq, rcv_nxt)), and fin if the segment carried FIN (its
 * sequence number is seq + len). Parts already held are cut off (the held
 * bytes win), so what is stored is only new. Returns the new bytes stored
 * (0: a pure duplicate, m freed), or -ENOSPC when new bytes would need a
 * segment slot and none is free (m freed: the caller counts the drop; the
 * peer retransmits). A zero-length FIN-only segment returns 0 and records
 * the FIN. A FIN that contradicts what is held (another FIN elsewhere, or
 * held bytes beyond it) is ignored, and bytes beyond a recorded FIN are
 * not stored. */
int tcp_reass_insert(struct tcp_reass *r, uint32_t rcv_nxt, uint32_t seq, struct rte_mbuf *m, bool fin);

/* Takes the held data that now continues the stream at *rcv_nxt: returns
 * the next in-order mbuf (its bytes already below *rcv_nxt trimmed off;
 * segments wholly below *rcv_nxt are freed and skipped) and advances
 * *rcv_nxt past it; NULL when the next byte is not held. Call until NULL.
 * Sets *fin (never clears it) when the recorded FIN's sequence number
 * equals *rcv_nxt after the data (the caller advances rcv_nxt over the
 * FIN itself and then the queue must be empty). */
struct rte_mbuf *tcp_reass_take(struct tcp_reass *r, uint32_t *rcv_nxt, bool *fin);

/* The SACK blocks to send (RFC 2018 §4): each block a maximal run of
 * contiguous held bytes; the block holding the most recently inserted
 * segment first, then the others by the recency of their latest
 * insertion. Writes at most max blocks to out; returns how many. */
unsigned tcp_reass_sack(const struct tcp_reass *r, struct tcp_sack_block *out, unsigned max);

static inline bool tcp_reass_empty(const struct tcp_reass *r)
{
    return r->n == 0 && !r->fin;
}

#endif
