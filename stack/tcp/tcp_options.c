/*
 * tcp_options.c - the TCP options area: a strict parser, a builder with a
 * fixed layout, and the MSS rules (see tcp_options.h).
 *
 * RFC 9293 §3.1 (option format), §3.2 (EOL, NOP, MSS), §3.7.1 (MSS);
 * RFC 7323 §2.2-2.3 (window scale), §3.2 (timestamps);
 * RFC 2018 §2-3 (SACK-permitted, SACK); RFC 6691 (MSS and options);
 * RFC 1122 §3.3.2 (EMTU_R).
 *
 * Multi-byte fields are big-endian on the wire and may sit at any offset
 * (RFC 9293 §3.1: "an option may begin on any octet boundary"), so they are
 * read and written with memcpy and rte_be_to_cpu / rte_cpu_to_be.
 */
#include "tcp_options.h"

#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

/* The fixed IPv4 and TCP headers, without options (RFC 9293 §3.7.1). */
#define TCP_IPV4_FIXED_HDRS 40

/* ---- parsing ---- */

static uint16_t get_be16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return rte_be_to_cpu_16(v);
}

static uint32_t get_be32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return rte_be_to_cpu_32(v);
}

/* RFC 9293 §3.2: MSS, kind 2, length 4. It MUST NOT be sent except with
 * SYN (MUST-65); elsewhere it is ignored (§3.7.1: set at connection
 * setup). */
static int parse_mss(const uint8_t *opt, uint8_t olen, bool syn, struct tcp_opts *o)
{
    if (olen != TCP_OPTLEN_MSS)
        return -EINVAL;
    if (!syn)
        return 0;
    o->mss = get_be16(opt + 2);
    o->present |= TCP_OPT_MSS;
    return 0;
}

/* RFC 7323 §2.2: window scale, kind 3, length 3; "A Window Scale option in
 * a segment without a SYN bit MUST be ignored". §2.3: a shift above 14
 * SHOULD be logged and MUST be used as 14; the flag lets the caller log. */
static int parse_wscale(const uint8_t *opt, uint8_t olen, bool syn, struct tcp_opts *o)
{
    if (olen != TCP_OPTLEN_WSCALE)
        return -EINVAL;
    if (!syn)
        return 0;
    o->wscale = opt[2];
    o->wscale_clamped = false;
    if (o->wscale > TCP_WSCALE_MAX) {
        o->wscale = TCP_WSCALE_MAX;
        o->wscale_clamped = true;
    }
    o->present |= TCP_OPT_WSCALE;
    return 0;
}

/* RFC 2018 §2: SACK-permitted, kind 4, length 2; it "MUST NOT be sent on
 * non-SYN segments", so one there is ignored. */
static int parse_sack_perm(uint8_t olen, bool syn, struct tcp_opts *o)
{
    if (olen != TCP_OPTLEN_SACK_PERM)
        return -EINVAL;
    if (syn)
        o->present |= TCP_OPT_SACK_PERM;
    return 0;
}

/* RFC 2018 §3: SACK, kind 5, length 8n + 2, at most 4 blocks in the 40
 * bytes. A block list with no block says nothing and is malformed. SACK
 * reports data received after the handshake; on a SYN it is ignored (the
 * handshake has no data to report: SACK is only used once negotiated by
 * the SYNs, §2). */
static int parse_sack(const uint8_t *opt, uint8_t olen, bool syn, struct tcp_opts *o)
{
    unsigned body = (unsigned)olen - TCP_OPTLEN_SACK_BASE;
    unsigned n = body / TCP_OPTLEN_SACK_BLOCK;

    if (body % TCP_OPTLEN_SACK_BLOCK != 0 || n == 0 || n > TCP_SACK_MAX_BLOCKS)
        return -EINVAL;
    if (syn)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *b = opt + TCP_OPTLEN_SACK_BASE + i * TCP_OPTLEN_SACK_BLOCK;
        o->sack[i].left = get_be32(b);
        o->sack[i].right = get_be32(b + 4);
    }
    o->nsack = (uint8_t)n;
    o->present |= TCP_OPT_SACK;
    return 0;
}

/* RFC 7323 §3.2: timestamps, kind 8, length 10, TSval then TSecr. Valid on
 * any segment, SYN included; whether it was negotiated is the caller's
 * business (§3.2: ignore it on a connection without it). */
static int parse_ts(const uint8_t *opt, uint8_t olen, struct tcp_opts *o)
{
    if (olen != TCP_OPTLEN_TS)
        return -EINVAL;
    o->ts_val = get_be32(opt + 2);
    o->ts_ecr = get_be32(opt + 6);
    o->present |= TCP_OPT_TS;
    return 0;
}

/* One option with a length octet: opt[0] is the kind, opt[1] == olen >= 2,
 * and olen bytes are in the area. */
static int parse_one(const uint8_t *opt, uint8_t olen, bool syn, struct tcp_opts *o)
{
    switch (opt[0]) {
    case TCP_OPTKIND_MSS:
        return parse_mss(opt, olen, syn, o);
    case TCP_OPTKIND_WSCALE:
        return parse_wscale(opt, olen, syn, o);
    case TCP_OPTKIND_SACK_PERM:
        return parse_sack_perm(olen, syn, o);
    case TCP_OPTKIND_SACK:
        return parse_sack(opt, olen, syn, o);
    case TCP_OPTKIND_TS:
        return parse_ts(opt, olen, o);
    default:
        /* RFC 9293 §3.1 (MUST-6), §3.9.1 (MUST-50): an option we do not
         * implement is ignored without error; its length field skips it. */
        return 0;
    }
}

int tcp_opts_parse(const uint8_t *p, size_t len, bool syn, struct tcp_opts *out)
{
    struct tcp_opts o = {0};
    size_t i = 0;

    /* The data offset allows at most 15 words: 40 bytes of options. */
    if (len > TCP_OPT_MAX_LEN)
        return -EINVAL;
    /* RFC 9293 §3.1: MUST be able to receive an option in any segment
     * (MUST-5), starting at any octet (MUST-64). */
    while (i < len) {
        uint8_t kind = p[i];

        /* §3.2: EOL ends the list; what follows is padding (MUST-69 is the
         * sender's rule; we ignore those bytes whatever they are). */
        if (kind == TCP_OPTKIND_EOL)
            break;
        if (kind == TCP_OPTKIND_NOP) {
            i++;
            continue;
        }
        /* §3.1: every other option has a length octet (MUST-68) counting
         * the kind and length octets; an illegal length (0, 1, missing or
         * past the area) must be handled (MUST-7): the area is rejected. */
        if (len - i < 2)
            return -EINVAL;
        uint8_t olen = p[i + 1];
        if (olen < 2 || olen > len - i)
            return -EINVAL;
        int rc = parse_one(p + i, olen, syn, &o);
        if (rc != 0)
            return rc;
        i += olen;
    }
    *out = o;
    return 0;
}

/* ---- building ---- */

struct optbuf {
    uint8_t b[TCP_OPT_MAX_LEN];
    size_t n;
};

/* Four single octets: one word of the layout. */
static void put4(struct optbuf *w, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    w->b[w->n++] = a;
    w->b[w->n++] = b;
    w->b[w->n++] = c;
    w->b[w->n++] = d;
}

static void put_be32(struct optbuf *w, uint32_t v)
{
    uint32_t be = rte_cpu_to_be_32(v);
    memcpy(w->b + w->n, &be, sizeof(be));
    w->n += sizeof(be);
}

/* RFC 9293 §3.2: MSS, only with SYN (MUST-65). */
static void put_mss(struct optbuf *w, uint16_t mss)
{
    put4(w, TCP_OPTKIND_MSS, TCP_OPTLEN_MSS, (uint8_t)(mss >> 8), (uint8_t)mss);
}

/* RFC 7323 §3.2: timestamps. With SYN and SACK-permitted, SACK-permitted
 * (RFC 2018 §2) takes the two octets that are NOPs otherwise. */
static void put_ts(struct optbuf *w, const struct tcp_opts *o, bool with_sack_perm)
{
    if (with_sack_perm)
        put4(w, TCP_OPTKIND_SACK_PERM, TCP_OPTLEN_SACK_PERM, TCP_OPTKIND_TS, TCP_OPTLEN_TS);
    else
        put4(w, TCP_OPTKIND_NOP, TCP_OPTKIND_NOP, TCP_OPTKIND_TS, TCP_OPTLEN_TS);
    put_be32(w, o->ts_val);
    put_be32(w, o->ts_ecr);
}

/* RFC 7323 §2.2: window scale, only with SYN. */
static void put_wscale(struct optbuf *w, uint8_t shift)
{
    put4(w, TCP_OPTKIND_NOP, TCP_OPTKIND_WSCALE, TCP_OPTLEN_WSCALE, shift);
}

/* RFC 2018 §3: as many blocks as the area still holds, first ones first
 * (the first block reports the newest data, §4). */
static void put_sack(struct optbuf *w, const struct tcp_opts *o)
{
    size_t room = (TCP_OPT_MAX_LEN - w->n - 2 - TCP_OPTLEN_SACK_BASE) / TCP_OPTLEN_SACK_BLOCK;
    unsigned n = o->nsack < room ? o->nsack : (unsigned)room;

    put4(w, TCP_OPTKIND_NOP, TCP_OPTKIND_NOP, TCP_OPTKIND_SACK,
         (uint8_t)(TCP_OPTLEN_SACK_BASE + n * TCP_OPTLEN_SACK_BLOCK));
    for (unsigned i = 0; i < n; i++) {
        put_be32(w, o->sack[i].left);
        put_be32(w, o->sack[i].right);
    }
}

/* The SYN layout: at most 4 + 12 + 4 = 20 bytes. */
static void layout_syn(struct optbuf *w, const struct tcp_opts *o)
{
    bool ts = (o->present & TCP_OPT_TS) != 0;
    bool sack_perm = (o->present & TCP_OPT_SACK_PERM) != 0;

    if (o->present & TCP_OPT_MSS)
        put_mss(w, o->mss);
    if (ts)
        put_ts(w, o, sack_perm);
    if (o->present & TCP_OPT_WSCALE)
        put_wscale(w, o->wscale);
    if (sack_perm && !ts)
        put4(w, TCP_OPTKIND_NOP, TCP_OPTKIND_NOP, TCP_OPTKIND_SACK_PERM, TCP_OPTLEN_SACK_PERM);
}

/* The layout without SYN: at most 12 + 4 + 3 * 8 = 40 bytes, or 4 + 4 * 8
 * = 36 without timestamps. */
static void layout_other(struct optbuf *w, const struct tcp_opts *o)
{
    if (o->present & TCP_OPT_TS)
        put_ts(w, o, false);
    if (o->present & TCP_OPT_SACK)
        put_sack(w, o);
}

static bool opts_valid(const struct tcp_opts *o)
{
    if (o->present & ~TCP_OPT_ALL)
        return false;
    /* RFC 7323 §2.3: a shift above 14 MUST NOT be used. */
    if ((o->present & TCP_OPT_WSCALE) && o->wscale > TCP_WSCALE_MAX)
        return false;
    /* RFC 2018 §3: a SACK option carries 1 to 4 blocks. */
    if ((o->present & TCP_OPT_SACK) && (o->nsack == 0 || o->nsack > TCP_SACK_MAX_BLOCKS))
        return false;
    return true;
}

/* Lays o out in w; every piece is whole words, so the result is a multiple
 * of 4 without padding. 0 or -EINVAL. */
static int layout(const struct tcp_opts *o, bool syn, struct optbuf *w)
{
    if (!opts_valid(o))
        return -EINVAL;
    w->n = 0;
    if (syn)
        layout_syn(w, o);
    else
        layout_other(w, o);
    return 0;
}

int tcp_opts_size(const struct tcp_opts *o, bool syn)
{
    struct optbuf w;
    int rc = layout(o, syn, &w);

    return rc != 0 ? rc : (int)w.n;
}

int tcp_opts_build(const struct tcp_opts *o, bool syn, uint8_t *buf, size_t cap)
{
    struct optbuf w;
    int rc = layout(o, syn, &w);

    if (rc != 0)
        return rc;
    if (w.n > cap)
        return -ENOSPC;
    if (w.n > 0)
        memcpy(buf, w.b, w.n);
    return (int)w.n;
}

/* ---- MSS ---- */

uint16_t tcp_mss_for_mtu(uint16_t mtu)
{
    /* RFC 9293 §3.7.1, RFC 6691 §2: announce the MTU less the fixed IP and
     * TCP headers, ignoring options (the sender subtracts those). An MTU so
     * small that this falls under the floor still announces the floor: IP
     * reassembles datagrams of at least 576 bytes (RFC 1122 §3.3.2), so we
     * can take 64-byte segments on any link. */
    if (mtu < TCP_MSS_MIN + TCP_IPV4_FIXED_HDRS)
        return TCP_MSS_MIN;
    return (uint16_t)(mtu - TCP_IPV4_FIXED_HDRS);
}

uint16_t tcp_effective_mss(const struct tcp_opts *peer, uint16_t our_mtu)
{
    /* RFC 9293 §3.7.1: SendMSS is the peer's option, or 536 when it sent
     * none (MUST-15); Eff.snd.MSS is the smaller of it and what our IP
     * layer sends unfragmented (MUST-16). */
    uint16_t mss = TCP_DEFAULT_SMSS;
    uint16_t limit = tcp_mss_for_mtu(our_mtu);

    if (peer != NULL && (peer->present & TCP_OPT_MSS))
        mss = peer->mss;
    if (mss > limit)
        mss = limit;
    /* A floor against tiny-segment attacks: a peer announcing a very small
     * MSS (even 0) would make us cut data into segments carrying a few
     * bytes each, multiplying per-segment work and, with SACK, the length
     * of the retransmission queue. Linux has the same kind of floor
     * (tcp_min_snd_mss, added for CVE-2019-11479). */
    if (mss < TCP_MSS_MIN)
        mss = TCP_MSS_MIN;
    return mss;
}
