/*
 * dmtr/libos.h - Demeter queue calls (the Demeter dmtr_* API). Return 0 or a
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

/*
 * As demi_init; argv (argc > 1, argv[0] the program name)
 * are DPDK EAL arguments that replace the configured ones. EINVAL for
 * argc < 0 or a NULL argv with argc > 0; other errors as demi_init.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_init(int argc, char *argv[]);
/*
 * Opens an in-process FIFO queue (docs/DESIGN.md
 * "Decisions": FIFO, not the LIFO of the Demeter documentation). EINVAL
 * for NULL qd_out; EMFILE; ENOMEM; ENOSYS.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_queue(int *qd_out);
/*
 * As demi_socket.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_socket(int *qd_out, int domain, int type, int protocol);
/*
 * As demi_getsockname.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_getsockname(int qd, struct sockaddr *saddr, socklen_t *size);
/*
 * As demi_listen.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_listen(int fd, int backlog);
/*
 * As demi_bind.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_bind(int qd, const struct sockaddr *saddr, socklen_t size);
/*
 * As demi_accept.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_accept(dmtr_qtoken_t *qtok_out, int sockqd);
/*
 * Connects and blocks until the connection is up: 0, the
 * errno of a failed connect, or the errors of demi_connect.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_connect(int qd, const struct sockaddr *saddr, socklen_t size);
/*
 * As demi_close.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_close(int qd);
/*
 * *flag_out = 1 if qd is an open queue, else 0.
 * EINVAL for NULL flag_out; ENOSYS before dmtr_init.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_is_qd_valid(int *flag_out, int qd);
/*
 * As demi_push, with a Demeter array.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_push(dmtr_qtoken_t *qtok_out, int qd, const dmtr_sgarray_t *sga);
/*
 * As demi_pop.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_pop(dmtr_qtoken_t *qt_out, int qd);
/*
 * One pass of the engine, then: EAGAIN while qt is pending
 * (qt stays valid); on completion the result in *qr_out, the token consumed,
 * and 0 or the failed operation's errno. EINVAL for NULL qr_out or an
 * unknown token; ENOSYS before dmtr_init.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_poll(dmtr_qresult_t *qr_out, dmtr_qtoken_t qt);
/*
 * Abandons token qt: a pending operation is cancelled, an
 * unread popped array is freed. EINVAL for an unknown token; ENOSYS.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_drop(dmtr_qtoken_t qt);

#ifdef __cplusplus
}
#endif

#endif /* DMTR_LIBOS_H_IS_INCLUDED */
