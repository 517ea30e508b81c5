/*
 * tcp_cc.c - TCP congestion control: NewReno and CUBIC behind one ops table.
 *
 * RFC 5681 (TCP congestion control: slow start, congestion avoidance, fast
 *          retransmit and fast recovery, restarting idle connections),
 * RFC 3465 (Appropriate Byte Counting, L = 2*SMSS),
 * RFC 6928 (initial window of 10 segments),
 * RFC 6582 (NewReno: recover, partial and full ACKs),
 * RFC 3042 (limited transmit),
 * RFC 9438 (CUBIC; obsoletes RFC 8312).
 *
 * The shared part (this file's second half) is the RFC 5681/6582/3042
 * machinery: when to slow start, when to enter and leave fast recovery,
 * what a partial ACK does. An algorithm (struct tcp_cc_ops) supplies only
 * ssthresh on a congestion event and the congestion-avoidance increase;
 * RFC 9438 §4.2: CUBIC "does not make any changes to the TCP Fast Recovery
 * and Fast Retransmit algorithms [RFC6582]".
 *
 * Choices the RFCs leave open, made here:
 *  - recover is stored as snd_nxt at the event, one past "the highest
 *    sequence number transmitted" (RFC 6582 §3.2 step 2). So "ack_number -
 *    1 > recover" (§3.2) is seq_gt(snd_una, recover), and a full ACK, one
 *    that "acknowledges all of the data up to and including recover", is
 *    seq_geq(snd_una, recover).
 *  - recover's initial value (§3.2 step 1: the ISS) is "no recovery point"
 *    (recover_valid false): any ACK of data covers more than the ISS. Once
 *    snd_una passes recover the point is retired the same way, so it cannot
 *    wrap into the future 2^31 bytes later (RFC 6582 §6).
 *  - Full ACK: option (1) of RFC 6582 §3.2 step 3, cwnd = min(ssthresh,
 *    max(FlightSize, SMSS) + SMSS), FlightSize being what is outstanding
 *    after the ACK: it avoids the burst option (2) would allow.
 *  - Slow start uses ABC with L = 2*SMSS (RFC 3465 §2.2-2.3), except in the
 *    slow start after an RTO, where L = 1*SMSS (RFC 3465 §2.3): an ACK
 *    after a timeout can cover much data that was not sent in that RTT.
 *    Slow start runs while cwnd < ssthresh; at cwnd == ssthresh, where
 *    RFC 5681 §3.1 allows either, congestion avoidance (that is where a
 *    fast recovery leaves cwnd, and where RFC 9438's epoch starts).
 *  - Congestion avoidance (NewReno) counts bytes: "When the number of bytes
 *    acknowledged reaches cwnd, then cwnd can be incremented by up to SMSS
 *    bytes" (RFC 5681 §3.1, the RECOMMENDED way).
 *  - FlightSize for ssthresh at the 3rd dupack is the one at the 1st
 *    dupack: "When [RFC3042] is in use, additional data sent in limited
 *    transmit MUST NOT be included in this calculation" (RFC 5681 §3.2
 *    step 2); limited transmit only ever sends after the 1st dupack.
 *  - Dupack inflation stops at cwnd = ssthresh + FlightSize: "A TCP MAY
 *    therefore limit the number of times cwnd is artificially inflated
 *    during loss recovery to the number of outstanding segments (or, an
 *    approximation thereof)" (RFC 5681 §3.2 step 4).
 *  - RTO: ssthresh is held when the timer fires again before any ACK has
 *    advanced snd_una: then "the given segment has already been
 *    retransmitted by way of the retransmission timer at least once, the
 *    value of ssthresh is held constant" (RFC 5681 §3.1).
 *  - CUBIC in fast recovery inflates like NewReno: cwnd = ssthresh +
 *    3*SMSS, not RFC 9438 §4.6's max(ssthresh, 2); both end at ssthresh.
 *  - CUBIC's application-limited rule (RFC 9438 §4.2, §5.8): an ACK that
 *    finds less than half of cwnd in flight (RFC 7661's test for a
 *    non-validated cwnd) grows nothing, and the time since the previous
 *    ACK is taken out of t.
 *  - No spurious-loss undo (RFC 9438 §4.9, a MAY).
 *
 * CUBIC in integers. Windows are bytes: W_cubic(t) = C*(t-K)^3*SMSS + W_max
 * with C = 0.4 = 2/5 segment/s^3. Times are ns, and the cubic is evaluated
 * at millisecond resolution: with d = t - K in ms, seconds^3 = ms^3 / 10^9,
 *     C*d^3*SMSS = 2*SMSS*d^3 / (5 * 10^9) bytes,
 *     K = cbrt((W_max - cwnd_epoch)/SMSS / C) s
 *       = cbrt((W_max - cwnd_epoch) * 2.5*10^9 / SMSS) ms   (rounded).
 * Bounds: windows are < 2^31, so (W_max - cwnd_epoch) * 2.5*10^9 < 5.4e18
 * < 2^64 and |K| < 1.76*10^6 ms. |d| is clamped to 2.6*10^6 ms (43 min):
 * d^3 <= 1.7576e19 < 2^64, and at that |d| the term is above 7*10^9 bytes
 * even for SMSS = 1, beyond TCP_CC_WND_MAX, so the clamp changes nothing.
 * The term is split as (d^3 / 5e9) * 2*SMSS + (d^3 % 5e9) * 2*SMSS / 5e9,
 * both below 2^50 with SMSS <= 65535. Per-ACK increases are fractions of
 * a byte at times; their remainders are carried (cwnd_frac, w_est_frac).
 */
#include "tcp_cc.h"

#include <string.h>

#include "tcp_seq.h"

#define NS_PER_MS 1000000ll

/* RFC 9438 §4.6: beta_cubic = 0.7 */
#define CUBIC_BETA_NUM 7u
#define CUBIC_BETA_DEN 10u
/* RFC 9438 §4.7: fast convergence, W_max = cwnd * (1 + beta_cubic) / 2 = 0.85 cwnd */
#define CUBIC_FC_NUM 17u
#define CUBIC_FC_DEN 20u
/* RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) = 0.9/1.7 = 9/17 */
#define CUBIC_ALPHA_NUM 9u
#define CUBIC_ALPHA_ONE 17u /* alpha_cubic = 1, over the same denominator */
#define CUBIC_ALPHA_DEN 17u
/* C = 0.4 segment/s^3 = 2 / (5 * 10^9) segment/ms^3 */
#define CUBIC_C_NUM 2u
#define CUBIC_C_DEN_MS3 5000000000ull
/* 1/C in ms^3 per segment: 2.5 s^3 = 2.5 * 10^9 ms^3 */
#define CUBIC_INV_C_MS3 2500000000ull
/* |t - K| clamp, ms: its cube fits 64 bits and overshoots any window */
#define CUBIC_D_MAX_MS 2600000ull
/* t clamp, ns: keeps t - K in int64_t */
#define CUBIC_T_MAX_NS (1ull << 62)

struct tcp_cc_ops {
    const char *name;
    void (*init)(struct tcp_cc *cc);
    /* ssthresh for a congestion event (3rd dupack, or the timer if
     * timeout) with flight bytes outstanding; records the algorithm's own
     * state. cwnd is still the value before the reduction. */
    uint32_t (*on_congestion)(struct tcp_cc *cc, uint32_t flight, bool timeout);
    /* Congestion avoidance for an ACK of acked bytes (cwnd >= ssthresh). */
    void (*cong_avoid)(struct tcp_cc *cc, uint32_t acked, uint32_t flight, uint64_t srtt_ns, uint64_t now_ns);
    /* cwnd went back to the restart window after idle. */
    void (*on_restart)(struct tcp_cc *cc);
};

/* ---- helpers ---- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* A window in [SMSS, TCP_CC_WND_MAX]: "cwnd never below 1 SMSS". */
static uint32_t wnd_clamp(uint64_t w, uint32_t smss)
{
    return (uint32_t)max_u64(min_u64(w, TCP_CC_WND_MAX), smss);
}

/* ssthresh is at least 2*SMSS: RFC 5681 eq. (4), RFC 9438 §4.6
 * "ssthresh = max(ssthresh, 2)". */
static uint32_t ssthresh_clamp(uint64_t v, uint32_t smss)
{
    return (uint32_t)max_u64(min_u64(v, TCP_CC_WND_MAX), 2ull * smss);
}

uint32_t tcp_cc_icbrt(uint64_t x)
{
    if (x == 0)
        return 0;
    unsigned bits = 0;
    for (uint64_t v = x; v != 0; v >>= 1)
        bits++;
    /* Newton's step r' = (2r + x/r^2) / 3 (integer divisions) from r >=
     * cbrt(x): while r > floor(cbrt(x)), r^3 > x makes r' < r, and r' >=
     * floor(cbrt(x)) by the AM-GM inequality; so it stops there. x <
     * 2^bits, so the start 2^ceil(bits/3) is above cbrt(x), and r <= 2^22
     * keeps r^2 in range. */
    uint64_t r = 1ull << ((bits + 2) / 3);
    for (;;) {
        uint64_t next = (2 * r + x / (r * r)) / 3;
        if (next >= r)
            return (uint32_t)r;
        r = next;
    }
}

/* cbrt(x) rounded to the nearest integer; x < 2^63 (so (r + 1)^3 fits). */
static uint64_t icbrt_round(uint64_t x)
{
    uint64_t r = tcp_cc_icbrt(x);
    uint64_t below = x - r * r * r;
    uint64_t above = (r + 1) * (r + 1) * (r + 1) - x;
    return above < below ? r + 1 : r;
}

/* ---- NewReno (RFC 5681, RFC 6582) ---- */

static void reno_init(struct tcp_cc *cc)
{
    (void)cc;
}

static uint32_t reno_on_congestion(struct tcp_cc *cc, uint32_t flight, bool timeout)
{
    (void)timeout;
    /* RFC 5681 §3.1 eq. (4): ssthresh = max (FlightSize / 2, 2*SMSS) */
    return ssthresh_clamp(flight / 2, cc->smss);
}

static void reno_cong_avoid(struct tcp_cc *cc, uint32_t acked, uint32_t flight, uint64_t srtt_ns, uint64_t now_ns)
{
    (void)flight;
    (void)srtt_ns;
    (void)now_ns;
    /* RFC 5681 §3.1: "When the number of bytes acknowledged reaches cwnd,
     * then cwnd can be incremented by up to SMSS bytes"; RFC 3465 §2.1:
     * bytes_acked "is reduced by the value of cwnd". */
    uint64_t counted = (uint64_t)cc->bytes_acked + acked;
    if (counted < cc->cwnd) {
        cc->bytes_acked = (uint32_t)counted;
        return;
    }
    cc->bytes_acked = (uint32_t)min_u64(counted - cc->cwnd, TCP_CC_WND_MAX);
    cc->cwnd = wnd_clamp((uint64_t)cc->cwnd + cc->smss, cc->smss);
}

static void reno_on_restart(struct tcp_cc *cc)
{
    (void)cc;
}

/* ---- CUBIC (RFC 9438) ---- */

static void cubic_init(struct tcp_cc *cc)
{
    /* §4.7: fast convergence "SHOULD be implemented" (and "SHOULD be
     * disabled" when the flow is known to be alone: the caller's call). */
    cc->cubic.fast_convergence = true;
}

/* K = cbrt((W_max - cwnd_epoch) / C) (§4.2 Figure 2), in ns at ms
 * resolution; negative when cwnd_epoch > W_max (then W_cubic(0) is still
 * cwnd_epoch: the curve is past its plateau). */
static int64_t cubic_k_ns(uint32_t w_max, uint32_t cwnd_epoch, uint32_t smss)
{
    uint64_t diff = w_max >= cwnd_epoch ? w_max - cwnd_epoch : cwnd_epoch - w_max;
    /* diff < 2^31: diff * 2.5e9 < 5.4e18 */
    int64_t k_ms = (int64_t)icbrt_round(diff * CUBIC_INV_C_MS3 / smss);
    return (w_max >= cwnd_epoch ? k_ms : -k_ms) * NS_PER_MS;
}

/* C * d^3 in bytes for |t - K| = d_ms (<= CUBIC_D_MAX_MS). */
static uint64_t cubic_term(uint64_t d_ms, uint32_t smss)
{
    uint64_t cube = d_ms * d_ms * d_ms;
    uint64_t per = (uint64_t)CUBIC_C_NUM * smss;
    return cube / CUBIC_C_DEN_MS3 * per + cube % CUBIC_C_DEN_MS3 * per / CUBIC_C_DEN_MS3;
}

/* W_cubic(t) = C*(t-K)^3 + W_max (§4.2 Figure 1), bytes, for t_ns since
 * t_epoch; in [0, TCP_CC_WND_MAX]. */
static uint64_t cubic_w(const struct tcp_cc *cc, uint64_t t_ns)
{
    const struct tcp_cc_cubic *c = &cc->cubic;
    int64_t d_ns = (int64_t)min_u64(t_ns, CUBIC_T_MAX_NS) - c->k_ns;
    uint64_t mag_ns = (uint64_t)(d_ns < 0 ? -d_ns : d_ns);
    uint64_t d_ms = min_u64((mag_ns + NS_PER_MS / 2) / NS_PER_MS, CUBIC_D_MAX_MS);
    uint64_t term = cubic_term(d_ms, cc->smss);
    if (d_ns >= 0)
        return min_u64(c->w_max + term, TCP_CC_WND_MAX);
    return term < c->w_max ? c->w_max - term : 0;
}

/* §4.7 Fast Convergence, before the reduction: W_max = cwnd * (1 +
 * beta_cubic) / 2 "if cwnd < W_max and fast convergence enabled", else
 * cwnd. W_max 0 (none yet) takes cwnd. */
static void cubic_update_w_max(struct tcp_cc *cc)
{
    struct tcp_cc_cubic *c = &cc->cubic;
    if (c->fast_convergence && cc->cwnd < c->w_max) {
        c->w_max = wnd_clamp((uint64_t)cc->cwnd * CUBIC_FC_NUM / CUBIC_FC_DEN, cc->smss);
        return;
    }
    c->w_max = cc->cwnd;
}

static uint32_t cubic_on_congestion(struct tcp_cc *cc, uint32_t flight, bool timeout)
{
    struct tcp_cc_cubic *c = &cc->cubic;
    c->epoch_valid = false;
    /* §4.6: "cwnd_prior = cwnd" (save cwnd) */
    c->cwnd_prior = cc->cwnd;
    if (timeout) {
        /* §4.8: "During the first congestion avoidance stage after a
         * timeout, ... K is set to 0, and W_max is set to the congestion
         * window size at the beginning of the current congestion avoidance
         * stage." */
        c->k_zero = true;
    } else {
        cubic_update_w_max(cc);
        c->k_zero = false;
    }
    /* §4.6: ssthresh = flight_size * beta_cubic (§4.8: the same on a
     * timeout), at least 2 MSS */
    return ssthresh_clamp((uint64_t)flight * CUBIC_BETA_NUM / CUBIC_BETA_DEN, cc->smss);
}

/* A congestion-avoidance stage begins (t_epoch). */
static void cubic_start_epoch(struct tcp_cc *cc, uint64_t now_ns)
{
    struct tcp_cc_cubic *c = &cc->cubic;
    c->epoch_valid = true;
    c->epoch_start_ns = now_ns;
    c->last_ack_ns = now_ns;
    c->cwnd_epoch = cc->cwnd;
    /* §4.3: "W_est is set equal to cwnd_epoch at the start of the
     * congestion avoidance stage." */
    c->w_est = cc->cwnd;
    c->cwnd_frac = 0;
    c->w_est_frac = 0;
    /* §4.10: leaving the first slow start without a loss, "CUBIC sets
     * cwnd_prior = cwnd" */
    if (c->cwnd_prior == 0)
        c->cwnd_prior = cc->cwnd;
    if (c->k_zero || c->w_max == 0) {
        /* §4.8 (after a timeout), §4.10 (no W_max yet): K = 0, W_max =
         * the window at the beginning of this stage */
        c->w_max = cc->cwnd;
        c->k_ns = 0;
        c->k_zero = false;
        return;
    }
    c->k_ns = cubic_k_ns(c->w_max, cc->cwnd, cc->smss);
}

/* §4.3 Figure 4: W_est = W_est + alpha_cubic * segments_acked / cwnd, in
 * bytes: + alpha * acked * SMSS / cwnd. alpha_cubic is 9/17 until "W_est
 * >= cwnd_prior", then 1: "the sender SHOULD set alpha_cubic to 1". */
static void cubic_grow_w_est(struct tcp_cc *cc, uint32_t acked)
{
    struct tcp_cc_cubic *c = &cc->cubic;
    uint64_t alpha = c->w_est >= c->cwnd_prior ? CUBIC_ALPHA_ONE : CUBIC_ALPHA_NUM;
    uint64_t den = (uint64_t)CUBIC_ALPHA_DEN * cc->cwnd;
    /* <= 17 * 2^32 * 65535 < 2^53 */
    uint64_t num = alpha * acked * cc->smss + c->w_est_frac;
    c->w_est = wnd_clamp(c->w_est + num / den, cc->smss);
    c->w_est_frac = num % den;
}

/* §4.2: target = W_cubic(t + RTT), bounded to [cwnd, 1.5 * cwnd] so that
 * "CUBIC's congestion window increase rate is non-decreasing and is less
 * than the increase rate of slow start". */
static uint64_t cubic_target(const struct tcp_cc *cc, uint64_t t_ns)
{
    uint64_t w = cubic_w(cc, t_ns);
    uint64_t hi = (uint64_t)cc->cwnd * 3 / 2;
    return max_u64(min_u64(w, hi), cc->cwnd);
}

/* §4.4/§4.5: "cwnd MUST be incremented by (target - cwnd)/cwnd for each
 * received new ACK"; in bytes, for acked bytes: (target - cwnd) * acked /
 * cwnd (§4.1: "replacing segments_acked with the number of bytes"). One
 * ACK never takes cwnd past target. */
static void cubic_grow_cwnd(struct tcp_cc *cc, uint32_t acked, uint64_t target)
{
    struct tcp_cc_cubic *c = &cc->cubic;
    if (target <= cc->cwnd)
        return;
    uint64_t gap = target - cc->cwnd; /* <= cwnd / 2 < 2^30 */
    uint64_t num = gap * acked + c->cwnd_frac;
    uint64_t inc = num / cc->cwnd;
    c->cwnd_frac = num % cc->cwnd;
    if (inc >= gap) {
        inc = gap;
        c->cwnd_frac = 0;
    }
    cc->cwnd = wnd_clamp(cc->cwnd + inc, cc->smss);
}

/* §5.8: "CUBIC does not increase its congestion window if a flow is
 * application-limited"; here: less than half of cwnd was in flight. */
static bool cubic_app_limited(const struct tcp_cc *cc, uint32_t flight)
{
    return flight < cc->cwnd / 2;
}

static void cubic_cong_avoid(struct tcp_cc *cc, uint32_t acked, uint32_t flight, uint64_t srtt_ns, uint64_t now_ns)
{
    struct tcp_cc_cubic *c = &cc->cubic;
    if (!c->epoch_valid)
        cubic_start_epoch(cc, now_ns);
    uint64_t since_last = now_ns > c->last_ack_ns ? now_ns - c->last_ack_ns : 0;
    c->last_ack_ns = now_ns;
    if (cubic_app_limited(cc, flight)) {
        /* §4.2: "The elapsed time t in Figure 1 MUST NOT include periods
         * during which cwnd has not been updated due to
         * application-limited behavior" */
        c->epoch_start_ns += since_last;
        return;
    }
    uint64_t t = now_ns > c->epoch_start_ns ? now_ns - c->epoch_start_ns : 0;
    cubic_grow_w_est(cc, acked);
    /* §4.3: "CUBIC checks whether W_cubic(t) is less than W_est. If so,
     * CUBIC is in the Reno-friendly region and cwnd SHOULD be set to W_est
     * at each reception of a new ACK." (§4.2: "choose the higher of the
     * two values": an ACK never lowers cwnd.) */
    if (cubic_w(cc, t) < c->w_est) {
        cc->cwnd = (uint32_t)max_u64(cc->cwnd, c->w_est);
        return;
    }
    /* concave (cwnd < W_max, §4.4) or convex (§4.5): the same rule */
    cubic_grow_cwnd(cc, acked, cubic_target(cc, t + srtt_ns));
}

static void cubic_on_restart(struct tcp_cc *cc)
{
    /* the idle time is not congestion-avoidance time (§5.8): a new epoch */
    cc->cubic.epoch_valid = false;
}

/* ---- the ops table ---- */

static const struct tcp_cc_ops reno_ops = {
    .name = "newreno",
    .init = reno_init,
    .on_congestion = reno_on_congestion,
    .cong_avoid = reno_cong_avoid,
    .on_restart = reno_on_restart,
};

static const struct tcp_cc_ops cubic_ops = {
    .name = "cubic",
    .init = cubic_init,
    .on_congestion = cubic_on_congestion,
    .cong_avoid = cubic_cong_avoid,
    .on_restart = cubic_on_restart,
};

static const struct tcp_cc_ops *ops_of(enum tcp_cc_algo algo)
{
    return algo == TCP_CC_CUBIC ? &cubic_ops : &reno_ops;
}

const char *tcp_cc_name(enum tcp_cc_algo algo)
{
    return ops_of(algo)->name;
}

/* ---- shared: RFC 5681, RFC 6582, RFC 3042 ---- */

/* RFC 6928 §2: "IW = min (10*MSS, max (2*MSS, 14600))", generalised to
 * iw segments. RFC 5681 §3.1's smaller bound (2 to 4 segments) is the
 * caller's choice of iw. */
static uint32_t initial_window(uint32_t smss, uint32_t iw_segments)
{
    uint64_t cap = max_u64(2ull * smss, TCP_CC_IW_BYTES_CAP);
    return wnd_clamp(min_u64((uint64_t)iw_segments * smss, cap), smss);
}

void tcp_cc_init(struct tcp_cc *cc, enum tcp_cc_algo algo, uint32_t smss, uint32_t iw_segments, uint64_t now_ns)
{
    (void)now_ns;
    memset(cc, 0, sizeof(*cc));
    cc->algo = algo == TCP_CC_CUBIC ? TCP_CC_CUBIC : TCP_CC_NEWRENO;
    cc->smss = smss == 0 ? TCP_CC_SMSS_DEFAULT : (uint32_t)min_u64(smss, TCP_CC_SMSS_MAX);
    cc->iw = initial_window(cc->smss, iw_segments == 0 ? TCP_CC_IW_DEFAULT : iw_segments);
    cc->cwnd = cc->iw;
    /* RFC 5681 §3.1: "The initial value of ssthresh SHOULD be set
     * arbitrarily high" */
    cc->ssthresh = TCP_CC_WND_MAX;
    /* RFC 6582 §3.2 step 1: recover = the ISS, i.e. no recovery point */
    cc->recover_valid = false;
    ops_of(cc->algo)->init(cc);
}

/* RFC 5681 §3.1 eq. (2) with RFC 3465 ABC: cwnd += min (N, L). */
static void slow_start(struct tcp_cc *cc, uint32_t acked)
{
    uint32_t limit = cc->ss_after_rto ? cc->smss : 2 * cc->smss;
    cc->cwnd = wnd_clamp((uint64_t)cc->cwnd + (acked < limit ? acked : limit), cc->smss);
    if (cc->cwnd >= cc->ssthresh)
        cc->ss_after_rto = false;
}

/* RFC 6582 §3.2 step 3, full ACK: "Set cwnd to either (1) min (ssthresh,
 * max(FlightSize, SMSS) + SMSS) or (2) ssthresh" - option (1), with
 * "FlightSize in (1) [being] the amount of data presently outstanding".
 * "Exit the fast recovery procedure." */
static void full_ack(struct tcp_cc *cc, uint32_t snd_una, uint32_t snd_nxt)
{
    uint32_t outstanding = seq_gt(snd_nxt, snd_una) ? snd_nxt - snd_una : 0;
    uint64_t w = max_u64(outstanding, cc->smss) + cc->smss;
    cc->cwnd = wnd_clamp(min_u64(cc->ssthresh, w), cc->smss);
    cc->in_recovery = false;
    cc->bytes_acked = 0;
}

/* RFC 6582 §3.2 step 3, partial ACK: "Deflate the congestion window by the
 * amount of new data acknowledged by the Cumulative Acknowledgment field.
 * If the partial ACK acknowledges at least one SMSS of new data, then add
 * back SMSS bytes to the congestion window." */
static void partial_ack(struct tcp_cc *cc, uint32_t acked)
{
    uint64_t w = cc->cwnd > acked ? cc->cwnd - acked : 0;
    if (acked >= cc->smss)
        w += cc->smss;
    cc->cwnd = wnd_clamp(w, cc->smss);
}

static struct tcp_cc_ack_result recovery_ack(struct tcp_cc *cc, uint32_t acked, uint32_t snd_una, uint32_t snd_nxt)
{
    struct tcp_cc_ack_result res = {false, false, false};
    if (seq_geq(snd_una, cc->recover)) {
        full_ack(cc, snd_una, snd_nxt);
        res.exited_recovery = true;
        return res;
    }
    partial_ack(cc, acked);
    /* "retransmit the first unacknowledged segment"; "For the first
     * partial ACK that arrives during fast recovery, also reset the
     * retransmit timer." */
    res.retransmit_next = true;
    res.first_partial = !cc->first_partial_seen;
    cc->first_partial_seen = true;
    return res;
}

struct tcp_cc_ack_result tcp_cc_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t snd_una, uint32_t snd_nxt,
                                       uint32_t flight, uint64_t srtt_ns, uint64_t now_ns)
{
    struct tcp_cc_ack_result res = {false, false, false};
    if (acked == 0)
        return res;
    /* RFC 5681 §3.2: duplicates count "without any intervening ACKs which
     * move SND.UNA"; snd_una moved, so a timer retransmission got through. */
    cc->dupacks = 0;
    cc->rto_unacked = false;
    if (cc->in_recovery)
        return recovery_ack(cc, acked, snd_una, snd_nxt);
    /* RFC 6582 §6: keep recover from wrapping ahead of snd_una */
    if (cc->recover_valid && seq_gt(snd_una, cc->recover))
        cc->recover_valid = false;
    /* RFC 5681 §3.1: "The slow start algorithm is used when cwnd <
     * ssthresh, while the congestion avoidance algorithm is used when cwnd
     * > ssthresh." */
    if (cc->cwnd < cc->ssthresh) {
        slow_start(cc, acked);
        return res;
    }
    cc->ss_after_rto = false;
    ops_of(cc->algo)->cong_avoid(cc, acked, flight, srtt_ns, now_ns);
    return res;
}

/* RFC 5681 §3.2 steps 2 and 3 (RFC 6582 §3.2 step 2 checked by the
 * caller): ssthresh per algorithm, "cwnd set to ssthresh plus 3*SMSS", and
 * RFC 6582: "the value of recover is incremented to the value of the
 * highest sequence number transmitted by the TCP so far". */
static void enter_recovery(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight)
{
    cc->recover = snd_nxt;
    cc->recover_valid = true;
    cc->in_recovery = true;
    cc->first_partial_seen = false;
    cc->ss_after_rto = false;
    cc->bytes_acked = 0;
    cc->ssthresh = ops_of(cc->algo)->on_congestion(cc, flight, false);
    cc->cwnd = wnd_clamp((uint64_t)cc->ssthresh + TCP_CC_DUPTHRESH * cc->smss, cc->smss);
}

/* RFC 5681 §3.2 step 4: "For each additional duplicate ACK received
 * (after the third), cwnd MUST be incremented by SMSS", up to ssthresh +
 * FlightSize (the MAY limit, see the top of the file). */
static void recovery_inflate(struct tcp_cc *cc, uint32_t flight)
{
    uint64_t w = (uint64_t)cc->cwnd + cc->smss;
    if (w > (uint64_t)cc->ssthresh + flight)
        return;
    cc->cwnd = wnd_clamp(w, cc->smss);
}

/* Whether a new fast recovery must not start at snd_una. NewReno (RFC
 * 6582 §3.2 step 2): only if the cumulative ACK "covers more than
 * recover" - "If not, the TCP does not enter fast retransmit and does not
 * reset ssthresh." SACK (RFC 6675 §5.1): not "until HighACK is greater
 * than or equal to" the recovery point, so that a loss of the first
 * segment sent after a recovery is repaired at once, not by the RTO. */
static bool recovery_blocked(const struct tcp_cc *cc, uint32_t snd_una)
{
    if (!cc->recover_valid)
        return false;
    return cc->sack_recovery ? seq_lt(snd_una, cc->recover) : !seq_gt(snd_una, cc->recover);
}

enum tcp_cc_dup tcp_cc_on_dupack(struct tcp_cc *cc, uint32_t snd_una, uint32_t snd_nxt, uint32_t flight,
                                 uint64_t now_ns)
{
    (void)now_ns;
    if (cc->in_recovery) {
        recovery_inflate(cc, flight);
        return TCP_CC_DUP_NONE;
    }
    if (cc->dupacks < UINT32_MAX)
        cc->dupacks++;
    if (cc->dupacks == 1)
        cc->dup_flight = flight;
    /* RFC 5681 §3.2 step 1 / RFC 3042 §2: "transmit new data upon the
     * arrival of the first two consecutive duplicate ACKs" */
    if (cc->dupacks < TCP_CC_DUPTHRESH)
        return TCP_CC_DUP_LIMITED_TRANSMIT;
    if (cc->dupacks > TCP_CC_DUPTHRESH)
        return TCP_CC_DUP_NONE;
    if (recovery_blocked(cc, snd_una))
        return TCP_CC_DUP_NONE;
    enter_recovery(cc, snd_nxt, flight < cc->dup_flight ? flight : cc->dup_flight);
    return TCP_CC_DUP_FAST_RETRANSMIT;
}

enum tcp_cc_dup tcp_cc_on_loss_detected(struct tcp_cc *cc, uint32_t snd_una, uint32_t snd_nxt, uint32_t flight)
{
    if (cc->in_recovery || recovery_blocked(cc, snd_una))
        return TCP_CC_DUP_NONE;
    if (cc->dupacks > 0 && cc->dup_flight < flight)
        flight = cc->dup_flight; /* FlightSize before limited transmit (RFC 3042 §2) */
    /* later duplicates count as the ones after the third */
    cc->dupacks = TCP_CC_DUPTHRESH;
    enter_recovery(cc, snd_nxt, flight);
    return TCP_CC_DUP_FAST_RETRANSMIT;
}

void tcp_cc_on_probe_repaired(struct tcp_cc *cc, uint32_t flight)
{
    if (cc->in_recovery)
        return;
    cc->ssthresh = ops_of(cc->algo)->on_congestion(cc, flight, false);
    cc->cwnd = wnd_clamp(cc->ssthresh, cc->smss);
    cc->bytes_acked = 0;
    cc->dupacks = 0;
}

void tcp_cc_on_rto(struct tcp_cc *cc, uint32_t snd_nxt, uint32_t flight, uint64_t now_ns)
{
    (void)now_ns;
    /* RFC 5681 §3.1: eq. (4) when the segment "has not yet been resent by
     * way of the retransmission timer"; else "the value of ssthresh is
     * held constant". (CUBIC: RFC 9438 §4.8.) */
    if (!cc->rto_unacked)
        cc->ssthresh = ops_of(cc->algo)->on_congestion(cc, flight, true);
    /* RFC 5681 §3.1: "cwnd MUST be set to no more than the loss window,
     * LW, which equals 1 full-sized segment" */
    cc->cwnd = cc->smss;
    /* RFC 6582 §3.2 step 4: "After a retransmit timeout, record the
     * highest sequence number transmitted in the variable recover, and
     * exit the fast recovery procedure if applicable." */
    cc->recover = snd_nxt;
    cc->recover_valid = true;
    cc->in_recovery = false;
    cc->dupacks = 0;
    cc->bytes_acked = 0;
    cc->rto_unacked = true;
    cc->ss_after_rto = true;
}

void tcp_cc_on_idle_restart(struct tcp_cc *cc, uint64_t now_ns)
{
    (void)now_ns;
    /* RFC 5681 §4.1: "a TCP SHOULD set cwnd to no more than RW before
     * beginning transmission if the TCP has not sent data in an interval
     * exceeding the retransmission timeout", RW = min(IW,cwnd). */
    if (cc->cwnd > cc->iw)
        cc->cwnd = cc->iw;
    cc->bytes_acked = 0;
    ops_of(cc->algo)->on_restart(cc);
}

uint32_t tcp_cc_send_limit(const struct tcp_cc *cc)
{
    if (cc->in_recovery || cc->dupacks == 0 || cc->dupacks >= TCP_CC_DUPTHRESH)
        return cc->cwnd;
    /* RFC 3042 §2: "The amount of outstanding data would remain less than
     * or equal to the congestion window plus 2 segments", one per dupack;
     * "The congestion window (cwnd) MUST NOT be changed". */
    return cc->cwnd + cc->dupacks * cc->smss;
}
