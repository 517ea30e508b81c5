/*
 * sluice/socket.h - what a socket needs beyond the demi API (which has no
 * half-close). Functions return 0 or a positive errno, as demi_* do.
 */
#ifndef SLUICE_SOCKET_H
#define SLUICE_SOCKET_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * shutdown(2) on the TCP socket queue qd; how is SHUT_RD, SHUT_WR or
 * SHUT_RDWR from <sys/socket.h>.
 *  - SHUT_WR: a FIN goes out after the bytes already pushed (RFC 9293
 *    §3.6: the connection is half-closed, ESTABLISHED -> FIN-WAIT-1 or
 *    CLOSE-WAIT -> LAST-ACK); pops go on receiving until the peer closes;
 *    a later push fails with EPIPE.
 *  - SHUT_RD: receiving ends: bytes not yet popped are dropped, later data
 *    is acknowledged and dropped, and pops complete with end of stream (a
 *    zero-length segment).
 * A shutdown of a socket still connecting (SYN-SENT) with SHUT_WR ends the
 * attempt (RFC 9293 §3.10.4); its connect fails.
 * Errors: ENOSYS before demi_init; EINVAL for another how; EBADF when qd
 * is not a socket; EOPNOTSUPP for a datagram socket; ENOTCONN when the
 * socket is not connected (never connected, listening, or closed).
 * Source: shutdown(2) as Linux does it; RFC 9293 §3.6 and §3.10.4.
 */
int sluice_shutdown(int qd, int how);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_SOCKET_H */
