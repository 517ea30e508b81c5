/*
 * steer.c - the directory the engines of one device share, and the rings
 * that carry a frame to the engine that owns it (see steer.h;
 * docs/DESIGN.md "Engines per thread").
 *
 * Which connections and listeners each engine has is written by that
 * engine when it makes or forgets one, and read by any engine only for a
 * segment it has no connection for: the data path of a connection never
 * takes the directory's lock. The directory and the rings are in DPDK's
 * heap, so a process family shares them (a spin lock, not a mutex).
 */
#include "steer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "engine.h"
#include "log.h"
#include "runtime.h"
#include "stack.h"

#define STEER_RING_SIZE 1024 /* frames waiting for one engine */

struct flow_key {
    rte_be32_t raddr;
    rte_be16_t rport, lport;
};

struct steer_dir {
    rte_spinlock_t lock;                /* flows */
    struct rte_hash *flows;             /* flow_key -> engine id + 1 */
    uint64_t alive;                     /* bit k: engine k takes frames from its ring */
    uint64_t listening[65536];          /* by host-order port: bit k, engine k listens */
    struct rte_ring *ring[ENGINE_MAX];  /* frames for engine k */
};

/* The directory is a named memzone: every process of a family finds the
 * same one, whichever of them made it (a stack is shared by the family). */
#define STEER_MZ "sluice_steer"
static struct steer_dir *dir;

static struct steer_dir *dir_get(void)
{
    const struct rte_memzone *mz;

    if (dir == NULL && (mz = rte_memzone_lookup(STEER_MZ)) != NULL)
        dir = mz->addr;
    return dir;
}

static bool alive(int engine)
{
    return engine >= 0 && engine < ENGINE_MAX && (__atomic_load_n(&dir->alive, __ATOMIC_ACQUIRE) >> engine & 1) != 0;
}

/* The engine a callback's ctx names. */
static unsigned self_of(void *ctx)
{
    return ((struct engine *)ctx)->id;
}

static bool dir_full_said;

static int conn_owner(void *ctx, rte_be32_t raddr, rte_be16_t rport, rte_be16_t lport)
{
    struct flow_key k = {.raddr = raddr, .rport = rport, .lport = lport};
    void *data = NULL;
    int owner = -1;

    dir_get();
    rte_spinlock_lock(&dir->lock);
    if (rte_hash_lookup_data(dir->flows, &k, &data) >= 0)
        owner = (int)(uintptr_t)data - 1;
    rte_spinlock_unlock(&dir->lock);
    return owner == (int)self_of(ctx) ? -1 : owner;
}

static int listener(void *ctx, rte_be16_t lport)
{
    uint64_t others = __atomic_load_n(&dir_get()->listening[rte_be_to_cpu_16(lport)], __ATOMIC_ACQUIRE) &
                      ~(1ull << self_of(ctx));

    return others == 0 ? -1 : __builtin_ctzll(others);
}

/* A frame for an engine that stops between the check and the enqueue
 * waits in its ring, which the next engine with that id drains first. */
static bool handoff(void *ctx, int engine, struct rte_mbuf *m)
{
    (void)ctx;
    if (dir_get() == NULL || !alive(engine) || dir->ring[engine] == NULL)
        return false;
    return rte_ring_mp_enqueue(dir->ring[engine], m) == 0;
}

static void arp_seen(void *ctx, const struct rte_mbuf *m)
{
    unsigned self = self_of(ctx);

    if (dir_get() == NULL)
        return;
    for (unsigned id = 0; id < ENGINE_MAX; id++) {
        struct rte_mbuf *copy;
        if (id == self || !alive((int)id) || dir->ring[id] == NULL)
            continue;
        copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        if (copy != NULL && rte_ring_mp_enqueue(dir->ring[id], copy) != 0)
            rte_pktmbuf_free(copy); /* that engine learns from the next one */
    }
}

static uint16_t pull(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
    return (uint16_t)rte_ring_sc_dequeue_burst(dir_get()->ring[self_of(ctx)], (void **)pkts, n, NULL);
}

static void conn_changed(void *ctx, rte_be32_t raddr, rte_be16_t rport, rte_be16_t lport, bool added)
{
    struct flow_key k = {.raddr = raddr, .rport = rport, .lport = lport};
    uintptr_t id = self_of(ctx) + 1;

    dir_get();
    rte_spinlock_lock(&dir->lock);
    if (added) {
        /* full (tcp.max_conns per engine, at most 4 engines' worth): the
         * connection's segments that reach another engine are answered
         * there with RST; say so once */
        if (rte_hash_add_key_data(dir->flows, &k, (void *)id) < 0 && !dir_full_said) {
            dir_full_said = true;
            SLOG_WARN("engine %u: the steering directory is full: segments of new connections that reach "
                      "another engine's queue are reset; raise tcp.max_conns", self_of(ctx));
        }
    } else {
        void *data = NULL;
        if (rte_hash_lookup_data(dir->flows, &k, &data) >= 0 && (uintptr_t)data == id)
            rte_hash_del_key(dir->flows, &k);
    }
    rte_spinlock_unlock(&dir->lock);
}

static void listen_changed(void *ctx, rte_be16_t lport, bool added)
{
    uint64_t bit = 1ull << self_of(ctx);
    uint64_t *w = &dir_get()->listening[rte_be_to_cpu_16(lport)];

    if (added)
        __atomic_fetch_or(w, bit, __ATOMIC_RELEASE);
    else
        __atomic_fetch_and(w, ~bit, __ATOMIC_RELEASE);
}

static const struct stack_steer_ops steer_ops = {
    .conn_owner = conn_owner,
    .listener = listener,
    .handoff = handoff,
    .arp_seen = arp_seen,
    .pull = pull,
    .conn_changed = conn_changed,
    .listen_changed = listen_changed,
};

static int dir_create(void)
{
    unsigned nq = g_rt.cfg.net_queues < 4 ? g_rt.cfg.net_queues : 4;
    struct rte_hash_parameters hp = {
        .name = "sluice_steer",
        .entries = g_rt.cfg.tcp_max_conns * nq,
        .key_len = sizeof(struct flow_key),
        .hash_func = rte_jhash,
        .socket_id = SOCKET_ID_ANY,
        /* a bucket overflow goes to the extra table: a key is refused only
         * when all entries are used */
        .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
    };
    const struct rte_memzone *mz = rte_memzone_reserve(STEER_MZ, sizeof(*dir), SOCKET_ID_ANY, 0);

    if (mz == NULL)
        return -ENOMEM;
    dir = mz->addr;
    memset(dir, 0, sizeof(*dir));
    rte_spinlock_init(&dir->lock);
    dir->flows = rte_hash_create(&hp);
    if (dir->flows == NULL) {
        rte_memzone_free(mz);
        dir = NULL;
        return -ENOMEM;
    }
    return 0;
}

int steer_attach(struct engine *e)
{
    char name[RTE_RING_NAMESIZE];
    int rc;

    struct rte_mbuf *m;

    if (g_rt.cfg.net_queues < 2)
        return 0; /* the only engine on its device: nothing to steer */
    if (dir_get() == NULL && (rc = dir_create()) != 0)
        return rc;
    if (dir->ring[e->id] == NULL) {
        snprintf(name, sizeof(name), "sluice_steer_%u", e->id);
        dir->ring[e->id] = rte_ring_create(name, STEER_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
        if (dir->ring[e->id] == NULL)
            return -ENOMEM;
    }
    /* frames a previous engine with this id was sent as it stopped */
    while (rte_ring_sc_dequeue(dir->ring[e->id], (void **)&m) == 0)
        rte_pktmbuf_free(m);
    stack_set_steer(e->stack, &steer_ops, e);
    __atomic_fetch_or(&dir->alive, 1ull << e->id, __ATOMIC_RELEASE);
    return 0;
}

/* Forgets every connection and listener of engine id. */
static void forget(unsigned id)
{
    const void *key;
    void *data;
    uint32_t next = 0;

    rte_spinlock_lock(&dir->lock);
    while (rte_hash_iterate(dir->flows, &key, &data, &next) >= 0)
        if ((uintptr_t)data == id + 1)
            rte_hash_del_key(dir->flows, key); /* iterating on after a delete is allowed */
    rte_spinlock_unlock(&dir->lock);
    for (unsigned p = 0; p < 65536; p++)
        __atomic_fetch_and(&dir->listening[p], ~(1ull << id), __ATOMIC_RELEASE);
}

void steer_detach(struct engine *e)
{
    struct rte_mbuf *m;

    if (dir_get() == NULL || dir->ring[e->id] == NULL || e->stack == NULL)
        return;
    __atomic_fetch_and(&dir->alive, ~(1ull << e->id), __ATOMIC_RELEASE);
    stack_set_steer(e->stack, NULL, NULL);
    forget(e->id);
    /* frames still waiting for a stack that is going away */
    while (rte_ring_sc_dequeue(dir->ring[e->id], (void **)&m) == 0)
        rte_pktmbuf_free(m);
}
