/* test_sga.c - demi_sgaalloc / demi_sgafree: 1 B, one data room, above it
 * (external buffer), 64 KiB and 1 MiB; each one contiguous segment; the
 * pool's free count comes back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "runtime.h"

static void alloc_fill_check_free(size_t size)
{
    unsigned before = t_pool_avail();
    demi_sgarray_t sga = demi_sgaalloc(size);
    cr_assert_eq(sga.sga_numsegs, 1, "sgaalloc(%zu): errno %d", size, errno);
    cr_assert_not_null(sga.sga_buf);
    cr_assert_not_null(sga.sga_segs[0].sgaseg_buf);
    cr_assert_eq(sga.sga_segs[0].sgaseg_len, size);
    cr_assert_eq(t_pool_avail(), before - 1);
    uint8_t *p = sga.sga_segs[0].sgaseg_buf;
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < size; i++)
        cr_assert_eq(p[i], (uint8_t)(i * 7 + 3), "byte %zu of %zu", i, size);
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(t_pool_avail(), before);
}

Test(sga, alloc_one_byte)
{
    t_init();
    alloc_fill_check_free(1);
}

Test(sga, alloc_exactly_one_data_room)
{
    t_init();
    alloc_fill_check_free(g_rt.cfg.mbuf_data_room);
}

Test(sga, alloc_one_byte_more_than_a_room_is_external)
{
    t_init();
    alloc_fill_check_free(g_rt.cfg.mbuf_data_room + 1);
}

Test(sga, alloc_64KiB)
{
    t_init();
    alloc_fill_check_free(64 * 1024);
}

Test(sga, alloc_1MiB)
{
    t_init();
    alloc_fill_check_free(1024 * 1024);
}

Test(sga, arrays_do_not_overlap)
{
    t_init();
    demi_sgarray_t a = demi_sgaalloc(100), b = demi_sgaalloc(100);
    memset(a.sga_segs[0].sgaseg_buf, 'a', 100);
    memset(b.sga_segs[0].sgaseg_buf, 'b', 100);
    cr_assert_eq(((char *)a.sga_segs[0].sgaseg_buf)[99], 'a');
    cr_assert_eq(demi_sgafree(&a), 0);
    cr_assert_eq(demi_sgafree(&b), 0);
}

Test(sga, sub_span_of_an_array_may_be_pushed)
{
    t_init();
    int qd = -1;
    cr_assert_eq(demi_create_pipe(&qd, t_pipe_name("span")), 0);
    int peer = -1;
    cr_assert_eq(demi_open_pipe(&peer, t_pipe_name("span")), 0);
    demi_sgarray_t sga = t_sga_from("headerBODY", 10);
    demi_sgarray_t part = sga;
    part.sga_segs[0].sgaseg_buf = (char *)sga.sga_segs[0].sgaseg_buf + 6;
    part.sga_segs[0].sgaseg_len = 4;
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, qd, &part), 0);
    cr_assert_eq(t_wait(qt).qr_opcode, DEMI_OPC_PUSH);
    cr_assert_eq(demi_pop(&qt, peer), 0);
    demi_qresult_t qr = t_wait(qt);
    cr_assert_eq(qr.qr_value.sga.sga_segs[0].sgaseg_len, 4);
    cr_assert_arr_eq(qr.qr_value.sga.sga_segs[0].sgaseg_buf, "BODY", 4);
    demi_sgafree(&qr.qr_value.sga);
    demi_sgafree(&sga);
}
