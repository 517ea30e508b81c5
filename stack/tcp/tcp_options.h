/*
 * tcp_options.h - parsing and building the options area of a TCP header,
 * and the MSS rules.
 *
 * RFC 9293 §3.1-3.2 (option format, EOL/NOP/MSS), §3.7.1 (MSS);
 * RFC 7323 §2 (window scale), §3 (timestamps); RFC 2018 (SACK-permitted,
 * SACK); RFC 6691 (MSS and options); RFC 1122 §3.3.2 (EMTU_R >= 576).
 *
 * Pure functions over byte buffers: no state, no mbufs, no clock. Sequence
 * numbers and timestamps in struct tcp_opts are in host byte order; on the
 * wire every multi-byte field is big-endian.
 */
#ifndef SLUICE_TCP_OPTIONS_H
#define SLUICE_TCP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Option kinds (RFC 9293 §3.2, RFC 7323 §2.2/§3.2, RFC 2018 §2/§3). */
#define TCP_OPTKIND_EOL 0
#define TCP_OPTKIND_NOP 1
#define TCP_OPTKIND_MSS 2
#define TCP_OPTKIND_WSCALE 3
#define TCP_OPTKIND_SACK_PERM 4
#define TCP_OPTKIND_SACK 5
#define TCP_OPTKIND_TS 8

/* Option lengths, kind and length octets included. */
#define TCP_OPTLEN_MSS 4
#define TCP_OPTLEN_WSCALE 3
#define TCP_OPTLEN_SACK_PERM 2
#define TCP_OPTLEN_TS 10
#define TCP_OPTLEN_SACK_BASE 2
#define TCP_OPTLEN_SACK_BLOCK 8

/* The options area: data offset 15 words minus the 5-word fixed header. */
#define TCP_OPT_MAX_LEN 40
/* RFC 2018 §3: the 40-byte area holds at most 4 SACK blocks. */
#define TCP_SACK_MAX_BLOCKS 4
/* RFC 7323 §2.3: the largest window shift. */
#define TCP_WSCALE_MAX 14
/* RFC 9293 §3.7.1 (MUST-15): the IPv4 send MSS when the peer sent none. */
#define TCP_DEFAULT_SMSS 536
/* Our floor for any MSS we use or announce (see tcp_effective_mss). */
#define TCP_MSS_MIN 64

/* Bits of struct tcp_opts.present. */
#define TCP_OPT_MSS (1u << 0)
#define TCP_OPT_WSCALE (1u << 1)
#define TCP_OPT_SACK_PERM (1u << 2)
#define TCP_OPT_SACK (1u << 3)
#define TCP_OPT_TS (1u << 4)
#define TCP_OPT_ALL (TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_SACK_PERM | TCP_OPT_SACK | TCP_OPT_TS)

struct tcp_sack_block {
    uint32_t left, right; /* host order sequence numbers */
};

/* The options of one segment. A field means something only when its bit
 * is set in present. */
struct tcp_opts {
    uint32_t present;        /* TCP_OPT_* bits */
    uint16_t mss;            /* TCP_OPT_MSS: the peer's receive MSS */
    uint8_t wscale;          /* TCP_OPT_WSCALE: shift count, at most 14 */
    bool wscale_clamped;     /* parse only: the peer asked for a shift > 14 */
    uint32_t ts_val, ts_ecr; /* TCP_OPT_TS */
    uint8_t nsack;           /* TCP_OPT_SACK: blocks in sack[], 1..4 */
    struct tcp_sack_block sack[TCP_SACK_MAX_BLOCKS];
};

/* Parses the options area of a segment: len bytes at p (borrowed; p may be
 * NULL when len is 0), len = data offset * 4 - 20. syn: the segment has
 * SYN set. MSS, window scale and SACK-permitted count only on a SYN, SACK
 * blocks only without SYN; elsewhere they are checked and ignored (their
 * present bit stays clear). Unknown kinds with a sane length are skipped;
 * EOL ends the list; the last of repeated options wins. Never reads past
 * len. Returns 0 with *out filled, or -EINVAL for a malformed area (*out
 * untouched): len > 40, a length octet of 0 or 1 or missing, an option
 * running past the area, or a known kind with the wrong length (MSS != 4,
 * WS != 3, SACK-permitted != 2, TS != 10, SACK not 2 + 8n with n in 1..4).
 * A shift > 14 is read as 14 with wscale_clamped set, for the caller to log
 * and count (RFC 7323 §2.3). */
int tcp_opts_parse(const uint8_t *p, size_t len, bool syn, struct tcp_opts *out);

/* Bytes tcp_opts_build would write for o (a multiple of 4, at most 40), or
 * -EINVAL (see tcp_opts_build). For sizing the header before building. */
int tcp_opts_size(const struct tcp_opts *o, bool syn);

/* Writes the options of o for a segment with (syn) or without SYN into buf
 * (cap bytes), in the layout Linux uses, each option word-aligned by
 * leading NOPs so no trailing padding is needed:
 *   SYN:   MSS, SACK-permitted + TS, NOP + WS   (02 04 .. .. 04 02 08 0a ...
 *          01 03 03 ..); TS without SACK-permitted is NOP NOP TS, and
 *          SACK-permitted without TS is NOP NOP SACK-permitted after WS;
 *   other: NOP NOP TS, NOP NOP SACK with as many blocks as fit in the 40
 *          bytes (4, or 3 with TS: RFC 2018 §3), first blocks first.
 * Options that do not belong in that kind of segment are not written (MSS,
 * WS, SACK-permitted only with SYN; SACK only without). The bytes do not
 * depend on cap. Returns the bytes written (a multiple of 4, 0..40),
 * -EINVAL if o is invalid (unknown present bits, wscale > 14, SACK with
 * nsack not in 1..4), or -ENOSPC if they do not fit in cap. */
int tcp_opts_build(const struct tcp_opts *o, bool syn, uint8_t *buf, size_t cap);

/* The MSS to announce for an IP MTU (RFC 9293 §3.7.1, RFC 6691 §2): the MTU
 * less the fixed IPv4 and TCP headers (40), never below TCP_MSS_MIN. */
uint16_t tcp_mss_for_mtu(uint16_t mtu);

/* The effective send MSS (RFC 9293 §3.7.1 MUST-16): the MSS option of the
 * peer's SYN in peer (536 without one or with peer NULL, MUST-15), at most
 * tcp_mss_for_mtu(our_mtu), never below TCP_MSS_MIN. Excludes TCP and IP
 * options: the sender takes their size off each segment (RFC 6691 §3). */
uint16_t tcp_effective_mss(const struct tcp_opts *peer, uint16_t our_mtu);

#endif
