/*
 * tcp_input.c - segments in: RFC 9293 §3.10.7 in its order.
 *
 * Read first: RFC 9293 §3.10.7.1 (CLOSED), §3.10.7.2 (LISTEN), §3.10.7.3
 * (SYN-SENT), §3.10.7.4 (the other states: sequence check, RST, SYN, ACK,
 * URG, text, FIN - in that order); RFC 5961 (§3 RST and §4 SYN in window
 * get a challenge ACK, §5 ACK acceptability, §7 rate limit); RFC 7323 §5
 * (PAWS) and §4.3 (which TSval to echo); RFC 6191 and RFC 1122 4.2.2.13
 * (a new SYN reopens TIME-WAIT); RFC 5681 §2-3 (duplicate ACKs), RFC 6675
 * (SACK); RFC 4987 §3.6 (SYN cookies); RFC 9293 §3.8.6.3 (delayed ACKs:
 * "an ACK SHOULD be generated for at least every second full-sized
 * segment").
 *
 * Every segment leaves through exactly one exit: taken (data queued), or
 * stack_drop() with one named counter. Urgent data is not special here:
 * the URG flag and pointer are ignored and the bytes delivered in order
 * (RFC 6093 §6 recommends against using urgent data; Linux with
 * SO_OOBINLINE behaves the same).
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "mbuf_chain.h"
#include "tcp_conn.h"
#include "tcp_recovery.h"


#define CHALLENGE_ACKS_PER_S 10 /* RFC 5961 §7: "a configurable number of challenge ACKs" per second */
#define COALESCE_MAX 512        /* received segments up to this size share an mbuf in the queue */
#define NS_PER_MS 1000000ull

/* ---- parsing ---- */

/* Checks and parses the header into sg (its length in sg->hlen); m's data
 * stays at the header, so that a segment handed to another engine goes
 * whole: tcp_input strips it once it keeps the segment. Returns NULL if m
 * was dropped. */
static struct rte_mbuf *parse(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip, struct tcp_seg *sg)
{
    uint8_t buf[sizeof(struct rte_tcp_hdr) + TCP_OPT_MAX_LEN];
    const struct rte_tcp_hdr *th;
    uint32_t plen = rte_pktmbuf_pkt_len(m), hlen;

    th = plen < sizeof(*th) ? NULL : rte_pktmbuf_read(m, 0, sizeof(*th), buf);
    hlen = th ? (uint32_t)(th->data_off >> 4) * 4 : 0;
    if (th == NULL || hlen < sizeof(*th) || hlen > plen) {
        stack_drop(s, m, &s->ctr.tcp_drop_malformed);
        return NULL;
    }
    if (!ipv4_l4_cksum_ok(s, m, plen, ip->src, ip->dst, IPPROTO_TCP)) {
        stack_drop(s, m, &s->ctr.tcp_drop_checksum);
        return NULL;
    }
    th = rte_pktmbuf_read(m, 0, hlen, buf);
    sg->flags = th->tcp_flags & (RTE_TCP_FIN_FLAG | RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG | RTE_TCP_PSH_FLAG |
                                 RTE_TCP_ACK_FLAG | RTE_TCP_URG_FLAG);
    if (tcp_opts_parse((const uint8_t *)(th + 1), hlen - sizeof(*th), (sg->flags & RTE_TCP_SYN_FLAG) != 0,
                       &sg->opts) != 0) {
        stack_drop(s, m, &s->ctr.tcp_drop_bad_options);
        return NULL;
    }
    sg->seq = rte_be_to_cpu_32(th->sent_seq);
    sg->ack = rte_be_to_cpu_32(th->recv_ack);
    sg->wnd = rte_be_to_cpu_16(th->rx_win);
    sg->src = ip->src;
    sg->dst = ip->dst;
    sg->sport = th->src_port;
    sg->dport = th->dst_port;
    sg->len = plen - hlen;
    sg->hlen = hlen;
    return m; /* still at the TCP header: tcp_input trims it once it keeps the segment */
}

/* ---- shared helpers ---- */

/* RFC 5961 §7: challenge ACKs, at most CHALLENGE_ACKS_PER_S a second per
 * connection. */
static void challenge_ack(struct tcp_conn *c)
{
    uint64_t now = c->s->now_ns;

    if (now - c->challenge_window_start_ns >= 1000000000ull) {
        c->challenge_window_start_ns = now;
        c->challenge_acks = 0;
    }
    if (c->challenge_acks >= CHALLENGE_ACKS_PER_S)
        return;
    c->challenge_acks++;
    c->s->ctr.tcp_challenge_acks++;
    tcp_send_ctl(c, RTE_TCP_ACK_FLAG, c->sv.snd_nxt);
}

static void drop_and_ack(struct tcp_conn *c, struct rte_mbuf *m, uint64_t *counter)
{
    c->flags |= TF_ACK_NOW;
    tcp_conn_pending(c);
    stack_drop(c->s, m, counter);
}

/* RFC 7323 §4.3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent
 * then SEG.TSval is copied to TS.Recent" */
static void update_ts_recent(struct tcp_conn *c, const struct tcp_seg *sg)
{
    if (!(c->flags & TF_TS_OK) || !(sg->opts.present & TCP_OPT_TS))
        return;
    if (seq_geq(sg->opts.ts_val, c->sv.ts_recent) && seq_leq(sg->seq, c->sv.last_ack_sent))
        c->sv.ts_recent = sg->opts.ts_val;
}

/* Options from the peer's SYN: what both sides offered is on. */
static void take_syn_options(struct tcp_conn *c, const struct tcp_seg *sg, bool we_offered_all)
{
    const struct tcp_params *p = &c->s->tcp->p;
    const struct tcp_opts *o = &sg->opts;

    c->flags &= ~(TF_TS_OK | TF_SACK_OK | TF_WS_OK);
    if ((o->present & TCP_OPT_TS) && p->timestamps && we_offered_all) {
        c->flags |= TF_TS_OK;
        c->sv.ts_recent = o->ts_val;
    }
    if ((o->present & TCP_OPT_SACK_PERM) && p->sack && we_offered_all)
        c->flags |= TF_SACK_OK;
    if ((o->present & TCP_OPT_WSCALE) && p->wscale && we_offered_all) {
        c->flags |= TF_WS_OK;
        c->sv.snd_wscale = o->wscale;
    } else {
        c->sv.snd_wscale = c->sv.rcv_wscale = 0;
    }
}

/* ---- CLOSED (§3.10.7.1) and LISTEN (§3.10.7.2) ---- */

static void no_conn(struct stack *s, struct rte_mbuf *m, const struct tcp_seg *sg)
{
    tcp_send_rst_for(s, sg);
    stack_drop(s, m, &s->ctr.tcp_drop_no_conn);
}

/* A new connection for listener l from segment sg, in SYN-RECEIVED,
 * on l's SYN queue; NULL when out of memory or connections. */
static struct tcp_conn *new_child(struct tcp_conn *l, const struct tcp_seg *sg)
{
    struct stack *s = l->s;
    struct tcp_conn *c = tcp_conn_alloc(s);

    if (c == NULL)
        return NULL;
    c->flags |= l->flags & (TF_NAGLE | TF_KEEPALIVE | TF_REUSEADDR | TF_LINGER);
    c->cc_algo = l->cc_algo;
    c->sndbuf = l->sndbuf;
    c->rcvbuf = l->rcvbuf;
    c->linger_s = l->linger_s;
    c->keepidle_ns = l->keepidle_ns;
    c->keepintvl_ns = l->keepintvl_ns;
    c->keepcnt = l->keepcnt;
    c->laddr = sg->dst;
    c->raddr = sg->src;
    c->rport = sg->sport;
    /* the child holds the port too, as long as it lives */
    s->tcp->port_refs[rte_be_to_cpu_16(sg->dport)]++;
    c->lport = sg->dport;
    c->flags |= TF_BOUND;
    if (tcp_conn_hash_add(c) != 0) {
        c->flags |= TF_ORPHAN;
        tcp_conn_drop(c, 0);
        return NULL;
    }
    c->listener = l;
    c->child_q = TCP_CHILD_SYN_Q;
    c->state = TCPS_SYN_RECEIVED;
    TAILQ_INSERT_TAIL(&l->syn_q, c, child_link);
    l->syn_q_len++;
    tcp_conn_start(c, s->now_ns);
    c->sv.irs = sg->seq;
    c->sv.rcv_nxt = c->sv.rcv_adv = sg->seq + 1;
    c->sv.last_ack_sent = c->sv.rcv_nxt;
    take_syn_options(c, sg, true);
    c->sv.snd_wnd = sg->wnd; /* a SYN's window is never scaled (RFC 7323 §2.2) */
    c->sv.max_sndwnd = c->sv.snd_wnd;
    c->sv.snd_wl1 = sg->seq;
    c->sv.snd_wl2 = c->sv.iss;
    tcp_conn_negotiated(c, &sg->opts);
    return c;
}

static void send_synack(struct tcp_conn *c)
{
    tcp_send_ctl(c, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, c->sv.iss);
    c->sv.snd_nxt = c->sv.snd_max = c->sv.iss + 1;
    tcp_timer_rexmt_arm(c);
}

/* SYN queue full: answer with a cookie and keep nothing (RFC 4987 §3.6). */
static void send_cookie(struct tcp_conn *l, const struct tcp_seg *sg)
{
    struct stack *s = l->s;
    struct tcp_conn tmp;
    uint16_t peer_mss = (sg->opts.present & TCP_OPT_MSS) ? sg->opts.mss : TCP_DEFAULT_SMSS, mss;

    /* a throwaway TCB on the stack to build the SYN-ACK with */
    memset(&tmp, 0, sizeof(tmp));
    tmp.s = s;
    tmp.laddr = sg->dst;
    tmp.raddr = sg->src;
    tmp.lport = sg->dport;
    tmp.rport = sg->sport;
    tmp.rcvbuf = l->rcvbuf;
    tcp_conn_start(&tmp, s->now_ns);
    tmp.sv.iss = tcp_syncookie_make(&s->tcp->cookie_key, sg->dst, sg->dport, sg->src, sg->sport, sg->seq, peer_mss,
                                    s->now_ns, &mss);
    tmp.rcv_mss = tcp_mss_for_mtu(s->mtu);
    tmp.sv.rcv_nxt = sg->seq + 1;
    tmp.sv.rcv_adv = tmp.sv.rcv_nxt;
    take_syn_options(&tmp, sg, true);
    if (tmp.flags & TF_TS_OK) {
        /* the options that do not fit the cookie ride in TSval */
        tmp.ts_offset = 0;
        uint32_t now_ts = (uint32_t)(s->now_ns / NS_PER_MS);
        tmp.ts_offset = tcp_syncookie_ts_encode(now_ts, (tmp.flags & TF_WS_OK) != 0, tmp.sv.snd_wscale,
                                                (tmp.flags & TF_SACK_OK) != 0) - now_ts;
    } else {
        tmp.flags &= ~(TF_WS_OK | TF_SACK_OK);
        tmp.sv.rcv_wscale = 0;
    }
    s->ctr.tcp_syncookies_sent++;
    s->tcp->last_cookie_ns = s->now_ns;
    tcp_send_ctl(&tmp, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, tmp.sv.iss);
}

/* An ACK at a listener may complete a cookie handshake. Returns the new
 * established connection, or NULL: *full when the cookie was good but the
 * accept queue has no room (Linux then drops the ACK, tcp_abort_on_overflow
 * being 0, and the peer's retransmission gets in once there is room; a bad
 * cookie is answered with RST). */
static struct tcp_conn *cookie_ack(struct tcp_conn *l, const struct tcp_seg *sg, bool *full)
{
    struct stack *s = l->s;
    uint16_t mss;
    struct tcp_conn *c;
    struct tcp_seg syn = *sg;

    *full = false;
    if (!s->tcp->p.syncookies || s->now_ns - s->tcp->last_cookie_ns > 2 * TCP_SYNCOOKIE_PERIOD_NS ||
        (sg->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)))
        return NULL;
    if (tcp_syncookie_check(&s->tcp->cookie_key, sg->dst, sg->dport, sg->src, sg->sport, sg->seq - 1, sg->ack - 1,
                            s->now_ns, &mss) != 0)
        return NULL;
    if (l->accept_q_len >= l->backlog) {
        *full = true;
        return NULL;
    }
    /* rebuild the SYN the cookie stands for */
    syn.seq = sg->seq - 1;
    syn.opts.present = TCP_OPT_MSS;
    syn.opts.mss = mss;
    if (sg->opts.present & TCP_OPT_TS) {
        bool ws_ok, sack_ok;
        uint8_t ws;
        tcp_syncookie_ts_decode(sg->opts.ts_ecr, &ws_ok, &ws, &sack_ok);
        syn.opts.present |= TCP_OPT_TS | (ws_ok ? TCP_OPT_WSCALE : 0) | (sack_ok ? TCP_OPT_SACK_PERM : 0);
        syn.opts.wscale = ws;
        syn.opts.ts_val = sg->opts.ts_val;
    }
    c = new_child(l, &syn);
    if (c == NULL)
        return NULL;
    /* the window the cookie's SYN-ACK offered (a SYN's window is never
     * scaled): without it the child would start with none, and the
     * peer's first data - often on this very ACK - would be out of window */
    c->sv.rcv_adv = c->sv.rcv_nxt + RTE_MIN(tcp_rcv_window(c), 65535u);
    c->sv.iss = c->sv.snd_una = sg->ack - 1;
    c->sv.snd_nxt = c->sv.snd_max = sg->ack;
    c->sndq_seq = sg->ack;
    c->sv.snd_wl2 = sg->ack;
    if (c->flags & TF_TS_OK) {
        /* our TSvals continue from the cookie's clock */
        uint32_t now_ts = (uint32_t)(s->now_ns / NS_PER_MS);
        c->ts_offset = sg->opts.ts_ecr - now_ts;
    }
    s->ctr.tcp_syncookies_ok++;
    return c;
}

static void listen_input(struct tcp_conn *l, struct rte_mbuf *m, struct tcp_seg *sg);
static void synchronized_input(struct tcp_conn *c, struct rte_mbuf *m, struct tcp_seg *sg);

static void listen_input(struct tcp_conn *l, struct rte_mbuf *m, struct tcp_seg *sg)
{
    struct stack *s = l->s;
    struct tcp_conn *c;

    if (sg->flags & RTE_TCP_RST_FLAG) {
        stack_drop(s, m, &s->ctr.tcp_drop_listen); /* "An incoming RST should be ignored" */
        return;
    }
    if (sg->flags & RTE_TCP_ACK_FLAG) {
        bool full;
        c = cookie_ack(l, sg, &full);
        if (c == NULL && full) {
            stack_drop(s, m, &s->ctr.tcp_drop_accept_full);
            return;
        }
        if (c == NULL) {
            no_conn(s, m, sg); /* "<SEQ=SEG.ACK><CTL=RST>" */
            return;
        }
        synchronized_input(c, m, sg);
        /* a cookie ACK that did not complete the handshake (PAWS, say)
         * leaves nothing behind: no timer would ever end that child */
        if (c->state == TCPS_SYN_RECEIVED)
            tcp_conn_drop(c, 0);
        return;
    }
    if (!(sg->flags & RTE_TCP_SYN_FLAG)) {
        stack_drop(s, m, &s->ctr.tcp_drop_listen);
        return;
    }
    if (l->syn_q_len >= l->backlog || l->accept_q_len >= l->backlog) {
        if (s->tcp->p.syncookies && l->accept_q_len < l->backlog)
            send_cookie(l, sg);
        stack_drop(s, m, &s->ctr.tcp_drop_listen);
        return;
    }
    c = new_child(l, sg);
    if (c == NULL) {
        stack_drop(s, m, &s->ctr.tcp_drop_listen);
        return;
    }
    send_synack(c);
    /* data on a SYN is not kept: the peer sends it again once we ACK only
     * the SYN (RFC 9293 §3.10.7.2 allows queueing it; nothing needs it) */
    if (sg->len > 0)
        stack_drop(s, m, &s->ctr.tcp_drop_dup);
    else
        rte_pktmbuf_free(m);
}

/* ---- SYN-SENT (§3.10.7.3) ---- */

static void syn_sent_input(struct tcp_conn *c, struct rte_mbuf *m, struct tcp_seg *sg)
{
    struct stack *s = c->s;
    bool ack_ok = (sg->flags & RTE_TCP_ACK_FLAG) && seq_gt(sg->ack, c->sv.iss) && seq_leq(sg->ack, c->sv.snd_max);

    if ((sg->flags & RTE_TCP_ACK_FLAG) && !ack_ok) {
        no_conn(s, m, sg); /* RST unless it is one */
        return;
    }
    if (sg->flags & RTE_TCP_RST_FLAG) {
        if (ack_ok) {
            tcp_conn_drop(c, ECONNREFUSED); /* "error: connection reset" */
            rte_pktmbuf_free(m);            /* taken: it did its job */
            return;
        }
        stack_drop(s, m, &s->ctr.tcp_drop_syn_state);
        return;
    }
    if (!(sg->flags & RTE_TCP_SYN_FLAG)) {
        stack_drop(s, m, &s->ctr.tcp_drop_syn_state);
        return;
    }
    c->sv.irs = sg->seq;
    c->sv.rcv_nxt = c->sv.rcv_adv = sg->seq + 1;
    c->sv.last_ack_sent = c->sv.rcv_nxt;
    take_syn_options(c, sg, true);
    c->sv.snd_wnd = sg->wnd;
    c->sv.max_sndwnd = sg->wnd;
    c->sv.snd_wl1 = sg->seq;
    c->sv.snd_wl2 = sg->ack;
    tcp_conn_negotiated(c, &sg->opts);
    if (!ack_ok) {
        /* simultaneous open: "enter SYN-RECEIVED, form a SYN,ACK segment" */
        c->state = TCPS_SYN_RECEIVED;
        tcp_send_ctl(c, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, c->sv.iss);
        tcp_timer_rexmt_arm(c);
        stack_drop(s, m, &s->ctr.tcp_drop_dup);
        return;
    }
    c->sv.snd_una = sg->ack;
    if ((c->flags & TF_TS_OK) && sg->opts.ts_ecr != 0 && !(c->flags & TF_SYN_TIMEDOUT))
        tcp_rtt_sample(&c->rtt, (uint64_t)(tcp_ts_now(c, s->now_ns) - sg->opts.ts_ecr) * NS_PER_MS);
    c->rexmt_count = 0;
    tcp_timer_rexmt_stop(c);
    tcp_conn_set_state(c, TCPS_ESTABLISHED);
    tcp_timer_keep_reset(c);
    c->flags |= TF_ACK_NOW;
    tcp_conn_pending(c);
    /* data on the SYN-ACK is dropped; the peer sends it again */
    if (sg->len > 0)
        stack_drop(s, m, &s->ctr.tcp_drop_dup);
    else
        rte_pktmbuf_free(m);
}

/* ---- the synchronized states (§3.10.7.4) ---- */

/* The window the peer may use: what we advertised. */
static uint32_t rcv_wnd_adv(const struct tcp_conn *c)
{
    int32_t d = seq_diff(c->sv.rcv_adv, c->sv.rcv_nxt);

    return d > 0 ? (uint32_t)d : 0;
}

/* First: the acceptability test of §3.10.7.4 (the four cases). */
static bool acceptable(const struct tcp_conn *c, const struct tcp_seg *sg)
{
    uint32_t wnd = rcv_wnd_adv(c), seglen = tcp_seg_seqlen(sg), nxt = c->sv.rcv_nxt;

    if (seglen == 0)
        return wnd == 0 ? sg->seq == nxt : seq_between(sg->seq, nxt, nxt + wnd);
    if (wnd == 0)
        return false;
    return seq_between(sg->seq, nxt, nxt + wnd) || seq_between(sg->seq + seglen - 1, nxt, nxt + wnd);
}

/* Trims the segment to the window: bytes before rcv_nxt (a SYN there
 * goes too) and bytes past the right edge (with the FIN). */
static void trim_to_window(struct tcp_conn *c, struct rte_mbuf **mp, struct tcp_seg *sg)
{
    int32_t before = seq_diff(c->sv.rcv_nxt, sg->seq);
    uint32_t wnd = rcv_wnd_adv(c);

    if (before > 0) {
        if (sg->flags & RTE_TCP_SYN_FLAG) {
            sg->flags &= (uint8_t)~RTE_TCP_SYN_FLAG;
            sg->seq++;
            before--;
        }
        uint32_t cut = RTE_MIN((uint32_t)before, sg->len);
        if (cut > 0)
            *mp = mbuf_chain_trim_front(*mp, cut);
        sg->seq += cut;
        sg->len -= cut;
        if ((uint32_t)before > cut)
            sg->flags &= (uint8_t)~RTE_TCP_FIN_FLAG; /* the FIN too was old */
    }
    if (sg->len > wnd && seq_diff(sg->seq, c->sv.rcv_nxt) >= 0) {
        uint32_t keep = wnd - (uint32_t)seq_diff(sg->seq, c->sv.rcv_nxt);
        mbuf_chain_trim_back(*mp, sg->len - keep);
        sg->len = keep;
        sg->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
    } else if (seq_gt(sg->seq + sg->len, c->sv.rcv_nxt + wnd)) {
        uint32_t keep = (uint32_t)seq_diff(c->sv.rcv_nxt + wnd, sg->seq);
        mbuf_chain_trim_back(*mp, sg->len - keep);
        sg->len = keep;
        sg->flags &= (uint8_t)~RTE_TCP_FIN_FLAG;
    }
}

/* Third: RST (RFC 5961 §3.2). Returns true if the segment was consumed. */
static bool rst_check(struct tcp_conn *c, struct rte_mbuf *m, const struct tcp_seg *sg)
{
    struct stack *s = c->s;

    if (!(sg->flags & RTE_TCP_RST_FLAG))
        return false;
    if (sg->seq != c->sv.rcv_nxt) {
        challenge_ack(c);
        stack_drop(s, m, &s->ctr.tcp_drop_syn_state);
        return true;
    }
    switch (c->state) {
    case TCPS_SYN_RECEIVED:
        /* a passive child goes away quietly; an active one was refused */
        tcp_conn_drop(c, c->listener != NULL ? 0 : ECONNREFUSED);
        break;
    case TCPS_CLOSING:
    case TCPS_LAST_ACK:
    case TCPS_TIME_WAIT:
        tcp_conn_drop(c, 0);
        break;
    default:
        /* "any outstanding RECEIVEs and SEND should receive 'reset'" */
        tcp_conn_drop(c, ECONNRESET);
        break;
    }
    rte_pktmbuf_free(m);
    return true;
}

static void rtt_from_ack(struct tcp_conn *c, const struct tcp_seg *sg)
{
    uint64_t now = c->s->now_ns;

    if ((c->flags & TF_TS_OK) && (sg->opts.present & TCP_OPT_TS) && sg->opts.ts_ecr != 0) {
        uint32_t ms = tcp_ts_now(c, now) - sg->opts.ts_ecr;
        if (ms < 60000) /* an echo from the future or ages ago is not a sample */
            tcp_rtt_sample(&c->rtt, (uint64_t)(ms ? ms : 1) * NS_PER_MS);
        return;
    }
    if (c->rtt_timing && seq_geq(sg->ack, c->rtt_seq)) {
        tcp_rtt_sample(&c->rtt, now - c->rtt_start_ns);
        c->rtt_timing = false;
    }
}

/* An ACK that advances snd_una (RFC 9293 §3.10.7.4 "If SND.UNA < SEG.ACK
 * =< SND.NXT"; snd_max here, since snd_nxt goes back after an RTO). */
static void new_ack(struct tcp_conn *c, const struct tcp_seg *sg)
{
    uint32_t acked = (uint32_t)seq_diff(sg->ack, c->sv.snd_una);
    uint32_t fl = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);
    struct tcp_cc_ack_result r;

    rtt_from_ack(c, sg);
    r = tcp_cc_on_ack(&c->cc, acked, sg->ack, c->sv.snd_max, fl, c->rtt.srtt_ns, c->s->now_ns);
    c->sv.snd_una = sg->ack;
    c->flags &= ~TF_UNA_REXMIT; /* a new first segment: not retransmitted yet */
    if (seq_lt(c->sv.snd_nxt, c->sv.snd_una))
        c->sv.snd_nxt = c->sv.snd_una;
    tcp_sndq_ack(c);
    tcp_sack_sb_ack(&c->sb, c->sv.snd_una);
    if (seq_lt(c->rexmit_high, c->sv.snd_una))
        c->rexmit_high = c->sv.snd_una;
    c->rexmt_count = 0;
    c->rtt.backoff = 0;
    if (c->sv.snd_una == c->sv.snd_max)
        tcp_timer_rexmt_stop(c);
    else if (!r.retransmit_next || r.first_partial)
        tcp_timer_rexmt_arm(c); /* RFC 6298 5.3; RFC 6582 §3.2 step 3 */
    tcp_rec_pass_lost(c);
    if (r.retransmit_next && !tcp_rec_una_in_flight_again(c)) {
        tcp_retransmit_first(c);
        c->s->ctr.tcp_fast_retransmits++;
        c->st.fast_retransmits++;
    }
    tcp_conn_notify(c);
}

/* Fifth: the send window (§3.10.7.4: "If SND.WL1 < SEG.SEQ or (SND.WL1 =
 * SEG.SEQ and SND.WL2 =< SEG.ACK), set SND.WND <- SEG.WND ..."). */
static void window_update(struct tcp_conn *c, const struct tcp_seg *sg)
{
    uint32_t old = c->sv.snd_wnd;

    if (!(seq_lt(c->sv.snd_wl1, sg->seq) || (c->sv.snd_wl1 == sg->seq && seq_leq(c->sv.snd_wl2, sg->ack))))
        return;
    c->sv.snd_wnd = sg->wnd << c->sv.snd_wscale;
    c->sv.snd_wl1 = sg->seq;
    c->sv.snd_wl2 = sg->ack;
    if (c->sv.snd_wnd > c->sv.max_sndwnd)
        c->sv.max_sndwnd = c->sv.snd_wnd;
    if (old == 0 && c->sv.snd_wnd > 0 && c->sv.snd_nxt == c->sv.snd_una) {
        /* the window opened: the persist timer's backoff ends */
        tcp_timer_rexmt_stop(c);
        c->rtt.backoff = 0;
    }
}

/* Our FIN is acknowledged (snd_una passed it). */
static bool fin_acked(const struct tcp_conn *c)
{
    return (c->flags & TF_FIN_SENT) && seq_gt(c->sv.snd_una, c->snd_fin_seq);
}

/* Fifth, the ACK field. Returns false if the segment was consumed. */
static bool ack_check(struct tcp_conn *c, struct rte_mbuf *m, struct tcp_seg *sg)
{
    struct stack *s = c->s;

    if (!(sg->flags & RTE_TCP_ACK_FLAG)) {
        stack_drop(s, m, &s->ctr.tcp_drop_bad_flags); /* "if the ACK bit is off, drop the segment" */
        return false;
    }
    if (c->state == TCPS_SYN_RECEIVED) {
        if (!seq_between_oc(sg->ack, c->sv.snd_una, c->sv.snd_max)) {
            no_conn(s, m, sg); /* "<SEQ=SEG.ACK><CTL=RST>" */
            return false;
        }
        if (c->listener != NULL && c->listener->accept_q_len >= c->listener->backlog) {
            /* no room to accept it: as Linux (tcp_abort_on_overflow 0), the
             * ACK is dropped and the child stays, its SYN-ACK retransmitted,
             * until the peer's next ACK finds room */
            stack_drop(s, m, &s->ctr.tcp_drop_accept_full);
            return false;
        }
        c->sv.snd_una = sg->ack;
        c->sv.snd_wnd = sg->wnd << c->sv.snd_wscale;
        c->sv.max_sndwnd = c->sv.snd_wnd;
        c->sv.snd_wl1 = sg->seq;
        c->sv.snd_wl2 = sg->ack;
        c->rexmt_count = 0;
        tcp_timer_rexmt_stop(c);
        rtt_from_ack(c, sg);
        if (c->flags & TF_SYN_TIMEDOUT)
            tcp_rtt_syn_fallback(&c->rtt);
        tcp_conn_set_state(c, (c->flags & TF_FIN_QUEUED) ? TCPS_FIN_WAIT_1 : TCPS_ESTABLISHED);
        tcp_conn_child_established(c);
        tcp_timer_keep_reset(c);
        return true;
    }
    /* RFC 5961 §5.2: acceptable if SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT */
    if (seq_gt(sg->ack, c->sv.snd_max)) {
        drop_and_ack(c, m, &s->ctr.tcp_drop_ack_unsent);
        return false;
    }
    if (seq_lt(sg->ack, c->sv.snd_una - c->sv.max_sndwnd)) {
        drop_and_ack(c, m, &s->ctr.tcp_drop_old_ack);
        return false;
    }
    bool new_sack = false, dsack = false;
    if ((c->flags & TF_SACK_OK) && (sg->opts.present & TCP_OPT_SACK)) {
        uint32_t high = seq_max(sg->ack, c->sv.snd_una);
        new_sack = tcp_sack_sb_update(&c->sb, high, c->sv.snd_max, sg->opts.sack, sg->opts.nsack);
        dsack = tcp_sack_is_dsack(sg->opts.sack, sg->opts.nsack, high);
    }
    tcp_rec_tlp_episode(c, sg->ack, dsack);
    if (seq_gt(sg->ack, c->sv.snd_una))
        new_ack(c, sg);
    else if (tcp_rec_is_dupack(c, sg, new_sack))
        tcp_rec_dup_ack(c, sg->wnd << c->sv.snd_wscale);
    else if (sg->ack == c->sv.snd_una && c->sv.snd_una != c->sv.snd_max)
        tcp_rec_same_ack(c);
    tcp_rec_sack_seen_update(c);
    if (c->sv.snd_wnd == 0 && sg->wnd == 0)
        c->rexmt_count = 0; /* the peer answers our probes: alive (§3.8.6.1) */
    if (seq_geq(sg->ack, c->sv.snd_una))
        window_update(c, sg);
    switch (c->state) {
    case TCPS_FIN_WAIT_1:
        if (fin_acked(c)) {
            tcp_conn_set_state(c, TCPS_FIN_WAIT_2);
            if (c->flags & TF_ORPHAN)
                tcp_timer_keep_deadline(c, 2 * s->tcp->p.msl_ns);
        }
        break;
    case TCPS_CLOSING:
        if (fin_acked(c))
            tcp_timer_time_wait(c);
        break;
    case TCPS_LAST_ACK:
        if (fin_acked(c)) {
            tcp_conn_drop(c, 0);
            stack_drop(s, m, &s->ctr.tcp_drop_dup);
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}

/* Appends in-order payload to the receive queue; small segments are
 * copied into the tail mbuf's room so that many tiny segments do not pin
 * many mbufs (the window counts bytes, not buffers). */
static void rcvq_append(struct tcp_conn *c, struct rte_mbuf *m)
{
    uint32_t len = rte_pktmbuf_pkt_len(m);

    c->rcvq_bytes += len;
    c->st.bytes_received += len;
    c->s->ctr.tcp_rx_bytes += len;
    if (len <= COALESCE_MAX && c->rcvq.len > 0) {
        struct rte_mbuf *tail = mbuf_fifo_at(&c->rcvq, c->rcvq.len - 1)->m;
        if (tail->nb_segs == 1 && RTE_MBUF_DIRECT(tail) && rte_mbuf_refcnt_read(tail) == 1 &&
            rte_pktmbuf_tailroom(tail) >= len) {
            char *dst = rte_pktmbuf_append(tail, (uint16_t)len);
            const void *p = rte_pktmbuf_read(m, 0, len, dst);
            if (p != dst)
                memcpy(dst, p, len);
            rte_pktmbuf_free(m);
            return;
        }
    }
    if (mbuf_fifo_push(&c->rcvq, m, 0) != 0) {
        /* no memory for the queue's ring: undo, the peer sends it again */
        c->rcvq_bytes -= len;
        c->st.bytes_received -= len;
        c->s->ctr.tcp_rx_bytes -= len;
        stack_drop(c->s, m, &c->s->ctr.tcp_drop_nombuf);
    }
}

/* The payload size that counts as "full-sized" for the every-second-
 * segment ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2): our MSS less the
 * options, or the largest segment this peer has sent when that is smaller
 * (at least 536 bytes, RFC 9293 §3.7.1's default) - a sender whose writes
 * make segments just under the MSS would otherwise get only delayed ACKs,
 * and its loss probe would fire before them (as Linux estimates rcv_mss).
 * Records len as seen. */
static uint32_t full_sized(struct tcp_conn *c, uint32_t len)
{
    uint32_t mss = c->rcv_mss - ((c->flags & TF_TS_OK) ? 12u : 0u);

    if (len > c->rcv_seg_max)
        c->rcv_seg_max = len;
    return RTE_MIN(mss, RTE_MAX(c->rcv_seg_max, (uint32_t)TCP_DEFAULT_SMSS));
}

/* Seventh: the segment text. Returns true when a FIN is now in order
 * (at rcv_nxt), for the eighth step. */
static bool take_text(struct tcp_conn *c, struct rte_mbuf *m, struct tcp_seg *sg)
{
    struct stack *s = c->s;
    bool fin = (sg->flags & RTE_TCP_FIN_FLAG) != 0;

    if (sg->seq != c->sv.rcv_nxt) {
        /* out of order: hold it, and ACK at once so the sender sees the
         * hole (RFC 5681 §4.2: "an immediate ACK SHOULD be generated") */
        int n = tcp_reass_insert(&c->reass, c->sv.rcv_nxt, sg->seq, m, fin);
        if (n < 0)
            s->ctr.tcp_drop_ooo_full++;
        else
            s->ctr.tcp_ooo_segments++;
        c->flags |= TF_ACK_NOW;
        return false;
    }
    if (fin && !tcp_reass_empty(&c->reass)) {
        /* an in-order FIN ends the stream: whatever is held lies inside
         * this segment (a retransmission that coalesced it) or beyond the
         * FIN, where nothing is valid; kept, it would be counted against
         * the window and reported in SACK blocks below the ACK */
        tcp_reass_clear(&c->reass);
    }
    if (sg->len == 0) {
        rte_pktmbuf_free(m);
        return fin;
    }
    c->sv.rcv_nxt += sg->len;
    rcvq_append(c, m);
    if (!fin && !tcp_reass_empty(&c->reass)) {
        struct rte_mbuf *next;
        while ((next = tcp_reass_take(&c->reass, &c->sv.rcv_nxt, &fin)) != NULL)
            rcvq_append(c, next);
        c->flags |= TF_ACK_NOW; /* a hole filled: ACK at once (RFC 5681 §4.2) */
    }
    if (sg->len >= full_sized(c, sg->len) || c->rcv_unacked_segs > 0)
        c->rcv_unacked_segs++;
    if (c->rcv_unacked_segs >= 2)
        c->flags |= TF_ACK_NOW; /* every second full-sized segment (§3.8.6.3) */
    else
        c->flags |= TF_DELACK;
    tcp_conn_notify(c);
    return fin;
}

/* Eighth: FIN (in order). */
static void take_fin(struct tcp_conn *c)
{
    c->sv.rcv_nxt++;
    c->flags |= TF_RCVD_FIN | TF_ACK_NOW;
    switch (c->state) {
    case TCPS_SYN_RECEIVED:
    case TCPS_ESTABLISHED:
        tcp_conn_set_state(c, TCPS_CLOSE_WAIT);
        break;
    case TCPS_FIN_WAIT_1:
        if (fin_acked(c))
            tcp_timer_time_wait(c);
        else
            tcp_conn_set_state(c, TCPS_CLOSING);
        break;
    case TCPS_FIN_WAIT_2:
        tcp_timer_time_wait(c);
        break;
    default:
        break;
    }
    tcp_conn_notify(c);
}

/* TIME-WAIT and a new SYN (RFC 6191 §2, RFC 1122 4.2.2.13): a SYN whose
 * sequence number (or timestamp) is above the old connection's may start
 * a new incarnation. Returns true if it did. */
static bool time_wait_reopen(struct tcp_conn *c, struct rte_mbuf *m, struct tcp_seg *sg)
{
    struct tcp_conn *l = c->s->tcp->listeners[rte_be_to_cpu_16(sg->dport)];
    bool newer;

    if (c->state != TCPS_TIME_WAIT || (sg->flags & (RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG | RTE_TCP_FIN_FLAG)) != 0 ||
        !(sg->flags & RTE_TCP_SYN_FLAG) || l == NULL || l->state != TCPS_LISTEN)
        return false;
    if ((c->flags & TF_TS_OK) && (sg->opts.present & TCP_OPT_TS))
        newer = seq_gt(sg->opts.ts_val, c->sv.ts_recent);
    else
        newer = seq_gt(sg->seq, c->sv.rcv_nxt);
    if (!newer)
        return false;
    tcp_conn_drop(c, 0);
    listen_input(l, m, sg);
    return true;
}

/* The data path of an orphan (closed by its owner) or of a socket shut
 * for reading: new data cannot be delivered. Linux resets an orphan
 * (RFC 2525 §2.17); a half-closed reader's bytes are ACKed and dropped. */
static bool refuse_data(struct tcp_conn *c, struct rte_mbuf *m, const struct tcp_seg *sg)
{
    if (sg->len == 0 || !(c->flags & (TF_ORPHAN | TF_RD_SHUT)) || c->state > TCPS_FIN_WAIT_2)
        return false;
    if (c->flags & TF_ORPHAN) {
        tcp_send_ctl(c, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, c->sv.snd_nxt);
        tcp_conn_drop(c, ECONNRESET);
        stack_drop(c->s, m, &c->s->ctr.tcp_drop_rcv_closed);
        return true;
    }
    if (sg->seq == c->sv.rcv_nxt)
        c->sv.rcv_nxt += sg->len; /* acknowledge, then drop */
    drop_and_ack(c, m, &c->s->ctr.tcp_drop_rcv_closed);
    return true;
}

static void synchronized_input(struct tcp_conn *c, struct rte_mbuf *m, struct tcp_seg *sg)
{
    struct stack *s = c->s;

    if (time_wait_reopen(c, m, sg))
        return;
    if (c->state == TCPS_SYN_RECEIVED &&
        (sg->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) == RTE_TCP_SYN_FLAG &&
        sg->seq == c->sv.irs) {
        /* the peer did not hear our SYN-ACK: say it again */
        tcp_send_ctl(c, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, c->sv.iss);
        stack_drop(s, m, &s->ctr.tcp_drop_dup);
        return;
    }
    /* RFC 7323 §5.3 R1: PAWS, before the sequence check */
    if ((c->flags & TF_TS_OK) && (sg->opts.present & TCP_OPT_TS) && !(sg->flags & RTE_TCP_RST_FLAG) &&
        seq_lt(sg->opts.ts_val, c->sv.ts_recent)) {
        drop_and_ack(c, m, &s->ctr.tcp_drop_paws);
        return;
    }
    if (!acceptable(c, sg)) {
        if (sg->flags & RTE_TCP_RST_FLAG)
            stack_drop(s, m, &s->ctr.tcp_drop_out_of_window);
        else
            drop_and_ack(c, m, sg->len > 0 && seq_lt(sg->seq, c->sv.rcv_nxt) ? &s->ctr.tcp_drop_dup
                                                                              : &s->ctr.tcp_drop_out_of_window);
        return;
    }
    /* the SYN bit is judged as it came: trimming takes an old SYN off
     * together with old data, yet RFC 5961 §4 (RFC 9293 §3.10.7.4,
     * fourth) wants a challenge ACK for any SYN "irrespective of the
     * sequence number", and the segment dropped, new data and all */
    bool syn = (sg->flags & RTE_TCP_SYN_FLAG) != 0;
    trim_to_window(c, &m, sg);
    if (rst_check(c, m, sg))
        return;
    if (syn) {
        /* RFC 5961 §4: a SYN in a synchronized state gets a challenge ACK */
        challenge_ack(c);
        stack_drop(s, m, &s->ctr.tcp_drop_syn_state);
        return;
    }
    if (!ack_check(c, m, sg))
        return;
    update_ts_recent(c, sg);
    c->last_recv_ns = s->now_ns;
    tcp_timer_keep_reset(c);
    c->st.segs_in++;
    if (c->state == TCPS_CLOSED) {
        stack_drop(s, m, &s->ctr.tcp_drop_dup);
        return;
    }
    if (c->state >= TCPS_CLOSE_WAIT && c->state != TCPS_FIN_WAIT_1 && c->state != TCPS_FIN_WAIT_2) {
        /* the peer's FIN came already: text and FIN are only repeats
         * ("This should not occur"); a FIN in TIME-WAIT restarts it */
        if ((sg->flags & RTE_TCP_FIN_FLAG) && c->state == TCPS_TIME_WAIT) {
            c->flags |= TF_ACK_NOW;
            tcp_timer_time_wait(c);
        }
        tcp_conn_pending(c);
        rte_pktmbuf_free(m);
        return;
    }
    if (refuse_data(c, m, sg))
        return;
    if (take_text(c, m, sg))
        take_fin(c);
    if (c->flags & TF_DELACK)
        tcp_timer_delack_arm(c);
    tcp_conn_pending(c);
}

/* A segment of no connection of ours, on a device shared by several
 * engines: the engine that has its connection, or for a SYN the one that
 * listens on its port when we do not, gets it
 * (docs/DESIGN.md "Engines per thread"). Returns true when it was handed
 * away. Otherwise we answer it as RFC 9293 says (listener or RST), so an
 * unknown flow is counted once, here. */
static bool steer_away(struct stack *s, struct rte_mbuf *m, const struct tcp_seg *sg)
{
    int owner = s->steer->conn_owner(s->steer_ctx, sg->src, sg->sport, sg->dport);
    const struct tcp_conn *l;

    if (owner < 0 && (sg->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG) {
        l = s->tcp->listeners[rte_be_to_cpu_16(sg->dport)];
        if (l == NULL || l->state != TCPS_LISTEN)
            owner = s->steer->listener(s->steer_ctx, sg->dport);
    }
    if (owner < 0)
        return false;
    stack_steer_to(s, owner, m, 0);
    return true;
}

void tcp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip)
{
    struct tcp_seg sg;
    struct tcp_conn *c;

    m = parse(s, m, ip, &sg);
    if (m == NULL)
        return;
    s->ctr.tcp_rx_segments++;
    if (ip->dst != s->addr) {
        stack_drop(s, m, &s->ctr.tcp_drop_no_conn); /* broadcasts are not TCP's (RFC 1122 4.2.3.10) */
        return;
    }
    if ((sg.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) == (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG) ||
        (sg.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)) == (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)) {
        stack_drop(s, m, &s->ctr.tcp_drop_bad_flags);
        return;
    }
    c = tcp_conn_lookup(s, ip->dst, sg.dport, ip->src, sg.sport);
    if (c == NULL && stack_steering(s) && steer_away(s, m, &sg))
        return;
    m = mbuf_chain_trim_front(m, sg.hlen);
    if (c == NULL) {
        struct tcp_conn *l = s->tcp->listeners[rte_be_to_cpu_16(sg.dport)];
        if (l != NULL && l->state == TCPS_LISTEN && (l->laddr == 0 || l->laddr == ip->dst))
            listen_input(l, m, &sg);
        else
            no_conn(s, m, &sg);
        return;
    }
    if (c->state == TCPS_SYN_SENT)
        syn_sent_input(c, m, &sg);
    else
        synchronized_input(c, m, &sg);
}
