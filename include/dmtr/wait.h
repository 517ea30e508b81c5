/* dmtr/wait.h - blocking waits of the Demeter API (no timeout). */
#ifndef DMTR_WAIT_H_IS_INCLUDED
#define DMTR_WAIT_H_IS_INCLUDED

#include <dmtr/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Blocks until qt completes; 0, the failed operation's errno,
 * or the errors of demi_wait.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_wait(dmtr_qresult_t *qr_out, dmtr_qtoken_t qt);
/*
 * Blocks until one of qts completes; as demi_wait_any.
 * Source: the Demeter dmtr API; Sluice's choices: docs/queue-api.md
 * ("Demeter differences").
 */
int dmtr_wait_any(dmtr_qresult_t *qr_out, int *ready_offset, dmtr_qtoken_t qts[], int num_qts);

#ifdef __cplusplus
}
#endif

#endif /* DMTR_WAIT_H_IS_INCLUDED */
