/*
 * mon_ring.c - a monitor side's byte stream (mon_ring.h). Read before
 * editing: mOS's mtcp_peek(3) NOTES (overwriting, and the failing peek that
 * reports it) and mtcp_ppeek(3) (offsets from the initial sequence number).
 *
 * Stream offset o lives at b[o % cap]; a hole keeps its ring space (its
 * bytes are garbage), so the mapping never changes.
 */
#include "mon_ring.h"
#include "smem.h"

#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

void mon_ring_init(struct mon_ring *r, uint32_t cap)
{
    memset(r, 0, sizeof(*r));
    r->cap = cap;
}

void mon_ring_free(struct mon_ring *r)
{
    smem_free(r->b);
    r->b = NULL;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t hole_end(const struct mon_hole *h)
{
    return h->off + h->len;
}

static void hole_pop(struct mon_ring *r)
{
    memmove(&r->holes[0], &r->holes[1], (r->nholes - 1) * sizeof(r->holes[0]));
    r->nholes--;
}

/* Hole bytes in [lo, hi). */
static uint64_t hole_bytes(const struct mon_ring *r, uint64_t lo, uint64_t hi)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < r->nholes; i++) {
        uint64_t a = r->holes[i].off > lo ? r->holes[i].off : lo;
        uint64_t b = min64(hole_end(&r->holes[i]), hi);
        if (b > a)
            sum += b - a;
    }
    return sum;
}

/* Forgets [head, h): unread real bytes in it are overwritten, and every
 * unread byte passed (holes too) is a gap the next peek reports. */
static void drop_to(struct mon_ring *r, uint64_t h)
{
    if (h <= r->head)
        return;
    if (r->rd < h) {
        uint64_t gap = h - r->rd;
        r->overwritten += gap - hole_bytes(r, r->rd, h);
        r->pending_gap += gap;
        r->rd = h;
    }
    while (r->nholes > 0 && hole_end(&r->holes[0]) <= h)
        hole_pop(r);
    if (r->nholes > 0 && r->holes[0].off < h) {
        r->holes[0].len = hole_end(&r->holes[0]) - h;
        r->holes[0].off = h;
    }
    r->head = h;
}

static void copy_in(struct mon_ring *r, uint64_t o, const struct rte_mbuf *m, uint32_t off, uint32_t n)
{
    while (n > 0) {
        uint32_t pos = (uint32_t)(o % r->cap);
        uint32_t k = (uint32_t)min64(n, r->cap - pos);
        const void *p = rte_pktmbuf_read(m, off, k, r->b + pos);

        if (p != r->b + pos)
            memcpy(r->b + pos, p, k);
        o += k;
        off += k;
        n -= k;
    }
}

static void copy_out(const struct mon_ring *r, uint64_t o, uint8_t *dst, uint64_t n)
{
    while (n > 0) {
        uint32_t pos = (uint32_t)(o % r->cap);
        uint64_t k = min64(n, r->cap - pos);

        memcpy(dst, r->b + pos, k);
        o += k;
        dst += k;
        n -= k;
    }
}

/* Without a ring the stream only counts: nothing is unread. */
static void advance_unbuffered(struct mon_ring *r, uint64_t n)
{
    r->tail += n;
    r->head = r->rd = r->tail;
}

void mon_ring_skip(struct mon_ring *r, uint64_t n)
{
    struct mon_hole *last = r->nholes ? &r->holes[r->nholes - 1] : NULL;

    if (n == 0)
        return;
    if (r->cap == 0) {
        advance_unbuffered(r, n);
        return;
    }
    /* The table is full: an old hole already read past leaves the ring's
     * reach (head moves over it); else the last hole grows to take this
     * one, bytes between them counted lost too (rare: 8 holes unread). */
    if (r->nholes == MON_RING_HOLES && hole_end(&r->holes[0]) <= r->rd) {
        r->head = hole_end(&r->holes[0]);
        hole_pop(r);
        last = &r->holes[r->nholes - 1];
    }
    if (last != NULL && (hole_end(last) == r->tail || r->nholes == MON_RING_HOLES))
        last->len = r->tail + n - last->off;
    else
        r->holes[r->nholes++] = (struct mon_hole){ .off = r->tail, .len = n };
    r->tail += n;
    if (r->tail - r->head > r->cap)
        drop_to(r, r->tail - r->cap);
}

int mon_ring_append(struct mon_ring *r, const struct rte_mbuf *m, uint32_t off, uint32_t n)
{
    uint64_t new_tail = r->tail + n, skip = 0;

    if (n == 0)
        return 0;
    if (r->cap == 0) {
        advance_unbuffered(r, n);
        return 0;
    }
    if (r->b == NULL && (r->b = smem_malloc(r->cap)) == NULL) {
        mon_ring_skip(r, n);
        return -ENOMEM;
    }
    if (new_tail - r->head > r->cap)
        drop_to(r, new_tail - r->cap);
    if (r->head > r->tail)
        skip = r->head - r->tail; /* n > cap: only the last cap bytes stay */
    copy_in(r, r->tail + skip, m, off + (uint32_t)skip, n - (uint32_t)skip);
    r->tail = new_tail;
    return 0;
}

/* The first hole that ends after o, or NULL. */
static const struct mon_hole *hole_after(const struct mon_ring *r, uint64_t o)
{
    for (unsigned i = 0; i < r->nholes; i++)
        if (hole_end(&r->holes[i]) > o)
            return &r->holes[i];
    return NULL;
}

ssize_t mon_ring_peek(struct mon_ring *r, void *buf, size_t len, uint64_t *gap)
{
    const struct mon_hole *h;
    uint64_t end, n;

    *gap = 0;
    if (r->cap == 0)
        return -EINVAL;
    *gap = r->pending_gap;
    r->pending_gap = 0;
    h = hole_after(r, r->rd);
    if (h != NULL && h->off <= r->rd) {
        *gap += hole_end(h) - r->rd;
        r->rd = hole_end(h);
    }
    if (*gap > 0)
        return -ENODATA;
    end = h != NULL ? h->off : r->tail;
    n = min64(len, end - r->rd);
    if (n == 0)
        return -ENODATA;
    copy_out(r, r->rd, buf, n);
    r->rd += n;
    return (ssize_t)n;
}

ssize_t mon_ring_ppeek(const struct mon_ring *r, void *buf, size_t len, uint64_t off)
{
    const struct mon_hole *h;
    uint64_t end, n;

    if (r->cap == 0)
        return -EINVAL;
    if (off < r->head || off >= r->tail)
        return -ENODATA;
    h = hole_after(r, off);
    if (h != NULL && h->off <= off)
        return -ENODATA;
    end = h != NULL ? h->off : r->tail;
    n = min64(len, end - off);
    copy_out(r, off, buf, n);
    return (ssize_t)n;
}

int mon_ring_resize(struct mon_ring *r, uint32_t cap)
{
    uint8_t *nb = NULL;
    uint64_t keep = min64(r->tail - r->head, cap), from = r->tail - keep;
    struct mon_ring old;

    if (cap == r->cap)
        return 0;
    if (cap > 0 && r->b != NULL && (nb = smem_malloc(cap)) == NULL)
        return -ENOMEM;
    drop_to(r, from);
    old = *r;
    r->b = nb;
    r->cap = cap;
    if (cap == 0) {
        r->head = r->rd = r->tail;
        r->nholes = 0;
        r->pending_gap = 0;
    } else if (nb != NULL) {
        for (uint64_t o = from; o < r->tail; o++)
            nb[o % cap] = old.b[o % old.cap];
    }
    smem_free(old.b);
    return 0;
}
