/*
 * tcp_sack.h - the sender's SACK scoreboard (RFC 2018; loss recovery by
 * RFC 6675).
 *
 * Holds what the peer reported as received above snd_una, as up to
 * TCP_SACK_SB_MAX disjoint sorted ranges (when full, the lowest ranges
 * are kept: they decide what to retransmit next). Everything is in bytes
 * and host-order sequence numbers; the caller passes snd_una (left edge)
 * and snd_max (highest sequence number sent + 1).
 *
 * RFC 6675 works in whole segments; this scoreboard works in bytes, which
 * gives the same answers when segments are SMSS-sized (IsLost counts
 * sacked bytes above a sequence number instead of sacked segments).
 */
#ifndef SLUICE_TCP_SACK_H
#define SLUICE_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_options.h"

#define TCP_SACK_SB_MAX 32

struct tcp_sack_sb {
    struct tcp_sack_block b[TCP_SACK_SB_MAX]; /* sorted, disjoint, within (snd_una, snd_max] */
    unsigned n;
    uint32_t sacked; /* bytes covered by b[] */
};

void tcp_sack_sb_init(struct tcp_sack_sb *sb);

/* Whether the first of an ACK's n SACK blocks is a D-SACK (RFC 2883 §4: it
 * reports bytes received twice, not new ones): it lies below the
 * cumulative ACK snd_una (after this ACK) or inside the second block.
 * False for n == 0. */
bool tcp_sack_is_dsack(const struct tcp_sack_block *blk, unsigned n, uint32_t snd_una);

/* Merges the n SACK blocks of an arriving ACK. Blocks are ignored when
 * empty or inverted (left >= right), wholly outside [snd_una, snd_max), or
 * a D-SACK (RFC 2883 §4: a first block starting below the cumulative ACK,
 * or inside the second block); the others are clipped to [snd_una,
 * snd_max). snd_una is after this ACK's cumulative acknowledgment (SEG.ACK
 * when it is acceptable), so that a D-SACK below it is recognised. Returns
 * true if newly sacked bytes were added (RFC 6675's "new SACK
 * information"). */
bool tcp_sack_sb_update(struct tcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                        const struct tcp_sack_block *blk, unsigned n);
/* snd_una moved forward: forgets what is now below it. */
void tcp_sack_sb_ack(struct tcp_sack_sb *sb, uint32_t snd_una);
/* Forgets everything (after an RTO: RFC 6675 §5.1, RFC 2018 §8 - the
 * receiver may renege). */
void tcp_sack_sb_clear(struct tcp_sack_sb *sb);

/* The highest sacked sequence number + 1 (the right edge of the top
 * range), or snd_una when nothing is sacked. */
uint32_t tcp_sack_sb_high(const struct tcp_sack_sb *sb, uint32_t snd_una);
/* True if the byte at seq was sacked. */
bool tcp_sack_sb_is_sacked(const struct tcp_sack_sb *sb, uint32_t seq);
/* RFC 6675 §4 IsLost(seq), in bytes: more than (DupThresh - 1) * smss
 * bytes (DupThresh = 3) are sacked above seq, or DupThresh or more
 * discontiguous ranges are. */
bool tcp_sack_sb_is_lost(const struct tcp_sack_sb *sb, uint32_t seq, uint32_t smss);

/* The first hole (unsacked bytes) starting at or after from (from >=
 * snd_una) and below tcp_sack_sb_high(): true with *start and *len (the
 * whole hole up to the next sacked range), or false when there is none. */
bool tcp_sack_sb_next_hole(const struct tcp_sack_sb *sb, uint32_t snd_una, uint32_t from, uint32_t *start,
                           uint32_t *len);

/* RFC 6675 §4 SetPipe(), in bytes: over [snd_una, snd_max), every byte
 * not sacked counts once unless IsLost, and once more if it was
 * retransmitted in this recovery (it lies below rexmit_high, the highest
 * sequence number retransmitted + 1; pass snd_una when none was). */
uint32_t tcp_sack_sb_pipe(const struct tcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max, uint32_t rexmit_high,
                          uint32_t smss);

#endif
