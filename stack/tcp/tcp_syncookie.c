/*
 * tcp_syncookie.c - see tcp_syncookie.h.
 *
 * RFC 4987 §3.6 leaves the encoding to the implementation ("can be
 * implementation dependent ... the hash value is checked by the same host
 * who generates it"); what it asks for is time-dependent bits against
 * replay (t), the MSS in a few bits (m, 8 values here where early schemes
 * had 4), and a truncated keyed hash binding the cookie to the connection
 * (h, SipHash-2-4 instead of MD5).
 */
#include "tcp_syncookie.h"

#include <errno.h>
#include <string.h>

#define T_SHIFT 27u
#define T_MASK 0x1fu
#define M_SHIFT 24u
#define M_MASK 0x7u
#define H_MASK 0xffffffu

#define TS_WS_MASK 0xfu  /* low 4 bits of TSval: wscale 0..14 */
#define TS_WS_NONE 0xfu  /* ... or 15: no window scaling */
#define TS_SACK 0x10u    /* the next bit: SACK-permitted */
#define TS_BITS_MASK 0x1fu
#define WSCALE_MAX 14u   /* RFC 7323 §2.3 */

/* The MSS values a cookie can carry, ascending. Each is an MSS commonly
 * announced by real paths, so rounding the peer's MSS down to one loses
 * little:
 *   536   RFC 9293 §3.7.1 default (no MSS option, IPv4 minimum);
 *   1200  small-MTU tunnels and mobile paths (1240-byte MTUs);
 *   1360  1500 minus IPsec/GRE-style tunnel overhead;
 *   1400  the common VPN/clamping value;
 *   1440  PPPoE (1492 MTU) with room for IP options, and 1480-MTU links;
 *   1460  Ethernet (1500 - 20 - 20), the most common of all;
 *   4312  4352-byte MTUs (FDDI, some 4K-MTU fabrics);
 *   8960  9000-byte jumbo frames. */
static const uint16_t mss_table[8] = {536, 1200, 1360, 1400, 1440, 1460, 4312, 8960};

int tcp_syncookie_init(struct tcp_syncookie_key *k)
{
    /* seeds the CSPRNG randombytes_buf draws from; -1 is failure (RFC 4086
     * for why the secret must be unpredictable) */
    if (sodium_init() < 0)
        return -EIO;
    randombytes_buf(k->key, sizeof(k->key));
    return 0;
}

void tcp_syncookie_init_key(struct tcp_syncookie_key *k, const unsigned char key[crypto_shorthash_KEYBYTES])
{
    memcpy(k->key, key, sizeof(k->key));
}

/* t: the 64 s counter, mod 32. */
static uint32_t counter(uint64_t now_ns)
{
    return (uint32_t)(now_ns / TCP_SYNCOOKIE_PERIOD_NS) & T_MASK;
}

/* The largest entry not above mss (the smallest when all are). */
static uint32_t mss_index(uint16_t mss)
{
    uint32_t i = M_MASK;

    while (i > 0 && mss_table[i] > mss)
        i--;
    return i;
}

/* h: 24 bits of SipHash-2-4 over the 4-tuple as on the wire, the peer's
 * ISN (little-endian, so the value does not depend on the host) and the
 * byte holding t and m. Covering m means a cookie cannot be replayed with
 * another MSS. */
static uint32_t cookie_hash(const struct tcp_syncookie_key *k, uint32_t laddr, uint16_t lport, uint32_t raddr,
                            uint16_t rport, uint32_t peer_isn, uint32_t t, uint32_t m)
{
    unsigned char in[17], h[crypto_shorthash_BYTES];

    memcpy(in, &laddr, 4);
    memcpy(in + 4, &lport, 2);
    memcpy(in + 6, &raddr, 4);
    memcpy(in + 10, &rport, 2);
    for (unsigned i = 0; i < 4; i++)
        in[12 + i] = (unsigned char)(peer_isn >> (8 * i));
    in[16] = (unsigned char)(t << 3 | m);
    crypto_shorthash(h, in, sizeof(in), k->key);
    return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16;
}

uint32_t tcp_syncookie_make(const struct tcp_syncookie_key *k, uint32_t laddr, uint16_t lport, uint32_t raddr,
                            uint16_t rport, uint32_t peer_isn, uint16_t peer_mss, uint64_t now_ns,
                            uint16_t *mss_out)
{
    uint32_t t = counter(now_ns), m = mss_index(peer_mss);

    *mss_out = mss_table[m];
    return t << T_SHIFT | m << M_SHIFT | cookie_hash(k, laddr, lport, raddr, rport, peer_isn, t, m);
}

int tcp_syncookie_check(const struct tcp_syncookie_key *k, uint32_t laddr, uint16_t lport, uint32_t raddr,
                        uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint64_t now_ns, uint16_t *mss_out)
{
    uint32_t t = cookie >> T_SHIFT & T_MASK, m = cookie >> M_SHIFT & M_MASK, now = counter(now_ns);

    /* RFC 4987 §3.6: the time bits bound how long a cookie can be
     * replayed; this counter or the one before (mod 32) */
    if (t != now && t != ((now - 1) & T_MASK))
        return -EINVAL;
    if ((cookie & H_MASK) != cookie_hash(k, laddr, lport, raddr, rport, peer_isn, t, m))
        return -EINVAL;
    *mss_out = mss_table[m];
    return 0;
}

uint32_t tcp_syncookie_ts_encode(uint32_t tsval, bool ws_ok, uint8_t wscale, bool sack_ok)
{
    uint32_t opts = ws_ok ? (wscale < WSCALE_MAX ? wscale : WSCALE_MAX) : TS_WS_NONE;
    uint32_t v;

    opts |= sack_ok ? TS_SACK : 0;
    v = (tsval & ~TS_BITS_MASK) | opts;
    /* Never above the clock: our next TSvals come from it, and the peer's
     * PAWS check (RFC 7323 §5.3) drops segments whose TSval went back
     * below one it has seen. Going 32 ticks back is harmless. */
    if (opts > (tsval & TS_BITS_MASK))
        v -= TS_BITS_MASK + 1;
    return v;
}

void tcp_syncookie_ts_decode(uint32_t tsecr, bool *ws_ok, uint8_t *wscale, bool *sack_ok)
{
    uint32_t ws = tsecr & TS_WS_MASK;

    *ws_ok = ws != TS_WS_NONE;
    *wscale = *ws_ok ? (uint8_t)ws : 0;
    *sack_ok = (tsecr & TS_SACK) != 0;
}
