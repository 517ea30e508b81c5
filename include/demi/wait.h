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

int demi_wait(demi_qresult_t *qr_out, demi_qtoken_t qt, const struct timespec *timeout);
int demi_wait_any(demi_qresult_t *qr_out, int *ready_offset, const demi_qtoken_t qts[], int num_qts,
                  const struct timespec *timeout);
int demi_wait_next_n(demi_qresult_t *qr_out, int qr_out_size, int *qr_written,
                     const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif /* DEMI_WAIT_H_IS_INCLUDED */
