/* test_tcp_cc.c - congestion control (stack/tcp_cc.c): initial window,
 * slow start with ABC, congestion avoidance, limited transmit, fast
 * retransmit and NewReno recovery, RTO, idle restart, and CUBIC's curve,
 * K, Reno-friendly region and fast convergence, all against numbers
 * computed here from the RFC formulas. Sequence numbers start just below
 * 2^32 so that every test crosses the wrap. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcp_cc.h"

#define SMSS 1000u
#define MS 1000000ull
#define ISS 0xffff0000u

/* A sender: the congestion control plus the two sequence variables. */
struct conn {
    struct tcp_cc cc;
    uint32_t una, nxt;
};

static void conn_init(struct conn *c, enum tcp_cc_algo algo, uint32_t smss, uint32_t iw)
{
    tcp_cc_init(&c->cc, algo, smss, iw, 0);
    c->una = ISS;
    c->nxt = ISS;
}

static void conn_send(struct conn *c, uint32_t bytes)
{
    c->nxt += bytes;
}

static uint32_t conn_flight(const struct conn *c)
{
    return c->nxt - c->una;
}

/* An ACK of `bytes` new bytes at now, with srtt. */
static struct tcp_cc_ack_result conn_ack(struct conn *c, uint32_t bytes, uint64_t srtt, uint64_t now)
{
    uint32_t flight = conn_flight(c);
    c->una += bytes;
    return tcp_cc_on_ack(&c->cc, bytes, c->una, c->nxt, flight, srtt, now);
}

static enum tcp_cc_dup conn_dupack(struct conn *c)
{
    return tcp_cc_on_dupack(&c->cc, c->una, c->nxt, conn_flight(c), 0);
}

/* Sends a full window and gets three dupacks: fast retransmit. */
static void conn_fast_retransmit(struct conn *c)
{
    conn_send(c, c->cc.cwnd - conn_flight(c));
    cr_assert_eq(conn_dupack(c), TCP_CC_DUP_LIMITED_TRANSMIT);
    cr_assert_eq(conn_dupack(c), TCP_CC_DUP_LIMITED_TRANSMIT);
    cr_assert_eq(conn_dupack(c), TCP_CC_DUP_FAST_RETRANSMIT);
}

/* cbrt in double for the expected values (Newton; no libm needed). */
static double dcbrt(double x)
{
    double y = x > 1.0 ? x : 1.0;
    for (int i = 0; i < 200; i++)
        y = (2.0 * y + x / (y * y)) / 3.0;
    return y;
}

static double dabs(double x)
{
    return x < 0 ? -x : x;
}

/* RFC 9438 §4.2 Figure 1, in bytes: C*(t-K)^3*SMSS + W_max, t and K in s. */
static double w_cubic(double t, double k, double w_max, double smss)
{
    double d = t - k;
    return 0.4 * d * d * d * smss + w_max;
}

/* RFC 9438 §4.2 Figure 2: K = cbrt((W_max - cwnd_epoch)/C), segments. */
static double k_of(double w_max, double cwnd_epoch, double smss)
{
    return dcbrt((w_max - cwnd_epoch) / smss / 0.4);
}

/* ---- initial window (RFC 5681 §3.1, RFC 6928) ---- */

Test(tcp_cc, init_window_is_10_segments_by_default)
{
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_NEWRENO, 1460, 0, 0);
    cr_assert_eq(cc.cwnd, 10u * 1460u);
    cr_assert_eq(cc.iw, 10u * 1460u);
    cr_assert_eq(cc.ssthresh, TCP_CC_WND_MAX);
    cr_assert_not(cc.in_recovery);
    cr_assert_eq(cc.dupacks, 0u);
    cr_assert_str_eq(tcp_cc_name(cc.algo), "newreno");
}

Test(tcp_cc, init_window_of_1_to_4_segments_is_configurable)
{
    for (uint32_t iw = 1; iw <= 4; iw++) {
        struct tcp_cc cc;
        tcp_cc_init(&cc, TCP_CC_CUBIC, 1460, iw, 0);
        cr_assert_eq(cc.cwnd, iw * 1460u, "iw %u", iw);
    }
}

Test(tcp_cc, init_window_is_capped_at_rfc6928_bytes)
{
    struct tcp_cc cc;
    /* min(10*MSS, max(2*MSS, 14600)) */
    tcp_cc_init(&cc, TCP_CC_NEWRENO, 9000, 10, 0);
    cr_assert_eq(cc.cwnd, 18000u);
    tcp_cc_init(&cc, TCP_CC_NEWRENO, 4000, 10, 0);
    cr_assert_eq(cc.cwnd, 14600u);
    tcp_cc_init(&cc, TCP_CC_NEWRENO, 536, 10, 0);
    cr_assert_eq(cc.cwnd, 5360u);
}

Test(tcp_cc, init_smss_zero_is_default_and_huge_is_clamped)
{
    struct tcp_cc cc;
    tcp_cc_init(&cc, TCP_CC_NEWRENO, 0, 1, 0);
    cr_assert_eq(cc.smss, TCP_CC_SMSS_DEFAULT);
    tcp_cc_init(&cc, TCP_CC_CUBIC, 1u << 20, 1, 0);
    cr_assert_eq(cc.smss, TCP_CC_SMSS_MAX);
    cr_assert_eq(cc.cwnd, TCP_CC_SMSS_MAX);
    cr_assert_str_eq(tcp_cc_name(cc.algo), "cubic");
}

/* ---- slow start (RFC 5681 §3.1, RFC 3465) ---- */

Test(tcp_cc, slow_start_doubles_cwnd_per_rtt_of_acks)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    for (int rtt = 0; rtt < 4; rtt++) {
        uint32_t start = c.cc.cwnd;
        uint32_t segs = start / SMSS;
        conn_send(&c, start);
        for (uint32_t i = 0; i < segs; i++)
            conn_ack(&c, SMSS, 10 * MS, 0);
        cr_assert_eq(c.cc.cwnd, 2 * start, "rtt %d", rtt);
    }
    cr_assert_eq(c.cc.cwnd, 160u * SMSS);
}

Test(tcp_cc, slow_start_stretch_ack_counts_at_most_2_smss)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    conn_send(&c, 10 * SMSS);
    /* cwnd += min(N, L), L = 2*SMSS */
    conn_ack(&c, 5 * SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 12u * SMSS);
    conn_ack(&c, 1500, 0, 0);
    cr_assert_eq(c.cc.cwnd, 12u * SMSS + 1500);
    conn_ack(&c, 300, 0, 0);
    cr_assert_eq(c.cc.cwnd, 12u * SMSS + 1800);
}

Test(tcp_cc, slow_start_ignores_an_ack_of_nothing)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    conn_send(&c, 10 * SMSS);
    struct tcp_cc_ack_result r = tcp_cc_on_ack(&c.cc, 0, c.una, c.nxt, conn_flight(&c), 0, 0);
    cr_assert_not(r.retransmit_next);
    cr_assert_eq(c.cc.cwnd, 10u * SMSS);
}

Test(tcp_cc, slow_start_crossing_ssthresh_switches_to_congestion_avoidance)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.ssthresh = 15 * SMSS;
    conn_send(&c, 100 * SMSS);
    for (int i = 0; i < 5; i++)
        conn_ack(&c, SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 15u * SMSS); /* slow start: +1 SMSS per ACK */
    /* now cwnd == ssthresh: congestion avoidance, +SMSS per cwnd of bytes */
    for (int i = 0; i < 14; i++)
        conn_ack(&c, SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 15u * SMSS);
    conn_ack(&c, SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 16u * SMSS);
}

/* ---- congestion avoidance (RFC 5681 §3.1) ---- */

Test(tcp_cc, congestion_avoidance_adds_one_smss_per_cwnd_of_acked_bytes)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    c.cc.ssthresh = 10 * SMSS;
    conn_send(&c, 200 * SMSS);
    /* 40 half-segment ACKs = 20000 bytes = one cwnd */
    for (int i = 0; i < 39; i++)
        conn_ack(&c, SMSS / 2, 0, 0);
    cr_assert_eq(c.cc.cwnd, 20u * SMSS);
    conn_ack(&c, SMSS / 2, 0, 0);
    cr_assert_eq(c.cc.cwnd, 21u * SMSS);
    /* the next SMSS needs 21000 more bytes */
    for (int i = 0; i < 20; i++)
        conn_ack(&c, SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 21u * SMSS);
    conn_ack(&c, SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 22u * SMSS);
}

Test(tcp_cc, congestion_avoidance_stretch_ack_adds_at_most_one_smss)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    c.cc.ssthresh = 10 * SMSS;
    conn_send(&c, 100 * SMSS);
    conn_ack(&c, 60 * SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 21u * SMSS);
}

/* ---- limited transmit (RFC 3042) and fast retransmit (RFC 5681 §3.2) ---- */

Test(tcp_cc, dupacks_1_and_2_allow_limited_transmit_without_changing_cwnd)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    conn_send(&c, 10 * SMSS);
    cr_assert_eq(tcp_cc_send_limit(&c.cc), 10u * SMSS);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_LIMITED_TRANSMIT);
    cr_assert_eq(tcp_cc_send_limit(&c.cc), 11u * SMSS);
    conn_send(&c, SMSS);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_LIMITED_TRANSMIT);
    cr_assert_eq(tcp_cc_send_limit(&c.cc), 12u * SMSS);
    conn_send(&c, SMSS);
    cr_assert_eq(c.cc.cwnd, 10u * SMSS);
    cr_assert_not(c.cc.in_recovery);
}

Test(tcp_cc, third_dupack_enters_fast_retransmit_with_half_flight)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    /* ssthresh = max(FlightSize/2, 2*SMSS); cwnd = ssthresh + 3*SMSS */
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS);
    cr_assert_eq(c.cc.cwnd, 13u * SMSS);
    cr_assert(c.cc.in_recovery);
    cr_assert_eq(c.cc.recover, c.nxt);
    cr_assert_eq(tcp_cc_send_limit(&c.cc), 13u * SMSS);
}

Test(tcp_cc, third_dupack_ssthresh_excludes_limited_transmit_data)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_send(&c, 20 * SMSS);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_LIMITED_TRANSMIT);
    conn_send(&c, SMSS);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_LIMITED_TRANSMIT);
    conn_send(&c, SMSS);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_FAST_RETRANSMIT);
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS); /* 20000 / 2, not 22000 / 2 */
    cr_assert_eq(c.cc.recover, c.nxt);       /* the highest sent, LT included */
}

Test(tcp_cc, third_dupack_with_small_flight_keeps_ssthresh_at_2_smss)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 3);
    conn_fast_retransmit(&c);
    cr_assert_eq(c.cc.ssthresh, 2u * SMSS); /* max(1500, 2000) */
    cr_assert_eq(c.cc.cwnd, 5u * SMSS);
}

Test(tcp_cc, new_ack_resets_the_dupack_count)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.ssthresh = 5 * SMSS; /* congestion avoidance: cwnd stays */
    conn_send(&c, 10 * SMSS);
    conn_dupack(&c);
    conn_dupack(&c);
    conn_ack(&c, SMSS, 0, 0);
    cr_assert_eq(c.cc.dupacks, 0u);
    cr_assert_eq(tcp_cc_send_limit(&c.cc), c.cc.cwnd);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_LIMITED_TRANSMIT);
    cr_assert_not(c.cc.in_recovery);
}

Test(tcp_cc, dupack_in_recovery_inflates_cwnd_by_smss)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    for (uint32_t i = 1; i <= 5; i++) {
        cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_NONE);
        cr_assert_eq(c.cc.cwnd, (13u + i) * SMSS);
    }
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS);
}

Test(tcp_cc, dupack_inflation_stops_at_ssthresh_plus_flight)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    conn_fast_retransmit(&c); /* flight 10, ssthresh 5, cwnd 8 segments */
    for (int i = 0; i < 20; i++)
        conn_dupack(&c);
    cr_assert_eq(c.cc.cwnd, 15u * SMSS); /* 5 + 10: no more segments can have left */
    conn_send(&c, 2 * SMSS);              /* new data sent in recovery */
    conn_dupack(&c);
    conn_dupack(&c);
    conn_dupack(&c);
    cr_assert_eq(c.cc.cwnd, 17u * SMSS);
}

/* ---- NewReno (RFC 6582) ---- */

Test(tcp_cc, newreno_partial_ack_deflates_and_asks_for_retransmit)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    conn_dupack(&c);
    conn_dupack(&c);
    cr_assert_eq(c.cc.cwnd, 15u * SMSS);
    /* partial ACK of 4 SMSS: cwnd - 4000 + SMSS */
    struct tcp_cc_ack_result r = conn_ack(&c, 4 * SMSS, 0, 0);
    cr_assert(r.retransmit_next);
    cr_assert(r.first_partial);
    cr_assert_not(r.exited_recovery);
    cr_assert(c.cc.in_recovery);
    cr_assert_eq(c.cc.cwnd, 12u * SMSS);
    /* a partial ACK of less than SMSS: no add-back */
    r = conn_ack(&c, 400, 0, 0);
    cr_assert(r.retransmit_next);
    cr_assert_not(r.first_partial);
    cr_assert_eq(c.cc.cwnd, 12u * SMSS - 400);
    /* dupacks after a partial ACK inflate again (RFC 6582 §3.2 step 3) */
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_NONE);
    cr_assert_eq(c.cc.cwnd, 13u * SMSS - 400);
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS);
}

Test(tcp_cc, newreno_full_ack_sets_cwnd_to_min_of_ssthresh_and_flight_plus_smss)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    /* everything acknowledged: min(10000, max(0, SMSS) + SMSS) */
    struct tcp_cc_ack_result r = conn_ack(&c, conn_flight(&c), 0, 0);
    cr_assert(r.exited_recovery);
    cr_assert_not(r.retransmit_next);
    cr_assert_not(c.cc.in_recovery);
    cr_assert_eq(c.cc.cwnd, 2u * SMSS);
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS);
}

Test(tcp_cc, newreno_full_ack_with_data_outstanding_sets_cwnd_to_ssthresh)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    for (int i = 0; i < 10; i++)
        conn_dupack(&c);
    conn_send(&c, 10 * SMSS); /* new data sent during recovery */
    struct tcp_cc_ack_result r = conn_ack(&c, 20 * SMSS, 0, 0);
    cr_assert(r.exited_recovery);
    /* min(10000, 10000 + 1000) */
    cr_assert_eq(c.cc.cwnd, 10u * SMSS);
    /* the next ACK is congestion avoidance (cwnd == ssthresh) */
    conn_ack(&c, SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 10u * SMSS);
}

Test(tcp_cc, newreno_second_loss_in_same_window_does_not_cut_twice)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    uint32_t recover = c.cc.recover;
    /* partial ACK (a 2nd hole), then three more dupacks for it */
    conn_ack(&c, 5 * SMSS, 0, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_NONE);
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS);
    cr_assert_eq(c.cc.recover, recover);
    /* full ACK to exactly recover; a loss right there: the dupacks do not
     * cover more than recover, so no second reduction (RFC 6582 step 2) */
    conn_ack(&c, recover - c.una, 0, 0);
    cr_assert_not(c.cc.in_recovery);
    conn_send(&c, 10 * SMSS);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_LIMITED_TRANSMIT);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_LIMITED_TRANSMIT);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_NONE);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_NONE);
    cr_assert_not(c.cc.in_recovery);
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS);
}

Test(tcp_cc, newreno_loss_in_next_window_cuts_again)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    conn_ack(&c, conn_flight(&c), 0, 0); /* full ACK: cwnd 2 SMSS */
    conn_send(&c, 4 * SMSS);
    conn_ack(&c, SMSS, 0, 0); /* snd_una now beyond recover */
    c.cc.cwnd = 8 * SMSS;
    conn_send(&c, 8 * SMSS - conn_flight(&c));
    conn_fast_retransmit(&c);
    cr_assert(c.cc.in_recovery);
    cr_assert_eq(c.cc.ssthresh, 4u * SMSS);
    cr_assert_eq(c.cc.cwnd, 7u * SMSS);
}

/* ---- retransmission timeout (RFC 5681 §3.1, RFC 6582 §3.2 step 4) ---- */

Test(tcp_cc, rto_sets_cwnd_to_one_smss_and_halves_ssthresh)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 30 * SMSS;
    conn_send(&c, 30 * SMSS);
    tcp_cc_on_rto(&c.cc, c.nxt, conn_flight(&c), 0);
    cr_assert_eq(c.cc.cwnd, SMSS);
    cr_assert_eq(c.cc.ssthresh, 15u * SMSS);
    cr_assert_eq(c.cc.recover, c.nxt);
}

Test(tcp_cc, rto_in_recovery_leaves_recovery)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_fast_retransmit(&c);
    conn_send(&c, 2 * SMSS);
    tcp_cc_on_rto(&c.cc, c.nxt, conn_flight(&c), 0);
    cr_assert_not(c.cc.in_recovery);
    cr_assert_eq(c.cc.cwnd, SMSS);
    cr_assert_eq(c.cc.ssthresh, 11u * SMSS);
    cr_assert_eq(c.cc.recover, c.nxt);
}

Test(tcp_cc, rto_again_before_any_ack_holds_ssthresh)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 30 * SMSS;
    conn_send(&c, 30 * SMSS);
    tcp_cc_on_rto(&c.cc, c.nxt, conn_flight(&c), 0);
    /* fired again for the same segment (whatever FlightSize is now) */
    tcp_cc_on_rto(&c.cc, c.nxt, 4 * SMSS, 0);
    cr_assert_eq(c.cc.ssthresh, 15u * SMSS);
    cr_assert_eq(c.cc.cwnd, SMSS);
    /* an ACK of the retransmission, then a new timeout: eq. (4) again */
    conn_ack(&c, SMSS, 0, 0);
    tcp_cc_on_rto(&c.cc, c.nxt, conn_flight(&c), 0);
    cr_assert_eq(c.cc.ssthresh, 29u * SMSS / 2);
}

Test(tcp_cc, slow_start_after_rto_counts_at_most_1_smss_per_ack)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 30 * SMSS;
    conn_send(&c, 30 * SMSS);
    tcp_cc_on_rto(&c.cc, c.nxt, conn_flight(&c), 0);
    conn_ack(&c, 5 * SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 2u * SMSS);
    conn_ack(&c, 5 * SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 3u * SMSS);
}

Test(tcp_cc, rto_then_dupacks_not_beyond_recover_do_not_fast_retransmit)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 20 * SMSS;
    conn_send(&c, 20 * SMSS);
    tcp_cc_on_rto(&c.cc, c.nxt, conn_flight(&c), 0);
    conn_ack(&c, SMSS, 0, 0);
    /* RFC 6582 §4: dupacks from unnecessary retransmissions */
    conn_dupack(&c);
    conn_dupack(&c);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_NONE);
    cr_assert_not(c.cc.in_recovery);
    cr_assert_eq(c.cc.ssthresh, 10u * SMSS);
}

/* ---- restart after idle (RFC 5681 §4.1) ---- */

Test(tcp_cc, idle_restart_lowers_cwnd_to_the_initial_window)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 50 * SMSS;
    tcp_cc_on_idle_restart(&c.cc, 10 * 1000 * MS);
    cr_assert_eq(c.cc.cwnd, 10u * SMSS);
}

Test(tcp_cc, idle_restart_keeps_a_cwnd_below_the_initial_window)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, SMSS, 10);
    c.cc.cwnd = 4 * SMSS;
    c.cc.ssthresh = 2 * SMSS;
    tcp_cc_on_idle_restart(&c.cc, 0);
    cr_assert_eq(c.cc.cwnd, 4u * SMSS);
    cr_assert_eq(c.cc.ssthresh, 2u * SMSS);
}

/* ---- CUBIC (RFC 9438) ---- */

/* A CUBIC connection with cwnd = flight = w segments that has just had a
 * loss and a full ACK: cwnd = ssthresh = 0.7 * flight. */
static void cubic_after_loss(struct conn *c, uint32_t smss, uint32_t w)
{
    conn_init(c, TCP_CC_CUBIC, smss, 10);
    c->cc.cwnd = w * smss;
    conn_fast_retransmit(c);
    conn_send(c, c->cc.ssthresh); /* keep ssthresh outstanding after the full ACK */
    struct tcp_cc_ack_result r = conn_ack(c, w * smss, 0, 0);
    cr_assert(r.exited_recovery);
}

Test(tcp_cc, cubic_loss_sets_ssthresh_to_0_7_flight_and_cwnd_to_0_7_w_max)
{
    struct conn c;
    conn_init(&c, TCP_CC_CUBIC, SMSS, 10);
    c.cc.cwnd = 100 * SMSS;
    conn_fast_retransmit(&c);
    cr_assert_eq(c.cc.ssthresh, 70u * SMSS);
    cr_assert_eq(c.cc.cwnd, 73u * SMSS);
    cr_assert_eq(c.cc.cubic.w_max, 100u * SMSS);
    cr_assert_eq(c.cc.cubic.cwnd_prior, 100u * SMSS);
    conn_send(&c, 70 * SMSS);
    conn_ack(&c, 100 * SMSS, 0, 0);
    cr_assert_eq(c.cc.cwnd, 70u * SMSS); /* beta_cubic * W_max */
}

Test(tcp_cc, cubic_k_matches_the_rfc_formula_within_1ms)
{
    static const struct {
        uint32_t smss, w;
    } cases[] = {{1000, 100}, {1448, 1000}, {536, 7}, {9000, 12345}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conn c;
        cubic_after_loss(&c, cases[i].smss, cases[i].w);
        uint32_t epoch = c.cc.cwnd;
        conn_send(&c, epoch);
        conn_ack(&c, SMSS, 100 * MS, 5000 * MS); /* starts the epoch */
        double k = k_of((double)cases[i].w * cases[i].smss, epoch, cases[i].smss);
        double got = (double)c.cc.cubic.k_ns / 1e9;
        cr_assert(dabs(got - k) <= 0.001, "case %u: K %.6f s, expected %.6f s", i, got, k);
        cr_assert_eq(c.cc.cubic.cwnd_epoch, epoch);
        cr_assert_eq(c.cc.cubic.epoch_start_ns, 5000 * MS);
    }
}

Test(tcp_cc, cubic_window_follows_the_curve_and_reaches_w_max_at_k)
{
    const double rtt = 0.1;
    const uint64_t rtt_ns = 100 * MS;
    const uint64_t t0 = 1000 * MS;
    struct conn c;
    cubic_after_loss(&c, SMSS, 100);
    double k = k_of(100.0 * SMSS, 70.0 * SMSS, SMSS); /* cbrt(75) = 4.217 s */
    /* one ACK of the whole window per RTT: cwnd reaches W_cubic(t + RTT) */
    int i;
    for (i = 0; (i + 1) * rtt < k; i++) {
        uint32_t w = c.cc.cwnd;
        conn_send(&c, w);
        conn_ack(&c, w, rtt_ns, t0 + (uint64_t)i * rtt_ns);
        if (i == 0)
            continue; /* t = 0: W_est (70529) is above W_cubic(0) = 70000 */
        double want = w_cubic(i * rtt + rtt, k, 100.0 * SMSS, SMSS);
        cr_assert(dabs(c.cc.cwnd - want) <= 32, "t %.1f s: cwnd %u, W_cubic %.1f", i * rtt, c.cc.cwnd, want);
        cr_assert_leq(c.cc.cwnd, 100u * SMSS);
        cr_assert_lt(c.cc.cubic.w_est, c.cc.cwnd); /* concave region, not Reno-friendly */
    }
    /* the ACK at t = K - RTT targets W_cubic(K) = W_max */
    uint32_t w = c.cc.cwnd;
    conn_send(&c, w);
    conn_ack(&c, w, rtt_ns, t0 + (uint64_t)((k - rtt) * 1e9));
    cr_assert(dabs((double)c.cc.cwnd - 100.0 * SMSS) <= 32, "cwnd %u at K", c.cc.cwnd);
    /* past K: convex, above W_max */
    w = c.cc.cwnd;
    conn_send(&c, w);
    conn_ack(&c, w, rtt_ns, t0 + (uint64_t)((k + 1.0) * 1e9));
    double want = w_cubic(k + 1.0 + rtt, k, 100.0 * SMSS, SMSS);
    cr_assert(dabs(c.cc.cwnd - want) <= 32, "cwnd %u, W_cubic %.1f", c.cc.cwnd, want);
    cr_assert_gt(c.cc.cwnd, 100u * SMSS);
}

Test(tcp_cc, cubic_reno_friendly_region_takes_over_with_a_short_rtt)
{
    const uint64_t rtt_ns = 1 * MS;
    struct conn c;
    cubic_after_loss(&c, SMSS, 100);
    double k = k_of(100.0 * SMSS, 70.0 * SMSS, SMSS);
    /* W_est = W_est + alpha * segments_acked / cwnd: + alpha*SMSS per
     * window acknowledged; alpha = 3(1-0.7)/(1+0.7) until W_est >=
     * cwnd_prior (100 segments), then 1 */
    double w_est = 70.0 * SMSS;
    bool saw_alpha_one = false;
    for (int i = 0; i < 100; i++) {
        uint32_t w = c.cc.cwnd;
        double alpha = w_est >= 100.0 * SMSS ? 1.0 : 3.0 * (1 - 0.7) / (1 + 0.7);
        saw_alpha_one |= alpha == 1.0;
        w_est += alpha * SMSS;
        conn_send(&c, w);
        conn_ack(&c, w, rtt_ns, (uint64_t)i * rtt_ns);
        double cubic = w_cubic(i * 1e-3, k, 100.0 * SMSS, SMSS);
        cr_assert_lt(cubic, w_est, "step %d", i);
        cr_assert(dabs(c.cc.cwnd - w_est) <= 2, "step %d: cwnd %u, W_est %.1f", i, c.cc.cwnd, w_est);
    }
    cr_assert(saw_alpha_one);
    cr_assert_gt(c.cc.cwnd, 100u * SMSS);
}

Test(tcp_cc, cubic_fast_convergence_lowers_w_max_on_loss_below_w_max)
{
    struct conn c;
    cubic_after_loss(&c, SMSS, 100);
    cr_assert_eq(c.cc.cubic.w_max, 100u * SMSS);
    conn_ack(&c, SMSS, 0, 0); /* snd_una passes recover */
    c.cc.cwnd = 80 * SMSS;    /* grew back only to 80 segments */
    conn_fast_retransmit(&c);
    /* W_max = cwnd * (1 + beta_cubic) / 2 */
    cr_assert_eq(c.cc.cubic.w_max, 80u * SMSS * 17 / 20);
    cr_assert_eq(c.cc.ssthresh, 56u * SMSS);
    cr_assert_eq(c.cc.cubic.cwnd_prior, 80u * SMSS);
}

Test(tcp_cc, cubic_without_fast_convergence_keeps_w_max_at_cwnd)
{
    struct conn c;
    cubic_after_loss(&c, SMSS, 100);
    c.cc.cubic.fast_convergence = false;
    conn_ack(&c, SMSS, 0, 0);
    c.cc.cwnd = 80 * SMSS;
    conn_fast_retransmit(&c);
    cr_assert_eq(c.cc.cubic.w_max, 80u * SMSS);
}

Test(tcp_cc, cubic_rto_then_first_epoch_has_k_zero_and_w_max_cwnd)
{
    struct conn c;
    conn_init(&c, TCP_CC_CUBIC, SMSS, 10);
    c.cc.cwnd = 100 * SMSS;
    conn_send(&c, 100 * SMSS);
    tcp_cc_on_rto(&c.cc, c.nxt, conn_flight(&c), 0);
    cr_assert_eq(c.cc.cwnd, SMSS);
    cr_assert_eq(c.cc.ssthresh, 70u * SMSS); /* beta_cubic, RFC 9438 §4.8 */
    c.cc.cwnd = 70 * SMSS;                   /* (slow start back up) */
    conn_ack(&c, SMSS, 50 * MS, 2000 * MS);
    cr_assert(c.cc.cubic.epoch_valid);
    cr_assert_eq(c.cc.cubic.k_ns, 0);
    cr_assert_eq(c.cc.cubic.w_max, 70u * SMSS);
    cr_assert_eq(c.cc.cubic.cwnd_prior, 100u * SMSS);
}

Test(tcp_cc, cubic_application_limited_ack_grows_nothing_and_stops_the_clock)
{
    struct conn c;
    cubic_after_loss(&c, SMSS, 100);
    conn_send(&c, 70 * SMSS);
    conn_ack(&c, SMSS, 100 * MS, 1000 * MS); /* epoch starts at 1 s */
    uint32_t w = c.cc.cwnd;
    /* flight below cwnd/2 */
    c.una = c.nxt - 10 * SMSS;
    conn_ack(&c, SMSS, 100 * MS, 3000 * MS);
    cr_assert_eq(c.cc.cwnd, w);
    cr_assert_eq(c.cc.cubic.epoch_start_ns, 3000 * MS);
}

Test(tcp_cc, cubic_idle_restart_lowers_cwnd_and_starts_a_new_epoch)
{
    struct conn c;
    cubic_after_loss(&c, SMSS, 100);
    conn_send(&c, 70 * SMSS);
    conn_ack(&c, SMSS, 100 * MS, 1000 * MS);
    cr_assert(c.cc.cubic.epoch_valid);
    tcp_cc_on_idle_restart(&c.cc, 9000 * MS);
    cr_assert_eq(c.cc.cwnd, 10u * SMSS);
    cr_assert_not(c.cc.cubic.epoch_valid);
}

/* ---- integer cube root, bounds ---- */

Test(tcp_cc, icbrt_is_the_floor_of_the_cube_root)
{
    cr_assert_eq(tcp_cc_icbrt(0), 0u);
    for (uint64_t n = 1; n < 200000; n += (n < 1000 ? 1 : 997)) {
        uint64_t cube = n * n * n;
        cr_assert_eq(tcp_cc_icbrt(cube), n, "n %lu", (unsigned long)n);
        cr_assert_eq(tcp_cc_icbrt(cube - 1), n - 1, "n %lu", (unsigned long)n);
        cr_assert_eq(tcp_cc_icbrt(cube + 3 * n * n + 3 * n), n, "n %lu", (unsigned long)n);
    }
    const uint64_t top = 2642245; /* floor(cbrt(2^64 - 1)) */
    cr_assert_eq(tcp_cc_icbrt(UINT64_MAX), top);
    cr_assert_eq(tcp_cc_icbrt(top * top * top), top);
    cr_assert_eq(tcp_cc_icbrt(top * top * top - 1), top - 1);
}

Test(tcp_cc, newreno_cwnd_near_2_31_never_overflows)
{
    struct conn c;
    conn_init(&c, TCP_CC_NEWRENO, 65535, 10);
    c.cc.cwnd = TCP_CC_WND_MAX - 100;
    c.cc.ssthresh = 1u << 30;
    conn_send(&c, TCP_CC_WND_MAX);
    conn_ack(&c, TCP_CC_WND_MAX, 0, 0); /* CA: a cwnd of bytes, + SMSS, capped */
    cr_assert_eq(c.cc.cwnd, TCP_CC_WND_MAX);
    c.cc.ssthresh = TCP_CC_WND_MAX;
    c.cc.cwnd = TCP_CC_WND_MAX - 100;
    conn_send(&c, 1000000);
    conn_ack(&c, 1000000, 0, 0); /* slow start: + 2 SMSS, capped */
    cr_assert_eq(c.cc.cwnd, TCP_CC_WND_MAX);
    /* a loss with 2^31 - 1 in flight */
    c.una = c.nxt - TCP_CC_WND_MAX;
    conn_dupack(&c);
    conn_dupack(&c);
    cr_assert_eq(tcp_cc_send_limit(&c.cc), TCP_CC_WND_MAX + 2u * 65535u);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_FAST_RETRANSMIT);
    cr_assert_eq(c.cc.ssthresh, TCP_CC_WND_MAX / 2);
    cr_assert_eq(c.cc.cwnd, TCP_CC_WND_MAX / 2 + 3u * 65535u);
    for (int i = 0; i < 100000; i++)
        conn_dupack(&c);
    cr_assert_leq(c.cc.cwnd, TCP_CC_WND_MAX);
    cr_assert_geq(c.cc.cwnd, TCP_CC_WND_MAX / 2);
}

Test(tcp_cc, cubic_cwnd_near_2_31_never_overflows)
{
    struct conn c;
    conn_init(&c, TCP_CC_CUBIC, 65535, 10);
    c.cc.cwnd = TCP_CC_WND_MAX;
    conn_send(&c, TCP_CC_WND_MAX);
    conn_dupack(&c);
    conn_dupack(&c);
    cr_assert_eq(conn_dupack(&c), TCP_CC_DUP_FAST_RETRANSMIT);
    cr_assert_eq(c.cc.ssthresh, (uint32_t)((uint64_t)TCP_CC_WND_MAX * 7 / 10));
    cr_assert_eq(c.cc.cubic.w_max, TCP_CC_WND_MAX);
    conn_ack(&c, TCP_CC_WND_MAX, 0, 0); /* full ACK */
    cr_assert_eq(c.cc.cwnd, 2u * 65535u);
    c.cc.cwnd = c.cc.ssthresh;
    /* a day of congestion avoidance, whole-window stretch ACKs */
    uint32_t prev = c.cc.cwnd;
    for (uint64_t t = 0; t <= 86400ull * 1000 * MS; t += 3600ull * 1000 * MS) {
        uint32_t w = c.cc.cwnd;
        c.una = ISS;
        c.nxt = ISS + w;
        conn_ack(&c, w, 500 * MS, t);
        cr_assert_geq(c.cc.cwnd, prev);
        cr_assert_leq(c.cc.cwnd, TCP_CC_WND_MAX);
        prev = c.cc.cwnd;
    }
    cr_assert_eq(c.cc.cwnd, TCP_CC_WND_MAX);
}
