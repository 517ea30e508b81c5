/* dmtr/wait.h - blocking waits of the Demeter API (no timeout). */
#ifndef DMTR_WAIT_H_IS_INCLUDED
#define DMTR_WAIT_H_IS_INCLUDED

#include <dmtr/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks until qt completes and consumes it. Returns 0, or the errno of a
 * failed operation (qr_opcode DMTR_OPC_FAILED), or EINVAL for a bad token. */
int dmtr_wait(dmtr_qresult_t *qr_out, dmtr_qtoken_t qt);
/* Blocks until one of qts completes; *ready_offset is its index. */
int dmtr_wait_any(dmtr_qresult_t *qr_out, int *ready_offset, dmtr_qtoken_t qts[], int num_qts);

#ifdef __cplusplus
}
#endif

#endif /* DMTR_WAIT_H_IS_INCLUDED */
