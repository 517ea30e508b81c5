/*
 * tcp_tap.h - a tap on the link of a tcp_pair (tcp_harness.h): every frame
 * between A and B is recorded (bytes, direction, virtual time) and may be
 * dropped, so a test can assert on the exact segments two stacks exchange
 * and cut the link at will (a peer that vanished). Also: crafted segments
 * from any source address, for one-stack tests of spoofed peers.
 */
#ifndef SLUICE_TCP_TAP_H
#define SLUICE_TCP_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_harness.h"

#define TT_FRAME_MAX 1600

/* One frame seen on the link. */
struct tt_frame {
    bool a_to_b;    /* sent by A (10.0.0.2), else by B */
    bool dropped;   /* the tap dropped it */
    uint64_t ns;    /* the virtual time it passed the tap */
    size_t len;
    uint8_t bytes[TT_FRAME_MAX];
};

struct tcp_tap;

/* As tp_create, with the tap between A and its device; *tap lives until
 * tp_finish (the stack owns the tap as its device). */
void tt_create(struct tcp_pair *p, struct tcp_tap **tap, const struct stack_params *params);
/* Drops (true) or passes (false) every frame from now on, per direction. */
void tt_drop(struct tcp_tap *tap, bool a_to_b, bool b_to_a);
/* Frames recorded so far. */
size_t tt_count(const struct tcp_tap *tap);
/* Recorded frame i (0-based, in the order the tap saw them). */
const struct tt_frame *tt_frame(const struct tcp_tap *tap, size_t i);
/* Whether recorded frame f is an IPv4 TCP segment. */
bool tt_is_tcp(const struct tt_frame *f);
/* The next recorded TCP segment in one direction at index >= *cursor:
 * parsed into *seg (st_tcp_parse; opts and data point into the record),
 * *cursor moved past it, its time in *ns (may be NULL). False if none. */
bool tt_next(const struct tcp_tap *tap, size_t *cursor, bool a_to_b, struct st_tcp_seg *seg, uint64_t *ns);
/* Prints every recorded TCP segment to stderr (time, direction, ports,
 * flags, seq, ack, window, length): for the log of a failing test. */
void tt_dump(const struct tcp_tap *tap);

/* st_tcp with the IPv4 source src (network order) instead of the peer's:
 * both checksums valid. Returns the frame length. */
size_t st_tcp_from(void *buf, rte_be32_t src, const struct st_tcp_seg *sg);

#endif
