/* test_tcp_rtt.c - the RFC 6298 retransmission timeout: initial 1 s
 * (2.1), first sample (2.2), EWMA of later samples (2.3) with exact
 * integer values, G (§4), bounds (2.4 via rto_min, 2.5), backoff (5.5),
 * collapse after a new sample (§5), the 3 s SYN fallback (5.7), and no
 * overflow for huge values. */
#include <criterion/criterion.h>

#include "tcp_rtt.h"

#define MS 1000000ull
#define SEC (1000 * MS)

static struct tcp_rtt fresh(void)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 200 * MS, 60 * SEC);
    return r;
}

Test(tcp_rtt, no_sample_yet_rto_is_1s)
{
    struct tcp_rtt r = fresh();
    cr_assert_not(r.has_sample);
    cr_assert_eq(r.backoff, 0);
    cr_assert_eq(r.rto_ns, 1 * SEC);
    cr_assert_eq(tcp_rtt_rto(&r), 1 * SEC);
}

Test(tcp_rtt, init_zero_bounds_take_defaults)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 0, 0);
    cr_assert_eq(r.rto_min_ns, 200 * MS);
    cr_assert_eq(r.rto_max_ns, 60 * SEC);
    cr_assert_eq(tcp_rtt_rto(&r), 1 * SEC);
}

Test(tcp_rtt, init_min_above_1s_clamps_initial_rto_up)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 2 * SEC, 60 * SEC);
    cr_assert_eq(tcp_rtt_rto(&r), 2 * SEC);
}

Test(tcp_rtt, init_max_below_1s_clamps_initial_rto_down)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 100 * MS, 500 * MS);
    cr_assert_eq(tcp_rtt_rto(&r), 500 * MS);
}

Test(tcp_rtt, init_max_below_min_raised_to_min)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 3 * SEC, 2 * SEC);
    cr_assert_eq(r.rto_max_ns, 3 * SEC);
    cr_assert_eq(tcp_rtt_rto(&r), 3 * SEC);
}

/* 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 * RTTVAR = 100 + 200 */
Test(tcp_rtt, first_sample_100ms_sets_srtt_rttvar_rto)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 100 * MS);
    cr_assert(r.has_sample);
    cr_assert_eq(r.srtt_ns, 100 * MS);
    cr_assert_eq(r.rttvar_ns, 50 * MS);
    cr_assert_eq(r.rto_ns, 300 * MS);
    cr_assert_eq(tcp_rtt_rto(&r), 300 * MS);
}

/* 10 + 4 * 5 = 30 ms, raised to the 200 ms minimum */
Test(tcp_rtt, first_sample_10ms_rto_raised_to_min)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 10 * MS);
    cr_assert_eq(r.srtt_ns, 10 * MS);
    cr_assert_eq(r.rttvar_ns, 5 * MS);
    cr_assert_eq(tcp_rtt_rto(&r), 200 * MS);
}

/* 2.3 after R = 100 ms, R' = 180 ms:
 *   RTTVAR = 3/4 * 50 + 1/4 * |100 - 180| = 37.5 + 20 = 57.5 ms
 *   SRTT   = 7/8 * 100 + 1/8 * 180 = 87.5 + 22.5 = 110 ms
 *   RTO    = 110 + 4 * 57.5 = 340 ms */
Test(tcp_rtt, second_sample_higher_follows_ewma)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 100 * MS);
    tcp_rtt_sample(&r, 180 * MS);
    cr_assert_eq(r.rttvar_ns, 57500000ull);
    cr_assert_eq(r.srtt_ns, 110 * MS);
    cr_assert_eq(tcp_rtt_rto(&r), 340 * MS);
}

/* R = 100 ms, R' = 20 ms: RTTVAR = 37.5 + 20 = 57.5 ms, SRTT = 87.5 + 2.5
 * = 90 ms, RTO = 90 + 230 = 320 ms */
Test(tcp_rtt, second_sample_lower_follows_ewma)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 100 * MS);
    tcp_rtt_sample(&r, 20 * MS);
    cr_assert_eq(r.rttvar_ns, 57500000ull);
    cr_assert_eq(r.srtt_ns, 90 * MS);
    cr_assert_eq(tcp_rtt_rto(&r), 320 * MS);
}

/* R = 100, 180 (above), then R'' = 110 ms:
 *   RTTVAR = 3/4 * 57.5 + 1/4 * |110 - 110| = 43.125 ms
 *   SRTT   = 7/8 * 110 + 1/8 * 110 = 110 ms
 *   RTO    = 110 + 172.5 = 282.5 ms */
Test(tcp_rtt, third_sample_equal_to_srtt_shrinks_rttvar)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 100 * MS);
    tcp_rtt_sample(&r, 180 * MS);
    tcp_rtt_sample(&r, 110 * MS);
    cr_assert_eq(r.rttvar_ns, 43125000ull);
    cr_assert_eq(r.srtt_ns, 110 * MS);
    cr_assert_eq(tcp_rtt_rto(&r), 282500000ull);
}

/* Integer division rounds down: R = 1 ns then 4 ns:
 *   RTTVAR = 0 (1/2); then (3 * 0 + 3) / 4 = 0; SRTT = (7 + 4) / 8 = 1 */
Test(tcp_rtt, tiny_samples_round_down)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 1, 60 * SEC);
    tcp_rtt_sample(&r, 1);
    cr_assert_eq(r.srtt_ns, 1);
    cr_assert_eq(r.rttvar_ns, 0);
    tcp_rtt_sample(&r, 4);
    cr_assert_eq(r.rttvar_ns, 0);
    cr_assert_eq(r.srtt_ns, 1);
    /* §4: a zero variance term is rounded up to G = 1 ms */
    cr_assert_eq(tcp_rtt_rto(&r), 1 * MS + 1);
}

/* Steady 100 ms samples: RTTVAR decays (x 3/4, rounded down) to 0 within
 * 100 samples; then RTO = SRTT + G = 101 ms (minimum 1 ms here). */
Test(tcp_rtt, steady_samples_variance_zero_rto_is_srtt_plus_g)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 1 * MS, 60 * SEC);
    for (int i = 0; i < 100; i++)
        tcp_rtt_sample(&r, 100 * MS);
    cr_assert_eq(r.srtt_ns, 100 * MS);
    cr_assert_eq(r.rttvar_ns, 0);
    cr_assert_eq(tcp_rtt_rto(&r), 101 * MS);
}

Test(tcp_rtt, huge_first_sample_rto_capped_at_max)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 50 * SEC); /* 50 + 100 s */
    cr_assert_eq(r.srtt_ns, 50 * SEC);
    cr_assert_eq(tcp_rtt_rto(&r), 60 * SEC);
}

Test(tcp_rtt, zero_samples_rto_at_min)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 0);
    tcp_rtt_sample(&r, 0);
    cr_assert_eq(r.srtt_ns, 0);
    cr_assert_eq(tcp_rtt_rto(&r), 200 * MS);
}

/* Every sample and backoff keeps 200 ms <= RTO <= 60 s. */
Test(tcp_rtt, any_samples_and_backoffs_rto_within_bounds)
{
    static const uint64_t samples[] = {0, 1, 5 * MS, 100 * MS, 3 * SEC, 90 * SEC, 1 * MS, UINT64_MAX, 0};
    struct tcp_rtt r = fresh();
    for (unsigned i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        tcp_rtt_sample(&r, samples[i]);
        for (int b = 0; b < 70; b++) {
            uint64_t rto = tcp_rtt_rto(&r);
            cr_assert_geq(rto, 200 * MS);
            cr_assert_leq(rto, 60 * SEC);
            tcp_rtt_backoff(&r);
        }
    }
}

/* 2^64 - 1 is taken as 2^60: SRTT = 2^60, RTTVAR = 2^59, base RTO
 * 3 * 2^60; with no maximum the doubling stops at UINT64_MAX. */
Test(tcp_rtt, max_u64_sample_no_overflow)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 1, UINT64_MAX);
    tcp_rtt_sample(&r, UINT64_MAX);
    cr_assert_eq(r.srtt_ns, 1ull << 60);
    cr_assert_eq(r.rttvar_ns, 1ull << 59);
    cr_assert_eq(tcp_rtt_rto(&r), 3ull << 60);
    tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 3ull << 61);
    tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 3ull << 62);
    tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), UINT64_MAX);
    tcp_rtt_backoff(&r);
    cr_assert_eq(r.backoff, 3);
    cr_assert_eq(tcp_rtt_rto(&r), UINT64_MAX);
    /* second huge sample: RTTVAR = 3/4 * 2^59, SRTT unchanged */
    tcp_rtt_sample(&r, UINT64_MAX);
    cr_assert_eq(r.rttvar_ns, 3ull << 57);
    cr_assert_eq(r.srtt_ns, 1ull << 60);
    cr_assert_eq(tcp_rtt_rto(&r), (1ull << 60) + (3ull << 59));
}

/* 5.5 (and 2.1: backoff applies before any sample): 1, 2, 4, ... 32, then
 * 64 s capped at 60 s; the exponent stops growing there. */
Test(tcp_rtt, timeouts_without_sample_double_up_to_max)
{
    static const uint64_t want[] = {1 * SEC, 2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC, 32 * SEC, 60 * SEC, 60 * SEC};
    struct tcp_rtt r = fresh();
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        cr_assert_eq(tcp_rtt_rto(&r), want[i], "after %u timeouts", i);
        tcp_rtt_backoff(&r);
    }
    cr_assert_eq(r.backoff, 6);
    cr_assert_eq(r.rto_ns, 1 * SEC);
}

Test(tcp_rtt, timeouts_after_sample_double_from_measured_rto)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 100 * MS); /* 300 ms */
    tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 600 * MS);
    tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 1200 * MS);
}

/* §5: a new measurement recomputes RTO, "collapsing" the backed-off one. */
Test(tcp_rtt, backed_off_new_sample_collapses_rto)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_backoff(&r);
    tcp_rtt_backoff(&r);
    tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 8 * SEC);
    tcp_rtt_sample(&r, 100 * MS);
    cr_assert_eq(r.backoff, 0);
    cr_assert_eq(tcp_rtt_rto(&r), 300 * MS);
}

Test(tcp_rtt, backed_off_to_max_new_sample_collapses_rto)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_sample(&r, 100 * MS);
    for (int i = 0; i < 20; i++)
        tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 60 * SEC);
    tcp_rtt_sample(&r, 180 * MS); /* as second_sample_higher_follows_ewma */
    cr_assert_eq(r.backoff, 0);
    cr_assert_eq(tcp_rtt_rto(&r), 340 * MS);
}

/* 5.7: SYN timed out, no sample: RTO 3 s once the handshake completes. */
Test(tcp_rtt, syn_timed_out_no_sample_fallback_to_3s)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_backoff(&r);
    tcp_rtt_backoff(&r);
    tcp_rtt_syn_fallback(&r);
    cr_assert_eq(r.backoff, 0);
    cr_assert_eq(tcp_rtt_rto(&r), 3 * SEC);
    tcp_rtt_backoff(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 6 * SEC);
}

Test(tcp_rtt, syn_timed_out_with_sample_fallback_keeps_measured_rto)
{
    struct tcp_rtt r = fresh();
    tcp_rtt_backoff(&r);
    tcp_rtt_sample(&r, 100 * MS); /* e.g. from timestamps */
    tcp_rtt_syn_fallback(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 300 * MS);
}

Test(tcp_rtt, syn_timed_out_max_2s_fallback_capped)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 200 * MS, 2 * SEC);
    tcp_rtt_backoff(&r);
    tcp_rtt_syn_fallback(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 2 * SEC);
}

Test(tcp_rtt, syn_timed_out_min_5s_fallback_keeps_higher_rto)
{
    struct tcp_rtt r;
    tcp_rtt_init(&r, 5 * SEC, 60 * SEC);
    tcp_rtt_backoff(&r);
    tcp_rtt_syn_fallback(&r);
    cr_assert_eq(tcp_rtt_rto(&r), 5 * SEC);
}
