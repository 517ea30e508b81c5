/*
 * tcp_timer.c - a connection's timers on the stack's wheel: retransmission
 * (and persist, when the peer's window is closed), delayed ACK, and one
 * "keep" timer for keepalive, TIME_WAIT, and the deadlines of SYN-RECEIVED
 * and of an orphan in FIN-WAIT-2.
 *
 * Read first: RFC 6298 §5 (managing the RTO timer), RFC 9293 §3.8.1
 * (retransmission), §3.8.6.1 (zero-window probing: "The transmitting host
 * SHOULD send the first zero-window probe when a zero window has existed
 * for the retransmission timeout period ... and SHOULD increase
 * exponentially the interval between successive probes"), §3.8.6.3
 * (delayed ACK < 0.5 s), §3.8.4 (keep-alives, off by default, "MUST
 * default to no less than two hours"), §3.10.8 (timeouts), RFC 5681 §3.1
 * and tcp_cc.h (what an RTO does to cwnd), RFC 6675 §5.1 (the scoreboard
 * after an RTO), RFC 8985 §7 (the tail loss probe: a flight whose last
 * ACKs were lost, or whose last segments were, brings no duplicate ACK,
 * so without a probe only the RTO would find out).
 */
#include <errno.h>

#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tcp_conn.h"
#include "tcp_recovery.h"

static void rexmt_fire(struct timer *t, void *ctx, uint64_t now_ns);
static void delack_fire(struct timer *t, void *ctx, uint64_t now_ns);
static void keep_fire(struct timer *t, void *ctx, uint64_t now_ns);

void tcp_timers_init(struct tcp_conn *c)
{
    timer_init(&c->rexmt_timer, rexmt_fire, c);
    timer_init(&c->delack_timer, delack_fire, c);
    timer_init(&c->keep_timer, keep_fire, c);
}

void tcp_timers_cancel(struct tcp_conn *c)
{
    timer_cancel(&c->s->timers, &c->rexmt_timer);
    timer_cancel(&c->s->timers, &c->delack_timer);
    timer_cancel(&c->s->timers, &c->keep_timer);
}

#define TLP_PTO_SLACK_NS (2 * TCP_RTT_MS)    /* added to 2*SRTT: timer ticks and scheduling jitter */
#define TLP_WC_DELACK_NS (200 * TCP_RTT_MS)   /* RFC 8985 §7.2 WCDelAckT: the peer may delay its ACK */

/* RFC 8985 §7.2: a probe timeout may replace the RTO while data is in
 * flight and the connection is in neither RTO recovery nor an earlier
 * probe; it needs SACK and an RTT sample. Only the data states: the close
 * states keep the plain RTO. Unlike RFC 8985, a probe is also sent in
 * fast recovery: when the ACK that ends a recovery is lost, or the
 * retransmission at snd_una is, nothing else would bring an ACK before
 * the RTO (the probe's answer lets tcp_input see the lost
 * retransmission); it costs one segment. */
static bool tlp_allowed(const struct tcp_conn *c)
{
    if (c->state != TCPS_ESTABLISHED && c->state != TCPS_CLOSE_WAIT)
        return false;
    if (!(c->flags & TF_SACK_OK) || (c->flags & (TF_TLP_OUT | TF_FIN_SENT)) || !c->rtt.has_sample)
        return false;
    return c->rexmt_count == 0 && seq_lt(c->sv.snd_una, c->sv.snd_max) && c->sv.snd_wnd > 0;
}

/* RFC 8985 §7.2: PTO = 2 * SRTT, plus WCDelAckT when one segment is in
 * flight (its ACK may be delayed), plus TLP_PTO_SLACK_NS (two 1 ms timer
 * ticks; Linux adds its two-jiffy TCP_TIMEOUT_MIN the same way). Here "one
 * segment" is less than two full ones: a receiver need not ACK before
 * the second full-sized segment (RFC 5681 §4.2), so a flight of small
 * segments may wait for its delayed ACK as well. */
static uint64_t tlp_pto(const struct tcp_conn *c)
{
    uint64_t pto = 2 * c->rtt.srtt_ns;

    if (seq_diff(c->sv.snd_max, c->sv.snd_una) < 2 * (int32_t)c->cc.smss)
        pto += TLP_WC_DELACK_NS;
    return pto + TLP_PTO_SLACK_NS;
}

void tcp_timer_rexmt_arm(struct tcp_conn *c)
{
    uint64_t rto = tcp_rtt_rto(&c->rtt);

    c->flags &= ~TF_TLP_ARMED;
    if (tlp_allowed(c)) {
        uint64_t pto = tlp_pto(c);
        if (pto < rto) {
            rto = pto;
            c->flags |= TF_TLP_ARMED;
        }
    }
    timer_arm(&c->s->timers, &c->rexmt_timer, c->s->now_ns + rto);
}

void tcp_timer_data_sent(struct tcp_conn *c, bool new_data)
{
    if (!c->rexmt_timer.armed || (new_data && tlp_allowed(c)))
        tcp_timer_rexmt_arm(c);
}

void tcp_timer_rexmt_stop(struct tcp_conn *c)
{
    c->flags &= ~TF_TLP_ARMED;
    timer_cancel(&c->s->timers, &c->rexmt_timer);
}

/* The probe timeout passed with no ACK (RFC 8985 §7.3): send the last
 * segment again, so that the peer answers with an ACK (and SACK, or a
 * D-SACK) that starts recovery or shows nothing was lost; then the RTO
 * stands. (The RFC also allows a new segment instead; the last one works
 * whatever the windows say.) */
static void tlp_fire(struct tcp_conn *c)
{
    if (tcp_retransmit_last(c) == 0) {
        c->flags |= TF_TLP_OUT;
        c->tlp_end = c->sv.snd_max;
        c->tlp_flight = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);
        c->s->ctr.tcp_tlp_probes++;
    }
    tcp_timer_rexmt_arm(c);
}

void tcp_timer_delack_arm(struct tcp_conn *c)
{
    if (!c->delack_timer.armed)
        timer_arm(&c->s->timers, &c->delack_timer, c->s->now_ns + c->s->tcp->p.delack_ns);
}

void tcp_timer_delack_stop(struct tcp_conn *c)
{
    timer_cancel(&c->s->timers, &c->delack_timer);
}

void tcp_timer_time_wait(struct tcp_conn *c)
{
    tcp_timer_rexmt_stop(c);
    tcp_timer_delack_stop(c);
    if (c->state != TCPS_TIME_WAIT)
        tcp_conn_set_state(c, TCPS_TIME_WAIT);
    timer_arm(&c->s->timers, &c->keep_timer, c->s->now_ns + 2 * c->s->tcp->p.msl_ns);
}

void tcp_timer_keep_reset(struct tcp_conn *c)
{
    if (!(c->flags & TF_KEEPALIVE) || !tcp_state_is_synchronized(c->state) || c->state == TCPS_TIME_WAIT)
        return;
    c->keep_probes = 0;
    timer_arm(&c->s->timers, &c->keep_timer, c->s->now_ns + c->keepidle_ns);
}

void tcp_timer_keep_deadline(struct tcp_conn *c, uint64_t ns)
{
    timer_arm(&c->s->timers, &c->keep_timer, c->s->now_ns + ns);
}

/* The handshake segment timed out: SYN (SYN-SENT) or SYN-ACK (SYN-
 * RECEIVED) again, with backoff, until the retries run out. */
static void handshake_timeout(struct tcp_conn *c)
{
    struct tcp_params *p = &c->s->tcp->p;
    unsigned max = c->state == TCPS_SYN_SENT ? p->syn_retries : p->synack_retries;

    if (c->rexmt_count >= max) {
        tcp_conn_drop(c, ETIMEDOUT);
        return;
    }
    c->rexmt_count++;
    c->flags |= TF_SYN_TIMEDOUT;
    tcp_rtt_backoff(&c->rtt);
    c->st.retransmits++;
    c->s->ctr.tcp_retransmits++;
    if (c->state == TCPS_SYN_SENT)
        tcp_send_ctl(c, RTE_TCP_SYN_FLAG, c->sv.iss);
    else
        tcp_send_ctl(c, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, c->sv.iss);
    tcp_timer_rexmt_arm(c);
}

/* The peer's window is closed and we have bytes: probe with one byte
 * beyond it (RFC 9293 §3.8.6.1), backing off. A probe the peer answers
 * (even with a zero window) does not count toward giving up: the
 * connection is alive (RFC 9293 §3.8.6.1: "MUST NOT close the connection
 * ... as long as the receiving TCP continues to send acknowledgments"). */
static void persist_fire(struct tcp_conn *c)
{
    /* probes nobody answers end the connection like retransmissions do
     * (an answer, even with a zero window, clears rexmt_count: tcp_input) */
    if (c->rexmt_count >= c->s->tcp->p.retries) {
        tcp_conn_drop(c, ETIMEDOUT);
        return;
    }
    c->rexmt_count++;
    tcp_rtt_backoff(&c->rtt);
    /* the byte at snd_una: an earlier probe's byte, still unaccepted, goes
     * again rather than a new one further beyond the window */
    c->sv.snd_nxt = c->sv.snd_una;
    c->flags |= TF_FORCE_PROBE;
    tcp_output(c);
    c->flags &= ~TF_FORCE_PROBE;
    if (!c->rexmt_timer.armed)
        tcp_timer_rexmt_arm(c);
}

static void rexmt_fire(struct timer *t, void *ctx, uint64_t now_ns)
{
    struct tcp_conn *c = ctx;
    uint32_t fl = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);

    (void)t;
    c->s->now_ns = now_ns;
    if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED) {
        handshake_timeout(c);
        return;
    }
    if (!tcp_state_is_synchronized(c->state) || c->state == TCPS_TIME_WAIT)
        return;
    if (c->flags & TF_TLP_ARMED) {
        c->flags &= ~TF_TLP_ARMED;
        /* RFC 8985 §6.3: the reordering window passed with no ACK since:
         * a known loss is repaired, not probed for */
        if (tcp_recover_una_lost_by_time(c))
            return;
        if (fl > 0 && tlp_allowed(c)) {
            tlp_fire(c);
            return;
        }
    }
    /* a closed window: probe it (RFC 9293 §3.8.6.1), also with bytes in
     * flight - an earlier probe's byte, or data the window shrank over
     * (going back to snd_una as the RTO does would send nothing); and
     * queued bytes that nothing in flight will clock out */
    if ((c->sv.snd_wnd == 0 && fl > 0) || (fl == 0 && seq_lt(c->sv.snd_nxt, tcp_snd_end(c)))) {
        persist_fire(c);
        return;
    }
    if (fl == 0)
        return;
    if (c->rexmt_count >= c->s->tcp->p.retries) {
        tcp_conn_drop(c, ETIMEDOUT);
        return;
    }
    /* RFC 6298 5.4-5.6 and RFC 5681 §3.1: back off, collapse cwnd, go back
     * to snd_una; RFC 6675 §5.1: forget the scoreboard */
    c->rexmt_count++;
    c->flags &= ~(TF_TLP_OUT | TF_UNA_REXMIT);
    c->st.rto_expiries++;
    c->s->ctr.tcp_rto_expiries++;
    tcp_cc_on_rto(&c->cc, c->sv.snd_max, fl, now_ns);
    tcp_rtt_backoff(&c->rtt);
    tcp_sack_sb_clear(&c->sb);
    c->sack_seen_ns = 0;
    c->rexmit_high = c->sv.snd_una;
    c->rtt_timing = false;
    c->sv.snd_nxt = c->sv.snd_una;
    tcp_timer_rexmt_arm(c);
    tcp_output(c);
}

static void delack_fire(struct timer *t, void *ctx, uint64_t now_ns)
{
    struct tcp_conn *c = ctx;

    (void)t;
    c->s->now_ns = now_ns;
    if (!(c->flags & TF_DELACK))
        return;
    c->flags |= TF_ACK_NOW;
    tcp_output(c);
}

/* Keepalive probe (RFC 9293 §3.8.4: a segment with SEG.SEQ = SND.NXT-1
 * and no data, which the peer must answer with an ACK). */
static void keepalive_fire(struct tcp_conn *c)
{
    if (c->keep_probes >= c->keepcnt) {
        tcp_conn_drop(c, ETIMEDOUT);
        return;
    }
    c->keep_probes++;
    tcp_send_ctl(c, RTE_TCP_ACK_FLAG, c->sv.snd_nxt - 1);
    timer_arm(&c->s->timers, &c->keep_timer, c->s->now_ns + c->keepintvl_ns);
}

static void keep_fire(struct timer *t, void *ctx, uint64_t now_ns)
{
    struct tcp_conn *c = ctx;

    (void)t;
    c->s->now_ns = now_ns;
    if (c->state == TCPS_TIME_WAIT || (c->state == TCPS_FIN_WAIT_2 && (c->flags & TF_ORPHAN))) {
        /* 2*MSL passed (RFC 9293 §3.10.8), or an orphan waited that long
         * for the peer's FIN (Linux's tcp_fin_timeout) */
        tcp_conn_drop(c, 0);
        return;
    }
    if ((c->flags & TF_KEEPALIVE) && tcp_state_is_synchronized(c->state))
        keepalive_fire(c);
}
