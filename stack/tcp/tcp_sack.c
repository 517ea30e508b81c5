/*
 * tcp_sack.c - see tcp_sack.h.
 *
 * The ranges are few (TCP_SACK_SB_MAX) and an ACK carries at most four
 * blocks, so plain scans of a sorted array beat anything cleverer. Every
 * comparison goes through tcp_seq.h: the ranges live in one send window,
 * well inside the 2^31 ordering limit, and may straddle 2^32.
 */
#include "tcp_sack.h"

#include <string.h>

#include "tcp_seq.h"

/* RFC 6675 §2: DupThresh, "the number of duplicate acknowledgments
 * required to trigger a fast retransmission" (3, RFC 5681). */
#define DUP_THRESH 3u

static uint32_t blk_len(const struct tcp_sack_block *b)
{
    return b->right - b->left;
}

void tcp_sack_sb_init(struct tcp_sack_sb *sb)
{
    memset(sb, 0, sizeof(*sb));
}

void tcp_sack_sb_clear(struct tcp_sack_sb *sb)
{
    sb->n = 0;
    sb->sacked = 0;
}

/* A normal SACK block never starts below the ACK: the byte at the ACK is
 * by definition missing at the receiver. */
bool tcp_sack_is_dsack(const struct tcp_sack_block *blk, unsigned n, uint32_t snd_una)
{
    if (n == 0)
        return false;
    if (seq_lt(blk[0].left, snd_una))
        return true;
    return n > 1 && seq_geq(blk[0].left, blk[1].left) && seq_leq(blk[0].right, blk[1].right);
}

/* Drops the top range to make room (when full, the lowest ranges decide
 * what to retransmit next: tcp_sack.h). */
static void drop_top(struct tcp_sack_sb *sb)
{
    sb->n--;
    sb->sacked -= blk_len(&sb->b[sb->n]);
}

/* Adds [l, r) (l < r); merges what it overlaps or touches. Returns the
 * bytes of it that were not sacked before and are kept. */
static uint32_t add_range(struct tcp_sack_sb *sb, uint32_t l, uint32_t r)
{
    unsigned i = 0, j;
    uint32_t covered = 0;

    while (i < sb->n && seq_lt(sb->b[i].right, l))
        i++;
    for (j = i; j < sb->n && seq_leq(sb->b[j].left, r); j++) {
        l = seq_min(l, sb->b[j].left);
        r = seq_max(r, sb->b[j].right);
        covered += blk_len(&sb->b[j]);
    }
    if (j > i) { /* b[i..j) become one range */
        sb->b[i] = (struct tcp_sack_block){l, r};
        memmove(&sb->b[i + 1], &sb->b[j], (sb->n - j) * sizeof(sb->b[0]));
        sb->n -= j - i - 1;
        sb->sacked += (r - l) - covered;
        return (r - l) - covered;
    }
    if (sb->n == TCP_SACK_SB_MAX) {
        if (i == TCP_SACK_SB_MAX)
            return 0; /* above all the kept ranges: not kept */
        drop_top(sb);
    }
    memmove(&sb->b[i + 1], &sb->b[i], (sb->n - i) * sizeof(sb->b[0]));
    sb->b[i] = (struct tcp_sack_block){l, r};
    sb->n++;
    sb->sacked += r - l;
    return r - l;
}

bool tcp_sack_sb_update(struct tcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max,
                        const struct tcp_sack_block *blk, unsigned n)
{
    bool added = false;

    for (unsigned k = 0; k < n; k++) {
        if (k == 0 && tcp_sack_is_dsack(blk, n, snd_una))
            continue;
        if (!seq_lt(blk[k].left, blk[k].right))
            continue; /* empty or inverted */
        /* only bytes we sent and that are not acked yet can be sacked */
        uint32_t l = seq_max(blk[k].left, snd_una), r = seq_min(blk[k].right, snd_max);
        if (seq_lt(l, r) && add_range(sb, l, r) > 0)
            added = true;
    }
    return added;
}

void tcp_sack_sb_ack(struct tcp_sack_sb *sb, uint32_t snd_una)
{
    unsigned i = 0;

    while (i < sb->n && seq_leq(sb->b[i].right, snd_una)) {
        sb->sacked -= blk_len(&sb->b[i]);
        i++;
    }
    memmove(&sb->b[0], &sb->b[i], (sb->n - i) * sizeof(sb->b[0]));
    sb->n -= i;
    if (sb->n > 0 && seq_lt(sb->b[0].left, snd_una)) {
        sb->sacked -= snd_una - sb->b[0].left;
        sb->b[0].left = snd_una;
    }
}

uint32_t tcp_sack_sb_high(const struct tcp_sack_sb *sb, uint32_t snd_una)
{
    return sb->n > 0 ? sb->b[sb->n - 1].right : snd_una;
}

bool tcp_sack_sb_is_sacked(const struct tcp_sack_sb *sb, uint32_t seq)
{
    for (unsigned i = 0; i < sb->n; i++)
        if (seq_between(seq, sb->b[i].left, sb->b[i].right))
            return true;
    return false;
}

/* RFC 6675 §4 IsLost from what lies above: sacked bytes and discontiguous
 * ranges. */
static bool lost_given(uint32_t bytes_above, unsigned ranges_above, uint32_t smss)
{
    return ranges_above >= DUP_THRESH || (uint64_t)bytes_above > (uint64_t)(DUP_THRESH - 1) * smss;
}

bool tcp_sack_sb_is_lost(const struct tcp_sack_sb *sb, uint32_t seq, uint32_t smss)
{
    uint32_t bytes = 0;
    unsigned ranges = 0;

    /* "sequence numbers greater than 'SeqNum'": bytes from seq + 1 on */
    for (unsigned i = 0; i < sb->n; i++) {
        if (seq_leq(sb->b[i].right, seq + 1))
            continue;
        bytes += sb->b[i].right - seq_max(sb->b[i].left, seq + 1);
        ranges++;
    }
    return lost_given(bytes, ranges, smss);
}

bool tcp_sack_sb_next_hole(const struct tcp_sack_sb *sb, uint32_t snd_una, uint32_t from, uint32_t *start,
                           uint32_t *len)
{
    uint32_t cur = seq_max(from, snd_una);

    for (unsigned i = 0; i < sb->n; i++) {
        if (seq_leq(sb->b[i].right, cur))
            continue; /* wholly before cur */
        if (seq_lt(cur, sb->b[i].left)) {
            *start = cur;
            *len = sb->b[i].left - cur;
            return true;
        }
        cur = sb->b[i].right; /* cur was sacked: the hole starts after */
    }
    return false; /* at or above tcp_sack_sb_high(): not a hole yet */
}

/* Bytes of [lo, hi) below lim. */
static uint32_t part_below(uint32_t lo, uint32_t hi, uint32_t lim)
{
    return seq_lt(lo, lim) ? seq_min(hi, lim) - lo : 0;
}

uint32_t tcp_sack_sb_pipe(const struct tcp_sack_sb *sb, uint32_t snd_una, uint32_t snd_max, uint32_t rexmit_high,
                          uint32_t smss)
{
    uint32_t pipe = 0, bytes_above = 0;

    /* Every byte of one hole has the same sacked bytes and ranges above
     * it, so IsLost is the same for the whole hole: SetPipe's walk over
     * octets (RFC 6675 §4) becomes one step per hole, top down. Hole i
     * lies just below range i (hole n: above the top range). */
    for (unsigned i = sb->n + 1; i-- > 0;) {
        uint32_t lo = i == 0 ? snd_una : sb->b[i - 1].right;
        uint32_t hi = i == sb->n ? snd_max : sb->b[i].left;

        if (i < sb->n)
            bytes_above += blk_len(&sb->b[i]);
        lo = seq_max(lo, snd_una);
        hi = seq_min(hi, snd_max);
        if (!seq_lt(lo, hi))
            continue;
        /* (a): still in the network unless lost */
        if (!lost_given(bytes_above, sb->n - i, smss))
            pipe += hi - lo;
        /* (b): S1 <= HighRxt, i.e. below rexmit_high: the retransmission
         * is in the network too */
        pipe += part_below(lo, hi, rexmit_high);
    }
    return pipe;
}
