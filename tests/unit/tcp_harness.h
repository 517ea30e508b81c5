/*
 * tcp_harness.h - two stacks in one process for TCP tests: A (10.0.0.2)
 * and B (10.0.0.1) on fake devices joined back to back, each optionally
 * behind the seeded fault injector, on one virtual clock. Static ARP
 * entries, so every frame on the link is IPv4.
 */
#ifndef SLUICE_TCP_HARNESS_H
#define SLUICE_TCP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netdev.h"
#include "stack.h"
#include "stack_harness.h"
#include "tcp.h"

struct tcp_pair {
    struct stack *a, *b;
    struct netdev *da, *db;   /* the fake devices (inner, when faults wrap them) */
    struct stack_counters fault_ctr;
    uint64_t now;             /* ns */
    unsigned pool_before;
};

/* Creates both stacks at t = 1 s. params: NULL for defaults (applied to
 * both); fault: NULL for a clean link, else wraps A's device (its rx and
 * tx directions: both ways of the link). */
void tp_create(struct tcp_pair *p, const struct stack_params *params, const struct fault_params *fault);
/* As tp_create, with A's stack on the device wrap returns (it wraps
 * p->da, the fake one: a recorder, a fault injector); wrap NULL: none. */
typedef struct netdev *(*tp_wrap_fn)(struct tcp_pair *p, void *ctx);
void tp_create_wrapped(struct tcp_pair *p, const struct stack_params *params, tp_wrap_fn wrap, void *ctx);
/* Polls both stacks until neither does anything, then advances the clock
 * by step_ns; repeats for total_ns. */
void tp_run_steps(struct tcp_pair *p, uint64_t total_ns, uint64_t step_ns);
/* tp_run_steps in 1 ms steps. */
void tp_run(struct tcp_pair *p, uint64_t total_ns);
/* As tp_run in 1 ms steps until done(ctx) is true or max_ns passed;
 * returns done's last value. */
bool tp_run_until(struct tcp_pair *p, bool (*done)(void *ctx), void *ctx, uint64_t max_ns);
/* Runs the pair (1 ms steps, at most max_ns) until c is in state st;
 * asserts it got there. */
void tp_wait_state(struct tcp_pair *p, struct tcp_conn *c, enum tcp_state st, uint64_t max_ns);
/* Destroys both stacks and asserts every mbuf returned to the pool. */
void tp_finish(struct tcp_pair *p);
/* Closes cli, srv and lst (the ends and the listener of tp_connect), runs
 * the pair settle_ns for the closes to play out, then tp_finish. */
void tp_close_and_finish(struct tcp_pair *p, struct tcp_conn *cli, struct tcp_conn *srv, struct tcp_conn *lst,
                         uint64_t settle_ns);

/* Event recorder for tcp_open's callback. */
struct tp_events {
    unsigned n;
};
void tp_on_event(struct tcp_conn *c, void *ctx);

/* A connected pair of sockets: a listener on B port 80, a client on A;
 * *srv is B's accepted connection. */
void tp_connect(struct tcp_pair *p, struct tcp_conn **cli, struct tcp_conn **srv, struct tcp_conn **lst);

/* Queues len bytes of the deterministic pattern (seeded by *state) on c. */
void tp_send_pattern(struct tcp_pair *p, struct tcp_conn *c, uint64_t *state, size_t len);
/* Takes everything readable from c and checks it against the pattern
 * (seeded by *state); returns the bytes taken. */
size_t tp_recv_check(struct tcp_pair *p, struct tcp_conn *c, uint64_t *state);

#endif

/* ---- crafted segments against one stack (stack_harness.h's st_create:
 * us 10.0.0.2, the peer 10.0.0.1) ---- */

struct st_tcp_seg {
    uint16_t sport, dport;  /* host order */
    uint32_t seq, ack;
    uint8_t flags;          /* RTE_TCP_*_FLAG */
    uint16_t wnd;
    uint8_t data_off;       /* 0: computed from optlen */
    const uint8_t *opts;    /* raw option bytes, optlen a multiple of 4 unless testing */
    size_t optlen;
    const void *data;
    size_t len;
    uint16_t urp;
};

/* Writes a TCP segment from the peer to us in IPv4 in Ethernet into buf
 * (valid checksums); returns the frame length. */
size_t st_tcp(void *buf, const struct st_tcp_seg *sg);
/* Parses a frame the stack sent (asserting IPv4/TCP with a valid TCP
 * checksum) into out (opts points into frame); returns the payload
 * length. */
size_t st_tcp_parse(const uint8_t *frame, size_t len, struct st_tcp_seg *out);
