/* test_dmtr.c - the Demeter API over the same core: FIFO queue, poll,
 * wait, wait_any, drop, failed operations reported by return value. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <dmtr/libos.h>
#include <dmtr/sga.h>
#include <dmtr/wait.h>

#include "qtoken.h"

static void init(void)
{
    cr_assert_eq(dmtr_init(0, NULL), 0);
}

static void push_str(int qd, const char *s)
{
    dmtr_sgarray_t sga;
    dmtr_qtoken_t qt;
    dmtr_qresult_t qr;
    cr_assert_eq(dmtr_sgaalloc(&sga, strlen(s)), 0);
    memcpy(sga.sga_segs[0].sgaseg_buf, s, strlen(s));
    cr_assert_eq(dmtr_push(&qt, qd, &sga), 0);
    cr_assert_eq(dmtr_wait(&qr, qt), 0);
    cr_assert_eq(qr.qr_opcode, DMTR_OPC_PUSH);
    cr_assert_eq(dmtr_sgafree(&sga), 0);
}

static void pop_expect(int qd, const char *s)
{
    dmtr_qtoken_t qt;
    dmtr_qresult_t qr;
    cr_assert_eq(dmtr_pop(&qt, qd), 0);
    cr_assert_eq(dmtr_wait(&qr, qt), 0);
    cr_assert_eq(qr.qr_opcode, DMTR_OPC_POP);
    cr_assert_eq(qr.qr_qd, qd);
    cr_assert_eq(qr.qr_value.sga.sga_segs[0].sgaseg_len, strlen(s));
    cr_assert_arr_eq(qr.qr_value.sga.sga_segs[0].sgaseg_buf, s, strlen(s));
    cr_assert_eq(dmtr_sgafree(&qr.qr_value.sga), 0);
}

Test(dmtr, queue_is_fifo)
{
    init();
    int qd;
    cr_assert_eq(dmtr_queue(&qd), 0);
    push_str(qd, "first");
    push_str(qd, "second");
    push_str(qd, "third");
    pop_expect(qd, "first");
    pop_expect(qd, "second");
    pop_expect(qd, "third");
}

Test(dmtr, poll_returns_eagain_then_the_result)
{
    init();
    int qd;
    dmtr_qtoken_t qt;
    dmtr_qresult_t qr;
    cr_assert_eq(dmtr_queue(&qd), 0);
    cr_assert_eq(dmtr_pop(&qt, qd), 0);
    cr_assert_eq(dmtr_poll(&qr, qt), EAGAIN);
    push_str(qd, "x");
    cr_assert_eq(dmtr_poll(&qr, qt), 0);
    cr_assert_eq(qr.qr_opcode, DMTR_OPC_POP);
    cr_assert_eq(qr.qr_qt, qt);
    cr_assert_eq(dmtr_sgafree(&qr.qr_value.sga), 0);
    cr_assert_eq(dmtr_poll(&qr, qt), EINVAL, "the result was taken");
}

Test(dmtr, failed_operation_returns_its_errno)
{
    init();
    int qd;
    dmtr_qtoken_t qt;
    dmtr_qresult_t qr;
    cr_assert_eq(dmtr_queue(&qd), 0);
    cr_assert_eq(dmtr_pop(&qt, qd), 0);
    cr_assert_eq(dmtr_close(qd), 0);
    cr_assert_eq(dmtr_wait(&qr, qt), ECANCELED);
    cr_assert_eq(qr.qr_opcode, DMTR_OPC_FAILED);
}

Test(dmtr, wait_any_reports_offset)
{
    init();
    int a, b;
    dmtr_qtoken_t qts[2];
    dmtr_qresult_t qr;
    int off = -1;
    cr_assert_eq(dmtr_queue(&a), 0);
    cr_assert_eq(dmtr_queue(&b), 0);
    cr_assert_eq(dmtr_pop(&qts[0], a), 0);
    cr_assert_eq(dmtr_pop(&qts[1], b), 0);
    push_str(b, "b");
    cr_assert_eq(dmtr_wait_any(&qr, &off, qts, 2), 0);
    cr_assert_eq(off, 1);
    cr_assert_eq(qr.qr_qd, b);
    cr_assert_eq(dmtr_sgafree(&qr.qr_value.sga), 0);
    cr_assert_eq(dmtr_drop(qts[0]), 0);
    cr_assert_eq(qtoken_outstanding(), 0);
}

Test(dmtr, is_qd_valid_tracks_open_and_close)
{
    init();
    int qd, flag = -1;
    cr_assert_eq(dmtr_queue(&qd), 0);
    cr_assert_eq(dmtr_is_qd_valid(&flag, qd), 0);
    cr_assert_eq(flag, 1);
    cr_assert_eq(dmtr_close(qd), 0);
    cr_assert_eq(dmtr_is_qd_valid(&flag, qd), 0);
    cr_assert_eq(flag, 0);
    cr_assert_eq(dmtr_is_qd_valid(NULL, qd), EINVAL);
}

Test(dmtr, init_takes_eal_arguments)
{
    char *argv[] = {"prog", "--no-huge", "-m", "128", "--no-shconf", "--no-pci", "--no-telemetry",
                    "--log-level=4", NULL};
    cr_assert_eq(dmtr_init(8, argv), 0);
    int qd;
    cr_assert_eq(dmtr_queue(&qd), 0);
    push_str(qd, "eal");
    pop_expect(qd, "eal");
    cr_assert_eq(dmtr_init(0, NULL), EEXIST);
}

Test(dmtr, init_with_bad_eal_argument_fails_cleanly)
{
    char *argv[] = {"prog", "--no-such-eal-option", NULL};
    int rc = dmtr_init(2, argv);
    cr_assert(rc == EINVAL || rc == EIO, "got %d", rc);
    cr_assert_eq(dmtr_queue(&rc), ENOSYS);
}

Test(dmtr, push_of_bad_array_returns_einval)
{
    init();
    int qd;
    dmtr_qtoken_t qt;
    cr_assert_eq(dmtr_queue(&qd), 0);
    dmtr_sgarray_t empty;
    memset(&empty, 0, sizeof(empty));
    cr_assert_eq(dmtr_push(&qt, qd, &empty), EINVAL);
    cr_assert_eq(dmtr_push(&qt, qd, NULL), EINVAL);
    cr_assert_eq(dmtr_sgafree(NULL), EINVAL);
}
