/* test_abi.c - the public types have Demikernel's exact sizes and offsets
 * (packed demi_*), and the Demeter shapes for dmtr_*. */
#include <criterion/criterion.h>
#include <stddef.h>

#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/types.h>
#include <demi/wait.h>
#include <dmtr/libos.h>
#include <dmtr/sga.h>
#include <dmtr/types.h>
#include <dmtr/wait.h>

Test(abi, demi_sizes_match_demikernel)
{
    cr_assert_eq(sizeof(demi_sgaseg_t), 12);
    cr_assert_eq(sizeof(demi_sgarray_t), 40);
    cr_assert_eq(sizeof(demi_accept_result_t), 20);
    cr_assert_eq(sizeof(demi_qresult_t), 64);
    cr_assert_eq(sizeof(struct demi_args), 20);
    cr_assert_eq(sizeof(demi_qtoken_t), 8);
    cr_assert_eq(DEMI_SGARRAY_MAXSIZE, 1);
}

Test(abi, demi_offsets_match_demikernel)
{
    cr_assert_eq(offsetof(demi_sgaseg_t, sgaseg_len), 8);
    cr_assert_eq(offsetof(demi_sgarray_t, sga_numsegs), 8);
    cr_assert_eq(offsetof(demi_sgarray_t, sga_segs), 12);
    cr_assert_eq(offsetof(demi_sgarray_t, sga_addr), 24);
    cr_assert_eq(offsetof(demi_accept_result_t, addr), 4);
    cr_assert_eq(offsetof(demi_qresult_t, qr_qd), 4);
    cr_assert_eq(offsetof(demi_qresult_t, qr_qt), 8);
    cr_assert_eq(offsetof(demi_qresult_t, qr_ret), 16);
    cr_assert_eq(offsetof(demi_qresult_t, qr_value), 24);
    cr_assert_eq(offsetof(struct demi_args, argv), 4);
    cr_assert_eq(offsetof(struct demi_args, callback), 12);
}

Test(abi, demi_opcodes_in_demikernel_order)
{
    cr_assert_eq(DEMI_OPC_INVALID, 0);
    cr_assert_eq(DEMI_OPC_PUSH, 1);
    cr_assert_eq(DEMI_OPC_POP, 2);
    cr_assert_eq(DEMI_OPC_ACCEPT, 3);
    cr_assert_eq(DEMI_OPC_CONNECT, 4);
    cr_assert_eq(DEMI_OPC_CLOSE, 5);
    cr_assert_eq(DEMI_OPC_FAILED, 6);
}

Test(abi, dmtr_shapes_are_historical)
{
    /* not packed: natural alignment on LP64 */
    cr_assert_eq(sizeof(dmtr_sgaseg_t), 16);
    cr_assert_eq(offsetof(dmtr_sgarray_t, sga_numsegs), 8);
    cr_assert_eq(offsetof(dmtr_sgarray_t, sga_segs), 16);
    cr_assert_eq(offsetof(dmtr_sgarray_t, sga_addr), 32);
    cr_assert_eq(sizeof(dmtr_sgarray_t), 48);
    cr_assert_eq(DMTR_SGARRAY_MAXSIZE, 1);
    cr_assert_eq(sizeof(dmtr_qtoken_t), 8);
    cr_assert_eq(offsetof(dmtr_qresult_t, qr_qt), 8);
    cr_assert_eq(offsetof(dmtr_qresult_t, qr_value), 16);
    cr_assert_eq(offsetof(dmtr_accept_result_t, addr), 4);
    cr_assert_eq(DMTR_OPC_INVALID, 0);
    cr_assert_eq(DMTR_OPC_PUSH, 1);
    cr_assert_eq(DMTR_OPC_POP, 2);
    cr_assert_eq(DMTR_OPC_ACCEPT, 3);
    cr_assert_eq(DMTR_OPC_CONNECT, 4);
    cr_assert_eq(DMTR_OPC_FAILED, 5);
}
