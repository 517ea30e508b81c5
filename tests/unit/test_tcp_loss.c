/*
 * test_tcp_loss.c - the sender's loss detection, one stack against crafted
 * ACKs with SACK (no timestamps, no window scale), exact segments out:
 *   - a SACK ACK counts as a duplicate even when the window moves (RFC
 *     6675 §2; Linux's window grows with nearly every ACK while it
 *     autotunes, so RFC 5681's "same window" alone counted none);
 *   - recovery at once when IsLost(snd_una) (RFC 6675 §5 step 2);
 *   - early retransmit for a flight of fewer than four segments (RFC 5827);
 *   - the tail loss probe before the RTO (RFC 8985 §7);
 *   - a lost retransmission sent again an RTT later, not at the RTO: at
 *     snd_una, of a hole above it, and seen on an ACK that is no duplicate;
 *   - no second copy of a hole on a partial ACK while its retransmission
 *     is in flight;
 *   - snd_una lost by time (RFC 8985 §6.2) when too few duplicates come,
 *     on an ACK and at the probe timeout;
 *   - the end of a probe's episode (§7.4): cwnd cut when the probe
 *     repaired a loss, not when a D-SACK shows it was a copy.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "harness.h"
#include "tcp_conn.h"
#include "tcp_harness.h"
#include "tcp_options.h"

#define MS ST_NS_PER_MS
#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG

#define PEER_PORT 40001
#define OUR_PORT 81
#define PEER_ISN 5000u
#define SEG 1460u /* our segments: MSS 1460, no options on data segments */

struct lx {
    struct stack *s;
    struct netdev *dev;
    unsigned pool;
    struct tcp_conn *l, *c;
    uint64_t now;
    uint32_t una; /* our first unacknowledged byte, as the peer sees it */
    uint8_t frame[2048];
    uint8_t opts[40];
};

static struct st_tcp_seg lx_take(struct lx *f)
{
    static uint8_t buf[2048];
    struct st_tcp_seg out;
    size_t n = st_take(f->dev, buf, sizeof(buf));

    st_tcp_parse(buf, n, &out);
    return out;
}

/* An ACK from the peer of our byte ack, window wnd, with nblk SACK blocks
 * given as [left, right) offsets from una in segments. */
static void lx_ack(struct lx *f, uint32_t ack, uint16_t wnd, unsigned nblk, const unsigned (*blk)[2])
{
    struct st_tcp_seg sg = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = PEER_ISN + 1, .ack = ack,
                            .flags = ACK, .wnd = wnd};
    size_t n;

    if (nblk > 0) {
        f->opts[0] = 1;
        f->opts[1] = 1;
        f->opts[2] = 5;
        f->opts[3] = (uint8_t)(2 + 8 * nblk);
        for (unsigned i = 0; i < nblk; i++) {
            uint32_t l = rte_cpu_to_be_32(f->una + blk[i][0] * SEG), r = rte_cpu_to_be_32(f->una + blk[i][1] * SEG);
            memcpy(f->opts + 4 + 8 * i, &l, 4);
            memcpy(f->opts + 8 + 8 * i, &r, 4);
        }
        sg.opts = f->opts;
        sg.optlen = 4 + 8 * nblk;
    }
    n = st_tcp(f->frame, &sg);
    st_inject(f->s, f->dev, f->frame, n, f->now);
}

/* Queues segs full segments and takes them off the wire, checking their
 * sequence numbers. */
static void lx_push(struct lx *f, unsigned segs, uint32_t first)
{
    static uint8_t data[SEG];

    memset(data, 'x', sizeof(data));
    for (unsigned i = 0; i < segs; i++)
        cr_assert_eq(tcp_send(f->c, st_mbuf(data, SEG), f->now), 0);
    for (unsigned i = 0; i < segs; i++) {
        struct st_tcp_seg d = lx_take(f);
        cr_assert_eq(d.seq, first + i * SEG, "segment %u at %u", i, d.seq - first);
        cr_assert_eq(d.len, SEG);
    }
    st_expect_no_tx(f->dev);
}

/* An established connection with SACK and MSS 1460 (no timestamps or
 * window scale), and one RTT sample of 1 ms: a segment pushed and
 * acknowledged 1 ms later. */
static void lx_init(struct lx *f)
{
    static const uint8_t syn_opts[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2}; /* MSS 1460, SACK-permitted */
    memset(f, 0, sizeof(*f));
    f->s = st_create_with_peer(&f->dev);
    f->pool = t_pool_avail();
    f->now = 1000 * MS;
    cr_assert_eq(tcp_open(f->s, NULL, NULL, &f->l), 0);
    cr_assert_eq(tcp_bind(f->l, 0, RTE_BE16(OUR_PORT)), 0);
    cr_assert_eq(tcp_listen(f->l, 8), 0);

    struct st_tcp_seg syn = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = PEER_ISN, .flags = SYN, .wnd = 65535,
                             .opts = syn_opts, .optlen = sizeof(syn_opts)};
    st_inject(f->s, f->dev, f->frame, st_tcp(f->frame, &syn), f->now);
    struct st_tcp_seg sa = lx_take(f);
    cr_assert_eq(sa.flags, SYN | ACK);
    f->una = sa.seq + 1;
    lx_ack(f, f->una, 65535, 0, NULL);
    cr_assert_eq(tcp_accept(f->l, &f->c), 0);
    cr_assert_eq(tcp_conn_state(f->c), TCPS_ESTABLISHED);

    lx_push(f, 1, f->una);
    f->now += MS;
    f->una += SEG;
    lx_ack(f, f->una, 65535, 0, NULL);
    st_expect_no_tx(f->dev);
}

static void lx_finish(struct lx *f)
{
    st_close_and_finish(f->s, f->dev, f->pool, f->now, f->c, f->l);
}

#define CTR(f, name) ST_CTR((f)->s, name)

/* The ACK of all segs segments from una ends recovery: nothing more goes,
 * and no RTO ever fired. Then the connection is closed and checked. */
static void ack_all_and_finish(struct lx *f, unsigned segs)
{
    lx_ack(f, f->una + segs * SEG, 65535, 0, NULL);
    st_expect_no_tx(f->dev);
    cr_assert_eq(CTR(f, tcp_rto_expiries), 0);
    lx_finish(f);
}

/* The next frame is a retransmission of the segment at una + seg segments. */
static void expect_rexmit(struct lx *f, unsigned seg, const char *why)
{
    struct st_tcp_seg r = lx_take(f);

    cr_assert_eq(r.seq, f->una + seg * SEG, "%s: seq at +%d", why, (int)(r.seq - f->una));
    cr_assert_eq(r.len, SEG, "%s", why);
}

Test(tcp_loss, sack_dupacks_with_a_growing_window_start_fast_retransmit)
{
    struct lx f;
    static const unsigned b1[][2] = {{1, 2}}, b2[][2] = {{1, 3}}, b3[][2] = {{1, 4}};

    lx_init(&f);
    lx_push(&f, 6, f.una);
    /* segment 0 lost; 1, 2, 3 arrive, each ACK with a larger window */
    lx_ack(&f, f.una, 60000, 1, b1);
    lx_ack(&f, f.una, 60100, 1, b2);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 0);
    lx_ack(&f, f.una, 60200, 1, b3);
    expect_rexmit(&f, 0, "third duplicate");
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 1);
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    lx_finish(&f);
}

Test(tcp_loss, a_window_update_without_sack_is_not_a_duplicate)
{
    struct lx f;

    lx_init(&f);
    lx_push(&f, 6, f.una);
    /* RFC 5681 §2 (e): no new SACK information and a new window */
    lx_ack(&f, f.una, 60000, 0, NULL);
    lx_ack(&f, f.una, 60100, 0, NULL);
    lx_ack(&f, f.una, 60200, 0, NULL);
    lx_ack(&f, f.una, 60300, 0, NULL);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 0);
    lx_finish(&f);
}

Test(tcp_loss, one_ack_sacking_three_segments_starts_recovery_at_once)
{
    struct lx f;
    static const unsigned b[][2] = {{1, 4}};

    lx_init(&f);
    lx_push(&f, 6, f.una);
    /* one ACK (the others were lost) reports three segments above the
     * hole: IsLost(snd_una) holds after one duplicate */
    lx_ack(&f, f.una, 65535, 1, b);
    expect_rexmit(&f, 0, "IsLost(HighACK + 1)");
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 1);
    lx_finish(&f);
}

Test(tcp_loss, early_retransmit_with_two_segments_in_flight)
{
    struct lx f;
    static const unsigned b[][2] = {{1, 2}};

    lx_init(&f);
    lx_push(&f, 2, f.una);
    /* the first of two is lost, nothing more to send: one duplicate is
     * all that can come (RFC 5827 ER_thresh = oseg - 1 = 1) */
    lx_ack(&f, f.una, 65535, 1, b);
    expect_rexmit(&f, 0, "early retransmit");
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 1);
    lx_finish(&f);
}

Test(tcp_loss, no_early_retransmit_while_new_data_may_go)
{
    struct lx f;
    static const unsigned b[][2] = {{1, 2}};
    static uint8_t more[SEG];

    lx_init(&f);
    lx_push(&f, 2, f.una);
    /* a third segment is queued but the peer's window (2 segments) holds it */
    lx_ack(&f, f.una, 2 * SEG, 0, NULL);
    cr_assert_eq(tcp_send(f.c, st_mbuf(more, sizeof(more)), f.now), 0);
    st_expect_no_tx(f.dev);
    /* the window opens with the duplicate: limited transmit sends the new
     * segment, and there is no early retransmit (new data could go) */
    lx_ack(&f, f.una, 3 * SEG, 1, b);
    struct st_tcp_seg n = lx_take(&f);
    cr_assert_eq(n.seq, f.una + 2 * SEG, "the new segment, not a retransmission (+%d len %zu)", (int)(n.seq - f.una),
                 n.len);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 0);
    lx_finish(&f);
}

Test(tcp_loss, tail_loss_probe_resends_the_last_segment_before_the_rto)
{
    struct lx f;
    uint64_t sent;

    lx_init(&f);
    sent = f.now;
    lx_push(&f, 3, f.una);
    /* no ACK at all: PTO = 2 * SRTT + 2 ms = 4 ms after the last send */
    st_poll(f.s, sent + 3 * MS);
    st_expect_no_tx(f.dev);
    st_poll(f.s, sent + 5 * MS);
    expect_rexmit(&f, 2, "the probe is the last segment");
    cr_assert_eq(CTR(&f, tcp_tlp_probes), 1);
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    /* then the RTO (200 ms) from the probe, not another probe */
    st_poll(f.s, sent + 150 * MS);
    st_expect_no_tx(f.dev);
    st_poll(f.s, sent + 215 * MS);
    expect_rexmit(&f, 0, "the RTO goes back to snd_una");
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 1);
    cr_assert_eq(CTR(&f, tcp_tlp_probes), 1);
    f.now = sent + 215 * MS;
    lx_finish(&f);
}

Test(tcp_loss, probe_answered_by_an_ack_of_everything_needs_no_rto)
{
    struct lx f;
    uint64_t sent;

    lx_init(&f);
    sent = f.now;
    lx_push(&f, 3, f.una);
    st_poll(f.s, sent + 5 * MS);
    expect_rexmit(&f, 2, "probe");
    /* the ACK of all three had been lost; the probe's ACK covers them */
    f.now = sent + 6 * MS;
    lx_ack(&f, f.una + 3 * SEG, 65535, 0, NULL);
    st_poll(f.s, sent + 1000 * MS);
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    f.now = sent + 1000 * MS;
    lx_finish(&f);
}

Test(tcp_loss, lost_retransmission_is_sent_again_after_an_rtt)
{
    struct lx f;
    static const unsigned b3[][2] = {{1, 4}}, b4[][2] = {{1, 5}}, b5[][2] = {{1, 6}};
    uint64_t t0;

    lx_init(&f);
    lx_push(&f, 6, f.una);
    t0 = f.now;
    lx_ack(&f, f.una, 65535, 1, b3);
    expect_rexmit(&f, 0, "fast retransmit");
    /* a duplicate soon after (for data sent before the retransmission):
     * nothing */
    f.now = t0 + MS / 2;
    lx_ack(&f, f.una, 65535, 1, b4);
    st_expect_no_tx(f.dev);
    /* one 3 ms later (SRTT 1 ms) still does not cover snd_una: the
     * retransmission was lost */
    f.now = t0 + 3 * MS;
    lx_ack(&f, f.una, 65535, 1, b5);
    expect_rexmit(&f, 0, "the lost retransmission again");
    cr_assert_eq(CTR(&f, tcp_lost_retransmits), 1);
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    /* and its ACK ends recovery */
    ack_all_and_finish(&f, 6);
}

Test(tcp_loss, loss_of_the_first_segment_after_a_recovery_starts_another)
{
    struct lx f;
    static const unsigned b[][2] = {{1, 4}}, b1[][2] = {{1, 2}};

    lx_init(&f);
    lx_push(&f, 6, f.una);
    lx_ack(&f, f.una, 65535, 1, b);
    expect_rexmit(&f, 0, "first recovery");
    /* the full ACK ends it: snd_una is exactly the recovery point */
    f.una += 6 * SEG;
    lx_ack(&f, f.una, 65535, 0, NULL);
    st_expect_no_tx(f.dev);
    /* the first segment sent after it is lost too: RFC 6675 allows a new
     * recovery once HighACK >= RecoveryPoint (NewReno's "more than
     * recover" would wait for the RTO). cwnd after the full ACK is
     * FlightSize (0) + SMSS rounded up to 2 SMSS (RFC 6582 §3.2 step 3),
     * so two go and the second is sacked: early retransmit */
    lx_push(&f, 2, f.una);
    lx_ack(&f, f.una, 65535, 1, b1);
    expect_rexmit(&f, 0, "second recovery");
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 2);
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    lx_finish(&f);
}

/* Segments 0 and 2 of 8 are lost; the ACK that sacks 1 and 3..5 starts
 * recovery: 0 by fast retransmit, then 2 by NextSeg. */
static uint64_t lose_two_of_eight(struct lx *f)
{
    static const unsigned b[][2] = {{1, 2}, {3, 6}};

    lx_push(f, 8, f->una);
    lx_ack(f, f->una, 65535, 2, b);
    expect_rexmit(f, 0, "fast retransmit");
    expect_rexmit(f, 2, "NextSeg: the second hole");
    st_expect_no_tx(f->dev);
    return f->now;
}

Test(tcp_loss, lost_retransmission_of_a_hole_above_snd_una_is_sent_again)
{
    struct lx f;
    static const unsigned b7[][2] = {{1, 2}, {3, 7}}, b8[][2] = {{1, 2}, {3, 8}};
    uint64_t t0;

    lx_init(&f);
    t0 = lose_two_of_eight(&f);
    /* soon after: for data sent before the retransmissions */
    f.now = t0 + MS / 2;
    lx_ack(&f, f.una, 65535, 2, b7);
    st_expect_no_tx(f.dev);
    /* an RTT and more later (SRTT 1 ms) both holes are still holes: both
     * retransmissions were lost, and both go again, not at the RTO */
    f.now = t0 + 3 * MS;
    lx_ack(&f, f.una, 65535, 2, b8);
    expect_rexmit(&f, 0, "snd_una again");
    expect_rexmit(&f, 2, "the hole above snd_una again");
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_lost_retransmits), 1, "one detection");
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    ack_all_and_finish(&f, 8);
}

Test(tcp_loss, partial_ack_does_not_resend_a_hole_whose_retransmission_is_in_flight)
{
    struct lx f;
    static const unsigned b5[][2] = {{3, 6}}, b7[][2] = {{3, 8}};
    uint64_t t0;

    lx_init(&f);
    t0 = lose_two_of_eight(&f);
    /* the retransmission of 0 arrives: a partial ACK up to the hole at 2,
     * whose retransmission went at the same time and may still come.
     * NewReno would resend 2 here; SACK recovery waits */
    f.now = t0 + MS / 2;
    lx_ack(&f, f.una + 2 * SEG, 65535, 1, b5);
    st_expect_no_tx(f.dev);
    /* it does not come within an RTT: now it goes again */
    f.now = t0 + 3 * MS;
    lx_ack(&f, f.una + 2 * SEG, 65535, 1, b7);
    expect_rexmit(&f, 2, "the lost retransmission of 2");
    st_expect_no_tx(f.dev);
    cr_assert_eq(CTR(&f, tcp_lost_retransmits), 1);
    ack_all_and_finish(&f, 8);
}

/* cwnd cut to two segments, then segs queued: two go out (0 and 1). */
static void lx_push_cwnd_limited(struct lx *f, unsigned segs)
{
    static uint8_t data[SEG];

    memset(data, 'y', sizeof(data));
    f->c->cc.cwnd = 2 * SEG;
    for (unsigned i = 0; i < segs; i++)
        cr_assert_eq(tcp_send(f->c, st_mbuf(data, SEG), f->now), 0);
    expect_rexmit(f, 0, "first of the flight"); /* (a first send: same check) */
    expect_rexmit(f, 1, "second of the flight");
    st_expect_no_tx(f->dev);
}

Test(tcp_loss, first_segment_lost_by_time_with_too_few_duplicates)
{
    struct lx f;
    static const unsigned b2[][2] = {{1, 2}}, b3[][2] = {{1, 3}};
    uint64_t t0;

    lx_init(&f);
    lx_push_cwnd_limited(&f, 4);
    /* 1 arrives, 0 does not: one duplicate, limited transmit sends 2 */
    t0 = f.now;
    lx_ack(&f, f.una, 65535, 1, b2);
    expect_rexmit(&f, 2, "limited transmit (new data)");
    st_expect_no_tx(f.dev);
    /* the second duplicate, 3 ms later (SRTT 1 ms): data sent after 0 was
     * reported long enough ago; 0 is lost, though three duplicates can
     * never come (new data waits on cwnd, so no early retransmit either) */
    f.now = t0 + 3 * MS;
    lx_ack(&f, f.una, 65535, 1, b3);
    expect_rexmit(&f, 0, "snd_una, lost by time");
    cr_assert_eq(CTR(&f, tcp_loss_by_time), 1);
    cr_assert_eq(CTR(&f, tcp_fast_retransmits), 1);
    st_drain_tx(f.dev);
    lx_finish(&f);
}

Test(tcp_loss, probe_timer_repairs_a_known_loss_instead_of_probing)
{
    struct lx f;
    static const unsigned b2[][2] = {{1, 2}};
    uint64_t t0;

    lx_init(&f);
    lx_push_cwnd_limited(&f, 3);
    t0 = f.now;
    lx_ack(&f, f.una, 65535, 1, b2);
    expect_rexmit(&f, 2, "limited transmit (new data)");
    /* the ACK of 2 is lost: nothing more comes. The probe timeout (2 SRTT
     * + 2 ms) finds 0 lost by time: it goes, not a probe of 2 */
    st_poll(f.s, t0 + 3 * MS);
    st_expect_no_tx(f.dev);
    st_poll(f.s, t0 + 5 * MS);
    expect_rexmit(&f, 0, "snd_una, lost by time");
    cr_assert_eq(CTR(&f, tcp_tlp_probes), 0);
    cr_assert_eq(CTR(&f, tcp_loss_by_time), 1);
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    f.now = t0 + 5 * MS;
    st_drain_tx(f.dev);
    lx_finish(&f);
}

Test(tcp_loss, an_ack_that_is_no_duplicate_still_shows_a_lost_retransmission)
{
    struct lx f;
    static const unsigned b3[][2] = {{1, 4}};
    uint64_t t0;

    lx_init(&f);
    lx_push(&f, 6, f.una);
    t0 = f.now;
    lx_ack(&f, f.una, 65535, 1, b3);
    expect_rexmit(&f, 0, "fast retransmit");
    /* 3 ms later an ACK with nothing new sacked and another window (the
     * answer to a probe, or the peer's window moving): no duplicate, yet
     * as late as one - the retransmission was lost */
    f.now = t0 + 3 * MS;
    lx_ack(&f, f.una, 60000, 1, b3);
    expect_rexmit(&f, 0, "the lost retransmission again");
    cr_assert_eq(CTR(&f, tcp_lost_retransmits), 1);
    ack_all_and_finish(&f, 6);
}

/* Three segments, no ACK: the probe re-sends the last one (2). */
static uint64_t probe_after_three(struct lx *f)
{
    uint64_t sent = f->now;

    lx_push(f, 3, f->una);
    st_poll(f->s, sent + 5 * MS);
    expect_rexmit(f, 2, "the loss probe");
    f->now = sent + 6 * MS;
    return sent;
}

/* After the probe's episode ended with the ACK at f->una + 3 segments, one
 * more segment goes and is acknowledged: the ACK beyond tlp_end. */
static void one_more_acked(struct lx *f)
{
    lx_push(f, 1, f->una + 3 * SEG);
    lx_ack(f, f->una + 4 * SEG, 65535, 0, NULL);
}

Test(tcp_loss, a_probe_that_repaired_a_loss_reduces_cwnd)
{
    struct lx f;
    uint32_t before;

    lx_init(&f);
    before = f.c->cc.cwnd;
    probe_after_three(&f);
    /* 2 had been lost (and the ACK of 0 and 1): the probe's ACK covers all
     * three, no D-SACK - the original or the probe got there, not known */
    lx_ack(&f, f.una + 3 * SEG, 65535, 0, NULL);
    cr_assert_eq(CTR(&f, tcp_tlp_repairs), 0, "an ACK of exactly the probe's end decides nothing");
    cr_assert_geq(f.c->cc.cwnd, before);
    /* the next ACK brought no D-SACK of the probe either: it repaired a
     * loss, and cwnd takes the cut a fast recovery would (RFC 8985 §7.4.2;
     * CUBIC: 0.7 of the 3 segments in flight, at least 2 segments) */
    one_more_acked(&f);
    cr_assert_eq(CTR(&f, tcp_tlp_repairs), 1);
    cr_assert_eq(f.c->cc.ssthresh, 3 * SEG * 7 / 10, "ssthresh %u", f.c->cc.ssthresh);
    cr_assert_lt(f.c->cc.cwnd, before / 2, "cwnd %u (was %u)", f.c->cc.cwnd, before);
    cr_assert_eq(CTR(&f, tcp_rto_expiries), 0);
    lx_finish(&f);
}

Test(tcp_loss, a_probe_reported_as_a_copy_leaves_cwnd_alone)
{
    struct lx f;
    static const unsigned dsack[][2] = {{2, 3}}; /* the probe's bytes, below the ACK: a D-SACK */
    uint32_t before;

    lx_init(&f);
    before = f.c->cc.cwnd;
    probe_after_three(&f);
    /* all three had arrived (their ACK was lost): the probe comes back as
     * a D-SACK - nothing was lost */
    lx_ack(&f, f.una + 3 * SEG, 65535, 1, dsack);
    one_more_acked(&f);
    cr_assert_eq(CTR(&f, tcp_tlp_repairs), 0);
    cr_assert_geq(f.c->cc.cwnd, before, "cwnd %u (was %u)", f.c->cc.cwnd, before);
    lx_finish(&f);
}

/* A member of a process family killed in the middle of an ack's walk
 * leaves the send queue's byte count above what the queue holds: the next
 * ack empties the queue and stops there, the count back in agreement (it
 * spun for ever on the empty queue, holding the family's lock). */
Test(tcp_loss, an_ack_past_what_the_queue_holds_stops_at_the_empty_queue, .timeout = 10)
{
    struct tcp_pair p;
    struct tcp_conn *cli, *srv, *lst;

    tp_create(&p, NULL, NULL);
    tp_connect(&p, &cli, &srv, &lst);
    cr_assert_eq(tcp_send(cli, st_mbuf("hello", 5), p.now), 0);
    cr_assert_eq(cli->sndq.len, 1);
    uint32_t una = cli->sv.snd_una;
    cli->sndq_bytes += 100; /* what the killed process counted and never queued */
    cli->sv.snd_una = cli->sndq_seq + 105;
    tcp_sndq_ack(cli);
    cr_assert_eq(cli->sndq.len, 0, "the queued segment was acked and freed");
    cr_assert_eq(cli->sndq_bytes, 0, "the count agrees with the empty queue");
    cr_assert_eq(cli->sndq_head_off, 0);
    cli->sv.snd_una = una + 5; /* the peer's view: 5 bytes were sent */
    cli->sndq_seq = una + 5;
    tp_close_and_finish(&p, cli, srv, lst, 10 * MS);
}
