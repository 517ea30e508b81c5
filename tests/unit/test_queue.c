/* test_queue.c - in-process memory queues: FIFO order, waiting pops,
 * ownership of popped arrays, close, descriptor reuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <dmtr/libos.h>

#include "harness.h"

static int memq(void)
{
    int qd = -1;
    cr_assert_eq(dmtr_queue(&qd), 0);
    cr_assert_geq(qd, 0);
    return qd;
}

static void expect_pop_bytes(int qd, const void *want, size_t len)
{
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    demi_qresult_t qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_POP);
    cr_assert_eq(qr.qr_qd, qd);
    cr_assert_eq(qr.qr_qt, qt);
    cr_assert_eq(qr.qr_ret, 0);
    cr_assert_eq(qr.qr_value.sga.sga_numsegs, 1);
    cr_assert_eq(qr.qr_value.sga.sga_segs[0].sgaseg_len, len);
    cr_assert_arr_eq(qr.qr_value.sga.sga_segs[0].sgaseg_buf, want, len);
    cr_assert_eq(demi_sgafree(&qr.qr_value.sga), 0);
}

Test(memq, items_leave_in_fifo_order)
{
    t_init();
    int qd = memq();
    for (int i = 0; i < 1000; i++)
        t_push_bytes(qd, &i, sizeof(i));
    for (int i = 0; i < 1000; i++)
        expect_pop_bytes(qd, &i, sizeof(i));
}

Test(memq, push_completes_at_once_with_push_opcode)
{
    t_init();
    int qd = memq();
    demi_sgarray_t sga = t_sga_from("abc", 3);
    demi_qtoken_t qt;
    demi_qresult_t qr;
    cr_assert_eq(demi_push(&qt, qd, &sga), 0);
    struct timespec zero = {0, 0};
    cr_assert_eq(demi_wait(&qr, qt, &zero), 0);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_PUSH);
    cr_assert_eq(qr.qr_qd, qd);
    cr_assert_eq(demi_sgafree(&sga), 0);
}

Test(memq, waiting_pops_are_served_in_order_by_later_pushes)
{
    t_init();
    int qd = memq();
    demi_qtoken_t p1, p2;
    demi_qresult_t qr;
    struct timespec zero = {0, 0};
    cr_assert_eq(demi_pop(&p1, qd), 0);
    cr_assert_eq(demi_pop(&p2, qd), 0);
    cr_assert_eq(demi_wait(&qr, p1, &zero), ETIMEDOUT);
    t_push_bytes(qd, "first", 5);
    t_push_bytes(qd, "second", 6);
    qr = t_wait(p2);
    cr_assert_arr_eq(qr.qr_value.sga.sga_segs[0].sgaseg_buf, "second", 6);
    demi_sgafree(&qr.qr_value.sga);
    qr = t_wait(p1);
    cr_assert_arr_eq(qr.qr_value.sga.sga_segs[0].sgaseg_buf, "first", 5);
    demi_sgafree(&qr.qr_value.sga);
}

Test(memq, popped_bytes_do_not_change_when_pusher_reuses_memory)
{
    t_init();
    int qd = memq();
    char app[8] = "payload";
    demi_sgarray_t sga = {.sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = app, .sgaseg_len = 7}}};
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, qd, &sga), 0);
    t_wait(qt);
    memcpy(app, "XXXXXXX", 7);
    expect_pop_bytes(qd, "payload", 7);
}

Test(memq, application_memory_push_is_copied)
{
    t_init();
    int qd = memq();
    uint8_t big[5000];
    uint64_t st = 7;
    t_pattern(&st, big, sizeof(big));
    demi_sgarray_t sga = {.sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = big, .sgaseg_len = sizeof(big)}}};
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, qd, &sga), 0);
    t_wait(qt);
    expect_pop_bytes(qd, big, sizeof(big));
}

Test(memq, completed_pop_stays_readable_after_close)
{
    t_init();
    int qd = memq();
    t_push_bytes(qd, "kept", 4);
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    cr_assert_eq(demi_close(qd), 0);
    demi_qresult_t qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_POP);
    cr_assert_arr_eq(qr.qr_value.sga.sga_segs[0].sgaseg_buf, "kept", 4);
    cr_assert_eq(demi_sgafree(&qr.qr_value.sga), 0);
}

Test(memq, close_frees_queued_items)
{
    t_init();
    unsigned before = t_pool_avail();
    int qd = memq();
    for (int i = 0; i < 100; i++)
        t_push_bytes(qd, &i, sizeof(i));
    cr_assert_lt(t_pool_avail(), before);
    cr_assert_eq(demi_close(qd), 0);
    cr_assert_eq(t_pool_avail(), before);
}

Test(memq, lowest_free_descriptor_is_reused)
{
    t_init();
    int a = memq(), b = memq(), c = memq();
    cr_assert_eq(b, a + 1);
    cr_assert_eq(c, b + 1);
    cr_assert_eq(demi_close(b), 0);
    cr_assert_eq(memq(), b);
}

Test(memq, token_of_closed_queue_result_is_taken_once)
{
    t_init();
    int qd = memq();
    demi_qtoken_t qt;
    demi_qresult_t qr;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    cr_assert_eq(demi_close(qd), 0);
    t_wait(qt);
    cr_assert_eq(demi_wait(&qr, qt, NULL), EINVAL, "a token's result is taken once");
}

Test(memq, stale_token_of_reused_slot_is_refused)
{
    t_init();
    int qd = memq();
    demi_qtoken_t old, fresh;
    demi_qresult_t qr;
    t_push_bytes(qd, "a", 1);
    cr_assert_eq(demi_pop(&old, qd), 0);
    t_wait(old);
    cr_assert_eq(demi_pop(&fresh, qd), 0); /* likely reuses old's slot */
    cr_assert_neq(old, fresh);
    struct timespec zero = {0, 0};
    cr_assert_eq(demi_wait(&qr, old, &zero), EINVAL);
    cr_assert_eq(demi_wait(&qr, fresh, &zero), ETIMEDOUT);
}

Test(memq, each_pop_gets_its_own_array)
{
    t_init();
    int qd = memq();
    t_push_bytes(qd, "one", 3);
    t_push_bytes(qd, "two", 3);
    demi_qtoken_t q1, q2;
    cr_assert_eq(demi_pop(&q1, qd), 0);
    cr_assert_eq(demi_pop(&q2, qd), 0);
    demi_qresult_t r1 = t_wait(q1), r2 = t_wait(q2);
    cr_assert_neq(r1.qr_value.sga.sga_buf, r2.qr_value.sga.sga_buf);
    cr_assert_eq(demi_sgafree(&r1.qr_value.sga), 0);
    cr_assert_arr_eq(r2.qr_value.sga.sga_segs[0].sgaseg_buf, "two", 3);
    cr_assert_eq(demi_sgafree(&r2.qr_value.sga), 0);
}
