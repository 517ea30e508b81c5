/* harness.h - helpers shared by the unit tests. Each Criterion test runs in
 * its own process, so each may call demi_init once. */
#ifndef SLUICE_TEST_HARNESS_H
#define SLUICE_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>

/* Seconds a test may run unless it sets its own .timeout (suites.c). */
#define T_SUITE_TIMEOUT_S 60
/* Arms that limit for the current test (the .init of every suite). */
void t_default_timeout(void);

/* demi_init(NULL), asserting success. */
void t_init(void);
/* Free mbufs in the pool (including per-core caches). */
unsigned t_pool_avail(void);
/* A new array of len bytes holding the bytes of data; asserts success. */
demi_sgarray_t t_sga_from(const void *data, size_t len);
/* Waits forever for qt, asserting the wait itself succeeds. */
demi_qresult_t t_wait(demi_qtoken_t qt);
/* Pushes len bytes of data to qd and waits for the push; asserts it completes. */
void t_push_bytes(int qd, const void *data, size_t len);
/* Fills buf with a deterministic pattern from *state (xorshift64). */
void t_pattern(uint64_t *state, uint8_t *buf, size_t len);
/* A pipe name unique to this process and tag. */
const char *t_pipe_name(const char *tag);
/* A zero timespec (poll) and a short one (ms). */
struct timespec t_ms(long ms);

#endif
