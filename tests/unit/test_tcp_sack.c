/* test_tcp_sack.c - the sender's SACK scoreboard: blocks merged sorted
 * and disjoint with an exact byte count, bad blocks ignored or clipped,
 * RFC 2883 D-SACKs filtered, the cumulative ACK forgetting what it covers,
 * the lowest ranges kept when full, RFC 6675 IsLost (bytes and ranges),
 * the holes NextSeg retransmits, SetPipe with and without
 * retransmissions, and all of it across 2^32. */
#include <criterion/criterion.h>

#include "tcp_sack.h"

#define SMSS 1000u

typedef struct tcp_sack_block blk_t;

static void expect_ranges(const struct tcp_sack_sb *sb, unsigned n, const blk_t *want)
{
    uint32_t bytes = 0;

    cr_assert_eq(sb->n, n, "%u ranges, want %u", sb->n, n);
    for (unsigned i = 0; i < n; i++) {
        cr_assert_eq(sb->b[i].left, want[i].left, "range %u left %u, want %u", i, sb->b[i].left, want[i].left);
        cr_assert_eq(sb->b[i].right, want[i].right, "range %u right %u, want %u", i, sb->b[i].right,
                     want[i].right);
        bytes += want[i].right - want[i].left;
    }
    cr_assert_eq(sb->sacked, bytes, "sacked %u, want %u", sb->sacked, bytes);
}

static bool upd(struct tcp_sack_sb *sb, uint32_t una, uint32_t max, unsigned n, const blk_t *b)
{
    return tcp_sack_sb_update(sb, una, max, b, n);
}

static struct tcp_sack_sb fresh(void)
{
    struct tcp_sack_sb sb;
    tcp_sack_sb_init(&sb);
    return sb;
}

/* ---- empty ---- */

Test(tcp_sack, empty_scoreboard_has_no_holes_and_pipe_is_all_outstanding)
{
    struct tcp_sack_sb sb = fresh();
    uint32_t start = 7, len = 7;

    expect_ranges(&sb, 0, NULL);
    cr_assert_eq(tcp_sack_sb_high(&sb, 1000), 1000);
    cr_assert_not(tcp_sack_sb_is_sacked(&sb, 1000));
    cr_assert_not(tcp_sack_sb_is_lost(&sb, 1000, SMSS));
    cr_assert_not(tcp_sack_sb_next_hole(&sb, 1000, 1000, &start, &len));
    cr_assert_eq(start, 7);
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 11000, 1000, SMSS), 10000);
}

/* ---- update ---- */

Test(tcp_sack, blocks_are_kept_sorted_and_counted)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 20000, 3, (blk_t[]){{8000, 9000}, {2000, 3000}, {5000, 6000}}));
    expect_ranges(&sb, 3, (blk_t[]){{2000, 3000}, {5000, 6000}, {8000, 9000}});
    cr_assert_eq(tcp_sack_sb_high(&sb, 1000), 9000);
}

Test(tcp_sack, repeated_blocks_are_not_new_information)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 20000, 2, (blk_t[]){{2000, 3000}, {5000, 6000}}));
    cr_assert_not(upd(&sb, 1000, 20000, 2, (blk_t[]){{2000, 3000}, {5000, 6000}}));
    cr_assert_not(upd(&sb, 1000, 20000, 1, (blk_t[]){{2200, 2800}}));
    expect_ranges(&sb, 2, (blk_t[]){{2000, 3000}, {5000, 6000}});
}

Test(tcp_sack, overlapping_and_touching_blocks_merge)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 20000, 3, (blk_t[]){{2000, 3000}, {4000, 5000}, {6000, 7000}}));
    /* touches the first on the right, overlaps the second */
    cr_assert(upd(&sb, 1000, 20000, 1, (blk_t[]){{3000, 4500}}));
    expect_ranges(&sb, 2, (blk_t[]){{2000, 5000}, {6000, 7000}});
    /* covers everything */
    cr_assert(upd(&sb, 1000, 20000, 1, (blk_t[]){{1500, 7500}}));
    expect_ranges(&sb, 1, (blk_t[]){{1500, 7500}});
}

Test(tcp_sack, empty_inverted_and_outside_blocks_are_ignored)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 10000, 4, (blk_t[]){{3000, 4000}, {5000, 5000}, {6000, 5000}, {10000, 11000}}));
    expect_ranges(&sb, 1, (blk_t[]){{3000, 4000}});
    cr_assert_not(upd(&sb, 1000, 10000, 2, (blk_t[]){{5000, 5000}, {7000, 6000}}));
    cr_assert_not(upd(&sb, 1000, 10000, 1, (blk_t[]){{12000, 13000}}));
    cr_assert_not(upd(&sb, 1000, 10000, 2, (blk_t[]){{3000, 4000}, {500, 1000}}));
    expect_ranges(&sb, 1, (blk_t[]){{3000, 4000}});
}

Test(tcp_sack, block_past_snd_max_is_clipped_to_it)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 10000, 1, (blk_t[]){{9000, 12000}}));
    expect_ranges(&sb, 1, (blk_t[]){{9000, 10000}});
}

Test(tcp_sack, later_block_reaching_below_snd_una_is_clipped_to_it)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 10000, 2, (blk_t[]){{5000, 6000}, {500, 2000}}));
    expect_ranges(&sb, 2, (blk_t[]){{1000, 2000}, {5000, 6000}});
}

Test(tcp_sack, zero_blocks_change_nothing)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert_not(upd(&sb, 1000, 10000, 0, NULL));
    expect_ranges(&sb, 0, NULL);
}

/* ---- D-SACK (RFC 2883 §4) ---- */

Test(tcp_sack, dsack_below_cumulative_ack_is_ignored_and_the_rest_used)
{
    struct tcp_sack_sb sb = fresh();

    /* ACK 3000 with D-SACK [1000, 2000) then a real block */
    cr_assert(upd(&sb, 3000, 10000, 2, (blk_t[]){{1000, 2000}, {5000, 6000}}));
    expect_ranges(&sb, 1, (blk_t[]){{5000, 6000}});
    /* a D-SACK alone is no new information */
    cr_assert_not(upd(&sb, 3000, 10000, 1, (blk_t[]){{2000, 3000}}));
    /* straddling the ACK still starts below it */
    cr_assert_not(upd(&sb, 3000, 10000, 1, (blk_t[]){{2500, 3500}}));
    expect_ranges(&sb, 1, (blk_t[]){{5000, 6000}});
}

Test(tcp_sack, dsack_inside_second_block_is_ignored)
{
    struct tcp_sack_sb sb = fresh();

    /* [5500, 6000) received twice, reported inside [5000, 7000). The
     * second block covers it anyway, so only the ranges can be checked */
    cr_assert(upd(&sb, 1000, 10000, 2, (blk_t[]){{5500, 6000}, {5000, 7000}}));
    expect_ranges(&sb, 1, (blk_t[]){{5000, 7000}});
    /* the same first block alone is an ordinary SACK block */
    struct tcp_sack_sb sb2 = fresh();
    cr_assert(upd(&sb2, 1000, 10000, 1, (blk_t[]){{5500, 6000}}));
    expect_ranges(&sb2, 1, (blk_t[]){{5500, 6000}});
}

Test(tcp_sack, first_block_overlapping_second_only_partly_is_not_dsack)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 10000, 2, (blk_t[]){{4000, 6000}, {5000, 7000}}));
    expect_ranges(&sb, 1, (blk_t[]){{4000, 7000}});
}

/* ---- cumulative ACK and clear ---- */

Test(tcp_sack, ack_forgets_ranges_below_and_clips_the_one_it_splits)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 20000, 3, (blk_t[]){{2000, 3000}, {4000, 6000}, {8000, 9000}}));
    tcp_sack_sb_ack(&sb, 5000);
    expect_ranges(&sb, 2, (blk_t[]){{5000, 6000}, {8000, 9000}});
    tcp_sack_sb_ack(&sb, 6000);
    expect_ranges(&sb, 1, (blk_t[]){{8000, 9000}});
    tcp_sack_sb_ack(&sb, 9500);
    expect_ranges(&sb, 0, NULL);
    cr_assert_eq(tcp_sack_sb_high(&sb, 9500), 9500);
}

Test(tcp_sack, clear_forgets_everything)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 20000, 2, (blk_t[]){{2000, 3000}, {4000, 6000}}));
    tcp_sack_sb_clear(&sb);
    expect_ranges(&sb, 0, NULL);
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 20000, 1000, SMSS), 19000);
}

/* ---- full scoreboard ---- */

static void fill(struct tcp_sack_sb *sb)
{
    /* 32 ranges [k*200 + 1100, k*200 + 1200), k = 0..31 */
    for (uint32_t k = 0; k < TCP_SACK_SB_MAX; k++) {
        blk_t b = {k * 200 + 1100, k * 200 + 1200};
        cr_assert(upd(sb, 1000, 100000, 1, &b));
    }
    cr_assert_eq(sb->n, TCP_SACK_SB_MAX);
    cr_assert_eq(sb->sacked, TCP_SACK_SB_MAX * 100);
}

Test(tcp_sack, full_scoreboard_drops_a_range_above_all_kept)
{
    struct tcp_sack_sb sb = fresh();

    fill(&sb);
    cr_assert_not(upd(&sb, 1000, 100000, 1, (blk_t[]){{50000, 51000}}));
    cr_assert_eq(sb.n, TCP_SACK_SB_MAX);
    cr_assert_eq(tcp_sack_sb_high(&sb, 1000), 31 * 200 + 1200);
    cr_assert_eq(sb.sacked, 3200);
}

Test(tcp_sack, full_scoreboard_keeps_a_lower_range_and_drops_the_top)
{
    struct tcp_sack_sb sb = fresh();

    fill(&sb);
    cr_assert(upd(&sb, 1000, 100000, 1, (blk_t[]){{1010, 1050}}));
    cr_assert_eq(sb.n, TCP_SACK_SB_MAX);
    cr_assert_eq(sb.b[0].left, 1010);
    cr_assert_eq(sb.b[0].right, 1050);
    cr_assert_eq(tcp_sack_sb_high(&sb, 1000), 30 * 200 + 1200);
    cr_assert_eq(sb.sacked, 3200 - 100 + 40);
}

Test(tcp_sack, full_scoreboard_still_merges_into_existing_ranges)
{
    struct tcp_sack_sb sb = fresh();

    fill(&sb);
    /* joins ranges 0 and 1: one range fewer */
    cr_assert(upd(&sb, 1000, 100000, 1, (blk_t[]){{1200, 1300}}));
    cr_assert_eq(sb.n, TCP_SACK_SB_MAX - 1);
    cr_assert_eq(sb.b[0].left, 1100);
    cr_assert_eq(sb.b[0].right, 1400);
    cr_assert_eq(sb.sacked, 3300);
}

/* ---- queries ---- */

Test(tcp_sack, is_sacked_holds_left_edge_not_right_edge)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 10000, 1, (blk_t[]){{2000, 3000}}));
    cr_assert_not(tcp_sack_sb_is_sacked(&sb, 1999));
    cr_assert(tcp_sack_sb_is_sacked(&sb, 2000));
    cr_assert(tcp_sack_sb_is_sacked(&sb, 2999));
    cr_assert_not(tcp_sack_sb_is_sacked(&sb, 3000));
}

Test(tcp_sack, is_lost_needs_more_than_two_smss_sacked_above)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 10000, 1, (blk_t[]){{2000, 4000}}));
    /* exactly 2 * SMSS above 1000: not more than (DupThresh - 1) * SMSS */
    cr_assert_not(tcp_sack_sb_is_lost(&sb, 1000, SMSS));
    cr_assert(upd(&sb, 1000, 10000, 1, (blk_t[]){{4000, 4001}}));
    cr_assert(tcp_sack_sb_is_lost(&sb, 1000, SMSS));
    cr_assert(tcp_sack_sb_is_lost(&sb, 1999, SMSS));
    /* from 2000 on: [2001, 4001) = 2000 bytes above */
    cr_assert_not(tcp_sack_sb_is_lost(&sb, 2000, SMSS));
    cr_assert_not(tcp_sack_sb_is_lost(&sb, 4001, SMSS));
}

Test(tcp_sack, is_lost_with_three_discontiguous_ranges_above)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 10000, 2, (blk_t[]){{2000, 2100}, {3000, 3100}}));
    cr_assert_not(tcp_sack_sb_is_lost(&sb, 1000, SMSS));
    cr_assert(upd(&sb, 1000, 10000, 1, (blk_t[]){{4000, 4100}}));
    cr_assert(tcp_sack_sb_is_lost(&sb, 1000, SMSS));
    cr_assert(tcp_sack_sb_is_lost(&sb, 1999, SMSS));
    cr_assert_not(tcp_sack_sb_is_lost(&sb, 2100, SMSS));
}

Test(tcp_sack, next_hole_walks_the_holes_below_the_highest_sack)
{
    struct tcp_sack_sb sb = fresh();
    uint32_t start = 0, len = 0;

    cr_assert(upd(&sb, 1000, 20000, 2, (blk_t[]){{3000, 4000}, {6000, 7000}}));
    cr_assert(tcp_sack_sb_next_hole(&sb, 1000, 1000, &start, &len));
    cr_assert_eq(start, 1000);
    cr_assert_eq(len, 2000);
    /* NextSeg after retransmitting [1000, 2000) */
    cr_assert(tcp_sack_sb_next_hole(&sb, 1000, 2000, &start, &len));
    cr_assert_eq(start, 2000);
    cr_assert_eq(len, 1000);
    /* from inside a sacked range: the hole after it */
    cr_assert(tcp_sack_sb_next_hole(&sb, 1000, 3500, &start, &len));
    cr_assert_eq(start, 4000);
    cr_assert_eq(len, 2000);
    /* above the highest sack: no hole (not known lost) */
    cr_assert_not(tcp_sack_sb_next_hole(&sb, 1000, 6500, &start, &len));
    cr_assert_not(tcp_sack_sb_next_hole(&sb, 1000, 7000, &start, &len));
    /* from below snd_una starts at snd_una */
    cr_assert(tcp_sack_sb_next_hole(&sb, 1000, 500, &start, &len));
    cr_assert_eq(start, 1000);
}

/* ---- pipe (RFC 6675 §4 SetPipe) ---- */

Test(tcp_sack, pipe_without_retransmissions_leaves_out_sacked_and_lost)
{
    struct tcp_sack_sb sb = fresh();

    /* [1000, 3000) lost (3000 bytes sacked above), [3000, 6000) sacked,
     * [6000, 11000) in flight */
    cr_assert(upd(&sb, 1000, 11000, 1, (blk_t[]){{3000, 6000}}));
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 11000, 1000, SMSS), 5000);
}

Test(tcp_sack, pipe_counts_retransmitted_lost_bytes_once)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert(upd(&sb, 1000, 11000, 1, (blk_t[]){{3000, 6000}}));
    /* [1000, 2000) retransmitted */
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 11000, 2000, SMSS), 6000);
    /* the whole hole retransmitted */
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 11000, 3000, SMSS), 7000);
}

Test(tcp_sack, pipe_counts_retransmitted_bytes_not_lost_twice)
{
    struct tcp_sack_sb sb = fresh();

    /* [1000, 2000) not lost (only 1000 sacked above); [2000, 3000) sacked */
    cr_assert(upd(&sb, 1000, 5000, 1, (blk_t[]){{2000, 3000}}));
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 5000, 1000, SMSS), 3000);
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 5000, 1500, SMSS), 3500);
    /* retransmissions reaching above the sacked range: [3000, 3500) too */
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 5000, 3500, SMSS), 4500);
}

Test(tcp_sack, pipe_with_nothing_sacked_and_a_retransmission)
{
    struct tcp_sack_sb sb = fresh();

    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 11000, 2000, SMSS), 11000);
}

Test(tcp_sack, pipe_with_three_ranges_marks_every_hole_below_them_lost)
{
    struct tcp_sack_sb sb = fresh();

    /* holes [1000,2000) [2100,3000) [3100,4000) [4100, 9000) */
    cr_assert(upd(&sb, 1000, 9000, 3, (blk_t[]){{2000, 2100}, {3000, 3100}, {4000, 4100}}));
    /* only 1 or 2 ranges and 200 bytes above the 2nd and 3rd holes: not
     * lost; the first has 3 ranges above it */
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 1000, 9000, 1000, SMSS), 900 + 900 + 4900);
}

/* ---- across 2^32 ---- */

Test(tcp_sack, scoreboard_across_2_32)
{
    struct tcp_sack_sb sb = fresh();
    const uint32_t una = 0xfffff000u, max = 0x3000u;
    uint32_t start = 0, len = 0;

    /* [2^32 - 2048, 2^32 + 1024) and [2^32 + 4096, 2^32 + 8192) */
    cr_assert(upd(&sb, una, max, 2, (blk_t[]){{0xfffff800u, 0x400u}, {0x1000u, 0x2000u}}));
    expect_ranges(&sb, 2, (blk_t[]){{0xfffff800u, 0x400u}, {0x1000u, 0x2000u}});
    cr_assert_eq(tcp_sack_sb_high(&sb, una), 0x2000u);
    cr_assert(tcp_sack_sb_is_sacked(&sb, 0xffffffffu));
    cr_assert(tcp_sack_sb_is_sacked(&sb, 0));
    cr_assert_not(tcp_sack_sb_is_sacked(&sb, 0x400u));
    /* 3072 + 4096 sacked above una: lost; 4096 above 0x400: lost */
    cr_assert(tcp_sack_sb_is_lost(&sb, una, SMSS));
    cr_assert(tcp_sack_sb_is_lost(&sb, 0x400u, SMSS));
    cr_assert(tcp_sack_sb_next_hole(&sb, una, una, &start, &len));
    cr_assert_eq(start, una);
    cr_assert_eq(len, 0x800u);
    cr_assert(tcp_sack_sb_next_hole(&sb, una, 0xfffffff0u, &start, &len));
    cr_assert_eq(start, 0x400u);
    cr_assert_eq(len, 0xc00u);
    /* holes [una, -2048) and [0x400, 0x1000) lost; [0x2000, 0x3000) not */
    cr_assert_eq(tcp_sack_sb_pipe(&sb, una, max, una, SMSS), 0x1000u);
    cr_assert_eq(tcp_sack_sb_pipe(&sb, una, max, 0x800u, SMSS), 0x1000u + 0x800u + 0x400u);
    /* a D-SACK below an ACK that wrapped */
    cr_assert_not(upd(&sb, una, max, 1, (blk_t[]){{0xffffe000u, 0xfffff000u}}));
    /* a block straddling 2^32 that joins both ranges */
    cr_assert(upd(&sb, una, max, 1, (blk_t[]){{0x300u, 0x1100u}}));
    expect_ranges(&sb, 1, (blk_t[]){{0xfffff800u, 0x2000u}});
    tcp_sack_sb_ack(&sb, 0x10u);
    expect_ranges(&sb, 1, (blk_t[]){{0x10u, 0x2000u}});
    cr_assert_eq(tcp_sack_sb_pipe(&sb, 0x10u, max, 0x10u, SMSS), 0x1000u);
}
