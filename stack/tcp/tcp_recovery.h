/*
 * tcp_recovery.h - loss detection (tcp_recovery.c), called from the ACK
 * step of tcp_input.c and from the probe timer of tcp_timer.c. Internal
 * to stack/tcp/. All times are the stack's now (c->s->now_ns, ns); none
 * of these functions frees a segment or fails.
 */
#ifndef SLUICE_TCP_RECOVERY_H
#define SLUICE_TCP_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_conn;
struct tcp_seg;

/* Whether sg is a duplicate ACK (RFC 5681 §2; with SACK, new SACK
 * information counts too: RFC 6675 §2). new_sack: sg reported blocks the
 * scoreboard did not have. */
bool tcp_rec_is_dupack(const struct tcp_conn *c, const struct tcp_seg *sg, bool new_sack);

/* A duplicate ACK whose segment offers window wnd (bytes): counts it with
 * congestion control, starts fast retransmit at the third (or earlier
 * when SACK or early retransmit, RFC 5827, knows of a loss), else applies
 * the time rules (tcp_rec_same_ack). */
void tcp_rec_dup_ack(struct tcp_conn *c, uint32_t wnd);

/* The time rules on an ACK that leaves snd_una where it is with data in
 * flight (RFC 8985 §6.2): the first segment lost by time, a lost
 * retransmission, a lost pass of SACK retransmissions. */
void tcp_rec_same_ack(struct tcp_conn *c);

/* How a loss probe's episode ends (RFC 8985 §7.4), for an ACK of ack
 * (dsack: it carried a D-SACK). */
void tcp_rec_tlp_episode(struct tcp_conn *c, uint32_t ack, bool dsack);

/* Keeps c->sack_seen_ns: when the scoreboard became non-empty, 0 while it
 * is empty. Called after every ACK's scoreboard update. */
void tcp_rec_sack_seen_update(struct tcp_conn *c);

/* In SACK recovery, starts the retransmission pass again from snd_una
 * when its latest retransmission is overdue and a hole below rexmit_high
 * remains (RFC 8985 §6.2 for retransmissions). True (and counted) when it
 * did. */
bool tcp_rec_pass_lost(struct tcp_conn *c);

/* In SACK recovery, the segment at snd_una was already retransmitted in
 * this pass and is not known lost: a partial ACK must not send it again. */
bool tcp_rec_una_in_flight_again(const struct tcp_conn *c);

/* The probe timer (RFC 8985 §7) found the segment at snd_una lost by
 * RACK's time rule: starts recovery with a fast retransmit, as a third
 * duplicate ACK would, and sends what recovery allows. False (nothing
 * done) when the rule does not hold or recovery may not start (RFC 6582
 * §3.2 step 2). */
bool tcp_recover_una_lost_by_time(struct tcp_conn *c);

#endif
