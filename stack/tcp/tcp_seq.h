/*
 * tcp_seq.h - TCP sequence-number arithmetic (RFC 9293 §3.4, RFC 1982).
 *
 * RFC 9293 §3.4: "the actual sequence number space is finite ... 0 to
 * 2^32 - 1 ... all arithmetic dealing with sequence numbers must be
 * performed modulo 2^32". Sums and differences of uint32_t do exactly that
 * in C, so SND.NXT + SEG.LEN needs no helper; only comparisons do.
 *
 * Ordering (seq_lt & co) is decided by the 32-bit difference read as a
 * signed number (RFC 1982 serial-number arithmetic): a < b when b - a
 * (mod 2^32) is in [1, 2^31]. The 2^31 ambiguity limit: the order is only
 * meaningful for numbers less than 2^31 apart. At exactly 2^31 apart each
 * number is "less" than the other (RFC 1982 §3.2 leaves that case
 * undefined); beyond it the answer is reversed (b is 2^31 + 1 after a is
 * the same number as b is 2^31 - 1 before a). TCP keeps every number it
 * compares within one window (at most 2^30 with window scaling, RFC 7323
 * §2.3) of the others, well inside the limit.
 *
 * Ranges (seq_between & co) are the forward arc from lo to hi, tested by
 * unsigned differences: a is in [lo, hi) when a - lo < hi - lo (mod 2^32).
 * That form has no 2^31 limit (an arc may be up to 2^32 - 1 long) and an
 * empty arc (lo == hi) holds nothing, so a zero receive window accepts no
 * sequence number: RFC 9293 §3.4, Table 5, handles that case (segment
 * length 0, window 0: SEG.SEQ = RCV.NXT) separately, and so must the
 * caller.
 *
 * The compiler cannot do the conversion uint32_t -> int32_t of a value
 * above INT32_MAX without implementation-defined behaviour (C11 6.3.1.3),
 * so the helpers compare unsigned differences against 2^31 instead.
 */
#ifndef SLUICE_TCP_SEQ_H
#define SLUICE_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#define SEQ_HALF 0x80000000u /* 2^31: the ambiguity limit */

/* a < b (mod 2^32), RFC 9293 §3.4: b - a is in [1, 2^31]. */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (uint32_t)(a - b) >= SEQ_HALF;
}

/* a =< b (mod 2^32): "=<" of RFC 9293 §3.4. */
static inline bool seq_leq(uint32_t a, uint32_t b)
{
    return a == b || seq_lt(a, b);
}

/* a > b (mod 2^32). */
static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return seq_lt(b, a);
}

/* a >= b (mod 2^32). */
static inline bool seq_geq(uint32_t a, uint32_t b)
{
    return seq_leq(b, a);
}

/* a - b as a signed distance in [-2^31, 2^31 - 1] (RFC 1982 order): the
 * number of octets from b forward to a, negative when a is before b. */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
    uint32_t d = a - b;
    if (d < SEQ_HALF)
        return (int32_t)d;
    /* d >= 2^31: d - 2^32 = -(2^32 - d) = -(~d) - 1, with ~d < 2^31 */
    return -(int32_t)(~d) - 1;
}

/* The later of a and b (RFC 1982 order). */
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
    return seq_gt(a, b) ? a : b;
}

/* The earlier of a and b (RFC 1982 order). */
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
    return seq_lt(a, b) ? a : b;
}

/* lo =< a < hi on the forward arc from lo to hi: the receive-window test
 * of RFC 9293 §3.4 / §3.10.7.4, "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND".
 * False for every a when lo == hi (empty window). */
static inline bool seq_between(uint32_t a, uint32_t lo, uint32_t hi)
{
    return (uint32_t)(a - lo) < (uint32_t)(hi - lo);
}

/* lo < a =< hi on the forward arc: the acceptable ACK of RFC 9293 §3.4,
 * "SND.UNA < SEG.ACK =< SND.NXT". False for every a when lo == hi. */
static inline bool seq_between_oc(uint32_t a, uint32_t lo, uint32_t hi)
{
    return (uint32_t)(a - lo - 1u) < (uint32_t)(hi - lo);
}

/* lo =< a =< hi on the forward arc: the window-update test of RFC 9293
 * §3.10.7.4, "SND.UNA =< SEG.ACK =< SND.NXT". True only for a == lo when
 * lo == hi. */
static inline bool seq_between_cc(uint32_t a, uint32_t lo, uint32_t hi)
{
    return (uint32_t)(a - lo) <= (uint32_t)(hi - lo);
}

#endif /* SLUICE_TCP_SEQ_H */
