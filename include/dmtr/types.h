/*
 * dmtr/types.h - data types of the older Demeter API (dmtr_* documentation),
 * kept in their historical shapes: not packed, no qr_ret, one segment.
 * Every dmtr_* call is a thin wrapper over the same core as demi_*.
 */
#ifndef DMTR_TYPES_H_IS_INCLUDED
#define DMTR_TYPES_H_IS_INCLUDED

#include <netinet/in.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DMTR_SGARRAY_MAXSIZE 1

typedef uint64_t dmtr_qtoken_t;

typedef struct dmtr_sgaseg {
    void *sgaseg_buf;
    uint32_t sgaseg_len;
} dmtr_sgaseg_t;

typedef struct dmtr_sgarray {
    void *sga_buf;
    uint32_t sga_numsegs;
    dmtr_sgaseg_t sga_segs[DMTR_SGARRAY_MAXSIZE];
    struct sockaddr_in sga_addr;
} dmtr_sgarray_t;

typedef enum dmtr_opcode {
    DMTR_OPC_INVALID = 0,
    DMTR_OPC_PUSH,
    DMTR_OPC_POP,
    DMTR_OPC_ACCEPT,
    DMTR_OPC_CONNECT,
    DMTR_OPC_FAILED,
} dmtr_opcode_t;

typedef struct dmtr_accept_result {
    int qd;
    struct sockaddr_in addr;
} dmtr_accept_result_t;

typedef struct dmtr_qresult {
    dmtr_opcode_t qr_opcode;
    int qr_qd;
    dmtr_qtoken_t qr_qt;
    union {
        dmtr_sgarray_t sga;
        dmtr_accept_result_t ares;
    } qr_value;
} dmtr_qresult_t;

#ifdef __cplusplus
}
#endif

#endif /* DMTR_TYPES_H_IS_INCLUDED */
