/* test_tcp_seq.c - sequence-number comparisons modulo 2^32 (RFC 9293
 * §3.4, RFC 1982): order across the wrap, equality, the 2^31 ambiguity
 * limit, signed distance, max/min, and the three window tests at their
 * edges (including across the wrap and the empty window). */
#include <criterion/criterion.h>

#include "tcp_seq.h"

Test(tcp_seq, across_wrap_high_is_before_low)
{
    cr_assert(seq_lt(0xfffffff0u, 0x10u));
    cr_assert(seq_leq(0xfffffff0u, 0x10u));
    cr_assert_not(seq_gt(0xfffffff0u, 0x10u));
    cr_assert_not(seq_geq(0xfffffff0u, 0x10u));
    cr_assert(seq_gt(0x10u, 0xfffffff0u));
    cr_assert(seq_geq(0x10u, 0xfffffff0u));
    cr_assert_not(seq_lt(0x10u, 0xfffffff0u));
    cr_assert_not(seq_leq(0x10u, 0xfffffff0u));
}

Test(tcp_seq, across_wrap_max_is_before_zero)
{
    cr_assert(seq_lt(0xffffffffu, 0u));
    cr_assert(seq_gt(0u, 0xffffffffu));
}

Test(tcp_seq, without_wrap_plain_order)
{
    cr_assert(seq_lt(1000u, 2000u));
    cr_assert_not(seq_lt(2000u, 1000u));
    cr_assert(seq_gt(2000u, 1000u));
}

Test(tcp_seq, equal_numbers_leq_and_geq_only)
{
    const uint32_t v[] = {0u, 1u, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        cr_assert_not(seq_lt(v[i], v[i]));
        cr_assert_not(seq_gt(v[i], v[i]));
        cr_assert(seq_leq(v[i], v[i]));
        cr_assert(seq_geq(v[i], v[i]));
    }
}

Test(tcp_seq, just_under_2p31_apart_order_holds)
{
    cr_assert(seq_lt(0u, 0x7fffffffu));
    cr_assert_not(seq_lt(0x7fffffffu, 0u));
    cr_assert(seq_lt(0x80000001u, 0u)); /* 0 - 0x80000001 = 2^31 - 1 */
}

Test(tcp_seq, exactly_2p31_apart_is_ambiguous)
{
    /* documented: each is "less" than the other */
    cr_assert(seq_lt(0u, 0x80000000u));
    cr_assert(seq_lt(0x80000000u, 0u));
}

Test(tcp_seq, beyond_2p31_apart_order_reverses)
{
    cr_assert_not(seq_lt(0u, 0x80000001u));
    cr_assert(seq_gt(0u, 0x80000001u));
}

Test(tcp_seq, diff_across_wrap_is_signed_distance)
{
    cr_assert_eq(seq_diff(0x10u, 0xfffffff0u), 0x20);
    cr_assert_eq(seq_diff(0xfffffff0u, 0x10u), -0x20);
    cr_assert_eq(seq_diff(5u, 5u), 0);
    cr_assert_eq(seq_diff(0x7fffffffu, 0u), INT32_MAX);
    cr_assert_eq(seq_diff(0x80000000u, 0u), INT32_MIN);
    cr_assert_eq(seq_diff(0u, 1u), -1);
}

Test(tcp_seq, max_min_across_wrap_pick_later_earlier)
{
    cr_assert_eq(seq_max(0xfffffff0u, 0x10u), 0x10u);
    cr_assert_eq(seq_max(0x10u, 0xfffffff0u), 0x10u);
    cr_assert_eq(seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
    cr_assert_eq(seq_min(0x10u, 0xfffffff0u), 0xfffffff0u);
    cr_assert_eq(seq_max(7u, 7u), 7u);
    cr_assert_eq(seq_min(7u, 7u), 7u);
}

/* RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND with RCV.NXT = 1000, RCV.WND = 100 */
Test(tcp_seq, window_between_edges_left_in_right_out)
{
    cr_assert_not(seq_between(999u, 1000u, 1100u));
    cr_assert(seq_between(1000u, 1000u, 1100u));
    cr_assert(seq_between(1099u, 1000u, 1100u));
    cr_assert_not(seq_between(1100u, 1000u, 1100u));
}

Test(tcp_seq, window_across_wrap_between_edges)
{
    const uint32_t lo = 0xfffffff0u, hi = lo + 0x20u; /* hi = 0x10 */
    cr_assert_eq(hi, 0x10u);
    cr_assert_not(seq_between(lo - 1u, lo, hi));
    cr_assert(seq_between(lo, lo, hi));
    cr_assert(seq_between(0xffffffffu, lo, hi));
    cr_assert(seq_between(0u, lo, hi));
    cr_assert(seq_between(0xfu, lo, hi));
    cr_assert_not(seq_between(0x10u, lo, hi));
}

Test(tcp_seq, zero_window_between_holds_nothing)
{
    cr_assert_not(seq_between(1000u, 1000u, 1000u));
    cr_assert_not(seq_between(999u, 1000u, 1000u));
    cr_assert_not(seq_between(1001u, 1000u, 1000u));
}

Test(tcp_seq, largest_window_between_all_but_one)
{
    const uint32_t lo = 5u, hi = 4u; /* arc of 2^32 - 1 */
    cr_assert(seq_between(5u, lo, hi));
    cr_assert(seq_between(3u, lo, hi));
    cr_assert(seq_between(0x80000005u, lo, hi));
    cr_assert_not(seq_between(4u, lo, hi));
}

/* SND.UNA < SEG.ACK =< SND.NXT with SND.UNA = 0xfffffffe, SND.NXT = 2 */
Test(tcp_seq, acceptable_ack_oc_edges_across_wrap)
{
    const uint32_t una = 0xfffffffeu, nxt = 2u;
    cr_assert_not(seq_between_oc(una - 1u, una, nxt));
    cr_assert_not(seq_between_oc(una, una, nxt));
    cr_assert(seq_between_oc(0xffffffffu, una, nxt));
    cr_assert(seq_between_oc(0u, una, nxt));
    cr_assert(seq_between_oc(nxt, una, nxt));
    cr_assert_not(seq_between_oc(nxt + 1u, una, nxt));
}

Test(tcp_seq, nothing_outstanding_oc_accepts_no_ack)
{
    cr_assert_not(seq_between_oc(7u, 7u, 7u));
    cr_assert_not(seq_between_oc(8u, 7u, 7u));
    cr_assert_not(seq_between_oc(6u, 7u, 7u));
}

/* SND.UNA =< SEG.ACK =< SND.NXT */
Test(tcp_seq, window_update_cc_edges_across_wrap)
{
    const uint32_t una = 0xfffffffeu, nxt = 2u;
    cr_assert_not(seq_between_cc(una - 1u, una, nxt));
    cr_assert(seq_between_cc(una, una, nxt));
    cr_assert(seq_between_cc(0u, una, nxt));
    cr_assert(seq_between_cc(nxt, una, nxt));
    cr_assert_not(seq_between_cc(nxt + 1u, una, nxt));
}

Test(tcp_seq, nothing_outstanding_cc_accepts_only_una)
{
    cr_assert(seq_between_cc(7u, 7u, 7u));
    cr_assert_not(seq_between_cc(8u, 7u, 7u));
    cr_assert_not(seq_between_cc(6u, 7u, 7u));
}
