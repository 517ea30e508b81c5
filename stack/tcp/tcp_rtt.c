/*
 * tcp_rtt.c - the retransmission timeout of RFC 6298 in integer ns:
 * SRTT/RTTVAR smoothing (2.2, 2.3), RTO = SRTT + max(G, K*RTTVAR) (2.2,
 * §4), bounds (2.4 via rto_min, 2.5), exponential backoff (5.5) and the
 * 3 s fallback after a SYN timeout (5.7). Which samples may be fed is the
 * caller's duty (Karn's algorithm, RFC 6298 §3; RTTM, RFC 7323 §4).
 */
#include "tcp_rtt.h"

#define RTT_K 4u           /* RFC 6298 2.2: K = 4 */
#define RTT_ALPHA_SHIFT 3u /* RFC 6298 2.3: alpha = 1/8 */
#define RTT_BETA_SHIFT 2u  /* RFC 6298 2.3: beta = 1/4 */

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t rto_clamp(const struct tcp_rtt *r, uint64_t rto_ns)
{
    return clamp_u64(rto_ns, r->rto_min_ns, r->rto_max_ns);
}

void tcp_rtt_init(struct tcp_rtt *r, uint64_t rto_min_ns, uint64_t rto_max_ns)
{
    r->rto_min_ns = rto_min_ns ? rto_min_ns : TCP_RTO_MIN_DEFAULT_NS;
    r->rto_max_ns = rto_max_ns ? rto_max_ns : TCP_RTO_MAX_DEFAULT_NS;
    if (r->rto_max_ns < r->rto_min_ns)
        r->rto_max_ns = r->rto_min_ns;
    r->srtt_ns = 0;
    r->rttvar_ns = 0;
    r->has_sample = false;
    r->backoff = 0;
    /* RFC 6298 2.1: RTO <- 1 second until a measurement is made */
    r->rto_ns = rto_clamp(r, TCP_RTO_INITIAL_NS);
}

/* RFC 6298 2.2: the first measurement R. */
static void rtt_first(struct tcp_rtt *r, uint64_t rtt_ns)
{
    r->srtt_ns = rtt_ns;       /* SRTT <- R */
    r->rttvar_ns = rtt_ns / 2; /* RTTVAR <- R/2 */
    r->has_sample = true;
}

/* RFC 6298 2.3: a subsequent measurement R', "RTTVAR and SRTT MUST be
 * computed in the above order" (RTTVAR uses the old SRTT). Both values are
 * at most TCP_RTT_SAMPLE_MAX_NS (2^60), so 3 * RTTVAR + |SRTT - R'| and
 * 7 * SRTT + R' stay below 2^63. */
static void rtt_update(struct tcp_rtt *r, uint64_t rtt_ns)
{
    uint64_t delta = r->srtt_ns > rtt_ns ? r->srtt_ns - rtt_ns : rtt_ns - r->srtt_ns;
    /* RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4 */
    r->rttvar_ns = (r->rttvar_ns * ((1u << RTT_BETA_SHIFT) - 1) + delta) >> RTT_BETA_SHIFT;
    /* SRTT <- (1 - alpha) * SRTT + alpha * R', alpha = 1/8 */
    r->srtt_ns = (r->srtt_ns * ((1u << RTT_ALPHA_SHIFT) - 1) + rtt_ns) >> RTT_ALPHA_SHIFT;
}

/* RFC 6298 2.2/2.3: RTO <- SRTT + max(G, K*RTTVAR) (§4: a zero variance
 * term is rounded to G), then 2.4 (raised to rto_min) and 2.5 (rto_max). */
static uint64_t rtt_compute_rto(const struct tcp_rtt *r)
{
    uint64_t var = RTT_K * r->rttvar_ns;
    if (var < TCP_RTT_G_NS)
        var = TCP_RTT_G_NS;
    return rto_clamp(r, r->srtt_ns + var);
}

void tcp_rtt_sample(struct tcp_rtt *r, uint64_t rtt_ns)
{
    if (rtt_ns > TCP_RTT_SAMPLE_MAX_NS)
        rtt_ns = TCP_RTT_SAMPLE_MAX_NS;
    if (r->has_sample)
        rtt_update(r, rtt_ns);
    else
        rtt_first(r, rtt_ns);
    r->rto_ns = rtt_compute_rto(r);
    /* RFC 6298 §5 (after 5.7): a new measurement recomputes the RTO,
     * "which may result in 'collapsing' RTO back down after it has been
     * subject to exponential back off" */
    r->backoff = 0;
}

/* base * 2^shift, or cap if that is above cap (no overflow). */
static uint64_t shl_capped(uint64_t base, uint32_t shift, uint64_t cap)
{
    if (shift >= 64 || base > (cap >> shift))
        return cap;
    return base << shift;
}

uint64_t tcp_rtt_rto(const struct tcp_rtt *r)
{
    return shl_capped(r->rto_ns, r->backoff, r->rto_max_ns);
}

void tcp_rtt_backoff(struct tcp_rtt *r)
{
    /* RFC 6298 5.5: RTO <- RTO * 2; 2.5's maximum bounds the doubling */
    if (tcp_rtt_rto(r) < r->rto_max_ns)
        r->backoff++;
}

void tcp_rtt_syn_fallback(struct tcp_rtt *r)
{
    /* RFC 6298 5.7: only an RTO still unmeasured and below 3 s is raised;
     * a real sample (e.g. from timestamps, RFC 7323 §4) is better */
    if (!r->has_sample && r->rto_ns < TCP_RTO_SYN_FALLBACK_NS)
        r->rto_ns = rto_clamp(r, TCP_RTO_SYN_FALLBACK_NS);
    r->backoff = 0;
}
