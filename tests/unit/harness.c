/* harness.c - see harness.h. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_mempool.h>

#include "runtime.h"

void t_init(void)
{
    int rc = demi_init(NULL);
    cr_assert_eq(rc, 0, "demi_init failed: %d (%s)", rc, strerror(rc));
}

unsigned t_pool_avail(void)
{
    return rte_mempool_avail_count(g_rt.pool);
}

demi_sgarray_t t_sga_from(const void *data, size_t len)
{
    demi_sgarray_t sga = demi_sgaalloc(len);

    cr_assert_eq(sga.sga_numsegs, 1, "demi_sgaalloc(%zu) failed: errno %d", len, errno);
    memcpy(sga.sga_segs[0].sgaseg_buf, data, len);
    return sga;
}

demi_qresult_t t_wait(demi_qtoken_t qt)
{
    demi_qresult_t qr;
    int rc = demi_wait(&qr, qt, NULL);

    cr_assert_eq(rc, 0, "demi_wait: %d", rc);
    return qr;
}

void t_push_bytes(int qd, const void *data, size_t len)
{
    demi_sgarray_t sga = t_sga_from(data, len);
    demi_qtoken_t qt;

    cr_assert_eq(demi_push(&qt, qd, &sga), 0);
    demi_qresult_t qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_PUSH, "push completed with opcode %d ret %ld", qr.qr_opcode,
                 (long)qr.qr_ret);
    cr_assert_eq(demi_sgafree(&sga), 0);
}

void t_pattern(uint64_t *state, uint8_t *buf, size_t len)
{
    uint64_t x = *state;

    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    *state = x;
}

const char *t_pipe_name(const char *tag)
{
    static char name[128];

    snprintf(name, sizeof(name), "t-%s-%ld", tag, (long)getpid());
    return name;
}

struct timespec t_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    return ts;
}
