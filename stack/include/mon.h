/*
 * mon.h - the flow tracker of mOS's monitor sockets (docs/mtcp.md "Monitor
 * sockets"): TCP flows between two other hosts, seen on the wire (inline
 * between two ports, or passive on a copy of the traffic). One of the
 * stack's interface headers (docs/DESIGN.md "Layers"); mon/mon_flow.c.
 *
 * Read before editing: RFC 9293 §3.3.2 (the state diagram: each endpoint's
 * state is emulated from the segments it sends and receives), §3.10.7.4
 * (in-order delivery); mOS's man pages mtcp_peek(3), mtcp_ppeek(3),
 * mtcp_getsockopt(3) (SOL_MONSOCKET), mtcp_register_callback(3) (events).
 *
 * Per flow (keyed by the 4-tuple in an rte_hash, either direction) the
 * tracker keeps two sides: MON_SIDE_CLI (the host that sent the first SYN)
 * and MON_SIDE_SVR. A side's stream is what that side RECEIVES (the other
 * side's bytes, in sequence order), as mOS's receive ring buffers: peeking
 * MON_SIDE_SVR gives the client's request. Out-of-order segments wait in a
 * tcp_reass queue until the hole before them fills.
 *
 * Lost bytes. A monitor may miss a segment the endpoint did get (passive
 * mode, or a full reassembly queue). When the receiver acknowledges bytes
 * the monitor never saw, the stream moves past them: they become a hole,
 * counted in lost. mon_peek reports the hole, once, when the reader reaches
 * it (-ENODATA with *gap = its length; mtcp_peek turns it into mOS's
 * "-1 * bytes lost"), then reads on after it. Bytes overwritten before they
 * were read (the ring is full) are reported the same way.
 *
 * Checksums are not verified: frames from a veth carry partial checksums,
 * and a monitor sees what the endpoints see.
 *
 * All state is in DPDK's heap (smem.h). Single-threaded: the engine's.
 */
#ifndef SLUICE_MON_H
#define SLUICE_MON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_byteorder.h>

struct rte_mbuf;
struct rte_mempool;
struct mon_table;
struct mon_flow;

enum { MON_SIDE_CLI = 0, MON_SIDE_SVR = 1 };

/* An endpoint's state as the monitor emulates it: mOS's enum tcpstate
 * (mtcp_getsockopt(3), MOS_TCP_STATE_CLI), same numbers. */
enum mon_tcp_state {
    MON_TCPS_CLOSED = 0,
    MON_TCPS_LISTEN,
    MON_TCPS_SYN_SENT,
    MON_TCPS_SYN_RCVD,
    MON_TCPS_ESTABLISHED,
    MON_TCPS_FIN_WAIT_1,
    MON_TCPS_FIN_WAIT_2,
    MON_TCPS_CLOSE_WAIT,
    MON_TCPS_CLOSING,
    MON_TCPS_LAST_ACK,
    MON_TCPS_TIME_WAIT,
};

/* Events one frame raises: the bits of mOS's MOS_ON_* (same values), so the
 * mtcp layer passes them on unchanged. */
#define MON_EV_PKT_IN (1u << 0)
#define MON_EV_CONN_START (1u << 2)
#define MON_EV_NEW_DATA (1u << 4)      /* the receiver's stream grew (in order) */
#define MON_EV_ERROR (1u << 5)         /* bytes lost to a full ring or reassembly queue */
#define MON_EV_TIMEOUT (1u << 6)       /* mon_expire: idle past idle_timeout_ns */
#define MON_EV_STATE_CHANGE (1u << 7)  /* a side's emulated state changed */
#define MON_EV_ORPHAN (1u << 8)        /* TCP of no tracked flow, not a SYN */
#define MON_EV_REXMIT (1u << 9)        /* payload or SYN the monitor had seen */
#define MON_EV_CONN_END (1u << 10)     /* RST, or both sides done (TIME_WAIT/CLOSED) */

struct mon_params {
    uint32_t max_flows;       /* table size; a SYN beyond it is an orphan */
    uint32_t buf_bytes;       /* each side's ring (allocated at its first byte); 0: count bytes only */
    unsigned reass_segs;      /* out-of-order segments held per side (>= 1) */
    uint64_t idle_timeout_ns; /* mon_expire's limit */
};

/* What one frame was (mon_input's out). */
struct mon_pkt {
    struct mon_flow *flow; /* NULL: not IPv4/TCP, a fragment, malformed, or an orphan */
    unsigned sender;       /* MON_SIDE_* of the host that sent it */
    uint32_t events;       /* MON_EV_* */
    uint8_t state_before[2], state_after[2]; /* enum mon_tcp_state, by side */
    uint32_t payload_len;  /* TCP payload bytes in the frame */
    struct mon_flow *ended; /* a flow this frame ended by starting another on its
                             * 4-tuple (a SYN with a new ISN): out of the table
                             * already; the caller raises its CONN_END and frees
                             * it with mon_flow_release. NULL otherwise. */
};

/* One side's counters and stream edges (MOS_INFO_CLIBUF's facts and
 * midstat's numbers). Offsets count stream bytes from the sender's ISN + 1. */
struct mon_side_info {
    uint8_t state;           /* enum mon_tcp_state */
    bool isn_known;
    uint32_t init_seq;       /* the sender's ISN + 1 (the stream's first byte) */
    uint32_t next_seq;       /* the in-order edge as a sequence number (past a FIN): the receiver's RCV.NXT */
    uint64_t next_off;       /* in-order edge: bytes delivered or lost so far */
    uint64_t read_off;       /* mon_peek's position */
    uint64_t last_rcvd_off;  /* one past the highest byte held (out of order included) */
    uint64_t bytes;          /* payload bytes received in order (first copies; lost excluded) */
    uint64_t lost;           /* bytes the stream skipped (never seen) */
    uint64_t overwritten;    /* bytes the ring dropped unread */
    uint64_t rexmit;         /* segments retransmitted to this side */
    uint64_t pkts;           /* frames to this side */
    uint32_t buffered;       /* bytes in the ring, unread */
    uint64_t last_ns;        /* now_ns of the flow's last frame (either side) */
};

/*
 * Makes an empty table. Returns 0 and *out (free with mon_table_destroy),
 * -EINVAL (NULL argument, max_flows or reass_segs 0), -ENOMEM.
 */
int mon_table_create(const struct mon_params *p, struct mon_table **out);
/* Frees every flow (rings, held mbufs) and the table; NULL: nothing. */
void mon_table_destroy(struct mon_table *t);

/*
 * Tracks one Ethernet frame (not taken: the caller forwards or frees it)
 * at now_ns. Segments held out of order are copied from pool. Fills *out.
 * Returns 0; -EINVAL (NULL argument). A frame that is not IPv4/TCP, or is
 * malformed, is not an error: out->flow is NULL and events 0 (or ORPHAN for
 * TCP of no flow). A flow whose events include CONN_END stays in the table
 * until mon_flow_release (the caller's callbacks still use it).
 *
 * A SYN without ACK on a tracked 4-tuple whose sender's ISN is not the one
 * the flow knows (not a retransmission) starts a new flow: its sender has
 * no connection on that tuple any more (RFC 9293 §3.5: a SYN without ACK
 * opens; §3.6.1 and RFC 6191: a new SYN may reuse a tuple in TIME-WAIT),
 * e.g. a client reusing its port after TIME-WAIT while the monitor missed
 * the old flow's end. The old flow is out->ended.
 */
int mon_input(struct mon_table *t, const struct rte_mbuf *m, struct rte_mempool *pool, uint64_t now_ns,
              struct mon_pkt *out);

/* Removes f from the table (unless mon_input already did: out->ended) and
 * frees it. */
void mon_flow_release(struct mon_table *t, struct mon_flow *f);

/*
 * Calls fn(f, arg) for every flow idle (no frame) for idle_timeout_ns at
 * now_ns, then releases it unless fn returned false. Returns how many
 * were released.
 */
unsigned mon_expire(struct mon_table *t, uint64_t now_ns, bool (*fn)(struct mon_flow *f, void *arg), void *arg);

/* Flows in the table. */
unsigned mon_count(const struct mon_table *t);

/*
 * Copies up to len bytes of side's stream from its read position into buf
 * and consumes them (mOS's mtcp_peek(3)). Returns the count (> 0);
 * -ENODATA with *gap = 0 when nothing is buffered; -ENODATA with *gap > 0
 * when the reader reached bytes that were lost or overwritten: *gap of
 * them are skipped (the next call reads after them); -EINVAL (bad side,
 * or the side keeps no ring: buf_bytes 0 or mon_set_buf 0).
 */
ssize_t mon_peek(struct mon_flow *f, unsigned side, void *buf, size_t len, uint64_t *gap);

/*
 * Copies up to len bytes of side's stream from stream offset off (bytes from
 * the sender's ISN + 1) without consuming (mOS's mtcp_ppeek(3)). Returns the
 * count; -ENODATA when no byte at off is held (not yet received, already
 * overwritten, or lost); -EINVAL (bad side, no ring).
 */
ssize_t mon_ppeek(const struct mon_flow *f, unsigned side, void *buf, size_t len, uint64_t off);

/* Resizes side's ring to bytes (0: stop buffering, the held bytes are
 * dropped). Unread bytes that do not fit are dropped oldest first and count
 * as overwritten. Returns 0, -EINVAL (bad side), -ENOMEM (f unchanged). */
int mon_set_buf(struct mon_flow *f, unsigned side, uint32_t bytes);

/* A range of stream offsets. */
struct mon_frag {
    uint64_t off;
    uint32_t len;
};

/* The byte ranges side's stream holds (mOS's MOS_FRAGINFO_CLIBUF): the
 * unread bytes in its ring, split where a hole is, then the segments
 * waiting out of order (adjacent ranges merged), by offset. Writes the
 * first max of them to out; returns how many there are, or -EINVAL for a
 * bad side. */
int mon_frags(const struct mon_flow *f, unsigned side, struct mon_frag *out, unsigned max);

/* Fills *out for side (MON_SIDE_*); -EINVAL for another side. */
int mon_side_info(const struct mon_flow *f, unsigned side, struct mon_side_info *out);

/* The Ethernet addresses of side's frames, from the first one the monitor
 * saw: own (their source) and to (their destination: the peer or a
 * router). 0, or -ENOENT when side has sent nothing yet (-EINVAL bad side). */
int mon_flow_macs(const struct mon_flow *f, unsigned side, uint8_t own[6], uint8_t to[6]);

/* The side's address and port (network order). */
void mon_flow_addr(const struct mon_flow *f, unsigned side, rte_be32_t *addr, rte_be16_t *port);

/* The caller's word per flow (a monitor socket's id, a user context). */
void mon_flow_set_user(struct mon_flow *f, void *user);
void *mon_flow_user(const struct mon_flow *f);

/* ---- mon/mon_bridge.c: a monitor on ports ----
 *
 * Inline: frames received on one port go out of the other (an L2 bridge:
 * every frame, ARP and all), unless the verdict drops them. Passive: one
 * port receives a copy of the traffic; every frame is freed after it was
 * seen. Each frame is tracked (mon_input) and then handed to the verdict
 * function, TCP or not (raw monitors see everything). Every 100 ms idle
 * flows expire: the function sees them with MON_EV_TIMEOUT and no frame.
 * A flow whose frame raised CONN_END is released right after its verdict.
 */

struct netdev;
struct mon_bridge;

#define MON_PASS 0
#define MON_DROP 1

/* The verdict on frame m (NULL for a timeout, or the end of a flow a new
 * SYN replaced; writable: the caller may rewrite bytes in place, m is
 * contiguous) received on port (0 or 1): MON_PASS or MON_DROP (ignored in
 * passive mode and when m is NULL). */
typedef int (*mon_verdict_fn)(void *arg, struct rte_mbuf *m, unsigned port, const struct mon_pkt *pkt);

/*
 * Makes a monitor on dev0 and, inline, dev1 (NULL: passive). The devices
 * are taken on success (closed by mon_bridge_destroy); pool gives the
 * copies of held segments and must outlive the bridge. fn (not NULL) is
 * called for every frame with arg. Returns 0 and *out; -EINVAL (NULL
 * argument, bad params); -ENOMEM. On failure the devices are not taken.
 */
int mon_bridge_create(const struct mon_params *p, struct netdev *dev0, struct netdev *dev1, struct rte_mempool *pool,
                      mon_verdict_fn fn, void *arg, struct mon_bridge **out);
/* Destroys the table (every flow, without calling fn) and closes the
 * devices; NULL: nothing. */
void mon_bridge_destroy(struct mon_bridge *b);
/* One pass at now_ns: a burst from each port, tracked, judged, forwarded;
 * expiry when due. Returns the frames handled (0: idle). */
int mon_bridge_poll(struct mon_bridge *b, uint64_t now_ns);
/* The flow table (for peeks and info on flows the verdict saw). */
struct mon_table *mon_bridge_table(struct mon_bridge *b);

/* What a bridge counted. */
struct mon_bridge_stats {
    uint64_t rx[2], fwd[2], dropped[2]; /* by the port frames came in on */
    uint64_t tx_full;                   /* frames the other port did not take */
    uint64_t linearize_failed;          /* chained frames that could not be made contiguous */
};
void mon_bridge_stats(const struct mon_bridge *b, struct mon_bridge_stats *out);

#endif
