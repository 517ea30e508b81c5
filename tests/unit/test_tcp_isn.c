/* test_tcp_isn.c - RFC 6528 ISNs: M + F with M the 4 µs clock and F
 * SipHash-2-4 of the 4-tuple. Determinism for one tuple and time, a change
 * of port or key changes F, M advances one per 4 µs and wraps at 2^32, and
 * a fixed key gives the value computed here from crypto_shorthash. */
#include <arpa/inet.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tcp_isn.h"

#define LADDR 0x0a000001u /* 10.0.0.1 */
#define RADDR 0x0a000002u /* 10.0.0.2 */
#define LPORT 8080u
#define RPORT 49152u
#define T0 123456789012ull /* ns */

static void fixed_key(struct tcp_isn_gen *g, unsigned char first)
{
    unsigned char key[crypto_shorthash_KEYBYTES];
    for (unsigned i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(first + i);
    tcp_isn_init_key(g, key);
}

static uint32_t isn_at(const struct tcp_isn_gen *g, uint16_t lport, uint64_t now_ns)
{
    return tcp_isn(g, htonl(LADDR), htons(lport), htonl(RADDR), htons(RPORT), now_ns);
}

Test(tcp_isn, fixed_key_and_tuple_gives_shorthash_plus_clock)
{
    struct tcp_isn_gen g;
    fixed_key(&g, 0);
    /* the tuple written out byte by byte: 10.0.0.1:8080 -> 10.0.0.2:49152 */
    const unsigned char tuple[12] = {10, 0, 0, 1, 0x1f, 0x90, 10, 0, 0, 2, 0xc0, 0x00};
    unsigned char key[crypto_shorthash_KEYBYTES], h[crypto_shorthash_BYTES];
    for (unsigned i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)i;
    cr_assert_eq(crypto_shorthash(h, tuple, sizeof(tuple), key), 0);
    uint32_t f = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    uint32_t m = (uint32_t)(T0 / 4000u); /* 30864197 */
    cr_assert_eq(m, 30864197u);
    cr_assert_eq(isn_at(&g, LPORT, T0), (uint32_t)(m + f));
    cr_assert_eq(isn_at(&g, LPORT, 0), f);
}

Test(tcp_isn, same_tuple_same_time_same_isn)
{
    struct tcp_isn_gen g;
    fixed_key(&g, 0x40);
    cr_assert_eq(isn_at(&g, LPORT, T0), isn_at(&g, LPORT, T0));
}

Test(tcp_isn, other_local_port_other_isn)
{
    struct tcp_isn_gen g;
    fixed_key(&g, 0x40);
    cr_assert_neq(isn_at(&g, LPORT, T0), isn_at(&g, LPORT + 1, T0));
}

Test(tcp_isn, swapped_ends_other_isn)
{
    struct tcp_isn_gen g;
    fixed_key(&g, 0x40);
    uint32_t a = tcp_isn(&g, htonl(LADDR), htons(LPORT), htonl(RADDR), htons(RPORT), T0);
    uint32_t b = tcp_isn(&g, htonl(RADDR), htons(RPORT), htonl(LADDR), htons(LPORT), T0);
    cr_assert_neq(a, b);
}

Test(tcp_isn, clock_plus_4us_isn_plus_1)
{
    struct tcp_isn_gen g;
    fixed_key(&g, 0x40);
    uint32_t base = isn_at(&g, LPORT, T0);
    cr_assert_eq(isn_at(&g, LPORT, T0 + 4000), base + 1u);
    cr_assert_eq(isn_at(&g, LPORT, T0 + 4 * 4000), base + 4u);
}

Test(tcp_isn, clock_within_one_tick_isn_unchanged)
{
    struct tcp_isn_gen g;
    fixed_key(&g, 0x40);
    const uint64_t tick = 4000ull * 1000; /* a tick boundary */
    uint32_t base = isn_at(&g, LPORT, tick);
    cr_assert_eq(isn_at(&g, LPORT, tick + 3999), base);
    cr_assert_eq(isn_at(&g, LPORT, tick - 1), base - 1u);
}

Test(tcp_isn, clock_after_2p32_ticks_wraps_to_same_isn)
{
    struct tcp_isn_gen g;
    fixed_key(&g, 0x40);
    const uint64_t wrap = 4000ull << 32; /* ~4.77 h */
    cr_assert_eq(isn_at(&g, LPORT, wrap + T0), isn_at(&g, LPORT, T0));
}

Test(tcp_isn, other_key_other_isn)
{
    struct tcp_isn_gen a, b;
    fixed_key(&a, 0x00);
    fixed_key(&b, 0x01);
    cr_assert_neq(isn_at(&a, LPORT, T0), isn_at(&b, LPORT, T0));
}

Test(tcp_isn, random_init_two_generators_differ)
{
    struct tcp_isn_gen a, b;
    const unsigned char zero[crypto_shorthash_KEYBYTES] = {0};
    cr_assert_eq(tcp_isn_init(&a), 0);
    cr_assert_eq(tcp_isn_init(&b), 0);
    /* 2^-128 odds of a false failure */
    cr_assert_neq(memcmp(a.key, b.key, sizeof(a.key)), 0);
    cr_assert_neq(memcmp(a.key, zero, sizeof(zero)), 0);
}
