/*
 * dmtr/libos.h - Demeter queue calls (../seeds dmtr-api). Return 0 or a
 * positive errno. Since there is no qr_ret, the errno of a failed operation
 * is the return value of dmtr_poll/dmtr_wait/dmtr_wait_any, with qr_opcode
 * DMTR_OPC_FAILED.
 */
#ifndef DMTR_LIBOS_H_IS_INCLUDED
#define DMTR_LIBOS_H_IS_INCLUDED

#include <dmtr/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* argv (argc > 1) are DPDK EAL arguments and replace the configured ones. */
int dmtr_init(int argc, char *argv[]);
/* An in-process FIFO queue (the Demeter documentation says LIFO; see
 * docs/DESIGN.md "Decisions"). */
int dmtr_queue(int *qd_out);
int dmtr_socket(int *qd_out, int domain, int type, int protocol);
int dmtr_getsockname(int qd, struct sockaddr *saddr, socklen_t *size);
int dmtr_listen(int fd, int backlog);
int dmtr_bind(int qd, const struct sockaddr *saddr, socklen_t size);
int dmtr_accept(dmtr_qtoken_t *qtok_out, int sockqd);
/* Blocks until the connection is established or fails. */
int dmtr_connect(int qd, const struct sockaddr *saddr, socklen_t size);
int dmtr_close(int qd);
int dmtr_is_qd_valid(int *flag_out, int qd);
int dmtr_push(dmtr_qtoken_t *qtok_out, int qd, const dmtr_sgarray_t *sga);
int dmtr_pop(dmtr_qtoken_t *qt_out, int qd);
/* EAGAIN while the operation is pending; on completion consumes the token. */
int dmtr_poll(dmtr_qresult_t *qr_out, dmtr_qtoken_t qt);
/* Abandons the token (a pending operation is cancelled). */
int dmtr_drop(dmtr_qtoken_t qt);

#ifdef __cplusplus
}
#endif

#endif /* DMTR_LIBOS_H_IS_INCLUDED */
