/* test_tcp_reass.c - the out-of-order queue: held bytes win on every
 * overlap (left, right, exact duplicate, inside, a segment covering
 * several), -ENOSPC when no slot is free, FIN recorded before the data
 * completes, in-order take with trimming below rcv_nxt, chained mbufs
 * trimmed at either end, sequence numbers wrapping at 2^32, and the RFC
 * 2018 §4 SACK block order. Every test ends with every mbuf back in the
 * pool. Byte values depend on the sequence number and on which copy
 * (OLD: held first, NEW: arrived later) carried them, so the tests see
 * which copy was kept. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "harness.h"
#include "runtime.h"
#include "stack_harness.h"
#include "tcp_reass.h"

#define OLD 0x00
#define NEW 0xff

static unsigned avail0;

static void setup(void)
{
    t_default_timeout();
    t_init();
    avail0 = t_pool_avail();
}

static void finish(struct tcp_reass *r)
{
    tcp_reass_free(r);
    cr_assert_eq(t_pool_avail(), avail0, "mbufs leaked: %u free, %u at start", t_pool_avail(), avail0);
}

static uint8_t byte_at(uint32_t seq, uint8_t tag)
{
    return (uint8_t)((seq * 31u) ^ tag);
}

/* A single mbuf with the bytes of [seq, seq + len) from copy tag. */
static struct rte_mbuf *seg(uint32_t seq, uint32_t len, uint8_t tag)
{
    uint8_t buf[2048];

    cr_assert_leq(len, sizeof(buf));
    for (uint32_t i = 0; i < len; i++)
        buf[i] = byte_at(seq + i, tag);
    return st_mbuf(buf, len);
}

/* A chain of nseg mbufs of seglen bytes each, starting at seq. */
static struct rte_mbuf *chain(uint32_t seq, uint32_t seglen, unsigned nseg, uint8_t tag)
{
    struct rte_mbuf *head = seg(seq, seglen, tag);

    for (unsigned i = 1; i < nseg; i++)
        cr_assert_eq(rte_pktmbuf_chain(head, seg(seq + i * seglen, seglen, tag)), 0);
    return head;
}

static struct tcp_reass mkq(unsigned max)
{
    struct tcp_reass r;
    cr_assert_eq(tcp_reass_init(&r, max), 0);
    return r;
}

/* Checks m holds [seq, seq + len) and that byte s came from copy
 * old_lo <= s < old_hi ? OLD : NEW; frees m. */
static void expect_mbuf(struct rte_mbuf *m, uint32_t seq, uint32_t len, uint32_t old_lo, uint32_t old_hi)
{
    uint8_t buf[4096];

    cr_assert_not_null(m);
    cr_assert_eq(rte_pktmbuf_pkt_len(m), len);
    cr_assert_eq(st_bytes(m, buf, sizeof(buf)), len);
    for (uint32_t i = 0; i < len; i++) {
        uint32_t s = seq + i;
        uint8_t tag = (uint32_t)(s - old_lo) < (uint32_t)(old_hi - old_lo) ? OLD : NEW;
        cr_assert_eq(buf[i], byte_at(s, tag), "byte at seq %u: %#x, want the %s copy", s, buf[i],
                     tag == OLD ? "held" : "new");
    }
    rte_pktmbuf_free(m);
}

/* Takes everything in order from *rcv_nxt into buf; returns the bytes. */
static uint32_t take_all(struct tcp_reass *r, uint32_t *rcv_nxt, uint8_t *buf, size_t cap, bool *fin)
{
    uint32_t total = 0;
    struct rte_mbuf *m;

    while ((m = tcp_reass_take(r, rcv_nxt, fin)) != NULL) {
        total += (uint32_t)st_bytes(m, buf + total, cap - total);
        rte_pktmbuf_free(m);
    }
    return total;
}

/* Byte s of buf (which starts at seq) is from OLD in [old_lo, old_hi). */
static void expect_bytes(const uint8_t *buf, uint32_t seq, uint32_t len, uint32_t old_lo, uint32_t old_hi)
{
    for (uint32_t i = 0; i < len; i++) {
        uint32_t s = seq + i;
        uint8_t tag = (uint32_t)(s - old_lo) < (uint32_t)(old_hi - old_lo) ? OLD : NEW;
        cr_assert_eq(buf[i], byte_at(s, tag), "byte at seq %u", s);
    }
}

static void expect_blocks(const struct tcp_reass *r, unsigned max, unsigned n, const struct tcp_sack_block *want)
{
    struct tcp_sack_block out[TCP_SACK_MAX_BLOCKS] = {{0, 0}};
    cr_assert_eq(tcp_reass_sack(r, out, max), n);
    for (unsigned i = 0; i < n; i++) {
        cr_assert_eq(out[i].left, want[i].left, "block %u left %u, want %u", i, out[i].left, want[i].left);
        cr_assert_eq(out[i].right, want[i].right, "block %u right %u, want %u", i, out[i].right, want[i].right);
    }
}

TestSuite(tcp_reass, .init = setup);

/* ---- empty queue ---- */

Test(tcp_reass, empty_queue_takes_nothing_and_reports_no_blocks)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;
    struct tcp_sack_block out[4];

    cr_assert(tcp_reass_empty(&r));
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert_eq(rcv_nxt, 100);
    cr_assert_not(fin);
    cr_assert_eq(tcp_reass_sack(&r, out, 4), 0);
    finish(&r);
}

/* An idle connection holds no slot array (6 KiB at 256 slots): it comes
 * with the first segment that stores bytes, a FIN alone needs none, and
 * clearing keeps it for reuse. */
Test(tcp_reass, slots_are_allocated_by_the_first_stored_segment)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;

    cr_assert_null(r.v);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 130, seg(130, 0, OLD), true), 0, "a FIN alone");
    cr_assert_null(r.v);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 10, OLD), false), 10);
    cr_assert_not_null(r.v);
    cr_assert_eq(r.n, 1);
    tcp_reass_clear(&r);
    cr_assert(tcp_reass_empty(&r));
    cr_assert_eq(r.bytes, 0);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 120, seg(120, 5, OLD), false), 5, "usable after a clear");
    finish(&r);
}

/* ---- insert and take ---- */

Test(tcp_reass, segment_past_hole_waits_then_comes_out_when_hole_fills)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 10, OLD), false), 10);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.bytes, 10);
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin)); /* [100, 110) missing */
    cr_assert_eq(rcv_nxt, 100);
    rcv_nxt = 110; /* the caller delivered [100, 110) itself */
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 110, 10, 110, 120);
    cr_assert_eq(rcv_nxt, 120);
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert_not(fin);
    cr_assert(tcp_reass_empty(&r));
    cr_assert_eq(r.bytes, 0);
    finish(&r);
}

Test(tcp_reass, out_of_order_arrivals_come_out_sorted)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;
    uint8_t buf[64];

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 130, seg(130, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 120, seg(120, 10, OLD), false), 10);
    cr_assert_eq(r.v[0].seq, 110);
    cr_assert_eq(r.v[1].seq, 120);
    cr_assert_eq(r.v[2].seq, 130);
    rcv_nxt = 110;
    cr_assert_eq(take_all(&r, &rcv_nxt, buf, sizeof(buf), &fin), 30);
    cr_assert_eq(rcv_nxt, 140);
    expect_bytes(buf, 110, 30, 110, 140);
    finish(&r);
}

Test(tcp_reass, take_trims_bytes_already_below_rcv_nxt)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 10, OLD), false), 10);
    rcv_nxt = 115; /* an in-order segment [100, 115) went straight up */
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 115, 5, 110, 120);
    cr_assert_eq(rcv_nxt, 120);
    cr_assert_eq(r.bytes, 0);
    finish(&r);
}

Test(tcp_reass, take_frees_segments_wholly_below_rcv_nxt_and_stops_at_hole)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 130, seg(130, 10, OLD), false), 10);
    rcv_nxt = 125;
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert_eq(rcv_nxt, 125);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.v[0].seq, 130);
    cr_assert_eq(r.bytes, 10);
    finish(&r);
}

Test(tcp_reass, segment_starting_below_rcv_nxt_is_trimmed_to_it)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 90, seg(90, 30, NEW), false), 20);
    cr_assert_eq(r.v[0].seq, 100);
    cr_assert_eq(r.v[0].len, 20);
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 100, 20, 0, 0);
    cr_assert_eq(rcv_nxt, 120);
    finish(&r);
}

/* ---- overlaps: held bytes win ---- */

Test(tcp_reass, overlap_on_left_keeps_held_bytes)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;
    uint8_t buf[256];

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, seg(200, 100, OLD), false), 100);
    /* [150, 250): its [200, 250) is held already */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 150, seg(150, 100, NEW), false), 50);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.bytes, 150);
    cr_assert_eq(r.v[0].seq, 150);
    cr_assert_eq(r.v[0].len, 50);
    rcv_nxt = 150;
    cr_assert_eq(take_all(&r, &rcv_nxt, buf, sizeof(buf), &fin), 150);
    cr_assert_eq(rcv_nxt, 300);
    expect_bytes(buf, 150, 150, 200, 300);
    finish(&r);
}

Test(tcp_reass, overlap_on_right_keeps_held_bytes)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;
    uint8_t buf[256];

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, seg(200, 100, OLD), false), 100);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 250, seg(250, 100, NEW), false), 50);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.v[1].seq, 300);
    cr_assert_eq(r.v[1].len, 50);
    rcv_nxt = 200;
    cr_assert_eq(take_all(&r, &rcv_nxt, buf, sizeof(buf), &fin), 150);
    cr_assert_eq(rcv_nxt, 350);
    expect_bytes(buf, 200, 150, 200, 300);
    finish(&r);
}

Test(tcp_reass, exact_duplicate_stores_nothing_and_frees_it)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;
    unsigned before;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, seg(200, 100, OLD), false), 100);
    before = t_pool_avail();
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, seg(200, 100, NEW), false), 0);
    cr_assert_eq(t_pool_avail(), before);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.bytes, 100);
    rcv_nxt = 200;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 200, 100, 200, 300);
    finish(&r);
}

Test(tcp_reass, segment_inside_held_one_is_a_duplicate)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 100, OLD), false), 100);
    cr_assert_eq(tcp_reass_insert(&r, 100, 220, seg(220, 20, NEW), false), 0);
    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 1, NEW), false), 0);
    cr_assert_eq(tcp_reass_insert(&r, 100, 299, seg(299, 1, NEW), false), 0);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.bytes, 100);
    finish(&r);
}

Test(tcp_reass, segment_spanning_two_held_fills_only_the_gap_between)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, 100, 240, seg(240, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, 100, 210, seg(210, 40, NEW), false), 20);
    cr_assert_eq(r.n, 3);
    cr_assert_eq(r.v[1].seq, 220);
    cr_assert_eq(r.v[1].len, 20);
    cr_assert_eq(r.bytes, 60);
    finish(&r);
}

Test(tcp_reass, segment_covering_several_held_fills_every_gap_and_keeps_held_bytes)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;
    uint8_t buf[256];

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, seg(200, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 240, seg(240, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 280, seg(280, 20, OLD), false), 20);
    /* [190, 310): gaps [190,200) [220,240) [260,280) [300,310) = 60 new */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 190, seg(190, 120, NEW), false), 60);
    cr_assert_eq(r.n, 7);
    cr_assert_eq(r.bytes, 120);
    const uint32_t want_seq[7] = {190, 200, 220, 240, 260, 280, 300};
    for (unsigned i = 0; i < 7; i++) {
        cr_assert_eq(r.v[i].seq, want_seq[i]);
        cr_assert_eq(r.v[i].len, rte_pktmbuf_pkt_len(r.v[i].m));
    }
    expect_blocks(&r, 4, 1, (const struct tcp_sack_block[]){{190, 310}});
    rcv_nxt = 190;
    cr_assert_eq(take_all(&r, &rcv_nxt, buf, sizeof(buf), &fin), 120);
    cr_assert_eq(rcv_nxt, 310);
    for (uint32_t i = 0; i < 120; i++) {
        uint32_t s = 190 + i;
        bool held = (s >= 200 && s < 220) || (s >= 240 && s < 260) || (s >= 280 && s < 300);
        cr_assert_eq(buf[i], byte_at(s, held ? OLD : NEW), "byte at seq %u", s);
    }
    finish(&r);
}

Test(tcp_reass, covering_segment_with_pool_dry_still_stores_its_last_gap)
{
    struct tcp_reass r = mkq(8);
    struct rte_mbuf *m = seg(190, 120, NEW);
    unsigned cap = t_pool_avail(), k = 0;
    struct rte_mbuf **hog = calloc(cap + 1, sizeof(*hog));

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, 100, 240, seg(240, 20, OLD), false), 20);
    cr_assert_not_null(hog);
    while (k <= cap && (hog[k] = rte_pktmbuf_alloc(g_rt.pool)) != NULL)
        k++;
    /* no mbuf for a clone: only the last gap, [260, 310), needs none */
    cr_assert_eq(tcp_reass_insert(&r, 100, 190, m, false), 50);
    cr_assert_eq(r.n, 3);
    cr_assert_eq(r.v[2].seq, 260);
    cr_assert_eq(r.v[2].len, 50);
    while (k > 0)
        rte_pktmbuf_free(hog[--k]);
    free(hog);
    expect_blocks(&r, 4, 2, (const struct tcp_sack_block[]){{240, 310}, {200, 220}});
    finish(&r);
}

/* ---- the bound ---- */

Test(tcp_reass, full_queue_refuses_new_bytes_with_enospc_and_frees_them)
{
    struct tcp_reass r = mkq(2);
    unsigned before;

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 300, seg(300, 10, OLD), false), 10);
    before = t_pool_avail();
    cr_assert_eq(tcp_reass_insert(&r, 100, 400, seg(400, 10, NEW), false), -ENOSPC);
    /* new bytes next to a held segment still need a slot of their own */
    cr_assert_eq(tcp_reass_insert(&r, 100, 205, seg(205, 10, NEW), false), -ENOSPC);
    cr_assert_eq(t_pool_avail(), before);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.bytes, 20);
    /* a duplicate needs no slot */
    cr_assert_eq(tcp_reass_insert(&r, 100, 300, seg(300, 10, NEW), false), 0);
    finish(&r);
}

Test(tcp_reass, covering_segment_needing_more_slots_than_free_gets_enospc_and_changes_nothing)
{
    struct tcp_reass r = mkq(5);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, seg(200, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 240, seg(240, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 280, seg(280, 20, OLD), false), 20);
    /* 4 gaps, 2 slots free; with FIN: the FIN is dropped with it */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 190, seg(190, 120, NEW), true), -ENOSPC);
    cr_assert_eq(r.n, 3);
    cr_assert_eq(r.bytes, 60);
    cr_assert_not(r.fin);
    /* 2 gaps fit */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 210, seg(210, 70, NEW), false), 40);
    cr_assert_eq(r.n, 5);
    rcv_nxt = 200;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 200, 20, 200, 220);
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 220, 20, 0, 0);
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 240, 20, 240, 260);
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 260, 20, 0, 0);
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 280, 20, 280, 300);
    cr_assert_eq(rcv_nxt, 300);
    finish(&r);
}

Test(tcp_reass, single_slot_queue_holds_one_segment)
{
    struct tcp_reass r = mkq(1);

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 150, seg(150, 10, NEW), false), -ENOSPC);
    cr_assert_eq(r.n, 1);
    finish(&r);
}

/* ---- FIN ---- */

Test(tcp_reass, fin_before_data_completes_is_reported_after_the_last_byte)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 120, seg(120, 10, OLD), true), 10);
    cr_assert(r.fin);
    cr_assert_eq(r.fin_seq, 130);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 5, OLD), false), 5);
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert_not(fin);
    rcv_nxt = 110;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 110, 5, 110, 115);
    cr_assert_not(fin); /* [115, 120) still missing */
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert_not(fin);
    cr_assert_not(tcp_reass_empty(&r));
    rcv_nxt = 120;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 120, 10, 120, 130);
    cr_assert(fin);
    cr_assert_eq(rcv_nxt, 130);
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert(fin); /* never cleared */
    cr_assert(tcp_reass_empty(&r));
    finish(&r);
}

Test(tcp_reass, fin_only_segment_returns_zero_and_records_fin)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 150, seg(150, 0, OLD), true), 0);
    cr_assert(r.fin);
    cr_assert_eq(r.fin_seq, 150);
    cr_assert_not(tcp_reass_empty(&r));
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert_not(fin);
    rcv_nxt = 150;
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert(fin);
    cr_assert_eq(rcv_nxt, 150); /* the caller steps over the FIN */
    cr_assert(tcp_reass_empty(&r));
    finish(&r);
}

Test(tcp_reass, bytes_past_a_recorded_fin_are_not_stored)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 120, seg(120, 0, OLD), true), 0);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 20, NEW), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 125, seg(125, 5, NEW), false), 0);
    rcv_nxt = 110;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 110, 10, 0, 0);
    cr_assert(fin);
    cr_assert(tcp_reass_empty(&r));
    finish(&r);
}

Test(tcp_reass, fin_below_held_bytes_is_ignored)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 130, seg(130, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 110, seg(110, 10, NEW), true), 10);
    cr_assert_not(r.fin);
    finish(&r);
}

Test(tcp_reass, second_fin_at_another_place_is_ignored)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 150, seg(150, 0, OLD), true), 0);
    cr_assert_eq(tcp_reass_insert(&r, 100, 160, seg(160, 0, NEW), true), 0);
    cr_assert(r.fin);
    cr_assert_eq(r.fin_seq, 150);
    finish(&r);
}

Test(tcp_reass, fin_the_caller_went_past_is_forgotten)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 150, seg(150, 0, OLD), true), 0);
    rcv_nxt = 151; /* an in-order segment carried the FIN too */
    cr_assert_null(tcp_reass_take(&r, &rcv_nxt, &fin));
    cr_assert_not(fin);
    cr_assert(tcp_reass_empty(&r));
    finish(&r);
}

/* ---- chained mbufs ---- */

Test(tcp_reass, chain_trimmed_at_front_past_its_first_segment)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 190, seg(190, 25, OLD), false), 25);
    /* [200, 230) in 3 x 10: the first 15 bytes are held */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, chain(200, 10, 3, NEW), false), 15);
    struct rte_mbuf *m = r.v[1].m;
    cr_assert_eq(r.v[1].seq, 215);
    cr_assert_eq(m->nb_segs, 2);
    cr_assert_eq(m->pkt_len, 15);
    cr_assert_eq(m->data_len, 5);
    rcv_nxt = 190;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 190, 25, 190, 215);
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 215, 15, 0, 0);
    cr_assert_eq(rcv_nxt, 230);
    finish(&r);
}

Test(tcp_reass, chain_trimmed_at_back_past_its_last_segment)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 185, seg(185, 20, OLD), false), 20);
    /* [170, 200) in 3 x 10: the last 15 bytes are held */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 170, chain(170, 10, 3, NEW), false), 15);
    struct rte_mbuf *m = r.v[0].m;
    cr_assert_eq(m->nb_segs, 2);
    cr_assert_eq(m->pkt_len, 15);
    cr_assert_null(m->next->next);
    cr_assert_eq(m->next->data_len, 5);
    rcv_nxt = 170;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 170, 15, 0, 0);
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 185, 20, 185, 205);
    finish(&r);
}

Test(tcp_reass, chain_trimmed_at_back_by_exactly_its_last_segment)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 190, seg(190, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 170, chain(170, 10, 3, NEW), false), 20);
    cr_assert_eq(r.v[0].m->nb_segs, 2); /* no empty segment left behind */
    cr_assert_null(r.v[0].m->next->next);
    cr_assert_eq(r.v[0].m->next->data_len, 10);
    rcv_nxt = 170;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 170, 20, 0, 0);
    finish(&r);
}

Test(tcp_reass, chain_trimmed_at_back_inside_its_last_segment)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 195, seg(195, 20, OLD), false), 20);
    cr_assert_eq(tcp_reass_insert(&r, 100, 170, chain(170, 10, 3, NEW), false), 25);
    cr_assert_eq(r.v[0].m->nb_segs, 3);
    cr_assert_eq(r.v[0].m->pkt_len, 25);
    cr_assert_eq(rte_pktmbuf_lastseg(r.v[0].m)->data_len, 5);
    finish(&r);
}

Test(tcp_reass, chain_covering_held_segments_is_split_around_them)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;
    uint8_t buf[128];

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 212, seg(212, 6, OLD), false), 6);
    /* [200, 240) in 4 x 10 around [212, 218) */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 200, chain(200, 10, 4, NEW), false), 34);
    cr_assert_eq(r.n, 3);
    cr_assert_eq(r.v[0].len, 12);
    cr_assert_eq(r.v[2].seq, 218);
    cr_assert_eq(r.v[2].len, 22);
    rcv_nxt = 200;
    cr_assert_eq(take_all(&r, &rcv_nxt, buf, sizeof(buf), &fin), 40);
    expect_bytes(buf, 200, 40, 212, 218);
    finish(&r);
}

Test(tcp_reass, take_trims_a_chain_past_its_first_segment)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, chain(110, 10, 3, OLD), false), 30);
    rcv_nxt = 125;
    struct rte_mbuf *m = tcp_reass_take(&r, &rcv_nxt, &fin);
    cr_assert_not_null(m);
    cr_assert_eq(m->nb_segs, 2);
    expect_mbuf(m, 125, 15, 110, 140);
    cr_assert_eq(rcv_nxt, 140);
    finish(&r);
}

/* ---- wrap-around at 2^32 ---- */

Test(tcp_reass, segments_across_2_32_sort_trim_and_come_out_in_order)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 0xfffffff0u;
    bool fin = false;
    uint8_t buf[64];

    /* [2^32 - 8, 2^32 + 8) held, then [2^32 + 4, 2^32 + 20) overlaps its right */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 0xfffffff8u, seg(0xfffffff8u, 16, OLD), false), 16);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 4, seg(4, 16, NEW), false), 12);
    /* [2^32 - 12, 2^32 - 4) overlaps its left */
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 0xfffffff4u, seg(0xfffffff4u, 8, NEW), true), 4);
    cr_assert_not(r.fin); /* held bytes lie beyond that FIN */
    cr_assert_eq(r.v[0].seq, 0xfffffff4u);
    cr_assert_eq(r.v[1].seq, 0xfffffff8u);
    cr_assert_eq(r.v[2].seq, 8);
    expect_blocks(&r, 4, 1, (const struct tcp_sack_block[]){{0xfffffff4u, 20}});
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 20, seg(20, 0, NEW), true), 0);
    cr_assert(r.fin);
    rcv_nxt = 0xfffffff4u;
    cr_assert_eq(take_all(&r, &rcv_nxt, buf, sizeof(buf), &fin), 32);
    cr_assert_eq(rcv_nxt, 20);
    cr_assert(fin);
    expect_bytes(buf, 0xfffffff4u, 32, 0xfffffff8u, 8);
    finish(&r);
}

Test(tcp_reass, take_across_2_32_trims_below_wrapped_rcv_nxt)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 0xfffffff0u;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 0xfffffffcu, seg(0xfffffffcu, 10, OLD), false), 10);
    rcv_nxt = 2;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 2, 4, 0xfffffffcu, 6);
    cr_assert_eq(rcv_nxt, 6);
    finish(&r);
}

/* ---- SACK blocks (RFC 2018 §4) ---- */

Test(tcp_reass, sack_blocks_are_most_recent_first)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 300, seg(300, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 400, seg(400, 10, OLD), false), 10);
    expect_blocks(&r, 4, 3, (const struct tcp_sack_block[]){{400, 410}, {300, 310}, {200, 210}});
    /* extending the oldest block makes it the newest */
    cr_assert_eq(tcp_reass_insert(&r, 100, 210, seg(210, 10, OLD), false), 10);
    expect_blocks(&r, 4, 3, (const struct tcp_sack_block[]){{200, 220}, {400, 410}, {300, 310}});
    finish(&r);
}

Test(tcp_reass, sack_reports_at_most_max_blocks_newest_kept)
{
    struct tcp_reass r = mkq(8);

    for (uint32_t s = 200; s < 700; s += 100)
        cr_assert_eq(tcp_reass_insert(&r, 100, s, seg(s, 10, OLD), false), 10);
    expect_blocks(&r, 3, 3, (const struct tcp_sack_block[]){{600, 610}, {500, 510}, {400, 410}});
    expect_blocks(&r, 1, 1, (const struct tcp_sack_block[]){{600, 610}});
    cr_assert_eq(tcp_reass_sack(&r, NULL, 0), 0);
    finish(&r);
}

Test(tcp_reass, sack_block_joins_adjacent_segments)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 220, seg(220, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 300, seg(300, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 210, seg(210, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 230, seg(230, 10, OLD), false), 10);
    cr_assert_eq(r.n, 4);
    expect_blocks(&r, 4, 2, (const struct tcp_sack_block[]){{210, 240}, {300, 310}});
    finish(&r);
}

Test(tcp_reass, duplicate_makes_its_block_first_again)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 300, seg(300, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, 100, 200, seg(200, 10, NEW), false), 0);
    expect_blocks(&r, 4, 2, (const struct tcp_sack_block[]){{200, 210}, {300, 310}});
    finish(&r);
}

Test(tcp_reass, sack_after_take_reports_only_what_is_left)
{
    struct tcp_reass r = mkq(8);
    uint32_t rcv_nxt = 100;
    bool fin = false;

    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 110, seg(110, 10, OLD), false), 10);
    cr_assert_eq(tcp_reass_insert(&r, rcv_nxt, 130, seg(130, 10, OLD), false), 10);
    rcv_nxt = 110;
    expect_mbuf(tcp_reass_take(&r, &rcv_nxt, &fin), 110, 10, 110, 120);
    expect_blocks(&r, 4, 1, (const struct tcp_sack_block[]){{130, 140}});
    finish(&r);
}

/* ---- teardown ---- */

Test(tcp_reass, free_returns_every_held_mbuf_and_allows_reinit)
{
    struct tcp_reass r = mkq(8);

    cr_assert_eq(tcp_reass_insert(&r, 100, 200, chain(200, 10, 3, OLD), false), 30);
    cr_assert_eq(tcp_reass_insert(&r, 100, 300, seg(300, 10, OLD), true), 10);
    tcp_reass_free(&r);
    cr_assert_eq(t_pool_avail(), avail0);
    cr_assert_eq(tcp_reass_init(&r, 4), 0);
    cr_assert(tcp_reass_empty(&r));
    cr_assert_eq(r.max_segs, 4);
    finish(&r);
}
