/*
 * socket.c - the socket calls of demi/libos.h (demi_socket, demi_bind,
 * demi_listen, demi_accept, demi_connect, demi_pushto, the option and name
 * calls).
 *
 * The network stack has not landed yet: demi_socket checks its arguments
 * and then returns ENOTSUP, so no socket queue exists and every other call
 * here returns EBADF after checking its own arguments (errors per the seed
 * man pages: EINVAL for a bad pointer, address or size, EBADF when sockqd
 * is not a socket queue).
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <demi/libos.h>

#include "export.h"
#include "mbuf.h"
#include "queue.h"
#include "runtime.h"

/* The socket queue qd, or NULL (memory queues and pipes are not sockets). */
static struct queue *socket_get(int qd)
{
    struct queue *q = queue_get(qd);

    return q != NULL && q->kind == QUEUE_SOCKET ? q : NULL;
}

/* An IPv4 socket address: non-NULL, size at least sizeof(struct
 * sockaddr_in), family AF_INET. 0 or EINVAL (seeds: "does not point to a
 * valid socket address structure", "size is not valid"). */
static int check_sockaddr(const struct sockaddr *addr, socklen_t size)
{
    if (addr == NULL || size < (socklen_t)sizeof(struct sockaddr_in))
        return EINVAL;
    return addr->sa_family == AF_INET ? 0 : EINVAL;
}

/* Ops on sockets that exist once the stack lands. */
static int no_socket(int qd)
{
    return socket_get(qd) == NULL ? EBADF : ENOTSUP;
}

/**
 * demi_socket - creates a socket queue. domain AF_INET; type SOCK_STREAM or
 * SOCK_DGRAM; protocol 0 or the one of the type (IPPROTO_TCP, IPPROTO_UDP).
 * Returns EINVAL for NULL sockqd_out, EAFNOSUPPORT for another domain,
 * EPROTONOSUPPORT for another type or protocol, ENOSYS before demi_init,
 * and, until the network stack lands, ENOTSUP for valid arguments.
 */
SLUICE_API int demi_socket(int *sockqd_out, int domain, int type, int protocol)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (sockqd_out == NULL)
        return EINVAL;
    if (domain != AF_INET)
        return EAFNOSUPPORT;
    if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        return ENOTSUP;
    if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        return ENOTSUP;
    return EPROTONOSUPPORT;
}

/**
 * demi_bind - binds socket sockqd to addr (struct sockaddr_in, size bytes).
 * EINVAL for a bad address or size; EBADF if sockqd is not a socket;
 * ENOSYS before demi_init.
 */
SLUICE_API int demi_bind(int sockqd, const struct sockaddr *addr, socklen_t size)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    rc = check_sockaddr(addr, size);
    return rc ? rc : no_socket(sockqd);
}

/**
 * demi_listen - marks stream socket sockqd as listening with a queue of
 * backlog pending connections. EINVAL for backlog < 0; EBADF if sockqd is
 * not a socket; ENOSYS before demi_init.
 */
SLUICE_API int demi_listen(int sockqd, int backlog)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    return backlog < 0 ? EINVAL : no_socket(sockqd);
}

/**
 * demi_accept - starts accepting one connection on listening socket sockqd.
 * EINVAL for NULL qt_out; EBADF if sockqd is not a socket; ENOSYS before
 * demi_init.
 */
SLUICE_API int demi_accept(demi_qtoken_t *qt_out, int sockqd)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    return qt_out == NULL ? EINVAL : no_socket(sockqd);
}

/**
 * demi_connect - starts connecting socket sockqd to addr.
 * EINVAL for NULL qt_out or a bad address or size; EBADF if sockqd is not
 * a socket; ENOSYS before demi_init.
 */
SLUICE_API int demi_connect(demi_qtoken_t *qt_out, int sockqd, const struct sockaddr *addr, socklen_t size)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qt_out == NULL)
        return EINVAL;
    rc = check_sockaddr(addr, size);
    return rc ? rc : no_socket(sockqd);
}

/**
 * demi_pushto - pushes sga to dest_addr on socket sockqd.
 * EINVAL for NULL qt_out, a bad sga (as demi_push), a bad address or size;
 * EBADF if sockqd is not a socket; ENOSYS before demi_init.
 */
SLUICE_API int demi_pushto(demi_qtoken_t *qt_out, int sockqd, const demi_sgarray_t *sga,
                           const struct sockaddr *dest_addr, socklen_t size)
{
    struct rte_mbuf *m;
    int rc = runtime_check();

    if (rc)
        return rc;
    if (qt_out == NULL || sga_check(sga, &m) != 0)
        return EINVAL;
    rc = check_sockaddr(dest_addr, size);
    return rc ? rc : no_socket(sockqd);
}

/**
 * demi_setsockopt - sets option optname at level on socket qd from optval
 * (optlen bytes). EINVAL for NULL optval or optlen 0; EBADF if qd is not a
 * socket; ENOSYS before demi_init.
 */
SLUICE_API int demi_setsockopt(int qd, int level, int optname, const void *optval, socklen_t optlen)
{
    int rc = runtime_check();

    (void)level;
    (void)optname;
    if (rc)
        return rc;
    if (optval == NULL || optlen == 0)
        return EINVAL;
    return no_socket(qd);
}

/**
 * demi_getsockopt - reads option optname at level of socket qd into optval
 * (*optlen bytes in, bytes written out). EINVAL for NULL optval or optlen;
 * EBADF if qd is not a socket; ENOSYS before demi_init.
 */
SLUICE_API int demi_getsockopt(int qd, int level, int optname, void *optval, socklen_t *optlen)
{
    int rc = runtime_check();

    (void)level;
    (void)optname;
    if (rc)
        return rc;
    if (optval == NULL || optlen == NULL)
        return EINVAL;
    return no_socket(qd);
}

static int name_call(int qd, struct sockaddr *addr, socklen_t *addrlen)
{
    int rc = runtime_check();

    if (rc)
        return rc;
    if (addr == NULL || addrlen == NULL)
        return EINVAL;
    return no_socket(qd);
}

/**
 * demi_getpeername - the address of the peer of connected socket qd, into
 * addr (*addrlen bytes in, the address's size out). EINVAL for NULL addr or
 * addrlen; EBADF if qd is not a socket; ENOSYS before demi_init.
 */
SLUICE_API int demi_getpeername(int qd, struct sockaddr *addr, socklen_t *addrlen)
{
    return name_call(qd, addr, addrlen);
}

/**
 * demi_getsockname - the local address of socket qd, as demi_getpeername.
 */
SLUICE_API int demi_getsockname(int qd, struct sockaddr *addr, socklen_t *addrlen)
{
    return name_call(qd, addr, addrlen);
}
