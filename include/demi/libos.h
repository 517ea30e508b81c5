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

/* Starts Sluice: reads the config, starts DPDK, creates the mbuf pool.
 * args may be NULL. EEXIST on a second call, EINVAL for a bad config. */
int demi_init(const struct demi_args *args);

/* Creates a shared-memory pipe named name (1..200 bytes, no '/') and returns
 * its queue descriptor. EEXIST if the name is taken. */
int demi_create_pipe(int *memqd_out, const char *name);
/* Opens the other end of a pipe created with demi_create_pipe(). ENOENT if
 * there is no such pipe, EBUSY if its other end is already open. */
int demi_open_pipe(int *memqd_out, const char *name);

int demi_socket(int *sockqd_out, int domain, int type, int protocol);
int demi_listen(int sockqd, int backlog);
int demi_bind(int sockqd, const struct sockaddr *addr, socklen_t size);
int demi_accept(demi_qtoken_t *qt_out, int sockqd);
int demi_connect(demi_qtoken_t *qt_out, int sockqd, const struct sockaddr *addr, socklen_t size);
int demi_close(int qd);
int demi_push(demi_qtoken_t *qt_out, int qd, const demi_sgarray_t *sga);
int demi_pushto(demi_qtoken_t *qt_out, int sockqd, const demi_sgarray_t *sga,
                const struct sockaddr *dest_addr, socklen_t size);
int demi_pop(demi_qtoken_t *qt_out, int qd);
int demi_setsockopt(int qd, int level, int optname, const void *optval, socklen_t optlen);
int demi_getsockopt(int qd, int level, int optname, void *optval, socklen_t *optlen);
int demi_getpeername(int qd, struct sockaddr *addr, socklen_t *addrlen);
int demi_getsockname(int qd, struct sockaddr *addr, socklen_t *addrlen);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_LIBOS_H_IS_INCLUDED */
