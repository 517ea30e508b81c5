/*
 * tcp_reass.c - see tcp_reass.h.
 *
 * The queue is a sorted array: it holds at most max_segs entries (a few
 * dozen), so a memmove on insert costs less than any tree would, and the
 * in-order take always pops entry 0.
 *
 * Held bytes win (tcp_reass.h): an arriving segment is cut down to the
 * gaps it fills between what is held. When it covers held segments
 * wholly, it fills several gaps; each gap becomes its own entry, the
 * first ones as clones (indirect mbufs) of the arriving segment's data,
 * so no byte is copied and the held mbufs are untouched.
 */
#include "tcp_reass.h"
#include "smem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "mbuf_chain.h"
#include "tcp_seq.h"

/* ---- mbuf chain trimming ---- */

/* Keeps bytes [from, to) of m (from < to <= pkt_len); returns the head. */
static struct rte_mbuf *mbuf_cut(struct rte_mbuf *m, uint32_t from, uint32_t to)
{
    if (to < m->pkt_len)
        mbuf_chain_trim_back(m, m->pkt_len - to);
    if (from > 0)
        m = mbuf_chain_trim_front(m, from);
    return m;
}

/* ---- the queue ---- */

int tcp_reass_init(struct tcp_reass *r, unsigned max_segs)
{
    memset(r, 0, sizeof(*r));
    if (max_segs == 0)
        return -ENOMEM;
    /* the array comes with the first out-of-order segment: most
     * connections never see one, and 256 slots are 6 KiB each */
    r->max_segs = max_segs;
    return 0;
}

void tcp_reass_free(struct tcp_reass *r)
{
    for (unsigned i = 0; i < r->n; i++)
        rte_pktmbuf_free(r->v[i].m);
    smem_free(r->v);
    memset(r, 0, sizeof(*r));
}

void tcp_reass_clear(struct tcp_reass *r)
{
    for (unsigned i = 0; i < r->n; i++)
        rte_pktmbuf_free(r->v[i].m);
    r->n = 0;
    r->bytes = 0;
    r->fin = false;
}

static uint32_t seg_end(const struct tcp_reass_seg *s)
{
    return s->seq + s->len;
}

/* Removes entry i (its mbuf is the caller's). */
static void seg_remove(struct tcp_reass *r, unsigned i)
{
    r->bytes -= r->v[i].len;
    r->n--;
    memmove(&r->v[i], &r->v[i + 1], (r->n - i) * sizeof(r->v[0]));
}

/* Index of the first entry ending after seq: the first that can overlap
 * or follow [seq, ...). */
static unsigned first_ending_after(const struct tcp_reass *r, uint32_t seq)
{
    unsigned i = 0;

    while (i < r->n && seq_leq(seg_end(&r->v[i]), seq))
        i++;
    return i;
}

/* The FIN marks the end of the stream (RFC 9293 §3.10.7.4), so it cannot
 * move, and no byte can follow it. A FIN that contradicts what is held (a
 * FIN elsewhere, or held bytes beyond it) comes from a broken or forged
 * segment; what is held wins, as for data, and the FIN is ignored. */
static bool fin_fits(const struct tcp_reass *r, uint32_t fin_seq)
{
    if (r->fin)
        return r->fin_seq == fin_seq;
    return r->n == 0 || seq_leq(seg_end(&r->v[r->n - 1]), fin_seq);
}

/* The first gap (bytes not held) in [cur, end): true with *gseq, *glen. */
static bool next_gap(const struct tcp_reass *r, uint32_t cur, uint32_t end, uint32_t *gseq, uint32_t *glen)
{
    unsigned i = first_ending_after(r, cur);

    for (; i < r->n && seq_leq(r->v[i].seq, cur); i++)
        cur = seg_end(&r->v[i]); /* held from cur on: skip past it */
    if (!seq_lt(cur, end))
        return false;
    *gseq = cur;
    *glen = (i < r->n && seq_lt(r->v[i].seq, end) ? r->v[i].seq : end) - cur;
    return true;
}

/* How many gaps [cur, end) fills: the slots it needs. */
static unsigned count_gaps(const struct tcp_reass *r, uint32_t cur, uint32_t end)
{
    unsigned ng = 0;
    uint32_t gseq, glen;

    for (; next_gap(r, cur, end, &gseq, &glen); cur = gseq + glen)
        ng++;
    return ng;
}

/* Puts an entry in its sorted place (a slot is free: checked before). */
static void seg_add(struct tcp_reass *r, uint32_t seq, uint32_t len, struct rte_mbuf *m, uint64_t stamp)
{
    unsigned i = first_ending_after(r, seq);

    memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(r->v[0]));
    r->v[i] = (struct tcp_reass_seg){.seq = seq, .len = len, .m = m, .stamp = stamp};
    r->n++;
    r->bytes += len;
}

/* A duplicate still triggers an ACK, and RFC 2018 §4 wants that ACK's
 * first block to be the one holding the segment that triggered it: the
 * held entry it hit counts as the most recent insertion. */
static void restamp_hit(struct tcp_reass *r, uint32_t seq, uint32_t len)
{
    unsigned i = first_ending_after(r, seq);

    if (len > 0 && i < r->n && seq_lt(r->v[i].seq, seq + len))
        r->v[i].stamp = r->next_stamp++;
}

/* Stores the gaps of [from, end) (slots checked by the caller) from m,
 * which holds [seq, seq + pkt_len). Every gap but the last is a clone of m,
 * cut before m itself is; the last is m. Should the pool have no mbuf for
 * a clone, the gaps not yet stored are left for the peer to retransmit
 * (the SACK blocks show them missing), and the last one is still stored:
 * it needs no allocation. Returns the bytes stored. */
static int store_gaps(struct tcp_reass *r, uint32_t seq, struct rte_mbuf *m, uint32_t from, uint32_t end)
{
    uint64_t stamp = r->next_stamp++;
    uint32_t gseq, glen, stored = 0;
    bool pool_dry = false;

    while (next_gap(r, from, end, &gseq, &glen)) {
        uint32_t off = gseq - seq, nseq, nlen;
        bool last = !next_gap(r, gseq + glen, end, &nseq, &nlen);
        struct rte_mbuf *p = last ? m : pool_dry ? NULL : rte_pktmbuf_clone(m, m->pool);

        from = gseq + glen;
        if (p == NULL) {
            pool_dry = true;
            continue;
        }
        seg_add(r, gseq, glen, mbuf_cut(p, off, off + glen), stamp);
        stored += glen;
    }
    return (int)stored;
}

int tcp_reass_insert(struct tcp_reass *r, uint32_t rcv_nxt, uint32_t seq, struct rte_mbuf *m, bool fin)
{
    uint32_t len = rte_pktmbuf_pkt_len(m), end = seq + len;

    if (fin && !fin_fits(r, end))
        fin = false;
    /* No byte lives past the FIN (RFC 9293 §3.10.7.4: it ends the stream);
     * and bytes below rcv_nxt were delivered already. */
    if (r->fin && seq_gt(end, r->fin_seq))
        end = seq_lt(seq, r->fin_seq) ? r->fin_seq : seq;
    uint32_t from = seq_lt(seq, rcv_nxt) ? seq_min(rcv_nxt, end) : seq;

    unsigned ng = count_gaps(r, from, end);
    if (ng > 0 && r->v == NULL)
        r->v = smem_calloc(r->max_segs, sizeof(*r->v));
    if (ng > r->max_segs - r->n || (ng > 0 && r->v == NULL)) {
        rte_pktmbuf_free(m);
        return -ENOSPC;
    }
    if (fin) {
        r->fin = true;
        r->fin_seq = seq + len;
    }
    if (ng == 0) {
        restamp_hit(r, from, end - from);
        rte_pktmbuf_free(m);
        return 0;
    }
    return store_gaps(r, seq, m, from, end);
}

struct rte_mbuf *tcp_reass_take(struct tcp_reass *r, uint32_t *rcv_nxt, bool *fin)
{
    struct rte_mbuf *m = NULL;

    while (r->n > 0 && m == NULL) {
        struct tcp_reass_seg s = r->v[0];

        if (seq_gt(s.seq, *rcv_nxt))
            break; /* the hole before it is still open */
        seg_remove(r, 0);
        if (seq_leq(seg_end(&s), *rcv_nxt)) {
            rte_pktmbuf_free(s.m); /* all delivered by another path */
            continue;
        }
        m = mbuf_chain_trim_front(s.m, *rcv_nxt - s.seq);
        *rcv_nxt = seg_end(&s);
    }
    if (r->fin && r->fin_seq == *rcv_nxt) {
        *fin = true;
        r->fin = false; /* handed over: the caller consumes it */
    } else if (r->fin && seq_lt(r->fin_seq, *rcv_nxt)) {
        r->fin = false; /* the caller went past it on its own */
    }
    return m;
}

/* ---- SACK blocks ---- */

/* The run of contiguous entries starting at i: its block, its most recent
 * stamp; returns the index after it. */
static unsigned run_at(const struct tcp_reass *r, unsigned i, struct tcp_sack_block *b, uint64_t *stamp)
{
    b->left = r->v[i].seq;
    b->right = seg_end(&r->v[i]);
    *stamp = r->v[i].stamp;
    for (i++; i < r->n && r->v[i].seq == b->right; i++) {
        b->right = seg_end(&r->v[i]);
        if (r->v[i].stamp > *stamp)
            *stamp = r->v[i].stamp;
    }
    return i;
}

/* Is run (stamp s, position p) reported before run (t, q)? Newer first;
 * stamps are unique per run in practice, position breaks any tie. */
static bool run_before(uint64_t s, unsigned p, uint64_t t, unsigned q)
{
    return s > t || (s == t && p < q);
}

unsigned tcp_reass_sack(const struct tcp_reass *r, struct tcp_sack_block *out, unsigned max)
{
    unsigned k = 0;
    uint64_t last_stamp = 0;
    unsigned last_pos = 0;

    /* RFC 2018 §4: first the block holding the newest segment, then the
     * others newest first. max is at most 4 (3 with timestamps), so a
     * selection pass per block is cheaper than sorting the runs. */
    for (; k < max; k++) {
        bool found = false;
        struct tcp_sack_block best = {0, 0};
        uint64_t best_stamp = 0;
        unsigned best_pos = 0;

        for (unsigned i = 0; i < r->n;) {
            struct tcp_sack_block b;
            uint64_t st;
            unsigned pos = i;

            i = run_at(r, i, &b, &st);
            if (k > 0 && !run_before(last_stamp, last_pos, st, pos))
                continue; /* already reported */
            if (!found || run_before(st, pos, best_stamp, best_pos)) {
                found = true;
                best = b;
                best_stamp = st;
                best_pos = pos;
            }
        }
        if (!found)
            break;
        out[k] = best;
        last_stamp = best_stamp;
        last_pos = best_pos;
    }
    return k;
}
