/* shm_pipe.c - duplex SPSC byte rings in one POSIX shared memory object.
 *
 * Object layout (all offsets in bytes, fixed by static_asserts below):
 *
 *   0          header page (struct shm_pipe_hdr, zero padded to 4096)
 *   4096       ring A data, ring_bytes long: creator -> opener
 *   4096 + rb  ring B data, ring_bytes long: opener -> creator
 *
 * Each ring has two free-running 64-bit byte counters: head (bytes ever
 * written, stored only by the producer) and tail (bytes ever read, stored
 * only by the consumer). head - tail is the fill level, and a counter's low
 * bits (& mask) are its offset in the data area. 64 bits never wrap in
 * practice (2^64 bytes at 100 GB/s is ~6 years), so no wrap handling.
 *
 * Publication: the producer copies the bytes, then release-stores head;
 * the consumer acquire-loads head before copying out, then release-stores
 * tail so the producer's acquire-load of tail tells it the space is free.
 */
#include "shm_pipe.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Lock-free atomics are address-free, which is what lets two processes
 * that map the same page at different addresses synchronise through it.
 * uint64_t is long or long long depending on the ABI, so require both. */
static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
static_assert(ATOMIC_LONG_LOCK_FREE == 2, "long atomics must be lock-free");
static_assert(ATOMIC_INT_LOCK_FREE == 2, "int atomics must be lock-free");
static_assert(sizeof(_Atomic uint64_t) == 8, "no hidden lock in the atomic");
static_assert(sizeof(_Atomic uint32_t) == 4, "no hidden lock in the atomic");

#define SHM_PIPE_MAGIC UINT64_C(0x3150454349554c53) /* "SLUICEP1" (LE) */
#define SHM_PIPE_VERSION 1u
#define SHM_PIPE_HDR_BYTES 4096u
#define SHM_PIPE_CACHE_LINE 64
#define SHM_PIPE_PREFIX "/sluice-pipe."
#define SHM_PIPE_SHM_NAME_BYTES (sizeof(SHM_PIPE_PREFIX) + SHM_PIPE_NAME_MAX)

/* How long shm_pipe_open waits for a creator that is mid-initialisation. */
#define SHM_PIPE_OPEN_WAIT_NS (20 * 1000 * 1000L)
#define SHM_PIPE_OPEN_POLL_NS (200 * 1000L)
/* Minimum gap between two kill(pid, 0) liveness probes of the peer. */
#define SHM_PIPE_PROBE_GAP_NS (1000 * 1000L)

enum side { SIDE_CREATOR = 0, SIDE_OPENER = 1 };

/* Values of shm_side_ctl.state. EMPTY is what ftruncate's zero fill gives
 * the opener slot, so "nobody has opened yet" needs no explicit store. */
enum side_state { STATE_EMPTY = 0, STATE_OPEN = 1, STATE_CLOSED = 2 };

struct shm_side_ctl {
    _Atomic uint32_t state; /* enum side_state */
    _Atomic int32_t pid;    /* owner process; 0 until published */
};

/* head and tail on separate cache lines so the producer's and consumer's
 * stores do not keep stealing one line from each other. */
struct shm_ring_ctl {
    alignas(SHM_PIPE_CACHE_LINE) _Atomic uint64_t head;
    alignas(SHM_PIPE_CACHE_LINE) _Atomic uint64_t tail;
};

struct shm_pipe_hdr {
    _Atomic uint64_t magic; /* stored last by the creator: "header ready" */
    uint32_t version;
    uint32_t hdr_bytes;     /* offset of ring A's data */
    uint64_t ring_bytes;    /* capacity of each ring */
    struct shm_side_ctl side[2]; /* indexed by enum side */
    alignas(SHM_PIPE_CACHE_LINE) struct shm_ring_ctl ring[2]; /* A, B */
};

static_assert(offsetof(struct shm_pipe_hdr, magic) == 0, "layout");
static_assert(offsetof(struct shm_pipe_hdr, version) == 8, "layout");
static_assert(offsetof(struct shm_pipe_hdr, hdr_bytes) == 12, "layout");
static_assert(offsetof(struct shm_pipe_hdr, ring_bytes) == 16, "layout");
static_assert(offsetof(struct shm_pipe_hdr, side) == 24, "layout");
static_assert(sizeof(struct shm_side_ctl) == 8, "layout");
static_assert(offsetof(struct shm_ring_ctl, tail) == 64, "layout");
static_assert(sizeof(struct shm_ring_ctl) == 128, "layout");
static_assert(offsetof(struct shm_pipe_hdr, ring) == 64, "layout");
static_assert(sizeof(struct shm_pipe_hdr) == 320, "layout");
static_assert(sizeof(struct shm_pipe_hdr) <= SHM_PIPE_HDR_BYTES, "layout");

/* Cached verdict of the peer-process probe. Atomic because
 * shm_pipe_peer_closed may run on the reader and writer threads at once. */
struct peer_probe {
    _Atomic int64_t next_probe_ns;
    _Atomic bool gone;
};

struct shm_pipe {
    struct shm_pipe_hdr *hdr;
    size_t map_bytes;
    enum side side;
    uint64_t cap;  /* ring capacity, copied out of shm once and validated */
    uint64_t mask; /* cap - 1 */
    struct shm_ring_ctl *tx, *rx;
    uint8_t *tx_data, *rx_data;
    /* Producer-private: our own head, and the last tail we saw. Looking
     * at the peer's cache line only when the cached view runs short keeps
     * the two processes from bouncing lines on every call. */
    uint64_t tx_head, tx_tail_seen;
    /* Consumer-private mirror of the above. */
    uint64_t rx_tail, rx_head_seen;
    /* shm_pipe_peer_closed takes a const handle but must update the probe
     * cache; it does so through this pointer to probe_store. */
    struct peer_probe *probe;
    struct peer_probe probe_store;
    char shm_name[SHM_PIPE_SHM_NAME_BYTES];
};

/* ---- names and sizes ------------------------------------------------ */

/* Spelled out rather than isalnum() so the accepted set does not depend
 * on the locale. */
static bool name_char_ok(char c)
{
    if (c >= 'a' && c <= 'z')
        return true;
    if (c >= 'A' && c <= 'Z')
        return true;
    if (c >= '0' && c <= '9')
        return true;
    return c == '.' || c == '_' || c == '-';
}

/* Checks name and writes "/sluice-pipe.<name>" into out. 0 or -EINVAL. */
static int build_shm_name(const char *name, char out[SHM_PIPE_SHM_NAME_BYTES])
{
    if (name == NULL)
        return -EINVAL;
    size_t len = strnlen(name, SHM_PIPE_NAME_MAX + 1);
    if (len == 0 || len > SHM_PIPE_NAME_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (!name_char_ok(name[i]))
            return -EINVAL;
    }
    memcpy(out, SHM_PIPE_PREFIX, sizeof(SHM_PIPE_PREFIX) - 1);
    memcpy(out + sizeof(SHM_PIPE_PREFIX) - 1, name, len + 1);
    return 0;
}

static bool ring_bytes_ok(uint64_t n)
{
    if (n < SHM_PIPE_RING_MIN || n > SHM_PIPE_RING_MAX)
        return false;
    return (n & (n - 1)) == 0;
}

static size_t map_bytes_for(uint64_t ring_bytes)
{
    return SHM_PIPE_HDR_BYTES + 2 * (size_t)ring_bytes;
}

/* ---- time ----------------------------------------------------------- */

static int64_t clock_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(long ns)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };
    nanosleep(&ts, NULL);
}

/* ---- handle setup --------------------------------------------------- */

/* Builds the process-local handle for one end of a mapped, valid pipe.
 * Takes ownership of the mapping only on success. */
static struct shm_pipe *handle_new(struct shm_pipe_hdr *hdr, size_t map_bytes,
                                   enum side side, uint64_t cap,
                                   const char *shm_name)
{
    struct shm_pipe *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    uint8_t *base = (uint8_t *)hdr;
    unsigned tx = (side == SIDE_CREATOR) ? 0 : 1;
    p->hdr = hdr;
    p->map_bytes = map_bytes;
    p->side = side;
    p->cap = cap;
    p->mask = cap - 1;
    p->tx = &hdr->ring[tx];
    p->rx = &hdr->ring[1 - tx];
    p->tx_data = base + SHM_PIPE_HDR_BYTES + (size_t)tx * cap;
    p->rx_data = base + SHM_PIPE_HDR_BYTES + (size_t)(1 - tx) * cap;
    /* Pick up where the counters are; both are 0 for a fresh pipe but the
     * creator may already have written by the time the opener arrives. */
    p->tx_head = atomic_load_explicit(&p->tx->head, memory_order_relaxed);
    p->tx_tail_seen = atomic_load_explicit(&p->tx->tail, memory_order_acquire);
    p->rx_tail = atomic_load_explicit(&p->rx->tail, memory_order_relaxed);
    p->rx_head_seen = p->rx_tail;
    p->probe = &p->probe_store;
    atomic_init(&p->probe_store.next_probe_ns, 0);
    atomic_init(&p->probe_store.gone, false);
    memcpy(p->shm_name, shm_name, strlen(shm_name) + 1);
    return p;
}

/* Fills in a freshly ftruncate'd (all zero) header, publishing it last. */
static void hdr_init(struct shm_pipe_hdr *hdr, uint64_t ring_bytes)
{
    hdr->version = SHM_PIPE_VERSION;
    hdr->hdr_bytes = SHM_PIPE_HDR_BYTES;
    hdr->ring_bytes = ring_bytes;
    atomic_store_explicit(&hdr->side[SIDE_CREATOR].pid, (int32_t)getpid(),
                          memory_order_relaxed);
    atomic_store_explicit(&hdr->side[SIDE_CREATOR].state, STATE_OPEN,
                          memory_order_relaxed);
    /* Release: an opener that sees the magic also sees everything above. */
    atomic_store_explicit(&hdr->magic, SHM_PIPE_MAGIC, memory_order_release);
}

int shm_pipe_create(const char *name, size_t ring_bytes, struct shm_pipe **out)
{
    char shm_name[SHM_PIPE_SHM_NAME_BYTES];
    if (out == NULL || !ring_bytes_ok(ring_bytes))
        return -EINVAL;
    int err = build_shm_name(name, shm_name);
    if (err != 0)
        return err;

    int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -errno;
    size_t map_bytes = map_bytes_for(ring_bytes);
    void *base = MAP_FAILED;
    if (ftruncate(fd, (off_t)map_bytes) == 0)
        base = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                    fd, 0);
    err = (base == MAP_FAILED) ? -errno : 0;
    close(fd); /* the mapping keeps the object alive */
    if (err != 0) {
        shm_unlink(shm_name);
        return err;
    }

    hdr_init(base, ring_bytes);
    struct shm_pipe *p = handle_new(base, map_bytes, SIDE_CREATOR,
                                    ring_bytes, shm_name);
    if (p == NULL) {
        munmap(base, map_bytes);
        shm_unlink(shm_name);
        return -ENOMEM;
    }
    *out = p;
    return 0;
}

/* ---- opening -------------------------------------------------------- */

/* One look at the object behind fd. Returns 0 with *ring_bytes set when
 * it is a complete Sluice pipe, -EAGAIN when it may still be under
 * construction (too short for a header, or magic not yet stored),
 * -EPROTO when it is something else, or -errno from fstat/mmap. */
static int probe_object(int fd, uint64_t *ring_bytes)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (st.st_size < (off_t)SHM_PIPE_HDR_BYTES)
        return -EAGAIN;
    /* Look at the header page alone: the object's size is not trusted
     * until the header says how big it should be. */
    struct shm_pipe_hdr *hdr = mmap(NULL, SHM_PIPE_HDR_BYTES, PROT_READ,
                                    MAP_SHARED, fd, 0);
    if (hdr == MAP_FAILED)
        return -errno;
    int err = 0;
    uint64_t magic = atomic_load_explicit(&hdr->magic, memory_order_acquire);
    uint64_t rb = hdr->ring_bytes;
    if (magic == 0)
        err = -EAGAIN;
    else if (magic != SHM_PIPE_MAGIC || hdr->version != SHM_PIPE_VERSION)
        err = -EPROTO;
    else if (hdr->hdr_bytes != SHM_PIPE_HDR_BYTES || !ring_bytes_ok(rb))
        err = -EPROTO;
    else if ((uint64_t)st.st_size != map_bytes_for(rb))
        err = -EPROTO;
    munmap(hdr, SHM_PIPE_HDR_BYTES);
    *ring_bytes = rb;
    return err;
}

/* Probes fd until it holds a finished pipe, giving a creator that is
 * between shm_open and its final magic store a short grace period. An
 * object still unfinished after that is treated as not a pipe. */
static int wait_for_pipe(int fd, uint64_t *ring_bytes)
{
    int64_t deadline = clock_ns(CLOCK_MONOTONIC) + SHM_PIPE_OPEN_WAIT_NS;
    for (;;) {
        int err = probe_object(fd, ring_bytes);
        if (err != -EAGAIN)
            return err;
        if (clock_ns(CLOCK_MONOTONIC) >= deadline)
            return -EPROTO;
        sleep_ns(SHM_PIPE_OPEN_POLL_NS);
    }
}

/* Maps the whole validated pipe behind fd read-write. */
static int map_pipe(int fd, uint64_t ring_bytes, struct shm_pipe_hdr **hdr)
{
    void *base = mmap(NULL, map_bytes_for(ring_bytes),
                      PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return -errno;
    *hdr = base;
    return 0;
}

/* Takes the opener slot. The compare-exchange is what guarantees a single
 * winner when several processes open the same name at once. */
static bool claim_opener(struct shm_pipe_hdr *hdr)
{
    uint32_t expected = STATE_EMPTY;
    struct shm_side_ctl *me = &hdr->side[SIDE_OPENER];
    if (!atomic_compare_exchange_strong_explicit(&me->state, &expected,
                                                 STATE_OPEN,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire))
        return false;
    /* Until this store lands the creator sees pid 0 and skips the
     * liveness probe; that window is a few instructions long. */
    atomic_store_explicit(&me->pid, (int32_t)getpid(), memory_order_release);
    return true;
}

int shm_pipe_open(const char *name, struct shm_pipe **out)
{
    char shm_name[SHM_PIPE_SHM_NAME_BYTES];
    if (out == NULL)
        return -EINVAL;
    int err = build_shm_name(name, shm_name);
    if (err != 0)
        return err;

    int fd = shm_open(shm_name, O_RDWR, 0);
    if (fd < 0)
        return -errno;
    uint64_t ring_bytes = 0;
    struct shm_pipe_hdr *hdr = NULL;
    err = wait_for_pipe(fd, &ring_bytes);
    if (err == 0)
        err = map_pipe(fd, ring_bytes, &hdr);
    close(fd);
    if (err != 0)
        return err;

    size_t map_bytes = map_bytes_for(ring_bytes);
    if (!claim_opener(hdr)) {
        munmap(hdr, map_bytes);
        return -EBUSY;
    }
    struct shm_pipe *p = handle_new(hdr, map_bytes, SIDE_OPENER,
                                    ring_bytes, shm_name);
    if (p == NULL) {
        /* We hold the slot; release it as closed so the creator sees
         * EOF rather than waiting for an opener that will never come. */
        atomic_store_explicit(&hdr->side[SIDE_OPENER].state,
                              STATE_CLOSED, memory_order_release);
        munmap(hdr, map_bytes);
        shm_unlink(shm_name);
        return -ENOMEM;
    }
    /* Both ends are now attached; drop the name so the pipe is private
     * and the name can be reused. Failure only leaves a stale name. */
    shm_unlink(shm_name);
    *out = p;
    return 0;
}

/* ---- data path ------------------------------------------------------ */

static size_t min_size(size_t a, uint64_t b)
{
    return (uint64_t)a < b ? a : (size_t)b;
}

/* Copies n bytes into the ring at counter pos: at most two memcpys, the
 * second one for the part that wraps to the start of the data area. */
static void ring_copy_in(uint8_t *data, uint64_t mask, uint64_t pos,
                         const uint8_t *src, size_t n)
{
    size_t off = (size_t)(pos & mask);
    size_t first = min_size(n, mask + 1 - off);
    memcpy(data + off, src, first);
    memcpy(data, src + first, n - first);
}

static void ring_copy_out(const uint8_t *data, uint64_t mask, uint64_t pos,
                          uint8_t *dst, size_t n)
{
    size_t off = (size_t)(pos & mask);
    size_t first = min_size(n, mask + 1 - off);
    memcpy(dst, data + off, first);
    memcpy(dst + first, data, n - first);
}

/* Free bytes in the outgoing ring, re-reading the consumer's tail only
 * when the cached one does not show room for `want` bytes. */
static uint64_t tx_space(struct shm_pipe *p, size_t want)
{
    uint64_t space = p->cap - (p->tx_head - p->tx_tail_seen);
    if (space >= want)
        return space;
    uint64_t tail = atomic_load_explicit(&p->tx->tail, memory_order_acquire);
    uint64_t used = p->tx_head - tail;
    /* The peer can scribble on shared memory; a tail that claims more
     * than the ring holds must never turn into an out-of-bounds copy. */
    if (used > p->cap)
        return 0;
    p->tx_tail_seen = tail;
    return p->cap - used;
}

/* Bytes in the incoming ring, re-reading the producer's head only when
 * the cached one shows fewer than `want`. */
static uint64_t rx_avail(struct shm_pipe *p, size_t want)
{
    uint64_t avail = p->rx_head_seen - p->rx_tail;
    if (avail >= want)
        return avail;
    uint64_t head = atomic_load_explicit(&p->rx->head, memory_order_acquire);
    avail = head - p->rx_tail;
    if (avail > p->cap) /* corrupt head: see tx_space */
        return 0;
    p->rx_head_seen = head;
    return avail;
}

size_t shm_pipe_write(struct shm_pipe *p, const void *buf, size_t len)
{
    if (p == NULL || buf == NULL || len == 0)
        return 0;
    size_t n = min_size(len, tx_space(p, len));
    if (n == 0)
        return 0;
    ring_copy_in(p->tx_data, p->mask, p->tx_head, buf, n);
    p->tx_head += n;
    /* Release: the consumer must see the bytes before the new head. */
    atomic_store_explicit(&p->tx->head, p->tx_head, memory_order_release);
    return n;
}

size_t shm_pipe_read(struct shm_pipe *p, void *buf, size_t len)
{
    if (p == NULL || buf == NULL || len == 0)
        return 0;
    size_t n = min_size(len, rx_avail(p, len));
    if (n == 0)
        return 0;
    ring_copy_out(p->rx_data, p->mask, p->rx_tail, buf, n);
    p->rx_tail += n;
    /* Release: our copy-out must finish before the producer may reuse
     * the space. */
    atomic_store_explicit(&p->rx->tail, p->rx_tail, memory_order_release);
    return n;
}

/* Fill level of a ring from its shared counters. tail is loaded first so
 * a concurrent advance can only overstate head - tail, never underflow;
 * the clamp covers that and a corrupt peer. */
static uint64_t ring_used(const struct shm_ring_ctl *r, uint64_t cap)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t used = head - tail;
    return used > cap ? cap : used;
}

size_t shm_pipe_readable(const struct shm_pipe *p)
{
    if (p == NULL)
        return 0;
    return (size_t)ring_used(p->rx, p->cap);
}

size_t shm_pipe_writable(const struct shm_pipe *p)
{
    if (p == NULL)
        return 0;
    return (size_t)(p->cap - ring_used(p->tx, p->cap));
}

/* ---- peer state ----------------------------------------------------- */

/* Whether the peer's process has died, probing with kill(pid, 0) at most
 * once per SHM_PIPE_PROBE_GAP_NS so a caller spinning on EOF does not
 * turn into a syscall storm. A death, once seen, is remembered. */
static bool peer_process_gone(const struct shm_pipe *p,
                              const struct shm_side_ctl *peer)
{
    struct peer_probe *pr = p->probe;
    if (atomic_load_explicit(&pr->gone, memory_order_relaxed))
        return true;
    /* The coarse clock is a few ns to read (no syscall) and its ~1-4 ms
     * granularity is all the rate limit needs. */
    int64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);
    if (now < atomic_load_explicit(&pr->next_probe_ns, memory_order_relaxed))
        return false;
    atomic_store_explicit(&pr->next_probe_ns, now + SHM_PIPE_PROBE_GAP_NS,
                          memory_order_relaxed);
    pid_t pid = atomic_load_explicit(&peer->pid, memory_order_acquire);
    if (pid <= 0) /* not published yet; kill(0, 0) would mean our group */
        return false;
    if (kill(pid, 0) == 0 || errno != ESRCH) /* EPERM: alive, not ours */
        return false;
    atomic_store_explicit(&pr->gone, true, memory_order_relaxed);
    return true;
}

bool shm_pipe_peer_closed(const struct shm_pipe *p)
{
    if (p == NULL)
        return true;
    const struct shm_side_ctl *peer = &p->hdr->side[1 - p->side];
    /* Acquire pairs with the peer's release in shm_pipe_close, so every
     * byte it wrote before closing is visible to shm_pipe_readable. */
    uint32_t state = atomic_load_explicit(&peer->state, memory_order_acquire);
    if (state == STATE_CLOSED)
        return true;
    if (state != STATE_OPEN) /* opener not here yet */
        return false;
    return peer_process_gone(p, peer);
}

bool shm_pipe_is_creator(const struct shm_pipe *p)
{
    return p != NULL && p->side == SIDE_CREATOR;
}

/* A creator closing before any opener arrived: shut the opener slot so a
 * late opener gets -EBUSY, and unlink the name. Only when the slot was
 * still empty is the name certain to be ours; otherwise the opener has
 * unlinked it already and it may since name someone else's new pipe. */
static void creator_retire_name(struct shm_pipe *p)
{
    uint32_t expected = STATE_EMPTY;
    struct shm_side_ctl *opener = &p->hdr->side[SIDE_OPENER];
    if (atomic_compare_exchange_strong_explicit(&opener->state, &expected,
                                                STATE_CLOSED,
                                                memory_order_acq_rel,
                                                memory_order_acquire))
        shm_unlink(p->shm_name); /* ENOENT etc. need no handling */
}

void shm_pipe_close(struct shm_pipe *p)
{
    if (p == NULL)
        return;
    if (p->side == SIDE_CREATOR)
        creator_retire_name(p);
    /* Release: orders our last head store before the peer seeing CLOSED,
     * which is what makes "closed and empty" a safe EOF test. */
    atomic_store_explicit(&p->hdr->side[p->side].state, STATE_CLOSED,
                          memory_order_release);
    munmap(p->hdr, p->map_bytes);
    free(p);
}
