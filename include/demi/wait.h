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

/* Waits for qt and takes its result into *qr_out (qt is then consumed).
 * Errors: EINVAL NULL qr_out, unknown or consumed token, bad timeout
 * (negative field, tv_nsec >= 1e9); ETIMEDOUT. */
int demi_wait(demi_qresult_t *qr_out, demi_qtoken_t qt, const struct timespec *timeout);
/* Waits until one of qts[0..num_qts) completes; takes the first done one in
 * array order, its index in *ready_offset; the others stay valid.
 * Errors: EINVAL NULL pointer, num_qts < 1, an unknown token, bad timeout;
 * ENOMEM; ETIMEDOUT. */
int demi_wait_any(demi_qresult_t *qr_out, int *ready_offset, const demi_qtoken_t qts[], int num_qts,
                  const struct timespec *timeout);
/* Waits until any operation of any queue completes, then takes up to
 * qr_out_size results (oldest completion first) into qr_out[0..*qr_written).
 * Errors: EINVAL NULL pointer, qr_out_size < 1, bad timeout, or a NULL
 * timeout with no token outstanding; ETIMEDOUT (*qr_written = 0). */
int demi_wait_next_n(demi_qresult_t *qr_out, int qr_out_size, int *qr_written,
                     const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_WAIT_H_IS_INCLUDED */
