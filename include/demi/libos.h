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

/* Starts Sluice: reads the config (SLUICE_CONFIG, SLUICE_*), starts DPDK's
 * EAL (hugepages when free, else --no-huge) and creates the mbuf pool.
 * args may be NULL; its argv are the program's and are not parsed.
 * Errors: EEXIST already started; EINVAL bad args, config (logged with key
 * and line) or EAL arguments; EIO DPDK did not start (logged with a fix);
 * ENOMEM the pool could not be created. Seeds: demi_init. */
int demi_init(const struct demi_args *args);

/* Creates the shared-memory pipe name (1..200 bytes of [A-Za-z0-9._-]) and
 * opens its first end into *memqd_out: a duplex byte stream to the process
 * that opens it with demi_open_pipe (docs/queue-api.md).
 * Errors: EINVAL NULL argument or bad name; EEXIST name taken; EMFILE
 * queues.max open; ENOMEM. */
int demi_create_pipe(int *memqd_out, const char *name);
/* Opens the second end of pipe name into *memqd_out.
 * Errors: EINVAL as above; ENOENT no such pipe; EBUSY second end already
 * open; EPROTO not a Sluice pipe; EMFILE; ENOMEM. */
int demi_open_pipe(int *memqd_out, const char *name);

/* Creates a socket queue: domain AF_INET, type SOCK_STREAM or SOCK_DGRAM,
 * protocol 0 or the type's own. Errors: EINVAL NULL sockqd_out;
 * EAFNOSUPPORT other domain; EPROTONOSUPPORT other type or protocol;
 * ENOTSUP until the network stack lands. */
int demi_socket(int *sockqd_out, int domain, int type, int protocol);
/* Errors: EINVAL backlog < 0; EBADF sockqd is not a socket. */
int demi_listen(int sockqd, int backlog);
/* addr: a struct sockaddr_in of family AF_INET, size >= its size.
 * Errors: EINVAL bad addr or size; EBADF sockqd is not a socket. */
int demi_bind(int sockqd, const struct sockaddr *addr, socklen_t size);
/* Starts accepting one connection; the result's qr_value.ares holds it.
 * Errors: EINVAL NULL qt_out; EBADF sockqd is not a socket. */
int demi_accept(demi_qtoken_t *qt_out, int sockqd);
/* Starts connecting to addr (as demi_bind). Errors: EINVAL NULL qt_out, bad
 * addr or size; EBADF sockqd is not a socket. Seeds: demi_connect. */
int demi_connect(demi_qtoken_t *qt_out, int sockqd, const struct sockaddr *addr, socklen_t size);
/* Closes qd; its pending operations complete DEMI_OPC_FAILED with
 * ECANCELED, completed results stay readable. Errors: EBADF not open. */
int demi_close(int qd);
/* Pushes the bytes of sga (zero-copy where the queue allows: do not change
 * the memory until the push completes; an array from demi_sgaalloc may be
 * freed at once). Errors: EINVAL NULL qt_out, NULL sga, 0 or too many
 * segments, a NULL or zero-length segment, an sga_buf Sluice did not hand
 * out or already freed, a segment outside its array; EBADF qd not open;
 * EAGAIN no token free; ENOMEM a memory queue could not copy.
 * Seeds: demi_push. */
int demi_push(demi_qtoken_t *qt_out, int qd, const demi_sgarray_t *sga);
/* As demi_push, to dest_addr (as demi_bind). Errors: those of demi_push and
 * demi_bind; EBADF sockqd is not a socket. Seeds: demi_pushto. */
int demi_pushto(demi_qtoken_t *qt_out, int sockqd, const demi_sgarray_t *sga,
                const struct sockaddr *dest_addr, socklen_t size);
/* Pops the next data of qd into a new array the caller owns (free it with
 * demi_sgafree). End of file is one segment of length 0.
 * Errors: EINVAL NULL qt_out; EBADF qd not open; EAGAIN no token free. */
int demi_pop(demi_qtoken_t *qt_out, int qd);
/* Errors: EINVAL NULL optval or optlen 0; EBADF qd is not a socket. */
int demi_setsockopt(int qd, int level, int optname, const void *optval, socklen_t optlen);
/* *optlen: bytes of optval in, bytes written out.
 * Errors: EINVAL NULL optval or optlen; EBADF qd is not a socket. */
int demi_getsockopt(int qd, int level, int optname, void *optval, socklen_t *optlen);
/* *addrlen: bytes of addr in, the address's size out.
 * Errors: EINVAL NULL addr or addrlen; EBADF qd is not a socket. */
int demi_getpeername(int qd, struct sockaddr *addr, socklen_t *addrlen);
/* As demi_getpeername, for the local address. */
int demi_getsockname(int qd, struct sockaddr *addr, socklen_t *addrlen);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_LIBOS_H_IS_INCLUDED */
