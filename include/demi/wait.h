/*
 * demi/wait.h - waiting for asynchronous operations.
 *
 * Timeouts are intervals (not deadlines); NULL waits forever and {0, 0}
 * polls once. A wait that runs out returns ETIMEDOUT and leaves its tokens
 * valid. A wait that returns 0 has consumed the token it reports.
 */
#ifndef DEMI_WAIT_H_IS_INCLUDED
#define DEMI_WAIT_H_IS_INCLUDED

#include <demi/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Waits for the operation of token qt and takes its result.
 * @qr_out: where the result goes (caller's memory).
 * @timeout: interval; NULL waits forever, {0, 0} polls once.
 * Returns 0 with *qr_out filled and qt consumed (a failed operation is
 * qr_opcode DEMI_OPC_FAILED, qr_ret its errno); ETIMEDOUT when the interval
 * passes (qt stays valid); EINVAL for a NULL qr_out, an unknown or consumed
 * token, or a bad timeout; ENOSYS before demi_init.
 * Source: Demikernel's demi_wait(3); Sluice's choices: docs/queue-api.md.
 */
int demi_wait(demi_qresult_t *qr_out, demi_qtoken_t qt, const struct timespec *timeout);
/*
 * Waits until one of the num_qts tokens completes.
 * The first done token in array order is taken: its result goes to *qr_out
 * and its index to *ready_offset; the others stay valid.
 * Returns 0; ETIMEDOUT (all tokens stay valid); EINVAL for NULL qr_out,
 * ready_offset or qts, num_qts < 1, any unknown token, or a bad timeout;
 * ENOMEM if the token list cannot be held; ENOSYS before demi_init.
 * Source: Demikernel's demi_wait_any(3); Sluice's choices: docs/queue-api.md.
 */
int demi_wait_any(demi_qresult_t *qr_out, int *ready_offset, const demi_qtoken_t qts[], int num_qts,
                  const struct timespec *timeout);
/*
 * Waits until at least one operation of any queue has
 * completed, then takes up to qr_out_size completed results, oldest
 * completion first, into qr_out[0..*qr_written).
 * Returns 0 with *qr_written >= 1; ETIMEDOUT with *qr_written = 0; EINVAL
 * for NULL qr_out or qr_written, qr_out_size < 1, a bad timeout, or a NULL
 * timeout while no token is outstanding (it could never return); ENOSYS
 * before demi_init.
 * Source: Demikernel's demi_wait_next_n(3); Sluice's choices: docs/queue-api.md.
 */
int demi_wait_next_n(demi_qresult_t *qr_out, int qr_out_size, int *qr_written,
                     const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_WAIT_H_IS_INCLUDED */
