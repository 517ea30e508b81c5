/*
 * tcp.h - TCP connections as the queue core (and the interposer, through
 * the core) see them: open, bind, listen, accept, connect, send, receive,
 * shutdown, close, options. One of the three headers of the stack's
 * interface (with stack.h and netdev.h). No queue descriptors or tokens here (docs/DESIGN.md
 * "Layers"). Everything inside (the TCB, input, output, timers) is in
 * tcp_conn.h and tcp_*.c.
 *
 * Rules of this interface:
 *  - errors are 0 or -errno, with the errno Linux gives for the same call
 *    on a socket in the same state;
 *  - addresses and ports in network byte order;
 *  - now_ns is the engine's clock; the stack never reads a clock;
 *  - a struct tcp_conn handed to the core stays valid until tcp_close()
 *    (the stack may keep the connection going after that - FIN, TIME_WAIT
 *    - but never calls the event function again).
 *
 * Events: the stack calls on_event(c, ctx) whenever something the owner
 * may wait for changed - data or FIN arrived, bytes were acknowledged, the
 * handshake completed, a connection is ready to accept, an error arrived,
 * the connection closed. The callback only notes it (it must not call back
 * into the stack); the owner then looks at the state with the getters.
 */
#ifndef SLUICE_TCP_H
#define SLUICE_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <rte_byteorder.h>

struct rte_mbuf;
struct stack;
struct tcp_conn;

/* RFC 9293 §3.3.2 states, ordered so that ranges mean something
 * (tcp_state_is_synchronized: everything from ESTABLISHED on). */
enum tcp_state {
    TCPS_CLOSED = 0,
    TCPS_LISTEN,
    TCPS_SYN_SENT,
    TCPS_SYN_RECEIVED,
    TCPS_ESTABLISHED,
    TCPS_CLOSE_WAIT,
    TCPS_FIN_WAIT_1,
    TCPS_CLOSING,
    TCPS_LAST_ACK,
    TCPS_FIN_WAIT_2,
    TCPS_TIME_WAIT,
};

static inline bool tcp_state_is_synchronized(enum tcp_state st)
{
    return st >= TCPS_ESTABLISHED;
}

/* The state's name as RFC 9293 writes it ("SYN-SENT"). */
const char *tcp_state_name(enum tcp_state st);

/* Congestion control (config key tcp.cc; tcp_cc.c): RFC 6582 NewReno or
 * RFC 9438 CUBIC. */
enum tcp_cc_algo { TCP_CC_NEWRENO, TCP_CC_CUBIC };

/* Stack-wide TCP settings (config keys tcp.*), in bytes and ns. */
struct tcp_params {
    uint64_t rto_min_ns, rto_max_ns;  /* RFC 6298 bounds: 200 ms, 60 s */
    uint64_t msl_ns;                  /* TIME_WAIT lasts 2 * msl: 30 s (Linux's 60 s TIME_WAIT) */
    uint64_t delack_ns;               /* delayed ACK at most: 40 ms (RFC 9293 §3.8.6.3: < 0.5 s) */
    uint64_t keepidle_ns, keepintvl_ns; /* SO_KEEPALIVE defaults: 7200 s, 75 s */
    unsigned keepcnt;                 /* probes: 9 */
    unsigned syn_retries;             /* SYN retransmissions before ETIMEDOUT: 6 */
    unsigned synack_retries;          /* SYN-ACK retransmissions: 5 */
    unsigned retries;                 /* data retransmissions before ETIMEDOUT: 15 */
    uint32_t sndbuf, rcvbuf;          /* default SO_SNDBUF / SO_RCVBUF: 256 KiB / 256 KiB */
    uint32_t rcvbuf_max;              /* largest SO_RCVBUF; sets the window scale: 4 MiB */
    unsigned max_conns;               /* connections at most, any state: 65536 */
    unsigned backlog_max;             /* listen backlog cap (SOMAXCONN): 4096 */
    unsigned ooo_max_segs;            /* out-of-order segments kept per connection: 256 */
    int cc_algo;                      /* enum tcp_cc_algo: TCP_CC_CUBIC */
    bool sack, timestamps, wscale;    /* offer the options (RFC 2018, 7323): all on */
    bool syncookies;                  /* SYN cookies when a SYN queue is full (RFC 4987): on */
};

/* Called on every change the owner may wait for (see the preamble). */
typedef void (*tcp_event_fn)(struct tcp_conn *c, void *ctx);

/* A new socket in CLOSED. 0, -ENOMEM, -ENFILE (tcp.max_conns reached). */
int tcp_open(struct stack *s, tcp_event_fn on_event, void *ctx, struct tcp_conn **out);
/* Sets the event function of c (an accepted connection starts with none). */
void tcp_set_event(struct tcp_conn *c, tcp_event_fn on_event, void *ctx);

/* Binds to addr (0 or ours) and port (0: an ephemeral one). 0, -EINVAL
 * (already bound, or not CLOSED), -EADDRNOTAVAIL (addr not ours),
 * -EADDRINUSE (port bound by another socket, unless both have SO_REUSEADDR
 * and neither listens, or both have SO_REUSEPORT), -EAGAIN (no ephemeral
 * port free). */
int tcp_bind(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port);
/* Marks c as listening with a queue of backlog completed connections
 * (capped at backlog_max; < 1 means 1); binds an ephemeral port first if
 * unbound; on a listener, only updates the backlog. 0, -EINVAL (connected
 * or connecting), -EADDRINUSE (another listener on the port), -EAGAIN. */
int tcp_listen(struct tcp_conn *c, int backlog);
/* Takes the oldest completed connection of listener l. 0, -EAGAIN (none
 * yet), -EINVAL (l is not listening). */
int tcp_accept(struct tcp_conn *l, struct tcp_conn **out);
/* Starts an active open to addr:port (binds an ephemeral port first if
 * unbound) and sends the SYN. Completion is seen through events: state
 * ESTABLISHED, or CLOSED with tcp_error() set (ECONNREFUSED, ETIMEDOUT,
 * ENETUNREACH, EHOSTUNREACH). 0, -EISCONN (connected), -EALREADY (SYN
 * sent), -EINVAL (listening, or shut down), -EADDRINUSE (this 4-tuple is
 * in use), -EADDRNOTAVAIL (no ephemeral port), -ENETUNREACH (addr 0,
 * broadcast or no route). Our own address is reached through the loop
 * (ipv4_output), as Linux reaches it through lo. */
int tcp_connect(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port, uint64_t now_ns);

/* Queues payload (taken in every case; its data are the bytes, a chain is
 * allowed; retransmissions reuse it by reference, zero-copy) after what is
 * queued and sends what the windows allow. Bytes may be queued in SYN-SENT
 * and SYN-RECEIVED (RFC 9293 §3.10.2). Ignores the send buffer size: the
 * caller bounds itself with tcp_send_space(). 0, -EPIPE (shut down for
 * writing, or closed), -ENOTCONN (never connected), a pending error
 * (-ECONNRESET, -ETIMEDOUT, ...), -EINVAL (zero bytes). */
int tcp_send(struct tcp_conn *c, struct rte_mbuf *payload, uint64_t now_ns);
/* Bytes of payload acknowledged by the peer since c was opened (64-bit,
 * never wraps): a push ending at byte offset E is done when this >= E. */
uint64_t tcp_bytes_acked(const struct tcp_conn *c);
/* Bytes queued and not yet acknowledged. */
uint32_t tcp_send_buffered(const struct tcp_conn *c);
/* Free send-buffer space: SO_SNDBUF - buffered, or 0. */
uint32_t tcp_send_space(const struct tcp_conn *c);

/* Takes up to max (> 0) bytes of in-order received data: the oldest
 * received segment whole when it fits (zero-copy; the caller owns the
 * mbuf, data = the bytes, possibly a chain), else its first max bytes (a
 * copy or an indirect mbuf). NULL when nothing is readable. Opens the
 * receive window (a window update goes out when it grew by an MSS or half
 * the buffer, RFC 9293 §3.8.6.2.2). */
struct rte_mbuf *tcp_recv(struct tcp_conn *c, uint32_t max, uint64_t now_ns);
/* Bytes readable now. */
uint32_t tcp_recv_avail(const struct tcp_conn *c);
/* True when the peer's FIN arrived and every byte before it was taken
 * (a read returns 0, end of file). */
bool tcp_recv_eof(const struct tcp_conn *c);

/* The pending error of the connection (positive errno: ECONNREFUSED,
 * ECONNRESET, ETIMEDOUT, EPIPE, ...), or 0. tcp_take_error clears it
 * (SO_ERROR); tcp_error only looks. */
int tcp_error(const struct tcp_conn *c);
int tcp_take_error(struct tcp_conn *c);
enum tcp_state tcp_conn_state(const struct tcp_conn *c);
/* A listener with a connection ready to accept. */
bool tcp_accept_ready(const struct tcp_conn *c);

/* shutdown(2): rd stops receiving (queued and later data is acknowledged
 * and dropped; tcp_recv_eof() is true from then on), wr sends FIN after
 * the queued bytes. 0, -ENOTCONN (not connected). */
int tcp_shutdown(struct tcp_conn *c, bool rd, bool wr, uint64_t now_ns);
/* close(2): the owner lets go of c. A listener closes and resets its
 * unaccepted connections. With SO_LINGER on and a zero timeout, or unread
 * received data (RFC 2525 §2.17, as Linux), the connection is reset at
 * once; otherwise queued bytes and a FIN go out and the stack finishes the
 * close on its own (FIN_WAIT, TIME_WAIT). c must not be used after. */
void tcp_close(struct tcp_conn *c, uint64_t now_ns);

/* setsockopt/getsockopt at SOL_SOCKET (SO_REUSEADDR, SO_REUSEPORT,
 * SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF, SO_LINGER, SO_ERROR (get), SO_TYPE
 * (get)) and IPPROTO_TCP (TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT, TCP_MAXSEG (get), TCP_INFO (get), TCP_CONGESTION), with
 * Linux's argument rules: int options need optlen >= sizeof(int)
 * (-EINVAL otherwise), SO_SNDBUF/SO_RCVBUF store twice the value (as
 * Linux) capped at tcp.rcvbuf_max, TCP_KEEP* take 1..32767 (s) or
 * 1..127 (count) else -EINVAL. -ENOPROTOOPT for any other option. get:
 * *optlen in = room (>= 0), out = bytes written (Linux truncates). */
int tcp_setsockopt(struct tcp_conn *c, int level, int optname, const void *optval, socklen_t optlen);
int tcp_getsockopt(struct tcp_conn *c, int level, int optname, void *optval, socklen_t *optlen);

/* The local address (0.0.0.0:0 before bind; our address once connected). */
void tcp_local(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port);
/* The peer address: 0, or -ENOTCONN (no peer). */
int tcp_peer(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port);

/* What one connection has done (for TCP_INFO, logs and tests). */
struct tcp_conn_stats {
    enum tcp_state state;
    uint32_t snd_mss, rcv_mss;     /* bytes */
    uint32_t cwnd, ssthresh;       /* bytes */
    uint32_t snd_wnd, rcv_wnd;     /* bytes */
    uint64_t srtt_ns, rttvar_ns, rto_ns;
    uint8_t snd_wscale, rcv_wscale;
    bool ts_ok, sack_ok, ws_ok;
    uint64_t segs_out, segs_in;
    uint64_t bytes_sent, bytes_acked, bytes_received; /* payload bytes */
    uint64_t retransmits;          /* segments retransmitted, all causes */
    uint64_t fast_retransmits, rto_expiries;
};
void tcp_conn_stats(const struct tcp_conn *c, struct tcp_conn_stats *out);

/* Connections the stack holds, every state (including closed-by-owner
 * ones still finishing); for leak checks. */
unsigned tcp_conn_count(const struct stack *s);

/* Calls fn for every connection and listener s holds, oldest first, for
 * observability (sluice-stat): fn only reads (the getters above); it must
 * not open, close or send. */
void stack_tcp_foreach(struct stack *s, void (*fn)(const struct tcp_conn *c, void *ctx), void *ctx);
/* A listener's completed connections not yet accepted, and its backlog
 * in *backlog (may be NULL); 0 for a connection that is not listening. */
unsigned tcp_listen_queue(const struct tcp_conn *c, unsigned *backlog);

#endif
