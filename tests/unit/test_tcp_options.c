/* test_tcp_options.c - the TCP options area: parsing a real Linux SYN,
 * building the exact bytes Linux sends and parsing them back, every
 * malformed length rejected, EOL/NOP/unknown kinds, options that only
 * count on SYN (or only without it), and the MSS rules. Byte blocks are
 * written out by hand from RFC 9293 §3.2, RFC 7323 §2.2/§3.2, RFC 2018. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_options.h"

/* A SYN from Linux (tcpdump -x): mss 1460, sackOK, TS val 10239572 ecr 0,
 * nop, wscale 7. */
static const uint8_t linux_syn[] = {
    0x02, 0x04, 0x05, 0xb4,                         /* MSS 1460 */
    0x04, 0x02,                                     /* SACK-permitted */
    0x08, 0x0a, 0x00, 0x9c, 0x3e, 0x54, 0x00, 0x00, 0x00, 0x00, /* TS */
    0x01,                                           /* NOP */
    0x03, 0x03, 0x07,                               /* WS 7 */
};

static int parse(const uint8_t *p, size_t len, bool syn, struct tcp_opts *o)
{
    memset(o, 0xa5, sizeof(*o));
    return tcp_opts_parse(p, len, syn, o);
}

static void assert_einval(const uint8_t *p, size_t len, bool syn)
{
    struct tcp_opts o;
    cr_assert_eq(tcp_opts_parse(p, len, syn, &o), -EINVAL);
}

/* ---- parsing ---- */

Test(tcp_options, linux_syn_block_parses_to_mss_sackperm_ts_wscale)
{
    struct tcp_opts o;
    cr_assert_eq(parse(linux_syn, sizeof(linux_syn), true, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS | TCP_OPT_WSCALE);
    cr_assert_eq(o.mss, 1460);
    cr_assert_eq(o.wscale, 7);
    cr_assert_not(o.wscale_clamped);
    cr_assert_eq(o.ts_val, 10239572u);
    cr_assert_eq(o.ts_ecr, 0);
    cr_assert_eq(o.nsack, 0);
}

Test(tcp_options, zero_length_area_parses_to_nothing)
{
    struct tcp_opts o;
    cr_assert_eq(parse(NULL, 0, true, &o), 0);
    cr_assert_eq(o.present, 0);
    cr_assert_eq(o.nsack, 0);
    cr_assert_not(o.wscale_clamped);
}

Test(tcp_options, data_segment_nop_nop_ts_parses_to_ts)
{
    static const uint8_t a[] = {0x01, 0x01, 0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), false, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_TS);
    cr_assert_eq(o.ts_val, 0xdeadbeefu);
    cr_assert_eq(o.ts_ecr, 0x01020304u);
}

Test(tcp_options, sack_with_4_blocks_parses_all_4)
{
    static const uint8_t a[] = {
        0x01, 0x01, 0x05, 0x22,
        0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20,
        0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x40,
        0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x10,
        0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x00,
    };
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), false, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_SACK);
    cr_assert_eq(o.nsack, 4);
    cr_assert_eq(o.sack[0].left, 0x10u);
    cr_assert_eq(o.sack[0].right, 0x20u);
    cr_assert_eq(o.sack[1].left, 0x30u);
    cr_assert_eq(o.sack[1].right, 0x40u);
    cr_assert_eq(o.sack[2].left, 0xffffff00u);
    cr_assert_eq(o.sack[2].right, 0x10u);
    cr_assert_eq(o.sack[3].left, 0x80000000u);
    cr_assert_eq(o.sack[3].right, 0x80000100u);
}

Test(tcp_options, eol_stops_parsing_and_later_bytes_are_ignored)
{
    /* MSS, EOL, then a WS option and a bad length: neither is looked at. */
    static const uint8_t a[] = {0x02, 0x04, 0x02, 0x18, 0x00, 0x03, 0x03, 0x05, 0x02, 0x00, 0x00, 0x00};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_MSS);
    cr_assert_eq(o.mss, 536);
}

Test(tcp_options, eol_first_gives_no_options)
{
    static const uint8_t a[] = {0x00, 0x02, 0x04, 0x05, 0xb4};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.present, 0);
}

Test(tcp_options, nops_anywhere_and_unaligned_options_parse)
{
    /* NOP, MSS at offset 1, three NOPs, WS, TS at an odd offset, NOPs to the
     * end (RFC 9293 §3.2 MUST-64: options need not be word-aligned). */
    static const uint8_t a[] = {
        0x01, 0x02, 0x04, 0x23, 0x28, 0x01, 0x01, 0x01, 0x03, 0x03, 0x00,
        0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01,
    };
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_TS);
    cr_assert_eq(o.mss, 9000);
    cr_assert_eq(o.wscale, 0);
    cr_assert_eq(o.ts_val, 1);
    cr_assert_eq(o.ts_ecr, 2);
}

Test(tcp_options, all_nop_area_of_40_bytes_parses_to_nothing)
{
    uint8_t a[TCP_OPT_MAX_LEN];
    memset(a, TCP_OPTKIND_NOP, sizeof(a));
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), false, &o), 0);
    cr_assert_eq(o.present, 0);
}

Test(tcp_options, unknown_kind_99_len_5_is_skipped)
{
    static const uint8_t a[] = {0x63, 0x05, 0xaa, 0xbb, 0xcc, 0x02, 0x04, 0x05, 0xb4};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_MSS);
    cr_assert_eq(o.mss, 1460);
}

Test(tcp_options, unknown_kind_with_length_past_end_is_einval)
{
    static const uint8_t a[] = {0x01, 0x63, 0x06, 0xaa, 0xbb, 0xcc};
    assert_einval(a, sizeof(a), true);
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, wscale_15_is_clamped_to_14_with_the_flag)
{
    static const uint8_t a[] = {0x01, 0x03, 0x03, 0x0f};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_WSCALE);
    cr_assert_eq(o.wscale, 14);
    cr_assert(o.wscale_clamped);
}

Test(tcp_options, wscale_255_is_clamped_to_14_and_14_is_not_flagged)
{
    static const uint8_t big[] = {0x03, 0x03, 0xff};
    static const uint8_t max[] = {0x03, 0x03, 0x0e};
    struct tcp_opts o;
    cr_assert_eq(parse(big, sizeof(big), true, &o), 0);
    cr_assert_eq(o.wscale, 14);
    cr_assert(o.wscale_clamped);
    cr_assert_eq(parse(max, sizeof(max), true, &o), 0);
    cr_assert_eq(o.wscale, 14);
    cr_assert_not(o.wscale_clamped);
}

Test(tcp_options, mss_wscale_sackperm_on_non_syn_are_ignored)
{
    static const uint8_t a[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x01, 0x03, 0x03, 0x0f, 0x01, 0x01};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), false, &o), 0);
    cr_assert_eq(o.present, 0);
    cr_assert_not(o.wscale_clamped);
}

Test(tcp_options, sack_blocks_on_syn_are_ignored)
{
    static const uint8_t a[] = {0x01, 0x01, 0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.present, 0);
    cr_assert_eq(o.nsack, 0);
}

Test(tcp_options, ts_on_syn_counts)
{
    static const uint8_t a[] = {0x08, 0x0a, 0, 0, 0, 7, 0, 0, 0, 0};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_TS);
    cr_assert_eq(o.ts_val, 7);
}

Test(tcp_options, repeated_option_last_one_wins)
{
    static const uint8_t a[] = {0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), true, &o), 0);
    cr_assert_eq(o.mss, 536);
}

Test(tcp_options, option_ending_exactly_at_area_end_parses)
{
    static const uint8_t a[] = {0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2};
    struct tcp_opts o;
    cr_assert_eq(parse(a, sizeof(a), false, &o), 0);
    cr_assert_eq(o.present, TCP_OPT_TS);
}

/* ---- malformed areas ---- */

Test(tcp_options, option_length_0_is_einval)
{
    static const uint8_t a[] = {0x01, 0x63, 0x00, 0x01};
    assert_einval(a, sizeof(a), true);
}

Test(tcp_options, option_length_1_is_einval)
{
    static const uint8_t a[] = {0x02, 0x01, 0x01, 0x01};
    assert_einval(a, sizeof(a), true);
}

Test(tcp_options, option_running_past_the_end_is_einval)
{
    /* A TS (length 10) in an area of 8 bytes. */
    static const uint8_t a[] = {0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1};
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, kind_in_last_byte_without_length_is_einval)
{
    static const uint8_t a[] = {0x01, 0x01, 0x01, 0x02};
    assert_einval(a, sizeof(a), true);
}

Test(tcp_options, mss_length_3_is_einval_with_or_without_syn)
{
    static const uint8_t a[] = {0x02, 0x03, 0x05, 0x01};
    assert_einval(a, sizeof(a), true);
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, wscale_length_4_is_einval)
{
    static const uint8_t a[] = {0x03, 0x04, 0x07, 0x01};
    assert_einval(a, sizeof(a), true);
}

Test(tcp_options, sackperm_length_3_is_einval)
{
    static const uint8_t a[] = {0x04, 0x03, 0x00, 0x01};
    assert_einval(a, sizeof(a), true);
}

Test(tcp_options, ts_length_9_is_einval)
{
    static const uint8_t a[] = {0x08, 0x09, 0, 0, 0, 1, 0, 0, 0, 0x01, 0x01, 0x01};
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, sack_length_9_is_einval)
{
    static const uint8_t a[] = {0x05, 0x09, 0, 0, 0, 1, 0, 0, 0, 0x01, 0x01, 0x01};
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, sack_with_no_block_is_einval)
{
    static const uint8_t a[] = {0x01, 0x01, 0x05, 0x02};
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, sack_with_5_blocks_length_42_is_einval)
{
    /* 2 + 8 * 5 = 42 cannot fit in the 40-byte area: it runs past it. */
    uint8_t a[TCP_OPT_MAX_LEN] = {0x05, 2 + 8 * 5};
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, area_of_41_bytes_is_einval)
{
    uint8_t a[TCP_OPT_MAX_LEN + 1];
    memset(a, TCP_OPTKIND_NOP, sizeof(a));
    assert_einval(a, sizeof(a), false);
}

Test(tcp_options, failed_parse_leaves_out_untouched)
{
    static const uint8_t a[] = {0x02, 0x04, 0x05, 0xb4, 0x08, 0x09};
    struct tcp_opts o, before;
    memset(&o, 0x5a, sizeof(o));
    before = o;
    cr_assert_eq(tcp_opts_parse(a, sizeof(a), true, &o), -EINVAL);
    cr_assert_arr_eq(&o, &before, sizeof(o));
}

/* ---- building ---- */

Test(tcp_options, build_syn_gives_linux_bytes_and_parses_back)
{
    struct tcp_opts in = {
        .present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS | TCP_OPT_WSCALE,
        .mss = 1460, .wscale = 7, .ts_val = 10239572u, .ts_ecr = 0,
    };
    uint8_t buf[TCP_OPT_MAX_LEN];
    cr_assert_eq(tcp_opts_build(&in, true, buf, sizeof(buf)), 20);
    cr_assert_arr_eq(buf, linux_syn, sizeof(linux_syn));
    cr_assert_eq(tcp_opts_size(&in, true), 20);

    struct tcp_opts out;
    cr_assert_eq(parse(buf, 20, true, &out), 0);
    cr_assert_eq(out.present, in.present);
    cr_assert_eq(out.mss, 1460);
    cr_assert_eq(out.wscale, 7);
    cr_assert_eq(out.ts_val, 10239572u);
    cr_assert_eq(out.ts_ecr, 0);
}

Test(tcp_options, build_synack_without_ts_gives_mss_nop_ws_nop_nop_sackperm)
{
    struct tcp_opts in = {.present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_WSCALE, .mss = 8960, .wscale = 9};
    static const uint8_t want[] = {0x02, 0x04, 0x23, 0x00, 0x01, 0x03, 0x03, 0x09, 0x01, 0x01, 0x04, 0x02};
    uint8_t buf[TCP_OPT_MAX_LEN];
    cr_assert_eq(tcp_opts_build(&in, true, buf, sizeof(buf)), (int)sizeof(want));
    cr_assert_arr_eq(buf, want, sizeof(want));

    struct tcp_opts out;
    cr_assert_eq(parse(buf, sizeof(want), true, &out), 0);
    cr_assert_eq(out.present, in.present);
    cr_assert_eq(out.mss, 8960);
    cr_assert_eq(out.wscale, 9);
}

Test(tcp_options, build_syn_with_ts_without_sackperm_gives_mss_nop_nop_ts_nop_ws)
{
    struct tcp_opts in = {.present = TCP_OPT_MSS | TCP_OPT_TS | TCP_OPT_WSCALE, .mss = 1460, .wscale = 0,
                          .ts_val = 0x01020304u, .ts_ecr = 0x0a0b0c0du};
    static const uint8_t want[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a, 0x01, 0x02,
                                   0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x03, 0x03, 0x00};
    uint8_t buf[TCP_OPT_MAX_LEN];
    cr_assert_eq(tcp_opts_build(&in, true, buf, sizeof(buf)), (int)sizeof(want));
    cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(tcp_options, build_data_segment_gives_nop_nop_ts_and_parses_back)
{
    struct tcp_opts in = {.present = TCP_OPT_TS, .ts_val = 0xdeadbeefu, .ts_ecr = 0x00abcdefu};
    static const uint8_t want[] = {0x01, 0x01, 0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xab, 0xcd, 0xef};
    uint8_t buf[TCP_OPT_MAX_LEN];
    cr_assert_eq(tcp_opts_build(&in, false, buf, sizeof(buf)), 12);
    cr_assert_arr_eq(buf, want, sizeof(want));

    struct tcp_opts out;
    cr_assert_eq(parse(buf, 12, false, &out), 0);
    cr_assert_eq(out.present, TCP_OPT_TS);
    cr_assert_eq(out.ts_val, 0xdeadbeefu);
    cr_assert_eq(out.ts_ecr, 0x00abcdefu);
}

Test(tcp_options, build_sack_with_ts_writes_only_the_first_3_blocks)
{
    struct tcp_opts in = {
        .present = TCP_OPT_TS | TCP_OPT_SACK, .ts_val = 1, .ts_ecr = 2, .nsack = 4,
        .sack = {{0x100, 0x200}, {0x300, 0x400}, {0x500, 0x600}, {0x700, 0x800}},
    };
    static const uint8_t want[] = {
        0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,
        0x01, 0x01, 0x05, 0x1a,
        0, 0, 0x01, 0, 0, 0, 0x02, 0,
        0, 0, 0x03, 0, 0, 0, 0x04, 0,
        0, 0, 0x05, 0, 0, 0, 0x06, 0,
    };
    uint8_t buf[TCP_OPT_MAX_LEN];
    cr_assert_eq(sizeof(want), 40);
    cr_assert_eq(tcp_opts_build(&in, false, buf, sizeof(buf)), 40);
    cr_assert_arr_eq(buf, want, sizeof(want));

    struct tcp_opts out;
    cr_assert_eq(parse(buf, 40, false, &out), 0);
    cr_assert_eq(out.present, TCP_OPT_TS | TCP_OPT_SACK);
    cr_assert_eq(out.nsack, 3);
    cr_assert_eq(out.sack[2].left, 0x500u);
    cr_assert_eq(out.sack[2].right, 0x600u);
}

Test(tcp_options, build_sack_without_ts_writes_4_blocks)
{
    struct tcp_opts in = {
        .present = TCP_OPT_SACK, .nsack = 4,
        .sack = {{1, 2}, {3, 4}, {5, 6}, {0xfffffff0u, 0x10}},
    };
    static const uint8_t want[] = {
        0x01, 0x01, 0x05, 0x22,
        0, 0, 0, 1, 0, 0, 0, 2,
        0, 0, 0, 3, 0, 0, 0, 4,
        0, 0, 0, 5, 0, 0, 0, 6,
        0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10,
    };
    uint8_t buf[TCP_OPT_MAX_LEN];
    cr_assert_eq(tcp_opts_build(&in, false, buf, sizeof(buf)), 36);
    cr_assert_arr_eq(buf, want, sizeof(want));

    struct tcp_opts out;
    cr_assert_eq(parse(buf, 36, false, &out), 0);
    cr_assert_eq(out.nsack, 4);
    cr_assert_eq(out.sack[3].left, 0xfffffff0u);
    cr_assert_eq(out.sack[3].right, 0x10u);
}

Test(tcp_options, build_one_sack_block_gives_nop_nop_sack_10)
{
    struct tcp_opts in = {.present = TCP_OPT_SACK, .nsack = 1, .sack = {{0x11223344u, 0x55667788u}}};
    static const uint8_t want[] = {0x01, 0x01, 0x05, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    uint8_t buf[TCP_OPT_MAX_LEN];
    cr_assert_eq(tcp_opts_build(&in, false, buf, sizeof(buf)), 12);
    cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(tcp_options, build_writes_only_options_that_belong_to_the_segment)
{
    struct tcp_opts in = {
        .present = TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_SACK,
        .mss = 1460, .wscale = 7, .nsack = 1, .sack = {{1, 2}},
    };
    uint8_t buf[TCP_OPT_MAX_LEN];
    /* Without SYN only the SACK block goes out... */
    cr_assert_eq(tcp_opts_build(&in, false, buf, sizeof(buf)), 12);
    cr_assert_eq(buf[2], TCP_OPTKIND_SACK);
    /* ...and with SYN everything but it. */
    cr_assert_eq(tcp_opts_build(&in, true, buf, sizeof(buf)), 12);
    static const uint8_t want[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x01, 0x01, 0x04, 0x02};
    cr_assert_arr_eq(buf, want, sizeof(want));
}

Test(tcp_options, build_nothing_gives_0_bytes)
{
    struct tcp_opts in = {0};
    cr_assert_eq(tcp_opts_build(&in, true, NULL, 0), 0);
    cr_assert_eq(tcp_opts_build(&in, false, NULL, 0), 0);
    cr_assert_eq(tcp_opts_size(&in, false), 0);
}

Test(tcp_options, build_into_too_small_buffer_is_enospc_and_writes_nothing)
{
    struct tcp_opts in = {
        .present = TCP_OPT_MSS | TCP_OPT_SACK_PERM | TCP_OPT_TS | TCP_OPT_WSCALE,
        .mss = 1460, .wscale = 7, .ts_val = 10239572u,
    };
    uint8_t buf[TCP_OPT_MAX_LEN];
    memset(buf, 0xee, sizeof(buf));
    cr_assert_eq(tcp_opts_build(&in, true, buf, 19), -ENOSPC);
    for (size_t i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], 0xee);
    cr_assert_eq(tcp_opts_build(&in, true, buf, 20), 20);
    cr_assert_arr_eq(buf, linux_syn, sizeof(linux_syn));
}

Test(tcp_options, build_invalid_options_is_einval)
{
    uint8_t buf[TCP_OPT_MAX_LEN];
    struct tcp_opts ws = {.present = TCP_OPT_WSCALE, .wscale = 15};
    struct tcp_opts none = {.present = TCP_OPT_SACK, .nsack = 0};
    struct tcp_opts five = {.present = TCP_OPT_SACK, .nsack = 5};
    struct tcp_opts bits = {.present = 1u << 9};
    cr_assert_eq(tcp_opts_build(&ws, true, buf, sizeof(buf)), -EINVAL);
    cr_assert_eq(tcp_opts_build(&none, false, buf, sizeof(buf)), -EINVAL);
    cr_assert_eq(tcp_opts_build(&five, false, buf, sizeof(buf)), -EINVAL);
    cr_assert_eq(tcp_opts_build(&bits, false, buf, sizeof(buf)), -EINVAL);
    cr_assert_eq(tcp_opts_size(&ws, true), -EINVAL);
}

/* ---- MSS ---- */

Test(tcp_options, mss_for_mtu_is_mtu_less_40_with_a_floor)
{
    cr_assert_eq(tcp_mss_for_mtu(1500), 1460);
    cr_assert_eq(tcp_mss_for_mtu(9000), 8960);
    cr_assert_eq(tcp_mss_for_mtu(576), 536);
    cr_assert_eq(tcp_mss_for_mtu(104), 64);
    cr_assert_eq(tcp_mss_for_mtu(68), 64);
    cr_assert_eq(tcp_mss_for_mtu(0), 64);
    cr_assert_eq(tcp_mss_for_mtu(65535), 65495);
}

Test(tcp_options, effective_mss_without_peer_option_is_536)
{
    struct tcp_opts peer = {.present = TCP_OPT_TS};
    cr_assert_eq(tcp_effective_mss(&peer, 1500), 536);
    cr_assert_eq(tcp_effective_mss(NULL, 1500), 536);
}

Test(tcp_options, effective_mss_takes_a_smaller_peer_mss)
{
    struct tcp_opts peer = {.present = TCP_OPT_MSS, .mss = 1400};
    cr_assert_eq(tcp_effective_mss(&peer, 1500), 1400);
}

Test(tcp_options, effective_mss_huge_peer_mss_is_clamped_to_mtu_less_40)
{
    struct tcp_opts peer = {.present = TCP_OPT_MSS, .mss = 65535};
    cr_assert_eq(tcp_effective_mss(&peer, 1500), 1460);
    cr_assert_eq(tcp_effective_mss(&peer, 9000), 8960);
}

Test(tcp_options, effective_mss_tiny_peer_mss_is_floored_to_64)
{
    struct tcp_opts peer = {.present = TCP_OPT_MSS, .mss = 8};
    cr_assert_eq(tcp_effective_mss(&peer, 1500), TCP_MSS_MIN);
    peer.mss = 0;
    cr_assert_eq(tcp_effective_mss(&peer, 1500), TCP_MSS_MIN);
    peer.mss = 64;
    cr_assert_eq(tcp_effective_mss(&peer, 1500), 64);
}

Test(tcp_options, effective_mss_default_is_clamped_by_a_small_mtu)
{
    cr_assert_eq(tcp_effective_mss(NULL, 300), 260);
}
