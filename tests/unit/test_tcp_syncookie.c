/* test_tcp_syncookie.c - RFC 4987 §3.6 SYN cookies: the bit layout (t, m,
 * h), a round trip for every MSS table entry, every other 4-tuple, ISN or
 * bit of the cookie rejected, the 64-128 s lifetime (and the 5-bit
 * counter wrapping), sequence numbers at 2^32, and the options carried in
 * the TSval's low 5 bits for every wscale 0..14 and none. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tcp_syncookie.h"

#define SEC 1000000000ull
#define LADDR 0x0a000002u /* 10.0.0.2 */
#define RADDR 0x0a000001u /* 10.0.0.1 */
#define LPORT 80u
#define RPORT 40000u
#define ISN 0x12345678u
#define T0 (1000 * SEC + 123) /* counter 15 */

static const uint16_t table[8] = {536, 1200, 1360, 1400, 1440, 1460, 4312, 8960};

static struct tcp_syncookie_key fixed_key(unsigned char first)
{
    struct tcp_syncookie_key k;
    unsigned char raw[crypto_shorthash_KEYBYTES];

    for (unsigned i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(first + 7 * i);
    tcp_syncookie_init_key(&k, raw);
    return k;
}

static uint32_t make(const struct tcp_syncookie_key *k, uint32_t isn, uint16_t mss, uint64_t now, uint16_t *out)
{
    return tcp_syncookie_make(k, htonl(LADDR), htons(LPORT), htonl(RADDR), htons(RPORT), isn, mss, now, out);
}

static int check(const struct tcp_syncookie_key *k, uint32_t isn, uint32_t cookie, uint64_t now, uint16_t *out)
{
    return tcp_syncookie_check(k, htonl(LADDR), htons(LPORT), htonl(RADDR), htons(RPORT), isn, cookie, now, out);
}

/* ---- keys ---- */

Test(tcp_syncookie, random_keys_differ_and_each_round_trips)
{
    struct tcp_syncookie_key a, b;
    uint16_t mss;

    cr_assert_eq(tcp_syncookie_init(&a), 0);
    cr_assert_eq(tcp_syncookie_init(&b), 0);
    cr_assert_neq(memcmp(a.key, b.key, sizeof(a.key)), 0);
    uint32_t c = make(&a, ISN, 1460, T0, &mss);
    cr_assert_eq(check(&a, ISN, c, T0, &mss), 0);
}

Test(tcp_syncookie, same_key_same_input_same_cookie_other_key_rejects)
{
    struct tcp_syncookie_key a = fixed_key(1), a2 = fixed_key(1), b = fixed_key(2);
    uint16_t m1, m2;

    uint32_t c = make(&a, ISN, 1460, T0, &m1);
    cr_assert_eq(make(&a2, ISN, 1460, T0, &m2), c);
    cr_assert_eq(check(&b, ISN, c, T0, &m2), -EINVAL);
}

/* ---- layout ---- */

Test(tcp_syncookie, cookie_carries_counter_and_mss_index_in_top_byte)
{
    struct tcp_syncookie_key k = fixed_key(0);
    uint16_t mss;

    /* 1000 s / 64 s = 15; 1460 is entry 5 */
    uint32_t c = make(&k, ISN, 1460, T0, &mss);
    cr_assert_eq(c >> 27, 15);
    cr_assert_eq((c >> 24) & 7, 5);
    cr_assert_eq(mss, 1460);
    /* counter 40 is 8 mod 32; 536 is entry 0 */
    c = make(&k, ISN, 536, 40 * 64 * SEC, &mss);
    cr_assert_eq(c >> 27, 8);
    cr_assert_eq((c >> 24) & 7, 0);
}

/* ---- round trip ---- */

Test(tcp_syncookie, round_trip_gives_back_the_mss)
{
    struct tcp_syncookie_key k = fixed_key(3);
    uint16_t made = 0, got = 0;

    uint32_t c = make(&k, ISN, 1460, T0, &made);
    cr_assert_eq(made, 1460);
    cr_assert_eq(check(&k, ISN, c, T0, &got), 0);
    cr_assert_eq(got, 1460);
}

Test(tcp_syncookie, every_mss_table_entry_round_trips)
{
    struct tcp_syncookie_key k = fixed_key(4);

    for (unsigned i = 0; i < 8; i++) {
        uint16_t made = 0, got = 0;
        uint32_t c = make(&k, ISN + i, table[i], T0, &made);
        cr_assert_eq(made, table[i], "entry %u: made %u", i, made);
        cr_assert_eq((c >> 24) & 7, i);
        cr_assert_eq(check(&k, ISN + i, c, T0, &got), 0, "entry %u", i);
        cr_assert_eq(got, table[i]);
        /* just above an entry: that entry; just below: the one before */
        make(&k, ISN, (uint16_t)(table[i] + 1), T0, &made);
        cr_assert_eq(made, table[i]);
        if (i > 0) {
            make(&k, ISN, (uint16_t)(table[i] - 1), T0, &made);
            cr_assert_eq(made, table[i - 1], "below entry %u: made %u", i, made);
        }
    }
}

Test(tcp_syncookie, mss_below_the_table_takes_the_smallest_and_huge_the_largest)
{
    struct tcp_syncookie_key k = fixed_key(5);
    uint16_t made = 0, got = 0;

    make(&k, ISN, 100, T0, &made);
    cr_assert_eq(made, 536);
    make(&k, ISN, 0, T0, &made);
    cr_assert_eq(made, 536);
    uint32_t c = make(&k, ISN, 65535, T0, &made);
    cr_assert_eq(made, 8960);
    cr_assert_eq(check(&k, ISN, c, T0, &got), 0);
    cr_assert_eq(got, 8960);
}

/* ---- rejections ---- */

Test(tcp_syncookie, any_flipped_hash_or_mss_bit_is_rejected)
{
    struct tcp_syncookie_key k = fixed_key(6);
    uint16_t mss = 0;

    uint32_t c = make(&k, ISN, 1460, T0, &mss);
    for (unsigned bit = 0; bit < 27; bit++) {
        mss = 0x5555;
        cr_assert_eq(check(&k, ISN, c ^ (1u << bit), T0, &mss), -EINVAL, "bit %u", bit);
        cr_assert_eq(mss, 0x5555); /* untouched on failure */
    }
}

Test(tcp_syncookie, other_isn_address_or_port_is_rejected)
{
    struct tcp_syncookie_key k = fixed_key(7);
    uint16_t mss;

    uint32_t c = make(&k, ISN, 1460, T0, &mss);
    cr_assert_eq(check(&k, ISN + 1, c, T0, &mss), -EINVAL);
    cr_assert_eq(tcp_syncookie_check(&k, htonl(LADDR), htons(LPORT), htonl(RADDR + 1), htons(RPORT), ISN, c, T0,
                                     &mss),
                 -EINVAL);
    cr_assert_eq(tcp_syncookie_check(&k, htonl(LADDR + 1), htons(LPORT), htonl(RADDR), htons(RPORT), ISN, c, T0,
                                     &mss),
                 -EINVAL);
    cr_assert_eq(tcp_syncookie_check(&k, htonl(LADDR), htons(LPORT + 1), htonl(RADDR), htons(RPORT), ISN, c, T0,
                                     &mss),
                 -EINVAL);
    cr_assert_eq(tcp_syncookie_check(&k, htonl(LADDR), htons(LPORT), htonl(RADDR), htons(RPORT + 1), ISN, c, T0,
                                     &mss),
                 -EINVAL);
    /* swapped ends */
    cr_assert_eq(tcp_syncookie_check(&k, htonl(RADDR), htons(RPORT), htonl(LADDR), htons(LPORT), ISN, c, T0, &mss),
                 -EINVAL);
}

/* ---- lifetime ---- */

Test(tcp_syncookie, cookie_passes_64s_later_and_fails_128s_later)
{
    struct tcp_syncookie_key k = fixed_key(8);
    uint16_t mss = 0;

    uint32_t c = make(&k, ISN, 1400, T0, &mss);
    cr_assert_eq(check(&k, ISN, c, T0 + 64 * SEC, &mss), 0);
    cr_assert_eq(mss, 1400);
    cr_assert_eq(check(&k, ISN, c, T0 + 128 * SEC, &mss), -EINVAL);
    /* nor from a counter that is still to come */
    cr_assert_eq(check(&k, ISN, c, T0 - 64 * SEC, &mss), -EINVAL);
}

Test(tcp_syncookie, cookie_made_at_end_of_period_lives_just_over_64s)
{
    struct tcp_syncookie_key k = fixed_key(9);
    uint16_t mss;
    const uint64_t end = 16 * 64 * SEC - 1; /* last ns of counter 15 */

    uint32_t c = make(&k, ISN, 1460, end, &mss);
    cr_assert_eq(check(&k, ISN, c, end + 64 * SEC, &mss), 0);
    cr_assert_eq(check(&k, ISN, c, end + 64 * SEC + 1, &mss), -EINVAL);
}

Test(tcp_syncookie, counter_wraps_from_31_to_0)
{
    struct tcp_syncookie_key k = fixed_key(10);
    uint16_t mss = 0;
    const uint64_t t31 = 31 * 64 * SEC + 5 * SEC;

    uint32_t c = make(&k, ISN, 1460, t31, &mss);
    cr_assert_eq(c >> 27, 31);
    cr_assert_eq(check(&k, ISN, c, t31 + 64 * SEC, &mss), 0); /* counter 32 = 0 */
    cr_assert_eq(check(&k, ISN, c, t31 + 128 * SEC, &mss), -EINVAL);
}

/* ---- sequence numbers at 2^32 ---- */

Test(tcp_syncookie, peer_isn_and_ack_wrapping_at_2_32)
{
    struct tcp_syncookie_key k = fixed_key(11);
    uint16_t mss = 0;

    /* peer ISN 2^32 - 1: the ACK's sequence number is 0 */
    uint32_t c = make(&k, 0xffffffffu, 1460, T0, &mss);
    uint32_t ack_seq = 0xffffffffu + 1u, ack_ack = c + 1u;
    cr_assert_eq(check(&k, ack_seq - 1u, ack_ack - 1u, T0, &mss), 0);
    cr_assert_eq(mss, 1460);
    cr_assert_eq(check(&k, 0, c, T0, &mss), -EINVAL);
}

/* ---- options in the TSval ---- */

Test(tcp_syncookie, ts_options_round_trip_for_every_wscale_and_none)
{
    const uint32_t tsvals[] = {0x12345678u, 0x12345660u, 0x1234567fu, 0, 31, 0xffffffffu};

    for (unsigned t = 0; t < sizeof(tsvals) / sizeof(tsvals[0]); t++) {
        for (int ws = -1; ws <= 14; ws++) {
            for (int sack = 0; sack <= 1; sack++) {
                uint32_t v = tsvals[t];
                uint32_t e = tcp_syncookie_ts_encode(v, ws >= 0, ws >= 0 ? (uint8_t)ws : 0, sack);
                bool ws_ok = !(ws >= 0), sack_ok = !sack;
                uint8_t wscale = 99;

                tcp_syncookie_ts_decode(e, &ws_ok, &wscale, &sack_ok);
                cr_assert_eq(ws_ok, ws >= 0, "tsval %#x ws %d", v, ws);
                cr_assert_eq(wscale, ws >= 0 ? ws : 0, "tsval %#x ws %d: %u", v, ws, wscale);
                cr_assert_eq(sack_ok, sack == 1);
                /* never above the clock, at most 31 below it (mod 2^32) */
                cr_assert_lt(v - e, 32u, "tsval %#x encoded %#x", v, e);
                cr_assert_eq(e & 0x1fu, (ws >= 0 ? (uint32_t)ws : 15u) | (sack ? 16u : 0u));
            }
        }
    }
}

Test(tcp_syncookie, ts_encode_keeps_the_clock_bits_when_the_low_bits_allow)
{
    /* low bits 0x1f >= any options: only the low 5 bits change */
    cr_assert_eq(tcp_syncookie_ts_encode(0x1234567fu, true, 7, true), 0x12345677u);
    cr_assert_eq(tcp_syncookie_ts_encode(0x1234567fu, false, 0, false), 0x1234566fu);
    /* low bits 0: would go up, so 32 back instead */
    cr_assert_eq(tcp_syncookie_ts_encode(0x12345660u, true, 7, true), 0x12345657u);
    /* and that wraps below 0 */
    cr_assert_eq(tcp_syncookie_ts_encode(3, true, 14, true), 0xfffffffeu);
}

Test(tcp_syncookie, ts_wscale_above_14_is_sent_as_14)
{
    bool ws_ok = false, sack_ok = true;
    uint8_t ws = 0;

    tcp_syncookie_ts_decode(tcp_syncookie_ts_encode(0x1000u, true, 15, false), &ws_ok, &ws, &sack_ok);
    cr_assert(ws_ok);
    cr_assert_eq(ws, 14);
    cr_assert_not(sack_ok);
}
