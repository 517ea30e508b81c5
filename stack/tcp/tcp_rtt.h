/*
 * tcp_rtt.h - the retransmission timeout (RFC 6298; RTT samples from
 * timestamps: RFC 7323 §4).
 *
 * State per connection: SRTT, RTTVAR and the RTO they give (RFC 6298 §2),
 * and the exponential backoff of the timer (RFC 6298 §5.5). All in ns,
 * integer arithmetic only, with alpha = 1/8, beta = 1/4, K = 4 and a clock
 * granularity G of 1 ms (the stack's timer wheel tick).
 *
 * Departures from RFC 6298, both ones it permits:
 *  - 2.4 says an RTO below 1 s "SHOULD be rounded up to 1 second"; here it
 *    is raised to rto_min instead (200 ms by default, as Linux does). 2.4
 *    itself expects that "a smaller minimum RTO" may prove acceptable.
 *  - 2.5 lets an implementation cap the RTO "provided it is at least 60
 *    seconds": rto_max, 60 s by default. A smaller rto_max is accepted
 *    (for tests and tuning) but is then outside RFC 6298.
 *
 * Which samples to feed (the caller's duty):
 *  - Karn's algorithm, RFC 6298 §3: "RTT samples MUST NOT be made using
 *    segments that were retransmitted", since the ACK may be for either
 *    copy. So without timestamps, time only segments sent once, and drop
 *    the measurement in progress when its segment is retransmitted.
 *  - With the Timestamps option (RFC 7323 §4.1, Appendix H (d)) that
 *    ambiguity is gone ("with timestamps, the Karn algorithm is
 *    disabled"): the sample is now - TSecr, but only from an ACK that
 *    advances SND.UNA ("RTTM Rule: A TSecr value received in a segment MAY
 *    be used to update the averaged RTT measurement only if the segment
 *    advances the left edge of the send window").
 *  - RFC 6298 §3: at least one sample per RTT. Many samples per RTT
 *    shorten the estimator's history (RFC 7323 §4.2); this module uses the
 *    fixed alpha and beta of RFC 6298 2.3 (not RFC 7323 Appendix G's
 *    scaled ones), so a caller with timestamps may sample once per RTT.
 *  - RFC 6298 5.7: when the SYN (or SYN-ACK) timed out and the handshake
 *    then completes, call tcp_rtt_syn_fallback().
 */
#ifndef SLUICE_TCP_RTT_H
#define SLUICE_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_RTT_MS 1000000ull
#define TCP_RTO_MIN_DEFAULT_NS (200 * TCP_RTT_MS)      /* Linux's TCP_RTO_MIN */
#define TCP_RTO_MAX_DEFAULT_NS (60000 * TCP_RTT_MS)    /* RFC 6298 2.5: >= 60 s */
#define TCP_RTO_INITIAL_NS (1000 * TCP_RTT_MS)         /* RFC 6298 2.1 */
#define TCP_RTO_SYN_FALLBACK_NS (3000 * TCP_RTT_MS)    /* RFC 6298 5.7 */
#define TCP_RTT_G_NS TCP_RTT_MS                        /* clock granularity G (RFC 6298 §4) */
/* Samples above this (2^60 ns, ~36 years) are taken as this, so that
 * 8 * SRTT and 4 * RTTVAR cannot overflow 64 bits. */
#define TCP_RTT_SAMPLE_MAX_NS (1ull << 60)

struct tcp_rtt {
    uint64_t srtt_ns, rttvar_ns; /* RFC 6298 SRTT, RTTVAR (valid if has_sample) */
    uint64_t rto_ns;             /* RTO before backoff, within [rto_min, rto_max] */
    uint64_t rto_min_ns, rto_max_ns;
    uint32_t backoff;            /* exponent: the armed RTO is rto_ns << backoff */
    bool has_sample;
};

/* Before any sample: RTO = 1 s (RFC 6298 2.1) clamped into [min, max],
 * no backoff. rto_min_ns / rto_max_ns of 0 take the defaults (200 ms,
 * 60 s); a max below the min is raised to the min. */
void tcp_rtt_init(struct tcp_rtt *r, uint64_t rto_min_ns, uint64_t rto_max_ns);

/* A new RTT measurement R (ns) from a segment that qualifies (see the
 * preamble: Karn's algorithm or the RFC 7323 RTTM rule, the caller's duty).
 * First sample (RFC 6298 2.2): SRTT = R, RTTVAR = R/2. Later ones (2.3):
 * RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, then SRTT = 7/8 SRTT + 1/8 R (each
 * rounded down to the ns). Then RTO = SRTT + max(G, 4 * RTTVAR), clamped
 * into [rto_min, rto_max] (2.4, 2.5), and the backoff is cleared: the new
 * RTO "collapses" the backed-off one (RFC 6298 §5, after 5.7). */
void tcp_rtt_sample(struct tcp_rtt *r, uint64_t rtt_ns);

/* The retransmission timer expired: RTO = RTO * 2 (RFC 6298 5.5), up to
 * rto_max. Once the RTO is at rto_max the exponent stops growing, so it is
 * not a retry count: the caller counts retransmissions itself. */
void tcp_rtt_backoff(struct tcp_rtt *r);

/* The RTO to arm now (ns): rto_ns doubled backoff times, at most rto_max. */
uint64_t tcp_rtt_rto(const struct tcp_rtt *r);

/* RFC 6298 5.7: "If the timer expires awaiting the ACK of a SYN segment
 * and the TCP implementation is using an RTO less than 3 seconds, the RTO
 * MUST be re-initialized to 3 seconds when data transmission begins". Call
 * when the handshake completes after a SYN timeout: without an RTT sample
 * the RTO becomes 3 s (clamped into [min, max]) if it was lower; the
 * backoff is cleared either way. */
void tcp_rtt_syn_fallback(struct tcp_rtt *r);

#endif /* SLUICE_TCP_RTT_H */
