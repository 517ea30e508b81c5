/*
 * tcp_isn.c - initial sequence numbers (RFC 9293 §3.4.1, RFC 6528 §3):
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M the
 * 4 µs clock, F SipHash-2-4 of the 4-tuple under a secret random key.
 */
#include <errno.h>
#include <string.h>

#include "tcp_isn.h"

int tcp_isn_init(struct tcp_isn_gen *g)
{
    /* sodium_init: 0 first time, 1 already done, -1 failure; it seeds the
     * CSPRNG that randombytes_buf draws from (RFC 6528 §4, RFC 4086) */
    if (sodium_init() < 0)
        return -EIO;
    randombytes_buf(g->key, sizeof(g->key));
    return 0;
}

void tcp_isn_init_key(struct tcp_isn_gen *g, const unsigned char key[crypto_shorthash_KEYBYTES])
{
    memcpy(g->key, key, sizeof(g->key));
}

/* The connection-id of RFC 6528 §3 as bytes: the values as they are in
 * memory (network order), so the hash does not depend on the host. */
static void isn_tuple(unsigned char out[TCP_ISN_TUPLE_LEN], uint32_t laddr, uint16_t lport, uint32_t raddr,
                      uint16_t rport)
{
    memcpy(out, &laddr, 4);
    memcpy(out + 4, &lport, 2);
    memcpy(out + 6, &raddr, 4);
    memcpy(out + 10, &rport, 2);
}

/* F() of RFC 6528 §3: a keyed PRF that "MUST NOT be computable from the
 * outside"; SipHash-2-4 with a 128-bit key, first 32 bits little-endian. */
static uint32_t isn_prf(const struct tcp_isn_gen *g, const unsigned char tuple[TCP_ISN_TUPLE_LEN])
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, tuple, TCP_ISN_TUPLE_LEN, g->key);
    return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

/* M of RFC 6528 §3: the 32-bit clock that "increments at least once every
 * roughly 4 microseconds" (RFC 9293 §3.4.1), wrapping modulo 2^32. */
static uint32_t isn_clock(uint64_t now_ns)
{
    return (uint32_t)(now_ns / TCP_ISN_TICK_NS);
}

uint32_t tcp_isn(const struct tcp_isn_gen *g, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
                 uint64_t now_ns)
{
    unsigned char tuple[TCP_ISN_TUPLE_LEN];
    isn_tuple(tuple, laddr, lport, raddr, rport);
    /* ISN = M + F (RFC 6528 §3), modulo 2^32 (RFC 9293 §3.4) */
    return isn_clock(now_ns) + isn_prf(g, tuple);
}
