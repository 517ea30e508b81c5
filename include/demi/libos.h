/*
 * demi/libos.h - queue and socket calls of the Demikernel queue API.
 *
 * Every call returns 0 on success or a positive errno value. An operation
 * that fails after it was started completes with qr_opcode DEMI_OPC_FAILED
 * and qr_ret set to the errno. Calls made before demi_init() return ENOSYS.
 * The API is not thread-safe: callers serialise (as in Demikernel).
 */
#ifndef DEMI_LIBOS_H_IS_INCLUDED
#define DEMI_LIBOS_H_IS_INCLUDED

#include <demi/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Starts Sluice (config, DPDK EAL, mbuf pool).
 * @args: may be NULL; when set, argc >= 0 and argv non-NULL if argc > 0
 * (the arguments are the program's own and are not parsed).
 * Returns 0; EEXIST when already started; EINVAL for bad args, a bad config
 * file or SLUICE_* variable (the log line names the key and line) or EAL
 * arguments; EIO when DPDK does not start (the log line says how to fix
 * it); ENOMEM when the mbuf pool cannot be created.
 * Source: Demikernel's demi_init(3); Sluice's choices: docs/queue-api.md.
 */
int demi_init(const struct demi_args *args);

/*
 * Creates a shared-memory pipe named name (1..200 bytes
 * of [A-Za-z0-9._-]) and opens its first end into *memqd_out.
 * Returns 0; EINVAL for NULL arguments or a bad name; EEXIST if a pipe of
 * that name exists; EMFILE when queues.max queues are open; ENOMEM; ENOSYS
 * before demi_init.
 * Source: Demikernel's demi_create_pipe(3); Sluice's choices: docs/queue-api.md.
 */
int demi_create_pipe(int *memqd_out, const char *name);
/*
 * Opens the second end of the pipe named name.
 * Returns 0; EINVAL as demi_create_pipe; ENOENT if no such pipe exists;
 * EBUSY if its second end is already open; EPROTO if name is not a Sluice
 * pipe; EMFILE; ENOSYS before demi_init.
 * Source: Demikernel's demi_open_pipe(3); Sluice's choices: docs/queue-api.md.
 */
int demi_open_pipe(int *memqd_out, const char *name);

/*
 * Creates a socket queue into *sockqd_out: domain AF_INET; type
 * SOCK_STREAM (TCP) or SOCK_DGRAM (UDP); protocol 0 or the type's own
 * (IPPROTO_TCP, IPPROTO_UDP). The first socket starts the network
 * (net.devargs, docs/network.md); programs that use only pipes and memory
 * queues never open a device. The caller closes the queue with demi_close.
 * Returns 0, or: ENOSYS before demi_init; EINVAL for NULL sockqd_out;
 * EAFNOSUPPORT for another domain; EPROTONOSUPPORT for another type or
 * protocol; ENETDOWN when the network does not start (one log line says
 * what to fix: a missing interface, a bad net.* key); EMFILE when
 * queues.max queues are open; ENFILE when tcp.max_conns connections exist
 * (TCP); ENOMEM.
 * Source: Demikernel's demi_socket(3); errors beyond it as Linux's
 * socket(2).
 */
int demi_socket(int *sockqd_out, int domain, int type, int protocol);
/*
 * Marks stream socket sockqd as listening, with a queue of
 * backlog connections ready to accept (capped at tcp.backlog_max; 0 means
 * 1); binds an ephemeral port first if it is unbound; on a listener, only
 * changes the backlog. EINVAL for backlog < 0 or a socket that is connected
 * or connecting; EADDRINUSE (another listener has the port); EAGAIN (no
 * ephemeral port); EBADF if sockqd is not a socket; EOPNOTSUPP for a
 * datagram socket; ENOSYS before demi_init.
 * Source: Demikernel's demi_listen(3); Sluice's choices: docs/queue-api.md.
 */
int demi_listen(int sockqd, int backlog);
/*
 * Binds socket sockqd to addr (struct sockaddr_in, size bytes;
 * address 0 or ours, port 0 for an ephemeral one). EINVAL for a bad address
 * or size, a socket already bound (a stream socket: or not in CLOSED) or an
 * address not ours (UDP); EADDRNOTAVAIL for an address not ours (TCP, as
 * Linux); EADDRINUSE; EAGAIN when no ephemeral port is free; EBADF if
 * sockqd is not a socket; ENOSYS before demi_init.
 * Source: Demikernel's demi_bind(3); Sluice's choices: docs/queue-api.md.
 */
int demi_bind(int sockqd, const struct sockaddr *addr, socklen_t size);
/*
 * Starts accepting one connection on listening socket sockqd.
 * The token completes DEMI_OPC_ACCEPT with qr_value.ares.qd = a new socket
 * queue for the connection (the caller closes it) and ares.addr = its
 * peer; or DEMI_OPC_FAILED with EMFILE or ENOMEM when no queue can be made
 * (the connection waits for the next accept). Accepts complete in the
 * order they were made.
 * Returns EINVAL for NULL qt_out or a stream socket that does not listen;
 * EBADF if sockqd is not a socket; EOPNOTSUPP for a datagram socket; EAGAIN
 * when no token is free; ENOSYS before demi_init.
 * Source: Demikernel's demi_accept(3); Sluice's choices: docs/queue-api.md.
 */
int demi_accept(demi_qtoken_t *qt_out, int sockqd);
/*
 * Connects socket sockqd to addr.
 * A datagram socket: sets its peer at once; the token completes
 * DEMI_OPC_CONNECT, or FAILED with demi_bind's errors (of the
 * implicit bind).
 * A stream socket: sends the SYN (binding an ephemeral port first); the
 * token completes DEMI_OPC_CONNECT when the handshake is done, or FAILED
 * with ECONNREFUSED (RST), ETIMEDOUT (no answer after tcp.syn_retries),
 * ENETUNREACH, EHOSTUNREACH (ICMP, or ARP failed), ECONNABORTED. What
 * Linux's connect(2) refuses at once is returned by the call: EISCONN
 * (connected), EALREADY (connecting), EINVAL (listening), EADDRINUSE (the
 * 4-tuple is in use), EADDRNOTAVAIL (no ephemeral port), ENETUNREACH
 * (address 0, broadcast, no route).
 * Returns also EINVAL for NULL qt_out or a bad address or size; EBADF if
 * sockqd is not a socket; EAGAIN when no token is free; ENOSYS before
 * demi_init.
 * Source: Demikernel's demi_connect(3); Sluice's choices: docs/queue-api.md.
 */
int demi_connect(demi_qtoken_t *qt_out, int sockqd, const struct sockaddr *addr, socklen_t size);
/*
 * Closes queue qd. Its pending operations complete with
 * DEMI_OPC_FAILED and qr_ret ECANCELED; results already completed stay
 * readable. Returns 0, EBADF if qd is not open, ENOSYS before demi_init.
 * Source: Demikernel's demi_close(3); Sluice's choices: docs/queue-api.md.
 */
int demi_close(int qd);
/*
 * Pushes the bytes of sga to queue qd; *qt_out names the push, which
 * demi_wait* reports as DEMI_OPC_PUSH (the sga is echoed in qr_value.sga).
 * Ownership: an array from demi_sgaalloc (sga_buf set) may be freed at once:
 * the push keeps a reference until it is done with the memory (free
 * protection). Application memory (sga_buf NULL) must not change until the
 * push completes.
 * When it completes, per queue kind:
 *  - memory queue (dmtr_queue): at once; the bytes were copied;
 *  - pipe: when every byte is in the pipe's ring; fails with EPIPE when the
 *    other end has closed;
 *  - UDP socket: one datagram, when it is handed to the device; fails with
 *    EDESTADDRREQ (not connected: use demi_pushto), EMSGSIZE (over 65507
 *    bytes), ENETUNREACH, ENOBUFS, or demi_bind's errors of the implicit
 *    bind (EADDRINUSE, EAGAIN);
 *  - TCP socket: zero-copy, so it completes only when the peer has
 *    acknowledged every byte of it (docs/DESIGN.md "Decisions"), at least
 *    one round trip after it was sent, and possibly a delayed ACK (up to
 *    tcp.delack_ms) later. An application that waits for each push before
 *    the next sends at most one push per round trip: keep several pushes
 *    outstanding (or push larger arrays) to fill the window. Fails with
 *    EPIPE (shut down for writing, or the connection is closing), ENOTCONN
 *    (never connected), the connection's error (ECONNRESET, ETIMEDOUT, ...)
 *    when it dies before the bytes are acknowledged, or ENOBUFS when mbufs
 *    run out.
 * Every pending push fails with ECANCELED when qd is closed.
 * Returns 0, or: ENOSYS before demi_init; EINVAL for NULL qt_out, a NULL
 * sga, 0 or more than DEMI_SGARRAY_MAXSIZE segments, a NULL or zero-length
 * segment, an sga_buf Sluice did not hand out (or already freed), a segment
 * outside its array; EBADF if qd is not open; EAGAIN when no token is free
 * (2^20 outstanding); ENOMEM when a memory queue cannot copy.
 * Source: Demikernel's demi_push(3); the TCP completion rule and free
 * protection are Sluice's (docs/queue-api.md).
 */
int demi_push(demi_qtoken_t *qt_out, int qd, const demi_sgarray_t *sga);
/*
 * Sends sga on socket sockqd.
 * A datagram socket: one datagram to dest_addr; the token completes when
 * the datagram is handed to the device (an array of ours is sent zero-copy
 * and kept alive as long as the device needs it). Completes FAILED with
 * EMSGSIZE (over 65507 bytes), ENETUNREACH, ENOBUFS.
 * A stream socket: exactly demi_push (dest_addr is checked, then ignored,
 * as Linux ignores the address of sendto(2) on a connection-mode socket;
 * on a socket that never connected the push fails with ENOTCONN).
 * Returns EINVAL for NULL qt_out, a bad sga (as demi_push), a bad address
 * or size; EBADF if sockqd is not a socket; EAGAIN; ENOSYS before
 * demi_init.
 * Source: Demikernel's demi_pushto(3); Sluice's choices: docs/queue-api.md.
 */
int demi_pushto(demi_qtoken_t *qt_out, int sockqd, const demi_sgarray_t *sga,
                const struct sockaddr *dest_addr, socklen_t size);
/*
 * Pops the next data of queue qd; *qt_out names the pop. Its
 * result's qr_value.sga is a new array the caller owns (free it with
 * demi_sgafree); a pipe or connection at end of file gives one segment of
 * length 0 (free it too).
 * Returns 0; EINVAL for NULL qt_out; EBADF if qd is not open; EAGAIN when no
 * token is free; ENOSYS before demi_init.
 * Source: Demikernel's demi_pop(3); Sluice's choices: docs/queue-api.md.
 */
int demi_pop(demi_qtoken_t *qt_out, int qd);
/*
 * Sets option optname at level (optlen bytes at optval)
 * on socket qd. A stream socket takes, with Linux's rules: SOL_SOCKET
 * SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_SNDBUF, SO_RCVBUF (stored
 * doubled, as Linux), SO_LINGER (on with 0 s: demi_close resets);
 * IPPROTO_TCP TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
 * TCP_CONGESTION. A datagram socket takes SOL_SOCKET SO_REUSEADDR and
 * SO_REUSEPORT (socket(7): several sockets on one port, Linux's rules,
 * docs/queue-api.md).
 * Returns EINVAL for NULL optval, optlen 0, an int option with optlen <
 * sizeof(int) or a value out of range; ENOPROTOOPT for any other option
 * (never a silent 0); EBADF if qd is not a socket; ENOSYS before demi_init.
 * Source: Demikernel's demi_setsockopt(3); Sluice's choices: docs/queue-api.md.
 */
int demi_setsockopt(int qd, int level, int optname, const void *optval, socklen_t optlen);
/*
 * Reads option optname at level of socket qd into optval
 * (*optlen bytes of room in, bytes written out; truncated as Linux does).
 * A stream socket has the options of demi_setsockopt plus SO_ERROR (taken:
 * it clears), SO_TYPE, TCP_MAXSEG and TCP_INFO. A datagram socket has
 * SO_REUSEADDR and SO_REUSEPORT. Returns EINVAL for NULL optval or optlen or a bad *optlen;
 * ENOPROTOOPT for any other option; EBADF if qd is not a socket; ENOSYS
 * before demi_init.
 * Source: Demikernel's demi_getsockopt(3); Sluice's choices: docs/queue-api.md.
 */
int demi_getsockopt(int qd, int level, int optname, void *optval, socklen_t *optlen);
/*
 * The peer address of connected socket qd, into addr
 * (*addrlen bytes in, the address's size out). EINVAL for NULL addr or
 * addrlen; EBADF if qd is not a socket; ENOTCONN if it has no peer (a
 * stream socket that is not connected or connecting, a listener); ENOSYS
 * before demi_init.
 * Source: Demikernel's demi_getpeername(3); Sluice's choices: docs/queue-api.md.
 */
int demi_getpeername(int qd, struct sockaddr *addr, socklen_t *addrlen);
/*
 * The local address of socket qd (0.0.0.0:0 before it is
 * bound), as demi_getpeername.
 * Source: Demikernel's demi_getsockname(3); Sluice's choices: docs/queue-api.md.
 */
int demi_getsockname(int qd, struct sockaddr *addr, socklen_t *addrlen);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_LIBOS_H_IS_INCLUDED */
