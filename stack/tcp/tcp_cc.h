/*
 * tcp_cc.h - TCP congestion control: one interface, two algorithms.
 *
 *   NewReno: slow start and congestion avoidance (RFC 5681 §3.1, with
 *            Appropriate Byte Counting, RFC 3465), fast retransmit and
 *            fast recovery (RFC 5681 §3.2) with NewReno's partial and full
 *            ACKs (RFC 6582), limited transmit (RFC 3042), restart after
 *            idle (RFC 5681 §4.1), initial window (RFC 5681 §3.1, RFC 6928).
 *   CUBIC:   the same loss recovery, with CUBIC's window increase and
 *            multiplicative decrease (RFC 9438 §4, which obsoletes RFC 8312).
 *
 * All state is in struct tcp_cc, one per connection; the caller passes the
 * time (now_ns) and its sequence variables in. Windows are in bytes, times
 * in nanoseconds. The arithmetic is integer only; cwnd stays within
 * [SMSS, TCP_CC_WND_MAX], so it never overflows a uint32_t and the caller
 * may add a few segments to it in 32 bits.
 *
 * How TCP drives it (the caller decides what an ACK is):
 *   - an acceptable ACK that advances snd_una (new data acknowledged):
 *     tcp_cc_on_ack(); retransmit the first unacknowledged segment if the
 *     result says so (RFC 6582 partial ACK);
 *   - a duplicate ACK as defined in RFC 5681 §2: tcp_cc_on_dupack(); on
 *     TCP_CC_DUP_FAST_RETRANSMIT retransmit the segment at snd_una;
 *   - before sending new data: flight + len <= tcp_cc_send_limit() (and the
 *     receiver's window) - this is where limited transmit happens;
 *   - the retransmission timer fired: tcp_cc_on_rto();
 *   - about to send after not sending for more than one RTO:
 *     tcp_cc_on_idle_restart().
 */
#ifndef SLUICE_TCP_CC_H
#define SLUICE_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp.h"

/* The largest cwnd (and ssthresh): 2^31 - 1 bytes. More can never be in
 * flight, since sequence numbers are only ordered within 2^31 of each
 * other (RFC 9293 §3.4, RFC 1982); the largest receive window is below
 * 2^30 (RFC 7323 §2.3). Also the initial ssthresh ("arbitrarily high",
 * RFC 5681 §3.1). */
#define TCP_CC_WND_MAX 0x7fffffffu

#define TCP_CC_IW_DEFAULT 10u     /* segments: IW10, RFC 6928 */
#define TCP_CC_IW_BYTES_CAP 14600u /* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)) */
#define TCP_CC_SMSS_DEFAULT 536u  /* RFC 9293 §3.7.1: the default send MSS */
#define TCP_CC_SMSS_MAX 65535u    /* the MSS option is 16 bits (RFC 9293 §3.2) */
#define TCP_CC_DUPTHRESH 3u       /* RFC 5681 §3.2: fast retransmit on the 3rd dupack */

/* CUBIC's state (RFC 9438 §4.1.2), in bytes and ns. */
struct tcp_cc_cubic {
    uint32_t w_max;          /* W_max; 0: none yet (no congestion event) */
    uint32_t cwnd_prior;     /* cwnd when ssthresh was last set (§4.3, §4.6) */
    uint32_t cwnd_epoch;     /* cwnd at t_epoch */
    uint32_t w_est;          /* W_est, the Reno-friendly estimate (§4.3) */
    int64_t k_ns;            /* K, ms resolution; < 0 when cwnd_epoch > W_max */
    uint64_t epoch_start_ns; /* t_epoch, moved forward over application-limited time */
    uint64_t last_ack_ns;    /* the previous ACK in this epoch */
    uint64_t cwnd_frac;      /* remainder of the cwnd increase, in bytes * cwnd */
    uint64_t w_est_frac;     /* remainder of the W_est increase, in bytes * 17*cwnd */
    bool epoch_valid;        /* false: the next congestion-avoidance ACK starts an epoch */
    bool k_zero;             /* the next epoch has K = 0, W_max = cwnd_epoch (§4.8, §4.10) */
    bool fast_convergence;   /* §4.7 (on after init; §4.7: "SHOULD be disabled" for a lone flow) */
};

struct tcp_cc {
    enum tcp_cc_algo algo;
    uint32_t smss;           /* SMSS, bytes */
    uint32_t iw;             /* the initial window IW, bytes */
    uint32_t cwnd, ssthresh; /* bytes */
    bool in_recovery;        /* in fast recovery (RFC 6582 §6: a flag, not dupacks) */
    bool recover_valid;      /* false: no recovery point yet, or snd_una has passed it */
    bool first_partial_seen; /* a partial ACK already came in this recovery */
    bool rto_unacked;        /* the timer retransmitted snd_una and no ACK advanced it since */
    bool ss_after_rto;       /* the slow start that follows an RTO (ABC L = 1*SMSS) */
    bool sack_recovery;      /* SACK negotiated: RFC 6675's rule for a new recovery (set by the caller) */
    uint32_t recover;        /* RFC 6582 "recover", stored as snd_nxt (see tcp_cc.c) */
    uint32_t dupacks;        /* consecutive duplicate ACKs (saturating) */
    uint32_t dup_flight;     /* FlightSize at the 1st dupack: excludes limited transmit */
    uint32_t inflate_left;   /* dupack inflations still allowed in this recovery */
    uint32_t bytes_acked;    /* congestion-avoidance byte counter (RFC 5681 §3.1) */
    struct tcp_cc_cubic cubic;
};

/* What the caller does after an ACK of new data. */
struct tcp_cc_ack_result {
    bool retransmit_next;   /* partial ACK: retransmit the segment at snd_una (RFC 6582 §3.2 step 3) */
    bool exited_recovery;   /* full ACK: fast recovery is over */
    bool first_partial;     /* the first partial ACK of this recovery: reset the RTO timer (RFC 6582 §3.2) */
};

enum tcp_cc_dup {
    TCP_CC_DUP_NONE,             /* nothing to send because of this dupack */
    TCP_CC_DUP_LIMITED_TRANSMIT, /* 1st or 2nd: new data may go out within tcp_cc_send_limit() (RFC 3042) */
    TCP_CC_DUP_FAST_RETRANSMIT,  /* 3rd: fast recovery entered, retransmit snd_una (RFC 5681 §3.2) */
};

/* Sets up cc for a new connection: cwnd = IW, ssthresh = TCP_CC_WND_MAX.
 * smss 0 means TCP_CC_SMSS_DEFAULT; above TCP_CC_SMSS_MAX it is clamped.
 * iw_segments 0 means TCP_CC_IW_DEFAULT; IW = iw_segments * SMSS bytes,
 * at most max(2*SMSS, 14600) (RFC 6928 §2). RFC 5681 §3.1: "if the SYN or
 * SYN/ACK is lost, the initial window used by a sender after a correctly
 * transmitted SYN MUST be one segment" - pass 1 then. */
void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t smss, uint32_t iw_segments, uint64_t now_ns);

/* An ACK advanced snd_una by acked bytes (> 0; 0 is ignored). snd_una and
 * snd_nxt are the values after the ACK (snd_una is its ACK number), flight
 * the FlightSize before it (snd_nxt - old snd_una), srtt_ns the smoothed
 * RTT (0 if none yet). Outside recovery it grows cwnd: slow start while
 * cwnd < ssthresh, else congestion avoidance of the algorithm. In recovery
 * it handles a partial or a full ACK (RFC 6582 §3.2 step 3). */
struct tcp_cc_ack_result tcp_cc_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t snd_una, uint32_t snd_nxt,
                                       uint32_t flight, uint64_t srtt_ns, uint64_t now_ns);

/* A duplicate ACK (RFC 5681 §2, checked by the caller), with the current
 * snd_una, snd_nxt and FlightSize. */
enum tcp_cc_dup tcp_cc_on_dupack(struct tcp_cc *cc, uint32_t snd_una, uint32_t snd_nxt, uint32_t flight,
                                 uint64_t now_ns);

/* Loss is known before the third duplicate ACK: the SACK scoreboard says
 * the segment at snd_una is lost (RFC 6675 §5 step (2): "If DupAcks <
 * DupThresh but IsLost (HighACK + 1) returns true ... go to step (4)"), or
 * early retransmit applies (RFC 5827 §3.2: every segment above it has
 * arrived and no new data can be sent). The caller checks that; this
 * enters fast recovery as the third duplicate ACK would (the same RFC 6582
 * "recover" rule), with the current snd_una, snd_nxt and FlightSize.
 * Returns TCP_CC_DUP_FAST_RETRANSMIT when recovery was entered (retransmit
 * snd_una), else TCP_CC_DUP_NONE (already in recovery, or snd_una has not
 * passed recover). */
enum tcp_cc_dup tcp_cc_on_loss_detected(struct tcp_cc *cc, uint32_t snd_una, uint32_t snd_nxt, uint32_t flight);

/* RFC 8985 §7.4.2: a loss probe repaired a loss (an ACK beyond it came with
 * no D-SACK of it), and "the sender MUST invoke the congestion control
 * response equivalent to fast recovery": ssthresh from flight (bytes, the
 * FlightSize when the probe went) by the algorithm, cwnd = ssthresh, and
 * no recovery to run - the ACK covers the loss. Nothing in fast recovery,
 * which has already reduced. */
void tcp_cc_on_probe_repaired(struct tcp_cc *cc, uint32_t flight);

/* The retransmission timer fired for the segment at snd_una. snd_nxt is
 * the highest sequence number sent so far plus one (before any go-back),
 * flight the FlightSize when it fired. ssthresh is reduced (unless this
 * segment was already retransmitted by the timer: RFC 5681 §3.1 holds it),
 * cwnd = 1 SMSS, fast recovery is left and recover = snd_nxt. */
void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, uint64_t now_ns);

/* The connection is about to send after more than one RTO without sending:
 * cwnd = min(IW, cwnd) (RFC 5681 §4.1). */
void tcp_cc_on_idle_restart(struct tcp_cc *cc, uint64_t now_ns);

/* The most data that may be outstanding after sending new data: cwnd, plus
 * one SMSS per duplicate ACK for the 1st and 2nd (limited transmit, RFC
 * 3042 §2: "the sender can only send two segments beyond the congestion
 * window"). In fast recovery the inflated cwnd. */
uint32_t tcp_cc_send_limit(const struct tcp_cc *cc);

/* The algorithm's name ("newreno", "cubic"). */
const char *tcp_cc_name(enum tcp_cc_algo algo);

/* floor(cbrt(x)): CUBIC's integer cube root, exposed for tests. */
uint32_t tcp_cc_icbrt(uint64_t x);

#endif /* SLUICE_TCP_CC_H */
