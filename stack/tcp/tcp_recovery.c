/*
 * tcp_recovery.c - loss detection on the sender: which ACKs are
 * duplicates, when a segment counts as lost before the RTO, and what goes
 * again. tcp_input.c's ACK step calls in here (see tcp_recovery.h); the
 * congestion response itself is tcp_cc.c's, the retransmissions
 * tcp_output.c's, the probe timer tcp_timer.c's.
 *
 * Read first: RFC 5681 §2-3 (duplicate ACKs, fast retransmit), RFC 6675
 * (SACK-based recovery: IsLost, NextSeg, HighRxt), RFC 6582 (NewReno's
 * partial ACKs), RFC 5827 (early retransmit), RFC 8985 §6.2 (RACK's time
 * rule for lost segments and lost retransmissions) and §7 (tail loss
 * probes).
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_tcp.h>

#include "tcp_conn.h"
#include "tcp_recovery.h"

#define NS_PER_MS 1000000ull

/* A duplicate ACK: RFC 5681 §2 (a)-(e), where (e) asks for an unchanged
 * window. A SACK sender may instead count an ACK that carries new SACK
 * information (RFC 6675 §2: "a TCP that utilizes selective
 * acknowledgments ... can leverage the SACK information to determine when
 * an incoming ACK is a 'duplicate'"). That matters against Linux, whose
 * receive window grows with nearly every ACK while it autotunes: by (e)
 * alone no duplicate would ever count and every loss would wait for the
 * RTO. */
bool tcp_rec_is_dupack(const struct tcp_conn *c, const struct tcp_seg *sg, bool new_sack)
{
    if (sg->ack != c->sv.snd_una || sg->len != 0 || (sg->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) ||
        c->sv.snd_una == c->sv.snd_max)
        return false;
    /* an ACK of a closed window answers a zero-window probe (RFC 9293
     * §3.8.6.1): the probe's byte was refused, not lost */
    if (sg->wnd == 0 || c->sv.snd_wnd == 0)
        return false;
    return new_sack || (sg->wnd << c->sv.snd_wscale) == c->sv.snd_wnd;
}

/* In SACK recovery, the segment at snd_una was already retransmitted in
 * this pass (it lies below rexmit_high) and that retransmission is not
 * known lost: NewReno's partial-ACK retransmission (RFC 6582 §3.2 step 3)
 * would only send it twice. RFC 6675 leaves the choice to NextSeg. */
bool tcp_rec_una_in_flight_again(const struct tcp_conn *c)
{
    return (c->flags & TF_SACK_OK) && c->cc.in_recovery && seq_lt(c->sv.snd_una, c->rexmit_high);
}

/* New data could go out now: some is queued beyond snd_max and the
 * peer's window wnd (bytes, the one this ACK offers) has room for it. */
static bool can_send_new(const struct tcp_conn *c, uint32_t wnd)
{
    return seq_lt(c->sv.snd_max, tcp_snd_end(c)) && seq_lt(c->sv.snd_max, c->sv.snd_una + wnd);
}

/* RFC 5827 §3.2 (SACK form) for a flight of fewer than four segments,
 * which can never bring three duplicates: with no new data to send, the
 * first segment (at most one SMSS) is the only hole and everything above
 * it up to snd_max (a FIN aside) has been sacked - "ER_thresh" duplicates
 * of "oseg - 1". */
static bool early_retransmit(const struct tcp_conn *c, uint32_t wnd)
{
    uint32_t smss = c->cc.smss, fl = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);
    uint32_t top = c->sv.snd_max - ((c->flags & TF_FIN_SENT) ? 1u : 0u);

    if (fl >= 4 * smss || c->sb.n != 1 || can_send_new(c, wnd))
        return false;
    return seq_diff(c->sb.b[0].left, c->sv.snd_una) <= (int32_t)smss && seq_geq(c->sb.b[0].right, top);
}

/* Loss known from the scoreboard before the third duplicate: RFC 6675 §5
 * step (2) IsLost(HighACK + 1), or early retransmit. */
static bool sack_loss_known(const struct tcp_conn *c, uint32_t wnd)
{
    if (!(c->flags & TF_SACK_OK) || c->cc.in_recovery || c->sb.n == 0)
        return false;
    return tcp_sack_sb_is_lost(&c->sb, c->sv.snd_una, c->cc.smss) || early_retransmit(c, wnd);
}

/* Whether a retransmission sent at sent_ns (ns) should have been answered
 * by now: more than an RTT ago, with a quarter of slack (RFC 8985 §6.2's
 * reordering window) and one timer tick. */
static bool rexmit_overdue(const struct tcp_conn *c, uint64_t sent_ns)
{
    uint64_t srtt = c->rtt.srtt_ns;

    return c->s->now_ns - sent_ns > srtt + srtt / 4 + NS_PER_MS;
}

/* In recovery, the retransmission at snd_una was lost: an ACK came more
 * than an RTT after it (rexmit_overdue) and still does not cover it. An
 * ACK that late answers segments sent after the retransmission, which the
 * retransmission would have overtaken (RFC 8985's time-based rule, for
 * this one segment: RFC 6675 alone never resends a hole twice and waits
 * for the RTO). */
static bool una_rexmit_lost(const struct tcp_conn *c)
{
    return (c->flags & TF_UNA_REXMIT) && c->cc.in_recovery && rexmit_overdue(c, c->una_rexmit_ns);
}

/* In SACK recovery, the latest retransmission went more than an RTT (with
 * the slack above) before this ACK, and a hole below rexmit_high is still
 * a hole: the retransmission meant to fill it was lost too. NextSeg starts
 * a new pass from snd_una (RFC 6675 §5 never resends a hole twice and
 * waits for the RTO); the holes leave pipe, which counts a retransmission
 * in flight only below HighRxt (§4). RFC 8985 §6.2 marks a retransmission
 * lost by the same rule, per segment; timing the whole pass by its latest
 * retransmission never resends one still in flight. True (and counted)
 * when the pass starts again. */
bool tcp_rec_pass_lost(struct tcp_conn *c)
{
    uint32_t start, hlen;

    if (!(c->flags & TF_SACK_OK) || !c->cc.in_recovery || !seq_gt(c->rexmit_high, c->sv.snd_una))
        return false;
    if (!rexmit_overdue(c, c->rexmit_last_ns))
        return false;
    if (!tcp_sack_sb_next_hole(&c->sb, c->sv.snd_una, c->sv.snd_una, &start, &hlen) ||
        !seq_lt(start, c->rexmit_high))
        return false;
    c->rexmit_high = c->sv.snd_una;
    c->s->ctr.tcp_lost_retransmits++;
    return true;
}

/* RFC 8985 §6.2 (RACK's time rule) for the first segment, without a log
 * of transmit times: the sacked data above snd_una was sent after it (its
 * segment was not retransmitted: TF_UNA_REXMIT off; after an RTO the
 * scoreboard starts empty), and the first of it was reported more than a
 * reordering window ago (a quarter of SRTT, §6.2's min_RTT/4 with our
 * coarser RTT, plus one timer tick). Had snd_una's segment only been
 * overtaken, it would be here by now. This catches what three duplicates
 * never report: a flight of two or three segments (cwnd-limited, or one
 * of the duplicates lost), which otherwise waits for the RTO. */
static bool una_lost_by_time(const struct tcp_conn *c)
{
    if (!(c->flags & TF_SACK_OK) || c->cc.in_recovery || c->sb.n == 0 || c->sack_seen_ns == 0 ||
        (c->flags & TF_UNA_REXMIT))
        return false;
    return c->s->now_ns - c->sack_seen_ns > c->rtt.srtt_ns / 4 + NS_PER_MS;
}

/* Keeps sack_seen_ns: when the scoreboard became non-empty (see
 * una_lost_by_time), 0 while it is empty. */
void tcp_rec_sack_seen_update(struct tcp_conn *c)
{
    if (c->sb.n == 0)
        c->sack_seen_ns = 0;
    else if (c->sack_seen_ns == 0)
        c->sack_seen_ns = c->s->now_ns ? c->s->now_ns : 1;
}

/* RFC 5681 §3.2 step 2 (or its SACK equivalents): snd_una goes again,
 * recovery having started. */
static void fast_retransmit(struct tcp_conn *c)
{
    c->rexmit_high = c->sv.snd_una;
    tcp_retransmit_first(c);
    c->s->ctr.tcp_fast_retransmits++;
    c->st.fast_retransmits++;
    tcp_timer_rexmt_arm(c);
}

bool tcp_recover_una_lost_by_time(struct tcp_conn *c)
{
    uint32_t fl = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);

    if (!una_lost_by_time(c))
        return false;
    if (tcp_cc_on_loss_detected(&c->cc, c->sv.snd_una, c->sv.snd_max, fl) != TCP_CC_DUP_FAST_RETRANSMIT)
        return false;
    c->s->ctr.tcp_loss_by_time++;
    fast_retransmit(c);
    tcp_output(c);
    return true;
}

/* The time rules, on any ACK that leaves snd_una where it is with data in
 * flight - a duplicate, but also one that only reports a D-SACK (the
 * answer to a loss probe) or moves the window: RFC 8985 §6.2 looks at
 * the clock on every ACK, and such an ACK is as late as a duplicate. */
void tcp_rec_same_ack(struct tcp_conn *c)
{
    uint32_t fl = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);

    if (una_lost_by_time(c)) {
        if (tcp_cc_on_loss_detected(&c->cc, c->sv.snd_una, c->sv.snd_max, fl) == TCP_CC_DUP_FAST_RETRANSMIT) {
            c->s->ctr.tcp_loss_by_time++;
            fast_retransmit(c);
        }
        return;
    }
    /* the pass counts the loss it finds, snd_una's included */
    bool pass_lost = tcp_rec_pass_lost(c);
    if (una_rexmit_lost(c)) {
        tcp_retransmit_first(c);
        c->s->ctr.tcp_lost_retransmits += pass_lost ? 0 : 1;
    }
}

/* RFC 8985 §7.4: how a loss probe's episode ends. A D-SACK says the probe
 * was a copy of data that had arrived: nothing was lost. An ACK beyond
 * tlp_end without one says the probe repaired a loss: the congestion
 * response of a fast recovery follows (§7.4.2). An ACK of exactly
 * tlp_end tells neither (the original or the probe made it); the next
 * ACK does. */
void tcp_rec_tlp_episode(struct tcp_conn *c, uint32_t ack, bool dsack)
{
    if (!(c->flags & TF_TLP_OUT))
        return;
    if (dsack) {
        c->flags &= ~TF_TLP_OUT;
        return;
    }
    if (!seq_gt(ack, c->tlp_end))
        return;
    c->flags &= ~TF_TLP_OUT;
    if (c->cc.in_recovery)
        return;
    tcp_cc_on_probe_repaired(&c->cc, c->tlp_flight);
    c->s->ctr.tcp_tlp_repairs++;
}

/* A duplicate ACK whose segment offers window wnd (bytes). */
void tcp_rec_dup_ack(struct tcp_conn *c, uint32_t wnd)
{
    uint32_t fl = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);
    enum tcp_cc_dup d = tcp_cc_on_dupack(&c->cc, c->sv.snd_una, c->sv.snd_max, fl, c->s->now_ns);

    if (d != TCP_CC_DUP_FAST_RETRANSMIT && sack_loss_known(c, wnd))
        d = tcp_cc_on_loss_detected(&c->cc, c->sv.snd_una, c->sv.snd_max, fl);
    if (d == TCP_CC_DUP_FAST_RETRANSMIT) {
        fast_retransmit(c);
        return;
    }
    tcp_rec_same_ack(c);
}
