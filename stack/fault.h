/*
 * fault.h - a seeded fault injector at the netdev boundary: it wraps any
 * netdev and loses, duplicates, reorders, corrupts and delays frames, each
 * with its own probability and per direction. For tests, and for users who
 * want to see how their programs cope with a bad network.
 *
 * The outcome depends only on the seed, the frames and the now_ns values
 * given to rx_burst/tx_burst (a PRNG per direction; no clock, no rand()).
 *
 * Per frame and direction, in this order:
 *   loss       the frame is freed (fault_dropped);
 *   corrupt    one random bit of one random byte is flipped (fault_corrupted),
 *              in a private copy when the frame's memory may be shared
 *              (refcnt > 1, indirect or external buffer: zero-copy data);
 *   duplicate  a copy (rte_pktmbuf_copy from the frame's pool) follows the
 *              frame (fault_duplicated);
 *   reorder    the frame is held and goes out right after the next frame,
 *              or once now_ns is 1 ms past the moment it was held
 *              (fault_reordered counts frames that did go out after a later one);
 *   delay      the frame goes out once now_ns >= its arrival + delay_ns,
 *              in order (fault_delayed).
 * Frames held back wake no interrupt: a caller sleeping on rx_intr_fd must
 * also wake up on a timeout to poll them out.
 */
#ifndef SLUICE_FAULT_H
#define SLUICE_FAULT_H

#include <stdint.h>

#include "counters.h"
#include "netdev.h"

#define FAULT_PPM_MAX 1000000u /* parts per million: certain */
#define FAULT_REORDER_HOLD_NS 1000000ull /* a held frame goes out after 1 ms anyway */

struct fault_dir {
    uint32_t loss_ppm, duplicate_ppm, reorder_ppm, corrupt_ppm; /* 0..FAULT_PPM_MAX */
    uint64_t delay_ns;                                          /* 0: none */
};

struct fault_params {
    struct fault_dir rx, tx; /* rx: frames from the inner device; tx: frames the stack sends */
    uint64_t seed;
};

/*
 * Wraps inner in a fault injector. On success inner is taken (closed with
 * the wrapper: netdev_close frees the frames held back, then closes inner)
 * and *out copies inner's mac, mtu, offloads and rx_intr_fd. ctr (not
 * owned; may be NULL) receives the fault_* counts and must outlive the
 * wrapper.
 *
 * tx_burst reports every frame it consumed as taken (sent, dropped or held
 * back), so the caller never sends one twice; frames held back go to inner
 * on later rx_burst or tx_burst calls. While frames inner refused are still
 * waiting, tx_burst takes nothing new (like a full device).
 *
 * Returns 0; -EINVAL (a NULL argument or a ppm above FAULT_PPM_MAX; inner
 * is then not taken); -ENOMEM (inner not taken).
 */
int netdev_fault_wrap(struct netdev *inner, const struct fault_params *p, struct stack_counters *ctr,
                      struct netdev **out);

#endif
