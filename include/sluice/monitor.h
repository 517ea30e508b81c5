/*
 * sluice/monitor.h - monitor mode: Sluice watches TCP flows between other
 * hosts, inline between two ports (a bridge whose verdict may drop or
 * rewrite a frame) or passive on one port (a copy of the traffic). The
 * layer under mOS's monitor sockets (mtcp_socket(MOS_SOCK_MONITOR_STREAM),
 * docs/mtcp.md "Monitor sockets"); a native program may use it directly.
 *
 * The ports and the mode are the config's mon.* keys (docs/config.md).
 * Functions return 0 or a positive errno, as demi_* do. Not thread-safe:
 * callers serialise (the mtcp layer does, behind its lock).
 */
#ifndef SLUICE_MONITOR_H
#define SLUICE_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The sides of a flow: the host that sent the first SYN, and its peer. */
#define SLUICE_MON_CLI 0
#define SLUICE_MON_SVR 1

/* Events (the bits of mOS's MOS_ON_*, same values). */
#define SLUICE_MON_EV_PKT_IN (1u << 0)
#define SLUICE_MON_EV_CONN_START (1u << 2)
#define SLUICE_MON_EV_NEW_DATA (1u << 4)
#define SLUICE_MON_EV_ERROR (1u << 5)
#define SLUICE_MON_EV_TIMEOUT (1u << 6)
#define SLUICE_MON_EV_STATE_CHANGE (1u << 7)
#define SLUICE_MON_EV_ORPHAN (1u << 8)
#define SLUICE_MON_EV_REXMIT (1u << 9)
#define SLUICE_MON_EV_CONN_END (1u << 10)

/* A verdict's answers. */
#define SLUICE_MON_PASS 0
#define SLUICE_MON_DROP 1

/* One frame the monitor saw; or, with data NULL, a flow that timed out
 * (SLUICE_MON_EV_TIMEOUT) or that a SYN with a new ISN on its 4-tuple
 * ended (SLUICE_MON_EV_CONN_END: the SYN's own frame follows, starting the
 * new flow). */
struct sluice_mon_frame {
    void *flow;          /* the flow (opaque; valid until the verdict returns
                          * when events has CONN_END or TIMEOUT), or NULL */
    unsigned sender;     /* SLUICE_MON_CLI or SLUICE_MON_SVR */
    uint32_t events;     /* SLUICE_MON_EV_* */
    uint8_t state_before[2], state_after[2]; /* mOS's enum tcpstate, by side */
    uint8_t *data;       /* the Ethernet frame, contiguous, writable in place; or NULL (above) */
    uint32_t len;        /* bytes at data */
    uint32_t payload_len;/* TCP payload bytes (0 for other frames) */
    unsigned port;       /* the port it came in on: 0 or 1 */
    uint64_t now_ns;     /* CLOCK_MONOTONIC when it was handled */
};

/* Called once per frame, in the engine's thread, while the engine runs.
 * Returns SLUICE_MON_PASS or SLUICE_MON_DROP (inline only; passive
 * ignores it). It may call the sluice_mon_* functions below on fr->flow,
 * but not sluice_mon_start or sluice_mon_stop. */
typedef int (*sluice_mon_fn)(void *arg, struct sluice_mon_frame *fr);

/*
 * Opens the monitor's ports (mon.port0, and mon.port1 inline, each with the
 * fault injector in front when fault.* asks for it) and starts watching;
 * every engine pass (sluice_mon_poll, any demi_wait) then takes a burst
 * from each port and calls fn(arg, frame) for each frame.
 * Errors: ENOSYS before demi_init; EINVAL fn NULL, mon.mode "off" or not
 * one of inline/passive, or a port missing for the mode (one log line
 * names the key); EBUSY a monitor or the network stack already runs (one
 * engine serves one of them); ENETDOWN a port did not open (the log says
 * why); ENOMEM.
 * Source: Sluice's own call (mOS starts its monitor from its config file).
 */
int sluice_mon_start(sluice_mon_fn fn, void *arg);

/*
 * Stops the monitor: every flow is forgotten (no callbacks), the ports
 * close. Returns 0, or ENOSYS before demi_init, ENOTCONN when none runs.
 * Source: Sluice's own call.
 */
int sluice_mon_stop(void);

/*
 * Sends the Ethernet frame of len bytes at frame (copied; not checked,
 * not tracked: the monitor does not see its own frames) out of the
 * monitor's port (0: mon.port0; 1: mon.port1, inline only), now, ahead of
 * frames the running pass has yet to forward. Returns 0, or ENOSYS before
 * demi_init; ENOTCONN no monitor runs; EINVAL frame NULL, port not open,
 * len below an Ethernet header or above it plus net.mtu (or more than one
 * mbuf holds); ENOMEM no mbuf; ENOBUFS the port's transmit queue is full.
 * Source: mOS's mtcp_sendpkt(3), which sends out of a monitor's port.
 */
int sluice_mon_send(unsigned port, const uint8_t *frame, uint32_t len);

/*
 * Runs one engine pass (a burst from each port, the verdicts, the
 * forwarding, expiry when due); *work (may be NULL) gets how much it did
 * (0: idle). Returns 0, ENOSYS before demi_init, ENOTCONN when no monitor
 * runs. Source: Sluice's own call (mOS's mtcp_app_join runs it in a loop).
 */
int sluice_mon_poll(int *work);

/* One side's facts (mOS's struct tcp_buf_info and its states). Offsets
 * count stream bytes from the sending side's ISN + 1; the stream of side X
 * is what X receives. */
struct sluice_mon_side {
    uint8_t state;           /* mOS's enum tcpstate */
    uint32_t init_seq;       /* the sender's ISN + 1 (0 before its SYN was seen) */
    uint32_t next_seq;       /* the in-order edge as a sequence number, past a FIN (the receiver's RCV.NXT) */
    uint64_t next_off;       /* in-order edge: bytes delivered or lost */
    uint64_t read_off;       /* sluice_mon_peek's position */
    uint64_t last_rcvd_off;  /* one past the highest byte held, out of order included */
    uint64_t bytes;          /* bytes seen in order (first copies, not lost ones) */
    uint64_t lost;           /* bytes the receiver acknowledged that the monitor never saw */
    uint64_t overwritten;    /* bytes the buffer dropped unread */
    uint64_t rexmit;         /* retransmitted segments to this side */
    uint64_t pkts;           /* frames to this side */
    uint32_t buffered;       /* bytes unread */
    uint64_t last_ns;        /* CLOCK_MONOTONIC of the flow's last frame */
};

/*
 * Fills *out with side's facts now. Returns 0, or EINVAL when flow or out
 * is NULL or side is not SLUICE_MON_CLI or SLUICE_MON_SVR.
 * Source: mOS's MOS_INFO_CLIBUF, MOS_TCP_STATE_CLI (mtcp_getsockopt(3)).
 */
int sluice_mon_side_info(const void *flow, unsigned side, struct sluice_mon_side *out);

/* A range of a stream: offsets from the sender's ISN + 1. */
struct sluice_mon_frag {
    uint64_t off;
    uint32_t len;
};

/*
 * Writes the byte ranges side's stream holds now — the unread bytes of
 * its buffer, split where bytes were lost, then the segments held out of
 * order waiting for a hole to fill, adjacent ranges merged, by offset —
 * the first max of them to out (NULL when max is 0); *n (not NULL) gets
 * how many there are. Returns 0, or EINVAL: flow or n NULL, out NULL with
 * max > 0, or a bad side; ENOMEM. Source: mOS's MOS_FRAGINFO_CLIBUF,
 * MOS_FRAGINFO_SVRBUF (mtcp_getsockopt(3)).
 */
int sluice_mon_frags(const void *flow, unsigned side, struct sluice_mon_frag *out, unsigned max, unsigned *n);

/*
 * Copies up to len bytes of side's stream from its read position into buf
 * and consumes them; *copied (not NULL) gets the count. ENODATA when
 * nothing is there: *gap (not NULL) is 0; or when the reader reached bytes
 * that were lost or overwritten: *gap is how many, and they are skipped
 * (the next call reads after them). EINVAL flow, buf, copied or gap NULL,
 * a bad side, or the side keeps no buffer (sluice_mon_set_buf 0).
 * Source: mOS's mtcp_peek(3) ("-1 * the number of bytes overwritten").
 */
int sluice_mon_peek(void *flow, unsigned side, void *buf, size_t len, size_t *copied, uint64_t *gap);

/*
 * Copies up to len bytes of side's stream from offset off (bytes after
 * the sender's ISN + 1) into buf without consuming them; *copied gets the
 * count; it stops at a hole. Returns 0; ENODATA when no byte at off is
 * held (not yet seen, lost or overwritten); EINVAL as sluice_mon_peek.
 * Source: mOS's mtcp_ppeek(3).
 */
int sluice_mon_ppeek(const void *flow, unsigned side, void *buf, size_t len, uint64_t off, size_t *copied);

/*
 * Sets side's stream buffer to bytes (0: no buffer, peeks fail with
 * EINVAL); the newest unread bytes are kept, the ones that no longer fit
 * count as overwritten. Returns 0, EINVAL (flow NULL, bad side), ENOMEM
 * (nothing changed). Source: mOS's MOS_CLIBUF, MOS_SVRBUF (mtcp_setsockopt(3)).
 */
int sluice_mon_set_buf(void *flow, unsigned side, uint32_t bytes);

/*
 * Writes side's IPv4 address and TCP port, network order, to *addr and
 * *port. Returns 0, or EINVAL for a NULL argument or a bad side.
 * Source: mOS's mtcp_getpeername(3) with a side.
 */
int sluice_mon_flow_addr(const void *flow, unsigned side, uint32_t *addr, uint16_t *port);

/*
 * Writes the Ethernet addresses of side's frames, from the first one the
 * monitor saw: own (their source) and to (their destination: the peer, or
 * a router). Returns 0; ENOENT side has sent no frame yet; EINVAL a NULL
 * argument or a bad side. Source: Sluice's own call (mtcp_reset_conn
 * addresses its RSTs with them).
 */
int sluice_mon_flow_macs(const void *flow, unsigned side, uint8_t own[6], uint8_t to[6]);

/*
 * Stores user (not owned) with the flow, for sluice_mon_flow_user.
 * Returns 0, or EINVAL when flow is NULL. Source: mOS's mtcp_set_uctx(3).
 */
int sluice_mon_flow_set_user(void *flow, void *user);

/*
 * Writes the word stored with sluice_mon_flow_set_user (NULL until set)
 * to *user. Returns 0, or EINVAL for a NULL argument.
 * Source: mOS's mtcp_get_uctx(3).
 */
int sluice_mon_flow_user(const void *flow, void **user);

/*
 * Recomputes the IPv4 header checksum (ip != 0) and the TCP checksum
 * (tcp != 0) of the IPv4/TCP Ethernet frame of len bytes at data, after a
 * verdict rewrote it. Returns 0, or EINVAL when data is NULL or not a
 * whole IPv4/TCP frame. Source: mOS's MOS_UPDATE_IP_CHKSUM and
 * MOS_UPDATE_TCP_CHKSUM (mtcp_setlastpkt(3)).
 */
int sluice_mon_cksum(uint8_t *data, uint32_t len, int ip, int tcp);

/* What a monitor counted since it started, by the port frames came in on. */
struct sluice_mon_stats {
    uint64_t rx[2], fwd[2], dropped[2], tx_full;
    uint64_t flows; /* tracked now */
    unsigned ports; /* 2 inline, 1 passive */
};

/*
 * Copies the running monitor's counts into *out. Returns 0, EINVAL (out
 * NULL), ENOTCONN (no monitor runs). Source: Sluice's own call.
 */
int sluice_mon_stats(struct sluice_mon_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_MONITOR_H */
