/*
 * tcp_output.c - segments out: what may be sent now (windows, Nagle,
 * silly-window avoidance, SACK recovery), building a segment zero-copy
 * from the send queue, ACKs, RSTs.
 *
 * Read first: RFC 9293 §3.8.6 (windows; §3.8.6.2.1 sender SWS avoidance,
 * §3.8.6.2.2 receiver SWS avoidance, §3.8.6.3 delayed ACKs), §3.10.7.1
 * (RST for a segment nobody takes); RFC 5681 §3 and tcp_cc.h (how much may
 * be in flight); RFC 6675 §5 (SACK-based recovery: NextSeg and pipe);
 * RFC 7323 §3 (timestamps on every segment), §2.2-2.3 (window scale, never
 * on a SYN); RFC 2018 §4 (SACK blocks in ACKs).
 *
 * A segment's payload is made of indirect mbufs attached to the pushed
 * mbufs, so a retransmission costs no copy and the pushed memory lives
 * until it is acknowledged.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tcp_conn.h"

#define PIECES_MAX 8 /* a payload made of more pushed pieces is copied into one */

uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
    uint32_t used = c->rcvq_bytes + c->reass.bytes;

    return used >= c->rcvbuf ? 0 : c->rcvbuf - used;
}

/* ---- the send queue ---- */

/* The head entry (len bytes) leaves the queue: the cursor's entry moves
 * one place down, or back to the head if it was the one leaving. */
static void sndq_cursor_pop(struct tcp_conn *c, uint32_t len)
{
    if (c->sndq_cur_idx == 0) {
        c->sndq_cur_start = 0;
        return;
    }
    c->sndq_cur_idx--;
    c->sndq_cur_start -= len;
}

void tcp_sndq_ack(struct tcp_conn *c)
{
    int32_t n = seq_diff(c->sv.snd_una, c->sndq_seq);
    uint32_t left;

    if (n <= 0)
        return;
    left = RTE_MIN((uint32_t)n, c->sndq_bytes); /* the FIN is not in the queue */
    c->sndq_seq += left;
    c->sndq_bytes -= left;
    c->bytes_acked += left;
    c->st.bytes_acked += left;
    /* Bounded by the queue, not by the count alone: a process of the
     * family killed in the middle of this walk (or of a push) leaves the
     * count and the queue disagreeing, and the next ack must not spin on
     * an empty queue (docs/preload.md, a member killed holding the lock). */
    while (left > 0 && c->sndq.len > 0) {
        struct mbuf_fifo_entry *e = mbuf_fifo_at(&c->sndq, 0);
        uint32_t plen = rte_pktmbuf_pkt_len(e->m);
        uint32_t avail = plen > c->sndq_head_off ? plen - c->sndq_head_off : 0;
        if (left < avail) {
            c->sndq_head_off += left;
            break;
        }
        left -= avail;
        sndq_cursor_pop(c, plen);
        rte_pktmbuf_free(mbuf_fifo_pop(&c->sndq));
        c->sndq_head_off = 0;
    }
    if (c->sndq.len == 0) { /* nothing left to count: the count agrees again */
        c->sndq_bytes = 0;
        c->sndq_head_off = 0;
        c->sndq_cur_idx = 0;
        c->sndq_cur_start = 0;
    }
}

/* Finds the queued byte at seq: entry index and offset in its chain.
 * Segments mostly go in order, so the walk starts at the entry the last
 * one was found in (the cursor) when seq is not before it: a queue of
 * thousands of small pushes costs a step per segment, not a walk from
 * the head. */
static bool sndq_find(struct tcp_conn *c, uint32_t seq, unsigned *idx, uint32_t *off)
{
    uint32_t pos = (uint32_t)seq_diff(seq, c->sndq_seq) + c->sndq_head_off;
    unsigned i = 0;
    uint32_t start = 0;

    if (c->sndq_cur_idx < c->sndq.len && pos >= c->sndq_cur_start) {
        i = c->sndq_cur_idx;
        start = c->sndq_cur_start;
    }
    for (; i < c->sndq.len; i++) {
        uint32_t l = rte_pktmbuf_pkt_len(mbuf_fifo_at(&c->sndq, i)->m);
        if (pos - start < l) {
            c->sndq_cur_idx = i;
            c->sndq_cur_start = start;
            *idx = i;
            *off = pos - start;
            return true;
        }
        start += l;
    }
    return false;
}

/* Appends indirect mbufs for len bytes of the queue from (idx, off) to h.
 * Returns the number of pieces, or -ENOBUFS. */
static int attach_range(struct tcp_conn *c, struct rte_mbuf *h, unsigned idx, uint32_t off, uint32_t len)
{
    struct rte_mbuf *last = rte_pktmbuf_lastseg(h);
    int pieces = 0;

    while (len > 0 && idx < c->sndq.len) {
        struct rte_mbuf *seg = mbuf_fifo_at(&c->sndq, idx)->m;
        while (seg != NULL && off >= seg->data_len) {
            off -= seg->data_len;
            seg = seg->next;
        }
        for (; seg != NULL && len > 0; seg = seg->next, off = 0) {
            uint32_t take = RTE_MIN((uint32_t)seg->data_len - off, len);
            struct rte_mbuf *mi = rte_pktmbuf_alloc(c->s->pool);
            if (mi == NULL)
                return -ENOBUFS;
            rte_pktmbuf_attach(mi, seg);
            mi->data_off = (uint16_t)(seg->data_off + off);
            mi->data_len = (uint16_t)take;
            mi->pkt_len = take;
            mi->nb_segs = 1;
            mi->next = NULL;
            last->next = mi;
            last = mi;
            h->nb_segs++;
            h->pkt_len += take;
            len -= take;
            pieces++;
        }
        idx++;
        off = 0;
    }
    return len == 0 ? pieces : -ENOBUFS;
}

/* Copies len bytes of the queue from (idx, off) into new mbufs chained
 * after h (for payloads of many small pushes). 0 or -ENOBUFS. */
static int copy_range(struct tcp_conn *c, struct rte_mbuf *h, unsigned idx, uint32_t off, uint32_t len)
{
    struct rte_mbuf *last = rte_pktmbuf_lastseg(h);

    while (len > 0 && idx < c->sndq.len) {
        struct rte_mbuf *src = mbuf_fifo_at(&c->sndq, idx)->m;
        uint32_t n = RTE_MIN(rte_pktmbuf_pkt_len(src) - off, len);
        uint32_t done = 0;
        while (done < n) {
            if (rte_pktmbuf_tailroom(last) == 0) {
                struct rte_mbuf *nm = rte_pktmbuf_alloc(c->s->pool);
                if (nm == NULL)
                    return -ENOBUFS;
                last->next = nm;
                last = nm;
                h->nb_segs++;
            }
            uint32_t room = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(last), n - done);
            char *dst = rte_pktmbuf_mtod_offset(last, char *, last->data_len);
            const void *p = rte_pktmbuf_read(src, off + done, room, dst);
            if (p != dst)
                memcpy(dst, p, room);
            last->data_len = (uint16_t)(last->data_len + room);
            h->pkt_len += room;
            done += room;
        }
        len -= n;
        idx++;
        off = 0;
    }
    return len == 0 ? 0 : -ENOBUFS;
}

/* ---- building a segment ---- */

/* The options of a segment of c: SYN options, or TS and SACK blocks. */
static void segment_opts(const struct tcp_conn *c, bool syn, struct tcp_opts *o)
{
    memset(o, 0, sizeof(*o));
    if (syn) {
        o->present = TCP_OPT_MSS;
        o->mss = (uint16_t)c->rcv_mss;
        if (c->flags & TF_WS_OK) {
            o->present |= TCP_OPT_WSCALE;
            o->wscale = c->sv.rcv_wscale;
        }
        if (c->flags & TF_SACK_OK)
            o->present |= TCP_OPT_SACK_PERM;
    }
    if (c->flags & TF_TS_OK) {
        o->present |= TCP_OPT_TS;
        o->ts_val = tcp_ts_now(c, c->s->now_ns);
        o->ts_ecr = c->sv.ts_recent;
    }
    if (!syn && (c->flags & TF_SACK_OK) && c->reass.n > 0) {
        unsigned max = (c->flags & TF_TS_OK) ? 3 : 4;
        o->nsack = (uint8_t)tcp_reass_sack(&c->reass, o->sack, max);
        if (o->nsack > 0)
            o->present |= TCP_OPT_SACK;
    }
}

/* The window field to send, and what it advertises (RFC 9293 §3.8.6.2.2:
 * the right edge moves only by min(rcvbuf/2, MSS) or more, and never
 * back; RFC 7323 §2.2: a SYN's window is never scaled). */
static uint16_t window_field(struct tcp_conn *c, bool syn)
{
    uint32_t wnd = tcp_rcv_window(c);
    uint32_t edge = c->sv.rcv_nxt + wnd;
    uint32_t hold = RTE_MIN(c->rcvbuf / 2, c->rcv_mss);
    uint8_t shift = syn ? 0 : c->sv.rcv_wscale;
    uint32_t field;

    if (seq_geq(c->sv.rcv_adv, c->sv.rcv_nxt) &&
        (seq_lt(edge, c->sv.rcv_adv) || (uint32_t)seq_diff(edge, c->sv.rcv_adv) < hold))
        wnd = (uint32_t)seq_diff(c->sv.rcv_adv, c->sv.rcv_nxt);
    field = RTE_MIN(wnd >> shift, 65535u);
    edge = c->sv.rcv_nxt + (field << shift);
    if (seq_gt(edge, c->sv.rcv_adv))
        c->sv.rcv_adv = edge;
    return (uint16_t)field;
}

/* Fills the header, checksums and hands m to IP. Owns m. */
static int finish_and_send(struct stack *s, struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst)
{
    struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, struct rte_tcp_hdr *);

    th->cksum = 0;
    th->cksum = rte_cpu_to_be_16(ipv4_l4_cksum(m, rte_pktmbuf_pkt_len(m), src, dst, IPPROTO_TCP));
    s->ctr.tcp_tx_segments++;
    return ipv4_output(s, m, dst, IPPROTO_TCP);
}

/* Sends one segment of c: [seq, seq + len) from the queue, with flags.
 * 0 or -ENOBUFS (counted). */
static int send_segment(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
    struct stack *s = c->s;
    bool syn = (flags & RTE_TCP_SYN_FLAG) != 0;
    struct tcp_opts o;
    uint8_t obuf[TCP_OPT_MAX_LEN];
    struct rte_mbuf *m;
    struct rte_tcp_hdr *th;
    int olen, rc = 0;

    segment_opts(c, syn, &o);
    olen = tcp_opts_build(&o, syn, obuf, sizeof(obuf));
    if (olen < 0)
        olen = 0;
    m = rte_pktmbuf_alloc(s->pool);
    if (m == NULL) {
        s->ctr.tcp_drop_nombuf++;
        return -ENOBUFS;
    }
    th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*th) + olen));
    th->src_port = c->lport;
    th->dst_port = c->rport;
    th->sent_seq = rte_cpu_to_be_32(seq);
    th->recv_ack = (flags & RTE_TCP_ACK_FLAG) ? rte_cpu_to_be_32(c->sv.rcv_nxt) : 0;
    th->data_off = (uint8_t)(((sizeof(*th) + olen) / 4) << 4);
    th->tcp_flags = flags;
    th->rx_win = rte_cpu_to_be_16(window_field(c, syn));
    th->tcp_urp = 0;
    memcpy(th + 1, obuf, (size_t)olen);
    if (len > 0) {
        unsigned idx;
        uint32_t off;
        rc = sndq_find(c, seq, &idx, &off) ? 0 : -ENOBUFS;
        if (rc == 0 && (rc = attach_range(c, m, idx, off, len)) > PIECES_MAX) {
            /* too many small pieces for one frame: one copy instead */
            struct rte_mbuf *extra = m->next;
            m->next = NULL;
            m->nb_segs = 1;
            m->pkt_len = m->data_len;
            rte_pktmbuf_free(extra);
            rc = copy_range(c, m, idx, off, len);
        }
        if (rc < 0) {
            rte_pktmbuf_free(m);
            s->ctr.tcp_drop_nombuf++;
            return -ENOBUFS;
        }
    }
    if (flags & RTE_TCP_ACK_FLAG) {
        c->sv.last_ack_sent = c->sv.rcv_nxt;
        c->flags &= ~(TF_ACK_NOW | TF_DELACK);
        c->rcv_unacked_segs = 0;
        tcp_timer_delack_stop(c);
    }
    c->st.segs_out++;
    c->st.bytes_sent += len;
    s->ctr.tcp_tx_bytes += len;
    c->last_send_ns = s->now_ns;
    return finish_and_send(s, m, c->laddr, c->raddr);
}

int tcp_send_ctl(struct tcp_conn *c, uint8_t flags, uint32_t seq)
{
    if (flags & RTE_TCP_RST_FLAG)
        c->s->ctr.tcp_rst_sent++;
    return send_segment(c, seq, 0, flags);
}

void tcp_send_rst_for(struct stack *s, const struct tcp_seg *sg)
{
    struct rte_mbuf *m;
    struct rte_tcp_hdr *th;

    if (sg->flags & RTE_TCP_RST_FLAG)
        return; /* never answer an RST (RFC 9293 §3.10.7.1) */
    m = rte_pktmbuf_alloc(s->pool);
    if (m == NULL) {
        s->ctr.tcp_drop_nombuf++;
        return;
    }
    th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, sizeof(*th));
    memset(th, 0, sizeof(*th));
    th->src_port = sg->dport;
    th->dst_port = sg->sport;
    th->data_off = 5 << 4;
    /* "If the ACK bit is off, sequence number zero is used, <SEQ=0><ACK=
     * SEG.SEQ+SEG.LEN><CTL=RST,ACK>; if the ACK bit is on, <SEQ=SEG.ACK>
     * <CTL=RST>" */
    if (sg->flags & RTE_TCP_ACK_FLAG) {
        th->sent_seq = rte_cpu_to_be_32(sg->ack);
        th->tcp_flags = RTE_TCP_RST_FLAG;
    } else {
        th->recv_ack = rte_cpu_to_be_32(sg->seq + tcp_seg_seqlen(sg));
        th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
    }
    s->ctr.tcp_rst_sent++;
    finish_and_send(s, m, sg->dst, sg->src);
}

/* ---- what to send ---- */

/* The bytes a data segment may carry: the MSS less the options every
 * segment carries now (RFC 6691 §3). */
static uint32_t seg_room(const struct tcp_conn *c)
{
    struct tcp_opts o;
    int olen;

    segment_opts(c, false, &o);
    olen = tcp_opts_size(&o, false);
    return c->sv.snd_mss - (uint32_t)(olen > 0 ? olen : 0);
}

static bool in_sack_recovery(const struct tcp_conn *c)
{
    return (c->flags & TF_SACK_OK) && c->cc.in_recovery;
}

/* Bytes in flight as the congestion window sees them: RFC 6675 pipe in
 * SACK recovery, else snd_nxt - snd_una (FlightSize, RFC 5681 §2). */
static uint32_t flight(const struct tcp_conn *c)
{
    if (in_sack_recovery(c))
        return tcp_sack_sb_pipe(&c->sb, c->sv.snd_una, c->sv.snd_max, c->rexmit_high, c->cc.smss);
    return (uint32_t)seq_diff(c->sv.snd_nxt, c->sv.snd_una);
}

/* The congestion limit: in SACK recovery cwnd is ssthresh (RFC 6675 §5
 * step 4.2: "cwnd = ssthresh") and pipe is compared to it; otherwise
 * tcp_cc's limit (with limited transmit and NewReno's inflation). */
static uint32_t cwnd_limit(const struct tcp_conn *c)
{
    return in_sack_recovery(c) ? c->cc.ssthresh : tcp_cc_send_limit(&c->cc);
}

/* RFC 6675 §5 NextSeg (1): the first hole above rexmit_high that IsLost.
 * True with [*seq, *seq + *len). */
static bool next_lost(const struct tcp_conn *c, uint32_t room, uint32_t *seq, uint32_t *len)
{
    uint32_t from = seq_max(c->rexmit_high, c->sv.snd_una), start, hlen;

    if (!tcp_sack_sb_next_hole(&c->sb, c->sv.snd_una, from, &start, &hlen))
        return false;
    if (!tcp_sack_sb_is_lost(&c->sb, start, c->cc.smss))
        return false;
    *seq = start;
    *len = RTE_MIN(hlen, room);
    /* never past what was queued (a hole can end at a FIN) */
    if (seq_gt(*seq + *len, tcp_snd_end(c)))
        *len = (uint32_t)seq_diff(tcp_snd_end(c), *seq);
    return *len > 0;
}

/* Sender silly-window avoidance and Nagle (RFC 9293 §3.8.6.2.1, RFC 896):
 * whether len bytes at snd_nxt (unsent of them queued) may go now. */
static bool may_send_small(const struct tcp_conn *c, uint32_t len, uint32_t unsent, uint32_t room)
{
    bool idle = c->sv.snd_nxt == c->sv.snd_una;

    if (len >= room)
        return true;
    if (len == unsent && (idle || !(c->flags & TF_NAGLE)))
        return true;
    if (c->sv.max_sndwnd > 0 && len >= c->sv.max_sndwnd / 2)
        return true;
    /* nothing in flight: waiting would only stall (the override timeout
     * of §3.8.6.2.1, taken at once) */
    return idle && !(c->flags & TF_NAGLE);
}

/* Skips sacked bytes at snd_nxt after an RTO went back (RFC 6675 §5.1:
 * do not resend what the receiver holds), and bounds len before the next
 * sacked range. */
static void skip_sacked(struct tcp_conn *c, uint32_t *len)
{
    uint32_t start, hlen;

    if (!(c->flags & TF_SACK_OK) || c->sb.n == 0 || !seq_lt(c->sv.snd_nxt, c->sv.snd_max))
        return;
    if (!tcp_sack_sb_next_hole(&c->sb, c->sv.snd_una, c->sv.snd_nxt, &start, &hlen)) {
        /* everything from snd_nxt to the top sacked byte is sacked */
        uint32_t high = tcp_sack_sb_high(&c->sb, c->sv.snd_una);
        if (seq_gt(high, c->sv.snd_nxt))
            c->sv.snd_nxt = high;
        return;
    }
    c->sv.snd_nxt = start;
    *len = RTE_MIN(*len, hlen);
}

/* Sends one new (or go-back) segment from snd_nxt if allowed; true if it
 * sent. */
static bool send_next(struct tcp_conn *c, uint32_t usable, uint32_t room)
{
    uint32_t len, unsent, end = tcp_snd_end(c);
    bool fin = false, rexmit;
    uint8_t flags = RTE_TCP_ACK_FLAG;
    int32_t d;

    len = room;
    skip_sacked(c, &len);
    d = seq_diff(end, c->sv.snd_nxt);
    unsent = d > 0 ? (uint32_t)d : 0;
    len = RTE_MIN(RTE_MIN(len, unsent), usable);
    if (len == 0 && unsent > 0 && (c->flags & TF_FORCE_PROBE)) {
        len = 1; /* RFC 9293 §3.8.6.1: a zero-window probe carries one byte */
        c->flags &= ~TF_FORCE_PROBE;
    }
    if ((c->flags & TF_FIN_QUEUED) && c->sv.snd_nxt + len == end &&
        (!(c->flags & TF_FIN_SENT) || seq_leq(c->sv.snd_nxt + len, c->snd_fin_seq)))
        fin = true;
    if (len > 0 && !fin && !may_send_small(c, len, unsent, room))
        return false;
    if (len == 0 && !fin)
        return false;
    if (fin)
        flags |= RTE_TCP_FIN_FLAG;
    if (len > 0 && len == unsent)
        flags |= RTE_TCP_PSH_FLAG;
    rexmit = seq_lt(c->sv.snd_nxt, c->sv.snd_max);
    if (send_segment(c, c->sv.snd_nxt, len, flags) != 0)
        return false;
    if (rexmit) {
        c->st.retransmits++;
        c->s->ctr.tcp_retransmits++;
    } else if (!c->rtt_timing && !(c->flags & TF_TS_OK) && len > 0) {
        /* Karn: time only a segment sent for the first time */
        c->rtt_timing = true;
        c->rtt_seq = c->sv.snd_nxt + len;
        c->rtt_start_ns = c->s->now_ns;
    }
    c->sv.snd_nxt += len + (fin ? 1 : 0);
    if (fin) {
        c->flags |= TF_FIN_SENT;
        c->snd_fin_seq = end;
    }
    if (seq_gt(c->sv.snd_nxt, c->sv.snd_max))
        c->sv.snd_max = c->sv.snd_nxt;
    tcp_timer_data_sent(c, !rexmit && len > 0);
    return true;
}

/* A segment [seq, ...) went out again: counted, and its time kept; no
 * RTT sample may come from it (Karn's rule, RFC 6298 §3); tcp_input
 * watches for the loss of the retransmissions (a later ACK that still
 * does not cover them), of the one at snd_una in particular. */
static void rexmit_sent(struct tcp_conn *c, uint32_t seq)
{
    c->rtt_timing = false;
    c->st.retransmits++;
    c->s->ctr.tcp_retransmits++;
    c->rexmit_last_ns = c->s->now_ns;
    if (seq == c->sv.snd_una) {
        c->flags |= TF_UNA_REXMIT;
        c->una_rexmit_ns = c->s->now_ns;
    }
}

/* RFC 6675 §5 (C): in recovery, retransmit lost holes first. */
static bool send_lost(struct tcp_conn *c, uint32_t room)
{
    uint32_t seq, len;

    if (!in_sack_recovery(c) || !next_lost(c, room, &seq, &len))
        return false;
    if (send_segment(c, seq, len, RTE_TCP_ACK_FLAG) != 0)
        return false;
    c->rexmit_high = seq + len;
    rexmit_sent(c, seq);
    tcp_timer_data_sent(c, false);
    return true;
}

void tcp_retransmit_first(struct tcp_conn *c)
{
    uint32_t room = seg_room(c), end = tcp_snd_end(c);
    int32_t d = seq_diff(end, c->sv.snd_una);
    uint32_t len = d > 0 ? RTE_MIN((uint32_t)d, room) : 0;
    uint8_t flags = RTE_TCP_ACK_FLAG;

    if (len > 0 && seq_gt(c->sv.snd_una + len, c->sv.snd_max))
        len = (uint32_t)seq_diff(c->sv.snd_max, c->sv.snd_una);
    if ((c->flags & TF_FIN_SENT) && c->sv.snd_una + len == c->snd_fin_seq)
        flags |= RTE_TCP_FIN_FLAG;
    if (len == 0 && !(flags & RTE_TCP_FIN_FLAG))
        return;
    if (send_segment(c, c->sv.snd_una, len, flags) != 0)
        return;
    rexmit_sent(c, c->sv.snd_una);
    if (seq_gt(c->sv.snd_una + len, c->rexmit_high))
        c->rexmit_high = c->sv.snd_una + len;
}

int tcp_retransmit_last(struct tcp_conn *c)
{
    uint32_t room = seg_room(c);
    int32_t fl = seq_diff(c->sv.snd_max, c->sv.snd_una);
    uint32_t len = fl > 0 ? RTE_MIN((uint32_t)fl, room) : 0;
    uint32_t seq = c->sv.snd_max - len;
    int rc;

    if (len == 0)
        return 0;
    rc = send_segment(c, seq, len, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG);
    if (rc != 0)
        return rc;
    rexmit_sent(c, seq);
    return 0;
}

void tcp_output(struct tcp_conn *c)
{
    bool sent = false;

    switch (c->state) {
    case TCPS_CLOSED:
    case TCPS_LISTEN:
    case TCPS_SYN_SENT:
        return; /* handshake segments go out from input and the timer */
    case TCPS_SYN_RECEIVED:
        /* the SYN,ACK goes out from input and the timer; an ACK asked for
         * goes here: RFC 9293 §3.10.7.4 answers an unacceptable segment
         * with <SEQ=SND.NXT><ACK=RCV.NXT>, and in a simultaneous open
         * (§3.5 figure 8) that ACK of the crossing SYN,ACK is what takes
         * the other side to ESTABLISHED */
        if (c->flags & TF_ACK_NOW)
            tcp_send_ctl(c, RTE_TCP_ACK_FLAG, c->sv.snd_nxt);
        return;
    case TCPS_TIME_WAIT:
        if (c->flags & TF_ACK_NOW)
            tcp_send_ctl(c, RTE_TCP_ACK_FLAG, c->sv.snd_nxt);
        return;
    default:
        break;
    }
    /* the options (and so the room for data) stay the same for the whole
     * pass: nothing received changes the SACK blocks meanwhile */
    uint32_t room = seg_room(c);
    for (;;) {
        uint32_t fl = flight(c), lim = cwnd_limit(c);
        uint32_t cw = lim > fl ? lim - fl : 0;
        /* the peer's window counts from snd_una (RFC 9293 §3.8.6) */
        int32_t wd = seq_diff(c->sv.snd_una + c->sv.snd_wnd, c->sv.snd_nxt);
        uint32_t usable = RTE_MIN(cw, wd > 0 ? (uint32_t)wd : 0u);

        if (cw > 0 && send_lost(c, room)) {
            sent = true;
            continue;
        }
        if (!send_next(c, usable, room))
            break;
        sent = true;
    }
    if ((c->flags & TF_ACK_NOW) && !sent)
        tcp_send_ctl(c, RTE_TCP_ACK_FLAG, c->sv.snd_nxt);
    /* queued bytes, a closed window and nothing in flight: only the
     * persist timer will find out when it opens (RFC 9293 §3.8.6.1) */
    if (c->sv.snd_nxt == c->sv.snd_una && seq_lt(c->sv.snd_nxt, tcp_snd_end(c)) && !c->rexmt_timer.armed)
        tcp_timer_rexmt_arm(c);
}
