/*
 * demi/types.h - data types of the Demikernel queue API (current C API).
 *
 * All structs are packed, exactly as in Demikernel's C headers, so that a
 * program built against Demikernel's headers and one built against these
 * agree byte for byte: demi_sgaseg_t 12 bytes, demi_sgarray_t 40,
 * demi_accept_result_t 20, demi_qresult_t 64, struct demi_args 20.
 */
#ifndef DEMI_TYPES_H_IS_INCLUDED
#define DEMI_TYPES_H_IS_INCLUDED

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Maximum number of segments in a scatter-gather array. */
#define DEMI_SGARRAY_MAXSIZE 1

/** An I/O queue token: names one asynchronous operation until its result is taken. */
typedef uint64_t demi_qtoken_t;

/** One segment of a scatter-gather array: a contiguous span of bytes. */
typedef struct __attribute__((__packed__)) demi_sgaseg {
    void *sgaseg_buf;    /**< First byte of the segment. */
    uint32_t sgaseg_len; /**< Length of the segment in bytes. */
} demi_sgaseg_t;

/** A scatter-gather array. */
typedef struct __attribute__((__packed__)) demi_sgarray {
    void *sga_buf;                                /**< Owner of the memory (Sluice: an rte_mbuf); NULL for memory the application owns. */
    uint32_t sga_numsegs;                         /**< Number of segments used, 1..DEMI_SGARRAY_MAXSIZE. */
    demi_sgaseg_t sga_segs[DEMI_SGARRAY_MAXSIZE]; /**< The segments. */
    struct sockaddr_in sga_addr;                  /**< Source address of a popped datagram. */
} demi_sgarray_t;

/** Opcodes of a completed asynchronous operation. */
typedef enum demi_opcode {
    DEMI_OPC_INVALID = 0, /**< Invalid operation. */
    DEMI_OPC_PUSH,        /**< Push completed. */
    DEMI_OPC_POP,         /**< Pop completed: qr_value.sga holds the data. */
    DEMI_OPC_ACCEPT,      /**< Accept completed: qr_value.ares holds the new queue. */
    DEMI_OPC_CONNECT,     /**< Connect completed. */
    DEMI_OPC_CLOSE,       /**< Close completed. */
    DEMI_OPC_FAILED,      /**< The operation failed: qr_ret holds the errno. */
} demi_opcode_t;

/** Result value of an accept operation. */
typedef struct __attribute__((__packed__)) demi_accept_result {
    int32_t qd;              /**< Queue descriptor of the accepted connection. */
    struct sockaddr_in addr; /**< Remote address of the accepted connection. */
} demi_accept_result_t;

/** Result of a completed asynchronous operation. */
typedef struct __attribute__((__packed__)) demi_qresult {
    demi_opcode_t qr_opcode; /**< What completed, or DEMI_OPC_FAILED. */
    int32_t qr_qd;           /**< Queue descriptor of the operation. */
    demi_qtoken_t qr_qt;     /**< Token of the operation. */
    int64_t qr_ret;          /**< 0, or the errno of a failed operation. */
    union __attribute__((__packed__)) {
        demi_sgarray_t sga;        /**< Pushed or popped scatter-gather array. */
        demi_accept_result_t ares; /**< Accept result. */
    } qr_value;
} demi_qresult_t;

/** Callback type of struct demi_args (kept for source compatibility; Sluice does not call it). */
typedef void (*demi_callback_t)(const char *, uint32_t, uint64_t);

/** Arguments of demi_init(). */
struct __attribute__((__packed__)) demi_args {
    int argc;                 /**< Number of entries in argv. */
    char *const *argv;        /**< Program arguments (argv[0] names the program in logs). */
    demi_callback_t callback; /**< Unused by Sluice; may be NULL. */
};

#ifdef __cplusplus
}
#endif

#endif /* DEMI_TYPES_H_IS_INCLUDED */
