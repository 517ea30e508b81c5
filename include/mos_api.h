/*
 * mos_api.h - the non-monitor part of mOS's API on Sluice (docs/mtcp.md
 * "Dialects"). Including it before <mtcp_api.h> selects the mOS dialect
 * (int mtcp_destroy, int mtcp_destroy_context, ssize_t readv/writev, a
 * uint64_t epoll events field, typedef byte, mOS's struct mtcp_conf).
 *
 * As upstream, it includes <linux/tcp.h> and <linux/if_ether.h>: their
 * struct tcphdr and TCP_* names clash with glibc's <netinet/tcp.h>, so a
 * program cannot include both (the same holds with mOS itself).
 *
 * Monitor sockets (docs/mtcp.md "Monitor sockets"): MOS_SOCK_MONITOR_STREAM
 * and MOS_SOCK_MONITOR_RAW, filters, callbacks on mOS's built-in events,
 * mtcp_peek/mtcp_ppeek, mtcp_getlastpkt/mtcp_setlastpkt, SOL_MONSOCKET
 * options, mtcp_app_join, user-defined events (mtcp_define_event,
 * mtcp_alloc_event, mtcp_raise_event), mtcp_sendpkt. Not there: the proxy
 * socket types' behaviour (docs/mtcp.md "Not yet").
 */
#ifndef MOS_API_H
#define MOS_API_H

#ifndef SLUICE_MTCP_DIALECT_MOS
#define SLUICE_MTCP_DIALECT_MOS 1
#endif

#include <linux/if_ether.h>
#include <linux/tcp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>

#include <mtcp_api.h>
#include <mtcp_epoll.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned char byte;

/* mOS's socket types, numbered as in mOS: mtcp_socket takes
 * MOS_SOCK_STREAM (as SOCK_STREAM), MOS_SOCK_MONITOR_STREAM and
 * MOS_SOCK_MONITOR_RAW; a callback's sock is a MOS_SOCK_MONITOR_STREAM_ACTIVE
 * socket (one per flow). */
enum socket_type {
    MOS_SOCK_UNUSED,
    MOS_SOCK_STREAM_LISTEN,
    MOS_SOCK_PROXY_LISTEN,
    MOS_SOCK_MONITOR_STREAM,
    MOS_SOCK_STREAM,
    MOS_SOCK_PROXY,
    MOS_SOCK_MONITOR_STREAM_ACTIVE,
    MOS_SOCK_MONITOR_RAW,
    MOS_SOCK_EPOLL,
    MOS_SOCK_PIPE,
};

/* The side argument of the five-argument mtcp_getpeername, of callbacks,
 * peeks and options. */
enum { MOS_SIDE_CLI = 0, MOS_SIDE_SVR, MOS_SIDE_BOTH };

/* Hook points of mtcp_register_callback (mOS's values). MOS_HK_SND: after
 * the sender's side was updated (side = the sender); MOS_HK_RCV: after the
 * receiver's (side = the receiver); MOS_NULL: raw sockets. */
enum mtcp_hook_point {
    MOS_NULL = (1 << 29),
    MOS_HK_RCV = (1 << 30),
    MOS_HK_SND = (int)(1u << 31),
};

typedef uint64_t event_t;

/* mOS's built-in events (same values). MOS_ON_PKT_OUT, MOS_ON_CONN_SETUP
 * and MOS_ON_DEBUG_MESSAGE are declared but never raised, here as in mOS
 * (its tcp_in.c has MOS_ON_CONN_SETUP commented out; MOS_ON_PKT_OUT would
 * be a frame of its own stack's, which a monitor has not). User-defined
 * events (mtcp_define_event, mtcp_alloc_event) get ids from 1 << 12 up. */
enum mos_event_type {
    MOS_NULL_EVENT = 0,
    MOS_ON_PKT_IN = (0x1 << 0),          /* a frame of the flow */
    MOS_ON_PKT_OUT = (0x1 << 1),
    MOS_ON_CONN_START = (0x1 << 2),      /* the flow's first SYN */
    MOS_ON_CONN_SETUP = (0x1 << 3),
    MOS_ON_CONN_NEW_DATA = (0x1 << 4),   /* the side's stream grew in order */
    MOS_ON_ERROR = (0x1 << 5),           /* bytes lost: buffer outrun, a hole, no room out of order */
    MOS_ON_TIMEOUT = (0x1 << 6),         /* no frame for mon.idle_timeout_ms */
    MOS_ON_TCP_STATE_CHANGE = (0x1 << 7),/* the side's emulated state changed */
    MOS_ON_ORPHAN = (0x1 << 8),          /* TCP of no flow (stream sockets' orphan filter), or no flow at all (raw) */
    MOS_ON_REXMIT = (0x1 << 9),          /* bytes or a SYN seen before */
    MOS_ON_CONN_END = (0x1 << 10),       /* RST, or both sides done */
    MOS_ON_DEBUG_MESSAGE = (0x1 << 11),
};

/* mtcp_setlastpkt's option bits (mOS's values). */
#define MOS_ETH_HDR (1 << 0)
#define MOS_IP_HDR (1 << 1)
#define MOS_TCP_HDR (1 << 2)
#define MOS_TCP_PAYLOAD (1 << 3)
#define MOS_UPDATE_IP_CHKSUM (1 << 4)
#define MOS_UPDATE_TCP_CHKSUM (1 << 5)
#define MOS_DROP (1 << 6)
#define MOS_OVERWRITE (1 << 7)
#define MOS_CHOMP (1 << 8)  /* not supported: EINVAL */
#define MOS_INSERT (1 << 9) /* not supported: EINVAL */

/* A frame as mtcp_getlastpkt gives it (mOS's layout): numbers in host
 * order, the pointers into a copy of the frame. */
struct pkt_info {
    uint32_t cur_ts;      /* ms of CLOCK_MONOTONIC when the frame was seen */
    int8_t in_ifidx;      /* the monitor port it came in on */
    uint16_t eth_len;     /* bytes of the whole frame */
    uint16_t ip_len;      /* the IP total length */
    uint64_t offset;      /* the payload's offset in its stream (from the sender's ISN + 1) */
    uint16_t payloadlen;
    uint32_t seq;
    uint32_t ack_seq;
    uint16_t window;
    struct ethhdr *ethh;
    struct iphdr *iph;
    struct tcphdr *tcph;
    uint8_t *payload;
};

typedef struct filter_arg {
    void *arg;
    size_t len;
} filter_arg_t;

/* The level of the monitor options of mtcp_getsockopt/mtcp_setsockopt. */
#define SOL_MONSOCKET 0xfffe

/* Monitor options (mOS's values), on a flow's socket unless said:
 * get MOS_INFO_CLIBUF/SVRBUF (struct tcp_buf_info), MOS_FRAGINFO_CLIBUF/
 * SVRBUF (an array of struct tcp_ring_fragment: the ranges the side's
 * buffer holds, the unread bytes split where bytes were lost, then the
 * segments held out of order; *optlen is the array's size in elements, in
 * and out, as mOS's page says, and a zeroed element follows the last one
 * when it fits; EINVAL for 0), MOS_TCP_STATE_CLI/SVR (int, enum tcpstate),
 * MOS_TIMESTAMP (uint32_t ms of the flow's last frame); get and set
 * MOS_CLIBUF/SVRBUF (int bytes; also on a stream monitor: flows to come);
 * set MOS_STOP_MON (int side), MOS_CLIOVERLAP/SVROVERLAP (int:
 * MOS_OVERLAP_POLICY_FIRST, what the tracker does; MOS_OVERLAP_POLICY_LAST
 * fails with EOPNOTSUPP). MOS_SEQ_REMAP, MOS_FRAG_CLIBUF/SVRBUF (mOS marks
 * them "supressed (not used)") and anything else fail with ENOPROTOOPT. */
enum mos_socket_opts {
    MOS_FRAGINFO_CLIBUF = 0x01,
    MOS_FRAGINFO_SVRBUF = 0x02,
    MOS_INFO_CLIBUF = 0x03,
    MOS_INFO_SVRBUF = 0x04,
    MOS_TCP_STATE_CLI = 0x05,
    MOS_TCP_STATE_SVR = 0x06,
    MOS_TIMESTAMP = 0x07,
    MOS_CLIBUF = 0x09,
    MOS_SVRBUF = 0x0a,
    MOS_SEQ_REMAP = 0x0b,
    MOS_STOP_MON = 0x0c,
    MOS_FRAG_CLIBUF = 0x0d,
    MOS_FRAG_SVRBUF = 0x0e,
    MOS_CLIOVERLAP = 0x0f,
    MOS_SVROVERLAP = 0x10,
};

/* MOS_FRAGINFO_CLIBUF/SVRBUF: one range the buffer holds, offsets from
 * the sender's ISN + 1. */
struct tcp_ring_fragment {
    uint64_t offset;
    uint32_t len;
};

/* MOS_CLIOVERLAP/SVROVERLAP's values (mOS's). */
enum {
    MOS_OVERLAP_POLICY_FIRST = 0, /* a byte's first copy stays */
    MOS_OVERLAP_POLICY_LAST,      /* not supported: EOPNOTSUPP */
    MOS_OVERLAP_CNT
};

/* MOS_INFO_CLIBUF/SVRBUF: a side's stream buffer as sequence numbers. */
struct tcp_buf_info {
    uint32_t tcpbi_init_seq;           /* the sender's ISN + 1 */
    uint32_t tcpbi_last_byte_read;     /* one past the last byte mtcp_peek consumed */
    uint32_t tcpbi_next_byte_expected; /* the in-order edge */
    uint32_t tcpbi_last_byte_received; /* one past the highest byte held (out of order too) */
};

/* An endpoint's state as the monitor emulates it (MOS_TCP_STATE_CLI/SVR).
 * Its names clash with glibc's <netinet/tcp.h>, which a file including
 * <mos_api.h> cannot include anyway (struct tcphdr). */
enum tcpstate {
    TCP_CLOSED = 0,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RCVD,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_LAST_ACK,
    TCP_TIME_WAIT,
};

/* A callback: sock is the flow's MOS_SOCK_MONITOR_STREAM_ACTIVE socket (or
 * the raw or stream monitor socket itself for raw frames and orphans), side
 * the side whose view raised event (one event bit, or one user-defined
 * event, per call; MOS_NULL for raw sockets); arg NULL for a built-in
 * event, for a user-defined one the event's copy of mtcp_define_event's arg
 * ({NULL, 0} when none; owned by the library). A filter (filter_t) is
 * called the same way for its user-defined event and returns whether the
 * event happened. */
typedef void (*callback_t)(mctx_t mctx, int sock, int side, event_t event, filter_arg_t *arg);
typedef bool (*filter_t)(mctx_t mctx, int sock, int side, event_t event, filter_arg_t *arg);

/* mtcp_bind_monitor_filter's argument: tcpdump expressions (pcap-filter(7)). */
union monitor_filter {
    char *raw_pkt_filter; /* MOS_SOCK_MONITOR_RAW: every frame it must match */
    struct {
        char *stream_syn_filter;    /* MOS_SOCK_MONITOR_STREAM: a flow's first SYN must match */
        char *stream_orphan_filter; /* ... and orphan TCP frames, for MOS_ON_ORPHAN */
    };
};
typedef union monitor_filter *monitor_filter_t;

/*
 * Restricts monitor socket sock to the frames a filter matches: ft's
 * strings are tcpdump expressions (pcap-filter(7)), compiled with libpcap
 * for Ethernet. A raw socket's raw_pkt_filter applies to every frame; a
 * stream socket's stream_syn_filter to each flow's first SYN (the flow's
 * later frames follow it), its stream_orphan_filter to TCP frames of no
 * flow. A NULL ft or NULL string matches everything. A second call
 * replaces the filters. Monitor mode must be on (mon.mode).
 * Returns 0, or -1 and errno: EACCES mctx is not a live context; EBADF
 * sock is not an open socket of mctx; ENOPROTOOPT sock is not a monitor
 * socket (raw or stream); EINVAL a filter does not compile (a line on
 * stderr gives libpcap's message).
 * Source: mOS's mtcp_bind_monitor_filter(3).
 */
int mtcp_bind_monitor_filter(mctx_t mctx, int sock, monitor_filter_t ft);

/*
 * Calls cb for every occurrence of event on monitor socket sock (NULL cb:
 * no more calls). event is one or more MOS_ON_* bits of the built-in
 * events, or one user-defined event (mtcp_define_event, mtcp_alloc_event);
 * hook is MOS_HK_SND (side = the frame's sender), MOS_HK_RCV (side = its
 * receiver) or MOS_NULL (raw sockets). Registered on a stream socket, it
 * holds for flows that start later (each flow's socket copies the table);
 * on a flow's socket, for that flow only. Callbacks run inside
 * mtcp_app_join (or any call that drives the engine) and may call every
 * mtcp_* function but mtcp_destroy and mtcp_destroy_context.
 * A user-defined event is checked on a socket and hook only while that
 * socket has a callback at that hook on it, on an event defined under it,
 * or on an event allocated under it or its parent: right after its parent
 * event's callback, its filter runs; when it returns true, its callback,
 * then the callbacks of the events the filter raised, then the events
 * defined under it, the same way.
 * Returns 0, or -1 and errno: EACCES mctx is not a live context; EINVAL
 * sock is not a monitor socket of mctx (mOS's page names only EINVAL), an
 * event bit that is not built-in, an id that is no user-defined event, no
 * event, or another hook; ENOMEM no memory for a user-defined event's
 * callback.
 * Source: mOS's mtcp_register_callback(3).
 */
int mtcp_register_callback(mctx_t mctx, int sock, event_t event, int hook, callback_t cb);

/*
 * Defines a user-defined event: it happens when its parent event happens
 * (on a socket and hook with a callback on it: mtcp_register_callback)
 * and filter, called then with the event's id and its copy of arg,
 * returns true. event, the parent, is one of the built-in events
 * mtcp_register_callback takes (MOS_ON_PKT_IN .. MOS_ON_CONN_END, one bit)
 * or an event this call returned before. arg (may be NULL) is copied: arg->len
 * bytes at arg->arg, given back to filter and callbacks as their arg.
 * Defining the same parent, filter and arg bytes again returns the same
 * event. Events are global to the process, numbered from 1 << 12 up, at
 * most 1024 (defined and allocated), and forgotten by mtcp_destroy.
 * Needs no context and may be called before mtcp_init.
 * Returns the new event, or MOS_NULL_EVENT and errno: EINVAL filter NULL,
 * event neither one built-in bit nor a defined event (an allocated one is
 * no parent, as in mOS), or arg->len > 0 with arg->arg NULL; ENOMEM 1024
 * events exist, or no memory for the copy of arg.
 * Source: mOS's mtcp_define_event(3) and its mos_api.h (which returns
 * event_t; the page says int).
 */
event_t mtcp_define_event(event_t event, filter_t filter, struct filter_arg *arg);

/*
 * Allocates a child event of parent_event (a parent as mtcp_define_event
 * takes: one built-in event or a defined event) for filters to raise: a filter of an event defined under
 * parent_event (or under its parent, the same base) calls
 * mtcp_raise_event(mctx, child), and child's callbacks run when that
 * filter returns true. One filter may so trigger several events (one per
 * pattern it found, say). Global, numbered and limited as
 * mtcp_define_event's events.
 * Returns the child event, or MOS_NULL_EVENT and errno: EINVAL
 * parent_event is not one built-in event or a defined event; ENOMEM 1024
 * events exist.
 * Source: mOS's mtcp_alloc_event(3).
 */
event_t mtcp_alloc_event(event_t parent_event);

/*
 * Raises child_event, an event of mtcp_alloc_event, from inside a filter
 * function: once that filter returns true, the callbacks on child_event of
 * the socket and hook the filter ran for are called (after the filter's own
 * event's callback); when it returns false, nothing. Raising it twice in
 * one filter call counts once.
 * Returns 0, or -1 and errno: EACCES mctx is not a live context; EINVAL
 * child_event is not an event of mtcp_alloc_event (built-in and defined
 * events are raised by the monitor itself: mOS's page); EPERM not called
 * from inside a filter function; ENOBUFS 32 different events were raised
 * in this filter call already.
 * Source: mOS's mtcp_raise_event(3) (which returns -1 with no errno).
 */
int mtcp_raise_event(mctx_t mctx, event_t child_event);

/*
 * Copies up to len bytes of side's stream (what side receives) from its
 * read position into buf and consumes them. Returns the count (> 0); or
 * minus one and errno ENODATA when nothing is buffered; or minus N and
 * errno ENODATA when the next N bytes were lost (the receiver acknowledged
 * bytes the monitor never saw) or overwritten unread (the buffer,
 * MOS_CLIBUF, was outrun): those N are skipped and the next call reads
 * after them.
 * Other errors, -1 and errno: EACCES mctx is not a live context; EBADF
 * sock is not an open socket of mctx; ENOTSOCK sock is not a flow's
 * socket; EINVAL side is not MOS_SIDE_CLI or MOS_SIDE_SVR, buf is NULL, or
 * the side keeps no buffer (MOS_CLIBUF/MOS_SVRBUF 0); ENOTCONN the flow
 * has ended.
 * Source: mOS's mtcp_peek(3).
 */
ssize_t mtcp_peek(mctx_t mctx, int sock, int side, char *buf, size_t len);

/*
 * Copies up to len bytes of side's stream from offset off (bytes after the
 * sender's ISN + 1) into buf without consuming them; stops at a hole.
 * Returns the count, or -1 and errno: ENODATA no byte at off is held (not
 * yet received, lost, or overwritten); EACCES, EBADF, ENOTSOCK, EINVAL,
 * ENOTCONN as mtcp_peek.
 * Source: mOS's mtcp_ppeek(3).
 */
ssize_t mtcp_ppeek(mctx_t mctx, int sock, int side, char *buf, size_t len, uint64_t off);

/*
 * Copies the frame the current callback is about into a buffer of the
 * calling thread (reused by the next call) and fills *p: lengths and TCP
 * fields in host order, pointers into that copy. Only inside a callback of
 * sock's flow (both sides see the same frame). Returns 0, or -1 and errno:
 * EACCES mctx is not a live context; EBADF sock is not an open socket;
 * EINVAL p is NULL or side is not MOS_SIDE_CLI or MOS_SIDE_SVR; ENODATA no
 * frame: not inside a callback of this flow (or a timeout's).
 * Source: mOS's mtcp_getlastpkt(3).
 */
int mtcp_getlastpkt(mctx_t mctx, int sock, int side, struct pkt_info *p);

/*
 * Changes the frame the current callback is about (inline mode: what goes
 * out). option is MOS_DROP (the frame is not forwarded; other bits
 * ignored), or MOS_OVERWRITE with exactly one of MOS_ETH_HDR, MOS_IP_HDR,
 * MOS_TCP_HDR, MOS_TCP_PAYLOAD: datalen bytes of data are written at
 * offset into that part (which must hold them: sizes never change), then
 * MOS_UPDATE_IP_CHKSUM and MOS_UPDATE_TCP_CHKSUM recompute those
 * checksums. The tracker has already taken the frame's bytes as they came.
 * Returns 0, or -1 and errno: EACCES mctx is not a live context; EBADF
 * sock is not an open socket; EINVAL side is not MOS_SIDE_CLI or
 * MOS_SIDE_SVR, neither or both of MOS_DROP and MOS_OVERWRITE, not exactly
 * one part, MOS_CHOMP or MOS_INSERT, data NULL, offset < 0 or the bytes
 * past the part's end; ENODATA not inside a callback of this flow.
 * Source: mOS's mtcp_setlastpkt(3).
 */
int mtcp_setlastpkt(mctx_t mctx, int sock, int side, off_t offset, byte *data, uint16_t datalen, int option);

/*
 * Sends a TCP segment built from *pkt (typically mtcp_getlastpkt's, edited)
 * for the flow of flow socket sock: Ethernet addresses from pkt->ethh;
 * IPv4 with no options, pkt->iph's addresses, id, TOS and TTL (64 when 0);
 * TCP with no options and only ACK set (as mOS), pkt->tcph's ports,
 * sequence and acknowledgment numbers and window; then pkt->payloadlen
 * bytes at pkt->payload; checksums computed. Other fields of *pkt are not
 * read. Its addresses must be the flow's, one way or the other; it goes
 * out of the monitor port facing its destination (inside a callback of the
 * flow, the port the current frame's sender is on or the other; else
 * mon.port1 toward the server, mon.port0 toward the client; passive: the
 * one port), now. The monitor does not track it. pkt is the caller's.
 * Returns 0, or -1 and errno: EACCES mctx is not a live context or pkt is
 * NULL (mOS's page); EBADF sock is not an open socket of mctx; ENOTSOCK it
 * is not a flow's socket (mOS does nothing and returns 0); ENODATA
 * pkt->ethh, iph or tcph is NULL (mOS: iph or tcph); EINVAL payload NULL
 * with payloadlen > 0, more than 1460 bytes of payload or more than the
 * frame net.mtu allows, or addresses and ports that are not the flow's;
 * ENOMEM no mbuf; ENOBUFS the port's transmit queue is full.
 * Source: mOS's mtcp_sendpkt(3) and its mos_api.h (const pkt).
 */
int mtcp_sendpkt(mctx_t mctx, int sock, const struct pkt_info *pkt);

/*
 * Resets the flow of flow socket sock: sends each endpoint a RST|ACK from
 * its peer, at the sequence number it expects next (so that it takes it)
 * and acknowledging what its peer received, addressed with the Ethernet
 * addresses of its own frames, out of the port facing it (as
 * mtcp_sendpkt). The monitor does not see its own frames: the flow ends in
 * the tracker by timeout, or at the endpoints' next frames if they send
 * any; MOS_STOP_MON stops its callbacks at once.
 * Returns 0, or -1 and errno: EACCES mctx is not a live context; EBADF
 * sock is not an open socket of mctx; EINVAL sock is not a flow's socket
 * (mOS: EINVAL for a stream monitor socket); ENOTCONN a side's SYN or
 * frames were not seen yet (no sequence number to reset at); ENOMEM no
 * mbuf; ENOBUFS a port's transmit queue is full (the other side may have
 * got its RST).
 * Source: mOS's mtcp_reset_conn (mos_api.c: "send RST packets to both
 * sides"; it has no man page and its header does not declare it).
 */
int mtcp_reset_conn(mctx_t mctx, int sock);

/*
 * Runs the monitor (or, with no monitor, the engine for mctx's sockets)
 * until a signal registered with mtcp_register_signal was handled or mctx
 * is destroyed by another thread. Returns 0, or -1 and errno EINVAL when
 * mctx is not a live context.
 * Source: mOS's mtcp_app_join (it waits for the context's thread to end).
 */
int mtcp_app_join(mctx_t mctx);

/*
 * Calls cb(mctx, id, 0, 0, NULL) once, timeout (seconds and microseconds)
 * from now, in the thread running mtcp_app_join (a timer is due only while
 * some thread runs it). id is the caller's, passed back as sock. At most
 * 256 timers are pending at once. Returns 0, or -1 and errno: EACCES mctx
 * is not a live context; EINVAL timeout or cb NULL, or tv_usec outside
 * 0..999999 or tv_sec negative; ENOMEM 256 timers are pending.
 * Source: mOS's mtcp_settimer(3).
 */
int mtcp_settimer(mctx_t mctx, int id, struct timeval *timeout, callback_t cb);

/*
 * Returns the monotonic clock in microseconds, cut to 32 bits (it wraps
 * every 71 minutes), for callbacks that time things; 0 when mctx is not a
 * live context. Source: mOS's mtcp_cb_get_ts.
 */
uint32_t mtcp_cb_get_ts(mctx_t mctx);

/*
 * Stores uctx (not owned) with flow socket sock, for mtcp_get_uctx.
 * Errors are ignored as in mOS (an invalid mctx or sock does nothing).
 * Source: mOS's mtcp_set_uctx(3).
 */
void mtcp_set_uctx(mctx_t mctx, int sock, void *uctx);

/*
 * Returns what mtcp_set_uctx stored with flow socket sock, or NULL (also
 * for an invalid mctx or sock).
 * Source: mOS's mtcp_get_uctx(3).
 */
void *mtcp_get_uctx(mctx_t mctx, int sock);

#ifdef __cplusplus
}
#endif

#endif /* MOS_API_H */
