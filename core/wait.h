/* wait.h - the wait loop shared by demi_wait* and dmtr_wait* / dmtr_poll. */
#ifndef SLUICE_WAIT_H
#define SLUICE_WAIT_H

#include <time.h>

#include "qtoken.h"

/* Returns a done op among those the waiter cares about, or NULL. */
typedef struct op *(*wait_ready_fn)(void *arg);

/* Drives the engine until ready(arg) returns an op (stored in *out, 0
 * returned) or timeout passes (ETIMEDOUT). timeout NULL waits forever;
 * EINVAL for a timeout with a negative field or tv_nsec >= 1e9. */
int wait_until(wait_ready_fn ready, void *arg, const struct timespec *timeout, struct op **out);

#endif
