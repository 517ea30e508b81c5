/* test_wait.c - token semantics of the wait family: wait, wait_any (picks
 * a ready token, reports its offset), wait_next_n, interval timeouts,
 * dmtr_drop. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <dmtr/libos.h>
#include <dmtr/sga.h>

#include "harness.h"
#include "engine.h"
#include "qtoken.h"

static int memq(void)
{
    int qd = -1;
    cr_assert_eq(dmtr_queue(&qd), 0);
    return qd;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

Test(wait, timeout_expires_after_the_interval_and_keeps_token)
{
    t_init();
    int qd = memq();
    demi_qtoken_t qt;
    demi_qresult_t qr;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    struct timespec ts = t_ms(50);
    uint64_t t0 = mono_ms();
    cr_assert_eq(demi_wait(&qr, qt, &ts), ETIMEDOUT);
    uint64_t took = mono_ms() - t0;
    cr_assert_geq(took, 50, "returned after %lu ms", (unsigned long)took);
    t_push_bytes(qd, "late", 4);
    qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_POP, "the token is still valid after a timeout");
    demi_sgafree(&qr.qr_value.sga);
}

Test(wait, zero_timeout_polls_once)
{
    t_init();
    int qd = memq();
    demi_qtoken_t qt;
    demi_qresult_t qr;
    struct timespec zero = {0, 0};
    cr_assert_eq(demi_pop(&qt, qd), 0);
    cr_assert_eq(demi_wait(&qr, qt, &zero), ETIMEDOUT);
    t_push_bytes(qd, "x", 1);
    cr_assert_eq(demi_wait(&qr, qt, &zero), 0);
    demi_sgafree(&qr.qr_value.sga);
}

Test(wait, wait_any_picks_the_ready_token_and_reports_its_offset)
{
    t_init();
    int a = memq(), b = memq(), c = memq();
    demi_qtoken_t qts[3];
    demi_qresult_t qr;
    int off = -1;
    cr_assert_eq(demi_pop(&qts[0], a), 0);
    cr_assert_eq(demi_pop(&qts[1], b), 0);
    cr_assert_eq(demi_pop(&qts[2], c), 0);
    t_push_bytes(c, "c", 1);
    cr_assert_eq(demi_wait_any(&qr, &off, qts, 3, NULL), 0);
    cr_assert_eq(off, 2);
    cr_assert_eq(qr.qr_qt, qts[2]);
    cr_assert_eq(qr.qr_qd, c);
    cr_assert_eq(*(char *)qr.qr_value.sga.sga_segs[0].sgaseg_buf, 'c');
    demi_sgafree(&qr.qr_value.sga);
    /* the others are still pending and valid */
    struct timespec zero = {0, 0};
    cr_assert_eq(demi_wait_any(&qr, &off, qts, 2, &zero), ETIMEDOUT);
    t_push_bytes(a, "a", 1);
    cr_assert_eq(demi_wait_any(&qr, &off, qts, 2, NULL), 0);
    cr_assert_eq(off, 0);
    demi_sgafree(&qr.qr_value.sga);
}

Test(wait, wait_any_takes_only_one_of_several_ready)
{
    t_init();
    int a = memq(), b = memq();
    demi_qtoken_t qts[2];
    demi_qresult_t qr;
    int off = -1;
    t_push_bytes(a, "a", 1);
    t_push_bytes(b, "b", 1);
    cr_assert_eq(demi_pop(&qts[0], a), 0);
    cr_assert_eq(demi_pop(&qts[1], b), 0);
    cr_assert_eq(demi_wait_any(&qr, &off, qts, 2, NULL), 0);
    cr_assert_eq(off, 0, "the first ready token in array order");
    demi_sgafree(&qr.qr_value.sga);
    qr = t_wait(qts[1]);
    cr_assert_eq(*(char *)qr.qr_value.sga.sga_segs[0].sgaseg_buf, 'b');
    demi_sgafree(&qr.qr_value.sga);
}

Test(wait, wait_any_many_tokens)
{
    t_init();
    enum { N = 200 };
    int qd = memq();
    demi_qtoken_t qts[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(demi_pop(&qts[i], qd), 0);
    t_push_bytes(qd, "z", 1); /* completes the oldest pop */
    demi_qresult_t qr;
    int off = -1;
    cr_assert_eq(demi_wait_any(&qr, &off, qts, N, NULL), 0);
    cr_assert_eq(off, 0);
    demi_sgafree(&qr.qr_value.sga);
}

Test(wait, wait_next_n_returns_completions_oldest_first)
{
    t_init();
    int qd = memq();
    demi_qtoken_t p[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(demi_pop(&p[i], qd), 0);
    t_push_bytes(qd, "0", 1);
    t_push_bytes(qd, "1", 1);
    t_push_bytes(qd, "2", 1);
    demi_qresult_t out[2];
    int n = -1;
    cr_assert_eq(demi_wait_next_n(out, 2, &n, NULL), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(out[0].qr_qt, p[0]);
    cr_assert_eq(out[1].qr_qt, p[1]);
    cr_assert_eq(*(char *)out[1].qr_value.sga.sga_segs[0].sgaseg_buf, '1');
    demi_sgafree(&out[0].qr_value.sga);
    demi_sgafree(&out[1].qr_value.sga);
    cr_assert_eq(demi_wait_next_n(out, 2, &n, NULL), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0].qr_qt, p[2]);
    demi_sgafree(&out[0].qr_value.sga);
}

Test(wait, wait_next_n_times_out_with_nothing_written)
{
    t_init();
    int qd = memq();
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    demi_qresult_t out[1];
    int n = -1;
    struct timespec ts = t_ms(10);
    cr_assert_eq(demi_wait_next_n(out, 1, &n, &ts), ETIMEDOUT);
    cr_assert_eq(n, 0);
}

Test(wait, wait_next_n_includes_push_completions)
{
    t_init();
    int qd = memq();
    demi_sgarray_t sga = t_sga_from("p", 1);
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, qd, &sga), 0);
    demi_qresult_t out[4];
    int n = 0;
    cr_assert_eq(demi_wait_next_n(out, 4, &n, NULL), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0].qr_opcode, DEMI_OPC_PUSH);
    cr_assert_eq(out[0].qr_qt, qt);
    demi_sgafree(&sga);
}

Test(wait, drop_of_pending_pop_leaves_the_item_for_the_next_pop)
{
    t_init();
    int qd = memq();
    demi_qtoken_t dropped, next;
    cr_assert_eq(demi_pop(&dropped, qd), 0);
    cr_assert_eq(dmtr_drop(dropped), 0);
    t_push_bytes(qd, "kept", 4);
    cr_assert_eq(demi_pop(&next, qd), 0);
    demi_qresult_t qr = t_wait(next);
    cr_assert_arr_eq(qr.qr_value.sga.sga_segs[0].sgaseg_buf, "kept", 4);
    demi_sgafree(&qr.qr_value.sga);
    demi_qresult_t r;
    cr_assert_eq(demi_wait(&r, dropped, NULL), EINVAL, "a dropped token is gone");
}

Test(wait, drop_of_completed_pop_frees_its_array)
{
    t_init();
    int qd = memq();
    unsigned before = t_pool_avail();
    t_push_bytes(qd, "x", 1);
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    cr_assert_eq(t_pool_avail(), before - 1);
    cr_assert_eq(dmtr_drop(qt), 0);
    cr_assert_eq(t_pool_avail(), before);
    cr_assert_eq(qtoken_outstanding(), 0);
}

Test(wait, drop_twice_is_einval)
{
    t_init();
    int qd = memq();
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, qd), 0);
    cr_assert_eq(dmtr_drop(qt), 0);
    cr_assert_eq(dmtr_drop(qt), EINVAL);
}

/* The stack plugs into the engine's poll hook; a wait must keep calling it
 * with a moving clock until the hook's work completes the token. */
struct hook_state {
    int calls;
    int qd;
    uint64_t first_ns, last_ns;
};

static int push_on_fifth_call(void *ctx, uint64_t now_ns)
{
    struct hook_state *h = ctx;
    if (h->calls++ == 0)
        h->first_ns = now_ns;
    h->last_ns = now_ns;
    if (h->calls != 5)
        return 0;
    char b = 'h';
    demi_sgarray_t sga = {.sga_numsegs = 1, .sga_segs = {{.sgaseg_buf = &b, .sgaseg_len = 1}}};
    demi_qtoken_t qt;
    demi_qresult_t qr;
    cr_assert_eq(demi_push(&qt, h->qd, &sga), 0);
    cr_assert_eq(demi_wait(&qr, qt, NULL), 0, "a hook may complete its own push");
    return 1;
}

Test(wait, wait_drives_the_poll_hook_until_its_work_completes)
{
    t_init();
    struct hook_state h = {.qd = memq()};
    demi_qtoken_t qt;
    cr_assert_eq(demi_pop(&qt, h.qd), 0);
    engine_set_poll_hook(push_on_fifth_call, &h);
    demi_qresult_t qr = t_wait(qt);
    engine_set_poll_hook(NULL, NULL);
    cr_assert_eq(h.calls, 5);
    cr_assert_geq(h.last_ns, h.first_ns);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_POP);
    cr_assert_eq(*(char *)qr.qr_value.sga.sga_segs[0].sgaseg_buf, 'h');
    demi_sgafree(&qr.qr_value.sga);
}

Test(wait, dmtr_poll_runs_one_engine_pass)
{
    t_init();
    struct hook_state h = {.qd = memq()};
    dmtr_qtoken_t qt;
    dmtr_qresult_t qr;
    cr_assert_eq(dmtr_pop(&qt, h.qd), 0);
    engine_set_poll_hook(push_on_fifth_call, &h);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(dmtr_poll(&qr, qt), EAGAIN);
    cr_assert_eq(h.calls, 4, "one pass per poll");
    cr_assert_eq(dmtr_poll(&qr, qt), 0);
    engine_set_poll_hook(NULL, NULL);
    cr_assert_eq(qr.qr_opcode, DMTR_OPC_POP);
    dmtr_sgafree(&qr.qr_value.sga);
}
