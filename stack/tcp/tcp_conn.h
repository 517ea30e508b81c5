/*
 * tcp_conn.h - the TCB (RFC 9293 §3.3.1) and the entry points the TCP
 * files call on each other. Internal to stack/.
 *
 * Files: tcp_conn.c (the table: lookup by 4-tuple, ports, listeners, the
 * life of a connection, and the calls of tcp.h), tcp_input.c (RFC 9293
 * §3.10.7, one handler per state), tcp_recovery.c (loss detection:
 * duplicate ACKs, early retransmit, RFC 8985 time rules, loss probes),
 * tcp_output.c (segments out, windows,
 * retransmission), tcp_timer.c (RTO, persist, delayed ACK, keepalive,
 * TIME_WAIT), tcp_sockopt.c (socket options). Pure helpers: tcp_options,
 * tcp_seq, tcp_isn, tcp_rtt, tcp_cc, tcp_reass, tcp_sack, tcp_syncookie.
 */
#ifndef SLUICE_TCP_CONN_H
#define SLUICE_TCP_CONN_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_byteorder.h>
#include <rte_tcp.h>

#include "mbuf_fifo.h"
#include "stack_priv.h"
#include "tcp.h"
#include "tcp_cc.h"
#include "tcp_isn.h"
#include "tcp_options.h"
#include "tcp_reass.h"
#include "tcp_rtt.h"
#include "tcp_sack.h"
#include "tcp_seq.h"
#include "tcp_syncookie.h"
#include "timer.h"

struct rte_hash;
struct rte_tcp_hdr;

/* Flags of a connection (struct tcp_conn.flags). */
#define TF_ACK_NOW (1u << 0)     /* send an ACK at the next output */
#define TF_DELACK (1u << 1)      /* an ACK is being delayed */
#define TF_TS_OK (1u << 2)       /* timestamps negotiated (RFC 7323 §3.2) */
#define TF_SACK_OK (1u << 3)     /* SACK-permitted exchanged (RFC 2018 §2) */
#define TF_WS_OK (1u << 4)       /* window scaling negotiated (RFC 7323 §2.2) */
#define TF_FIN_QUEUED (1u << 5)  /* the owner shut down writing: FIN after the queue */
#define TF_FIN_SENT (1u << 6)    /* our FIN has a sequence number (snd_fin_seq) */
#define TF_NAGLE (1u << 7)       /* Nagle on (TCP_NODELAY off) */
#define TF_KEEPALIVE (1u << 8)   /* SO_KEEPALIVE */
#define TF_ORPHAN (1u << 9)      /* the owner closed it: no more events */
#define TF_RD_SHUT (1u << 10)    /* shutdown(SHUT_RD) */
#define TF_IN_HASH (1u << 11)    /* in the 4-tuple table */
#define TF_REUSEADDR (1u << 12)
#define TF_REUSEPORT (1u << 13)
#define TF_BOUND (1u << 14)      /* holds a reference on its local port */
#define TF_RCVD_FIN (1u << 15)   /* the peer's FIN was taken in (rcv_nxt is past it) */
#define TF_DEAD (1u << 16)       /* on the dead list, freed at the end of the pass */
#define TF_PENDING (1u << 17)    /* on the output list */
#define TF_SYN_TIMEDOUT (1u << 18) /* the SYN (or SYN-ACK) was retransmitted (RFC 6298 5.7) */
#define TF_LINGER (1u << 19)     /* SO_LINGER on */
#define TF_IN_RECOVERY (1u << 20) /* SACK recovery (RFC 6675) */
#define TF_FORCE_PROBE (1u << 21) /* the persist timer asks for one byte beyond the window */
#define TF_STRICT_PORT (1u << 22) /* counted in port_strict (bound without SO_REUSEADDR) */
#define TF_TLP_ARMED (1u << 23)  /* the rexmt timer is armed as a loss probe timeout (RFC 8985 §7.2) */
#define TF_TLP_OUT (1u << 24)    /* a loss probe is out, for the data up to tlp_end */
#define TF_UNA_REXMIT (1u << 25) /* the segment at snd_una was retransmitted at una_rexmit_ns */

/* The sequence variables (RFC 9293 §3.3.1), kept together: the hot path
 * reads them on every segment. */
struct tcp_seqvars {
    uint32_t snd_una, snd_nxt, snd_max; /* snd_max: highest sent + 1 (snd_nxt goes back on RTO) */
    uint32_t snd_wnd, snd_wl1, snd_wl2, iss;
    uint32_t rcv_nxt, rcv_adv, irs;     /* rcv_adv: the right edge we advertised */
    uint32_t ts_recent, last_ack_sent;  /* RFC 7323 §4.3 */
    uint32_t max_sndwnd;                /* largest window the peer offered (SWS, RFC 9293 §3.8.6.2.1) */
    uint16_t snd_mss;                   /* effective send MSS, options not counted */
    uint8_t snd_wscale, rcv_wscale;
};
static_assert(sizeof(struct tcp_seqvars) <= 64, "sequence variables fit one cache line");

struct tcp_conn {
    struct tcp_seqvars sv;
    enum tcp_state state;
    uint32_t flags;
    struct stack *s;
    rte_be32_t laddr, raddr;
    rte_be16_t lport, rport;

    /* send side: pushed bytes from sndq_seq on, the head mbuf's first
     * sndq_head_off bytes already acknowledged */
    struct mbuf_fifo sndq;
    uint32_t sndq_bytes, sndq_seq, sndq_head_off;
    /* where the last segment was found in sndq: entry sndq_cur_idx starts
     * sndq_cur_start bytes after the head entry's first byte */
    uint32_t sndq_cur_idx, sndq_cur_start;
    uint32_t snd_fin_seq;
    uint64_t bytes_acked, bytes_queued;
    uint32_t rexmit_high;               /* SACK recovery: retransmitted up to here */
    uint32_t tlp_end;                   /* snd_max when the loss probe went (TF_TLP_OUT) */
    uint32_t tlp_flight;                /* bytes in flight when it went */
    uint64_t una_rexmit_ns;             /* when snd_una's segment was last retransmitted (TF_UNA_REXMIT) */
    uint64_t rexmit_last_ns;            /* when the latest retransmission (any segment) went */
    uint64_t sack_seen_ns;              /* when the scoreboard last became non-empty (0: it is empty) */
    struct tcp_sack_sb sb;

    /* receive side */
    struct mbuf_fifo rcvq;
    uint32_t rcvq_bytes;
    struct tcp_reass reass;
    uint32_t rcv_unacked_segs;          /* full segments received since our last ACK */
    uint32_t rcv_mss;                   /* MSS we announced */
    uint32_t rcv_seg_max;               /* largest payload received (the peer's segment size) */

    struct tcp_rtt rtt;
    struct tcp_cc cc;
    int cc_algo;                        /* enum tcp_cc_algo for the next tcp_cc_init */
    uint32_t rtt_seq;                   /* timing the segment ending here (no timestamps) */
    uint64_t rtt_start_ns;
    bool rtt_timing;
    uint32_t ts_offset;                 /* added to our ms clock for TSval */

    struct timer rexmt_timer;           /* RTO, or persist when the window is zero */
    struct timer delack_timer;
    struct timer keep_timer;            /* keepalive, TIME_WAIT, FIN_WAIT_2, SYN-RECEIVED life */
    unsigned rexmt_count;               /* consecutive timeouts */
    unsigned keep_probes;
    uint64_t last_send_ns, last_recv_ns;

    int so_error;                       /* positive errno, or 0 */
    uint32_t sndbuf, rcvbuf;
    uint32_t linger_s;
    uint64_t keepidle_ns, keepintvl_ns;
    unsigned keepcnt;
    uint64_t challenge_window_start_ns; /* RFC 5961 §7 rate limit */
    unsigned challenge_acks;

    tcp_event_fn on_event;
    void *ctx;

    /* a listener's children, and a child's listener */
    struct tcp_conn *listener;
    TAILQ_HEAD(, tcp_conn) syn_q, accept_q;
    unsigned syn_q_len, accept_q_len, backlog;
    TAILQ_ENTRY(tcp_conn) child_link;   /* in the listener's syn_q or accept_q */
    enum { TCP_CHILD_NONE, TCP_CHILD_SYN_Q, TCP_CHILD_ACCEPT_Q } child_q;
    TAILQ_ENTRY(tcp_conn) pending_link; /* output list, or dead list */
    TAILQ_ENTRY(tcp_conn) all_link;

    struct tcp_conn_stats st;           /* counts (state etc. filled on request) */
};

TAILQ_HEAD(tcp_conn_list, tcp_conn);

/* The stack's TCP state. */
struct tcp_table {
    struct tcp_params p;
    struct rte_hash *hash;               /* 4-tuple -> conn */
    struct tcp_conn *listeners[65536];   /* by host-order port */
    uint16_t port_refs[65536];           /* sockets holding each port */
    uint16_t port_strict[65536];         /* ... of them bound without SO_REUSEADDR or listening */
    uint16_t next_ephemeral;
    struct tcp_isn_gen isn;
    struct tcp_syncookie_key cookie_key;
    uint64_t last_cookie_ns;             /* cookies sent recently: check cookie ACKs */
    struct tcp_conn_list all, pending, dead;
    unsigned nconns;
};

/* The key of the 4-tuple table, network order. */
struct tcp_key {
    rte_be32_t raddr, laddr;
    rte_be16_t rport, lport;
};

/* A parsed incoming segment. Host order for numbers. */
struct tcp_seg {
    uint32_t seq, ack, len;   /* len: payload bytes (SYN/FIN not counted) */
    uint32_t wnd;             /* window field, unscaled */
    uint8_t flags;            /* RTE_TCP_*_FLAG */
    struct tcp_opts opts;
    rte_be32_t src, dst;
    rte_be16_t sport, dport;
    uint32_t hlen;            /* bytes of TCP header, options included */
};

/* Sequence space a segment occupies (RFC 9293 §3.4 SEG.LEN). */
static inline uint32_t tcp_seg_seqlen(const struct tcp_seg *sg)
{
    return sg->len + ((sg->flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + ((sg->flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
}

/* ---- tcp_conn.c ---- */

struct tcp_conn *tcp_conn_lookup(struct stack *s, rte_be32_t laddr, rte_be16_t lport, rte_be32_t raddr,
                                 rte_be16_t rport);
/* A new connection struct with the stack's defaults (not in the table). */
struct tcp_conn *tcp_conn_alloc(struct stack *s);
/* Puts c in the 4-tuple table. 0, -EADDRINUSE, -ENOMEM. */
int tcp_conn_hash_add(struct tcp_conn *c);
/* Moves c to state st (counts, and frees an orphan reaching CLOSED). */
void tcp_conn_set_state(struct tcp_conn *c, enum tcp_state st);
/* Ends c: CLOSED, error err (0: none) for the owner, off the table; an
 * orphan or an embryonic child is freed at the end of the pass. */
void tcp_conn_drop(struct tcp_conn *c, int err);
/* Tells the owner something changed. */
void tcp_conn_notify(struct tcp_conn *c);
/* Moves an established child from its listener's SYN queue to the accept
 * queue (or resets it when the accept queue is full). */
void tcp_conn_child_established(struct tcp_conn *c);
/* Takes a child off its listener's queue; it becomes an orphan. */
void tcp_conn_child_unlink(struct tcp_conn *c);
/* Sets up the send and receive state of a connection about to send its
 * SYN (active) or SYN-ACK (passive): ISN (RFC 6528), the timestamp
 * offset, our window scale and MSS. */
void tcp_conn_start(struct tcp_conn *c, uint64_t now_ns);
/* The window scale we offer: enough for the largest receive buffer. */
uint8_t tcp_conn_our_wscale(const struct tcp_conn *c);
/* Frees the connections on the dead list. */
void tcp_conn_reap(struct stack *s);
/* The ms clock for timestamps (RFC 7323 §5.4: 1 ms ticks). */
static inline uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now_ns)
{
    return (uint32_t)(now_ns / 1000000u) + c->ts_offset;
}
/* Sets up the per-connection state that depends on the MSS and options
 * once the handshake has told them (cc, window scale). */
void tcp_conn_negotiated(struct tcp_conn *c, const struct tcp_opts *peer_syn);
/* Puts c on the output list: tcp_output runs for it at the end of the
 * pass. */
void tcp_conn_pending(struct tcp_conn *c);

/* ---- tcp_input.c ---- */

/* Handles a received segment (data at the TCP header). */
void tcp_input(struct stack *s, struct rte_mbuf *m, const struct ipv4_meta *ip);

/* ---- tcp_output.c ---- */

/* Sends what the windows and the queue allow, and any ACK owed. */
void tcp_output(struct tcp_conn *c);
/* Sends a segment with no data: flags, sequence number seq, ACK of rcv_nxt
 * when ACK is in flags; SYN segments carry the SYN options. 0 or -ENOBUFS. */
int tcp_send_ctl(struct tcp_conn *c, uint8_t flags, uint32_t seq);
/* Sends RST for a segment no connection takes (RFC 9293 §3.10.7.1). */
void tcp_send_rst_for(struct stack *s, const struct tcp_seg *sg);
/* Retransmits the first unacknowledged segment (fast retransmit, RTO). */
void tcp_retransmit_first(struct tcp_conn *c);
/* Retransmits the last segment sent (at most one SMSS ending at snd_max;
 * a tail loss probe, RFC 8985 §7.3). 0, or -ENOBUFS. */
int tcp_retransmit_last(struct tcp_conn *c);
/* The receive window we may advertise now, bytes. */
uint32_t tcp_rcv_window(const struct tcp_conn *c);
/* The sequence number one past the last byte queued to send (FIN not
 * counted). */
static inline uint32_t tcp_snd_end(const struct tcp_conn *c)
{
    return c->sndq_seq + c->sndq_bytes;
}
/* Frees acknowledged bytes from the send queue (up to snd_una). */
void tcp_sndq_ack(struct tcp_conn *c);

/* ---- tcp_timer.c ---- */

void tcp_timers_init(struct tcp_conn *c);
void tcp_timers_cancel(struct tcp_conn *c);
/* (Re)arms the retransmission timer with the current RTO, or with the
 * shorter loss probe timeout when a probe is allowed (RFC 8985 §7.2). */
void tcp_timer_rexmt_arm(struct tcp_conn *c);
/* A data segment went out (new_data: never sent before): starts the RTO
 * if it is not running (RFC 6298 5.1) and restarts the loss probe timeout
 * after new data (RFC 8985 §7.2). */
void tcp_timer_data_sent(struct tcp_conn *c, bool new_data);
void tcp_timer_rexmt_stop(struct tcp_conn *c);
/* Arms the delayed-ACK timer if it is not armed. */
void tcp_timer_delack_arm(struct tcp_conn *c);
void tcp_timer_delack_stop(struct tcp_conn *c);
/* Enters TIME_WAIT (or restarts its 2*MSL). */
void tcp_timer_time_wait(struct tcp_conn *c);
/* Arms keepalive (if on) from now. */
void tcp_timer_keep_reset(struct tcp_conn *c);
/* Arms a timer that ends c after ns (FIN_WAIT_2 of an orphan, SYN-RECEIVED). */
void tcp_timer_keep_deadline(struct tcp_conn *c, uint64_t ns);

#endif
