/* test_leak.c - nothing leaks: after a million push/pop/wait cycles the
 * mbuf pool's free count and the token table are where they started. */
#include <criterion/criterion.h>
#include <string.h>

#include <dmtr/libos.h>

#include "harness.h"
#include "qtoken.h"
#include "queue.h"

Test(leak, million_memq_cycles_return_every_mbuf, .timeout = 300)
{
    t_init();
    int qd = -1;
    cr_assert_eq(dmtr_queue(&qd), 0);
    unsigned before = t_pool_avail();
    for (uint32_t i = 0; i < 1000000; i++) {
        demi_sgarray_t sga = demi_sgaalloc(sizeof(i));
        cr_assert_eq(sga.sga_numsegs, 1, "cycle %u: pool empty", i);
        memcpy(sga.sga_segs[0].sgaseg_buf, &i, sizeof(i));
        demi_qtoken_t qt;
        demi_qresult_t qr;
        cr_assert_eq(demi_push(&qt, qd, &sga), 0);
        cr_assert_eq(demi_wait(&qr, qt, NULL), 0);
        cr_assert_eq(demi_sgafree(&sga), 0);
        cr_assert_eq(demi_pop(&qt, qd), 0);
        cr_assert_eq(demi_wait(&qr, qt, NULL), 0);
        cr_assert_eq(memcmp(qr.qr_value.sga.sga_segs[0].sgaseg_buf, &i, sizeof(i)), 0, "cycle %u", i);
        cr_assert_eq(demi_sgafree(&qr.qr_value.sga), 0);
    }
    cr_assert_eq(t_pool_avail(), before);
    cr_assert_eq(qtoken_outstanding(), 0);
}

Test(leak, pipe_cycles_return_every_mbuf, .timeout = 300)
{
    t_init();
    int a = -1, b = -1;
    cr_assert_eq(demi_create_pipe(&a, t_pipe_name("leak")), 0);
    cr_assert_eq(demi_open_pipe(&b, t_pipe_name("leak")), 0);
    unsigned before = t_pool_avail();
    for (uint32_t i = 0; i < 100000; i++) {
        demi_sgarray_t sga = demi_sgaalloc(sizeof(i));
        memcpy(sga.sga_segs[0].sgaseg_buf, &i, sizeof(i));
        demi_qtoken_t qt;
        demi_qresult_t qr;
        cr_assert_eq(demi_push(&qt, a, &sga), 0);
        cr_assert_eq(demi_wait(&qr, qt, NULL), 0);
        cr_assert_eq(demi_sgafree(&sga), 0);
        cr_assert_eq(demi_pop(&qt, b), 0);
        cr_assert_eq(demi_wait(&qr, qt, NULL), 0);
        cr_assert_eq(qr.qr_value.sga.sga_segs[0].sgaseg_len, sizeof(i));
        cr_assert_eq(memcmp(qr.qr_value.sga.sga_segs[0].sgaseg_buf, &i, sizeof(i)), 0, "cycle %u", i);
        cr_assert_eq(demi_sgafree(&qr.qr_value.sga), 0);
    }
    cr_assert_eq(t_pool_avail(), before);
    cr_assert_eq(qtoken_outstanding(), 0);
}

Test(leak, thousands_of_queues_open_and_close)
{
    t_init();
    static int qds[5000];
    for (int i = 0; i < 5000; i++)
        cr_assert_eq(dmtr_queue(&qds[i]), 0);
    cr_assert_eq(queue_count(), 5000);
    for (int i = 0; i < 5000; i++)
        cr_assert_eq(demi_close(qds[i]), 0);
    cr_assert_eq(queue_count(), 0);
}
