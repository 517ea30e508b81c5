/*
 * tcp_socket.h - the stream socket queue (tcp_socket.c): what udp_socket.c
 * calls once it has checked the caller's arguments and found that the
 * descriptor is a TCP socket. Every function returns 0 or -errno (core's
 * internal convention, docs/DESIGN.md "Errors": udp_socket.c's public calls
 * turn it into a positive errno); addresses and ports are in network byte
 * order.
 */
#ifndef SLUICE_TCP_SOCKET_H
#define SLUICE_TCP_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <rte_byteorder.h>

#include <demi/types.h>

struct queue;
struct stack;
struct tsock;

/* The stream socket behind queue q, or NULL when q is NULL or another kind
 * of queue (a UDP socket, a pipe, a memory queue). */
struct tsock *tsock_of(struct queue *q);

/* A new stream socket queue on stack st, in CLOSED; *qd_out gets its
 * descriptor. 0, -ENOMEM, -ENFILE (tcp.max_conns connections exist),
 * -EMFILE (queues.max queues are open), or what tcp_open returns. */
int tsock_new(struct stack *st, int *qd_out);

/* tcp_bind: 0, -EINVAL, -EADDRNOTAVAIL, -EADDRINUSE, -EAGAIN. */
int tsock_bind(struct tsock *ts, rte_be32_t addr, rte_be16_t port);

/* tcp_listen (backlog >= 0, checked by the caller): 0, -EINVAL (connected
 * or connecting), -EADDRINUSE, -EAGAIN. */
int tsock_listen(struct tsock *ts, int backlog);

/* Starts an accept on listener ts: the token completes DEMI_OPC_ACCEPT
 * with a new socket queue and its peer, or FAILED with EMFILE/ENOMEM when
 * no queue can be made (the connection stays ready for the next accept).
 * 0, -EINVAL (ts is not listening), -EAGAIN (no token free). */
int tsock_accept(struct tsock *ts, demi_qtoken_t *qt_out);

/* Starts an active open to addr:port: the token completes
 * DEMI_OPC_CONNECT once the handshake is done, or FAILED with the
 * connection's error (ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH,
 * ECONNRESET; ECONNABORTED if it closed without one). 0, or at once what
 * tcp_connect refuses (-EISCONN, -EALREADY, -EINVAL, -EADDRINUSE,
 * -EADDRNOTAVAIL, -ENETUNREACH), -EAGAIN (no token free). */
int tsock_connect(struct tsock *ts, rte_be32_t addr, rte_be16_t port, demi_qtoken_t *qt_out);

/* demi_pushto on a stream socket: a push (the address is ignored, as Linux
 * ignores it on a connection-mode socket). sga was checked by the caller.
 * 0 or -EAGAIN (no token free); a push tcp_send refuses completes FAILED
 * with that error (ENOBUFS when mbufs run out). */
int tsock_pushto(struct tsock *ts, const demi_sgarray_t *sga, demi_qtoken_t *qt_out);

/* tcp_setsockopt / tcp_getsockopt: 0, -EINVAL, -ENOPROTOOPT. */
int tsock_setsockopt(struct tsock *ts, int level, int optname, const void *optval, socklen_t optlen);
int tsock_getsockopt(struct tsock *ts, int level, int optname, void *optval, socklen_t *optlen);

/* tcp_shutdown (rd, wr as shutdown(2)'s how), then a poll pass so that a
 * pending pop sees end of stream: 0, -ENOTCONN. */
int tsock_shutdown(struct tsock *ts, bool rd, bool wr);

/* The local address (0.0.0.0:0 before bind). */
void tsock_local(const struct tsock *ts, rte_be32_t *addr, rte_be16_t *port);
/* The peer address: 0, or -ENOTCONN. */
int tsock_peer(const struct tsock *ts, rte_be32_t *addr, rte_be16_t *port);

#endif
