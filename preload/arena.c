/*
 * arena.c - the interposer's memory: one MAP_SHARED anonymous mapping made
 * at start and inherited by every fork, from which every object the
 * interposer keeps is allocated (sockets, epoll sets and items, the token
 * table, the fd tables). A process forked after the stack started keeps
 * sharing it with its parent: the sockets it inherited are the same
 * objects, the same stack (docs/preload.md "Process families"). A process
 * forked before gets a copy of its own (arena_snapshot/arena_adopt): two
 * stacks must not share one set of sockets.
 *
 * Why not malloc: the C library's heap is copied by fork. Why not DPDK's
 * heap: sockets exist before the stack starts (a candidate, an epoll set),
 * and DPDK is never started by a process that takes no socket.
 *
 * Allocation: size classes of powers of two (32 B and up), a free list per
 * class under a spin lock, and a bump pointer advanced atomically, so that
 * arena_bump (the fork handler's only allocation) needs no lock: a fork
 * from a signal handler that interrupted an allocation cannot deadlock.
 * Freed blocks go back to their class list, never to the system.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* Virtual space reserved (MAP_NORESERVE: a page costs memory only once
 * touched). Sized for the fd tables of many processes of a family. */
#define ARENA_RESERVE (64ull << 30)
#define ARENA_MAGIC 0x534c4152454e4131ull /* "SLARENA1" */
#define CLASS_MIN 5                       /* 32 B */
#define CLASS_MAX 40
#define HDR_BYTES 16u

struct block_hdr {
    uint32_t cls;
    uint32_t magic;
    uint64_t pad;
};

struct arena {
    uint64_t magic;
    uint64_t bump;           /* offset of the first unused byte (atomic) */
    int spin;                /* the free lists' lock */
    void *free_head[CLASS_MAX + 1];
    struct fam fam;          /* the family's shared state (family.c) */
};

static struct arena *g_arena;
struct fam *g_fam;

static void spin_lock(int *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0)
        while (__atomic_load_n(l, __ATOMIC_RELAXED) != 0)
            sched_yield();
}

static void spin_unlock(int *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static unsigned class_of(size_t bytes)
{
    unsigned c = CLASS_MIN;

    while (c < CLASS_MAX && ((size_t)1 << c) < bytes)
        c++;
    return c;
}

int arena_init(void)
{
    struct arena *a = mmap(NULL, ARENA_RESERVE, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (a == MAP_FAILED)
        return -errno;
    a->magic = ARENA_MAGIC;
    a->bump = (sizeof(*a) + 63) & ~(uint64_t)63;
    g_arena = a;
    g_fam = &a->fam;
    return 0;
}

void *arena_bump(size_t bytes)
{
    uint64_t len = (bytes + 63) & ~(uint64_t)63;
    uint64_t off = __atomic_fetch_add(&g_arena->bump, len, __ATOMIC_RELAXED);

    if (off + len > ARENA_RESERVE)
        return NULL; /* the space is gone for good: bump never goes back */
    return (char *)g_arena + off;
}

void *arena_alloc(size_t bytes)
{
    unsigned c;
    struct block_hdr *h;

    if (g_arena == NULL || bytes > ((size_t)1 << CLASS_MAX) - HDR_BYTES)
        return NULL;
    c = class_of(bytes + HDR_BYTES);
    spin_lock(&g_arena->spin);
    h = g_arena->free_head[c];
    if (h != NULL)
        g_arena->free_head[c] = *(void **)(h + 1);
    spin_unlock(&g_arena->spin);
    if (h == NULL && (h = arena_bump((size_t)1 << c)) == NULL)
        return NULL;
    h->cls = c;
    h->magic = (uint32_t)ARENA_MAGIC;
    memset(h + 1, 0, bytes);
    return h + 1;
}

void *arena_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return arena_alloc(n * size);
}

void arena_free(void *p)
{
    struct block_hdr *h;

    if (p == NULL)
        return;
    h = (struct block_hdr *)p - 1;
    if (h->magic != (uint32_t)ARENA_MAGIC) {
        plog(PLOG_ERROR, "arena_free: %p is not an arena block (a bug): leaked", p);
        return;
    }
    spin_lock(&g_arena->spin);
    *(void **)p = g_arena->free_head[h->cls];
    g_arena->free_head[h->cls] = h;
    spin_unlock(&g_arena->spin);
}

void *arena_realloc(void *p, size_t old_bytes, size_t bytes)
{
    void *n = arena_alloc(bytes);

    if (n == NULL)
        return NULL;
    if (p != NULL) {
        memcpy(n, p, old_bytes < bytes ? old_bytes : bytes);
        arena_free(p);
    }
    return n;
}

/* ---- a copy of one's own (fork before the stack started) ---- */

struct skip {
    char *start;
    size_t len, keep;        /* a table: len bytes of which the first keep are in use */
};

static int skip_cmp(const void *a, const void *b)
{
    const struct skip *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

void *arena_snapshot(void)
{
    struct skip sk[2 * FAM_SLOTS];
    int n = 0;
    char *base = (char *)g_arena, *copy, *at;
    uint64_t end = __atomic_load_n(&g_arena->bump, __ATOMIC_RELAXED);

    copy = mmap(NULL, ARENA_RESERVE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (copy == MAP_FAILED)
        return NULL;
    /* the fd tables are large and mostly untouched: copy what is in use
     * (reading an untouched shared page would allocate it) */
    for (int i = 0; i < FAM_SLOTS; i++) {
        struct fam_slot *sl = &g_fam->slots[i];
        size_t keep = ((size_t)__atomic_load_n(&sl->fd_hi, __ATOMIC_RELAXED) + 1) * sizeof(void *);
        if (sl->socks != NULL)
            sk[n++] = (struct skip){(char *)sl->socks, g_fam->table_bytes, keep};
        if (sl->eps != NULL)
            sk[n++] = (struct skip){(char *)sl->eps, g_fam->table_bytes, keep};
    }
    qsort(sk, (size_t)n, sizeof(sk[0]), skip_cmp);
    at = base;
    for (int i = 0; i < n; i++) {
        memcpy(copy + (at - base), at, (size_t)(sk[i].start - at));
        memcpy(copy + (sk[i].start - base), sk[i].start, sk[i].keep);
        at = sk[i].start + sk[i].len;
    }
    if (at < base + end)
        memcpy(copy + (at - base), at, (size_t)(base + end - at));
    return copy;
}

void arena_recover(void)
{
    /* every allocation is made holding the family's lock: a held spin
     * lock now was its dead holder's (a free list it left half changed
     * only leaks the block it was taking or giving back) */
    if (g_arena != NULL && __atomic_load_n(&g_arena->spin, __ATOMIC_ACQUIRE) != 0) {
        plog(PLOG_WARN, "the arena's lock was held by the process that died: released");
        spin_unlock(&g_arena->spin);
    }
}

int arena_adopt(void *copy)
{
    if (mremap(copy, ARENA_RESERVE, ARENA_RESERVE, MREMAP_MAYMOVE | MREMAP_FIXED, g_arena) == MAP_FAILED)
        return -errno;
    g_arena->spin = 0; /* a thread of the parent may have held it */
    return 0;
}

void arena_drop(void *copy)
{
    if (copy != NULL)
        munmap(copy, ARENA_RESERVE);
}
