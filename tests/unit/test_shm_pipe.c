/* test_shm_pipe.c - unit tests for core/shm_pipe.c.
 *
 * Criterion runs every test in its own process, so getpid() makes pipe
 * names unique per test. Forked children report through their exit
 * status only (never cr_assert, which belongs to the test process) and
 * leave with _exit() so no atexit or Criterion teardown runs twice.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm_pipe.h"

#define SHM_PREFIX "/sluice-pipe."
/* Where glibc keeps POSIX shm objects; used to hard-link a second name
 * onto a pipe, which is the only way to reach an object after its name
 * is gone. */
#define SHM_DIR "/dev/shm"

/* ---- helpers -------------------------------------------------------- */

static void pipe_name(char *buf, size_t n, const char *tag)
{
    int len = snprintf(buf, n, "t%ld-%s", (long)getpid(), tag);
    cr_assert(len > 0 && (size_t)len < n, "name too long for buffer");
}

static void shm_name_of(char *buf, size_t n, const char *name)
{
    int len = snprintf(buf, n, SHM_PREFIX "%s", name);
    cr_assert(len > 0 && (size_t)len < n, "name too long for buffer");
}

/* 0 if the pipe's shm object exists, else the shm_open errno. */
static int shm_name_errno(const char *name)
{
    char shm[512];
    shm_name_of(shm, sizeof(shm), name);
    int fd = shm_open(shm, O_RDONLY, 0);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

/* Gives the pipe `name` a second name `alias` (both bare pipe names). */
static void alias_pipe(const char *name, const char *alias)
{
    char from[512], to[512];
    snprintf(from, sizeof(from), SHM_DIR SHM_PREFIX "%s", name);
    snprintf(to, sizeof(to), SHM_DIR SHM_PREFIX "%s", alias);
    cr_assert_eq(link(from, to), 0, "link %s -> %s: %s", from, to,
                 strerror(errno));
}

static void unlink_pipe_name(const char *name)
{
    char shm[512];
    shm_name_of(shm, sizeof(shm), name);
    shm_unlink(shm);
}

/* Creates a shm object under the pipe name holding `len` bytes of `fill`
 * (or a copy of `bytes` when given). */
static void make_object(const char *name, const void *bytes, int fill,
                        size_t len)
{
    char shm[512];
    shm_name_of(shm, sizeof(shm), name);
    int fd = shm_open(shm, O_RDWR | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0, "shm_open: %s", strerror(errno));
    uint8_t *junk = malloc(len + 1);
    cr_assert_not_null(junk);
    if (bytes != NULL)
        memcpy(junk, bytes, len);
    else
        memset(junk, fill, len);
    cr_assert_eq(write(fd, junk, len), (ssize_t)len);
    free(junk);
    close(fd);
}

static void reap_ok(pid_t pid)
{
    int status = 0;
    pid_t r;
    do {
        r = waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    cr_assert_eq(r, pid, "waitpid: %s", strerror(errno));
    cr_assert(WIFEXITED(status), "child died abnormally (status %#x)", status);
    cr_assert_eq(WEXITSTATUS(status), 0, "child exited with %d",
                 WEXITSTATUS(status));
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Polls peer_closed for up to a second: the liveness probe is rate
 * limited, so a crash shows up a few ms late. */
static bool peer_closed_within_1s(const struct shm_pipe *p)
{
    int64_t deadline = now_ns() + 1000000000;
    while (now_ns() < deadline) {
        if (shm_pipe_peer_closed(p))
            return true;
        usleep(1000);
    }
    return false;
}

/* Deterministic byte stream: xorshift64, eight bytes per step. */
struct pat {
    uint64_t s, w;
    unsigned left;
};

static void pat_init(struct pat *g, uint64_t seed)
{
    g->s = seed ? seed : 1;
    g->w = 0;
    g->left = 0;
}

static uint64_t pat_step(struct pat *g)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return g->s;
}

static uint8_t pat_byte(struct pat *g)
{
    if (g->left == 0) {
        g->w = pat_step(g);
        g->left = 8;
    }
    uint8_t b = (uint8_t)g->w;
    g->w >>= 8;
    g->left--;
    return b;
}

/* Same bytes as n calls of pat_byte, a word at a time where it can (the
 * explicit little-endian stores keep that true on any host, so writer
 * and checker agree however their chunks split the stream). */
static void pat_fill(struct pat *g, uint8_t *buf, size_t n)
{
    size_t i = 0;
    for (; i < n && g->left != 0; i++)
        buf[i] = pat_byte(g);
    for (; n - i >= 8; i += 8) {
        uint64_t w = pat_step(g);
        for (int k = 0; k < 8; k++)
            buf[i + (size_t)k] = (uint8_t)(w >> (8 * k));
    }
    for (; i < n; i++)
        buf[i] = pat_byte(g);
}

/* Checks buf against the next n bytes of g; reports the first mismatch
 * by absolute stream offset `at`. */
static void pat_expect(struct pat *g, const uint8_t *buf, size_t n,
                       uint64_t at)
{
    static uint8_t want[64 << 10];
    while (n > 0) {
        size_t k = n < sizeof(want) ? n : sizeof(want);
        pat_fill(g, want, k);
        if (memcmp(buf, want, k) != 0) {
            size_t j = 0;
            while (buf[j] == want[j])
                j++;
            cr_assert_fail("byte %llu: got %#x want %#x",
                           (unsigned long long)(at + j), buf[j], want[j]);
        }
        buf += k;
        at += k;
        n -= k;
    }
}

/* Fletcher-style running checksum (mod 2^64): `lo` sums the bytes and
 * `hi` sums the running `lo`, which weights each byte by its position so
 * reordered or misplaced bytes change it. Cheap enough not to dominate the
 * 64 MiB stream, unlike a multiply-per-byte hash. */
struct csum {
    uint64_t lo, hi;
};

static void csum_add(struct csum *c, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c->lo += buf[i];
        c->hi += c->lo;
    }
}

/* Writes all n bytes, spinning while the ring is full; false if the
 * reader never made room within 30 s. For children. */
static bool write_all(struct shm_pipe *p, const uint8_t *buf, size_t n)
{
    int64_t deadline = now_ns() + 30000000000LL;
    size_t done = 0;
    while (done < n) {
        size_t w = shm_pipe_write(p, buf + done, n - done);
        done += w;
        if (w > 0)
            continue;
        if (shm_pipe_peer_closed(p) || now_ns() > deadline)
            return false;
        sched_yield();
    }
    return true;
}

/* Reads exactly n bytes, spinning while the ring is empty; false on EOF
 * first or after 30 s. */
static bool read_all(struct shm_pipe *p, uint8_t *buf, size_t n)
{
    int64_t deadline = now_ns() + 30000000000LL;
    size_t done = 0;
    while (done < n) {
        bool closed = shm_pipe_peer_closed(p);
        size_t r = shm_pipe_read(p, buf + done, n - done);
        done += r;
        if (r > 0)
            continue;
        if ((closed && shm_pipe_readable(p) == 0) || now_ns() > deadline)
            return false;
        sched_yield();
    }
    return true;
}

/* ---- argument checking ---------------------------------------------- */

Test(shm_pipe, bad_names_einval)
{
    char too_long[SHM_PIPE_NAME_MAX + 2];
    memset(too_long, 'a', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    const char *bad[] = { "", too_long, "a/b", "/abc", "a b", "a\tb",
                          "caf\xc3\xa9", "x*y", "dollar$" };
    struct shm_pipe *sentinel = (struct shm_pipe *)&sentinel;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct shm_pipe *p = sentinel;
        cr_assert_eq(shm_pipe_create(bad[i], 4096, &p), -EINVAL,
                     "create name #%zu", i);
        cr_assert_eq(p, sentinel, "out written on error");
        cr_assert_eq(shm_pipe_open(bad[i], &p), -EINVAL, "open name #%zu", i);
        cr_assert_eq(p, sentinel, "out written on error");
    }
    struct shm_pipe *p = NULL;
    cr_assert_eq(shm_pipe_create(NULL, 4096, &p), -EINVAL);
    cr_assert_eq(shm_pipe_open(NULL, &p), -EINVAL);
}

Test(shm_pipe, longest_name_and_all_name_chars_ok)
{
    char name[SHM_PIPE_NAME_MAX + 1];
    int pre = snprintf(name, sizeof(name), "t%ld-", (long)getpid());
    const char alphabet[] = "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    for (int i = pre; i < SHM_PIPE_NAME_MAX; i++)
        name[i] = alphabet[(size_t)i % (sizeof(alphabet) - 1)];
    name[SHM_PIPE_NAME_MAX] = '\0';

    struct shm_pipe *c = NULL, *o = NULL;
    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert_eq(shm_pipe_open(name, &o), 0);
    shm_pipe_close(o);
    shm_pipe_close(c);
}

Test(shm_pipe, bad_ring_sizes_einval)
{
    char name[64];
    pipe_name(name, sizeof(name), "rings");
    const size_t bad[] = { 0, 1, 2048, 4095, 4097, 12288, 65535,
                           ((size_t)1 << 30) + 4096, (size_t)1 << 31,
                           SIZE_MAX };
    struct shm_pipe *p = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(shm_pipe_create(name, bad[i], &p), -EINVAL,
                     "ring_bytes %zu", bad[i]);
    cr_assert_eq(shm_name_errno(name), ENOENT, "rejected create left a name");
    cr_assert_eq(shm_pipe_create(name, 4096, NULL), -EINVAL);
    cr_assert_eq(shm_pipe_open(name, NULL), -EINVAL);

    /* Both limits are accepted (the 1 GiB rings are sparse tmpfs). */
    cr_assert_eq(shm_pipe_create(name, 4096, &p), 0);
    cr_assert_eq(shm_pipe_writable(p), 4096);
    shm_pipe_close(p);
    cr_assert_eq(shm_pipe_create(name, (size_t)1 << 30, &p), 0);
    cr_assert_eq(shm_pipe_writable(p), (size_t)1 << 30);
    shm_pipe_close(p);
}

Test(shm_pipe, null_and_empty_arguments)
{
    char name[64];
    pipe_name(name, sizeof(name), "nulls");
    struct shm_pipe *c = NULL;
    uint8_t b = 7;

    shm_pipe_close(NULL);
    cr_assert_eq(shm_pipe_write(NULL, &b, 1), 0);
    cr_assert_eq(shm_pipe_read(NULL, &b, 1), 0);
    cr_assert_eq(shm_pipe_readable(NULL), 0);
    cr_assert_eq(shm_pipe_writable(NULL), 0);
    cr_assert(shm_pipe_peer_closed(NULL));
    cr_assert_not(shm_pipe_is_creator(NULL));

    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert(shm_pipe_is_creator(c));
    cr_assert_eq(shm_pipe_write(c, &b, 0), 0);
    cr_assert_eq(shm_pipe_write(c, NULL, 5), 0);
    cr_assert_eq(shm_pipe_read(c, NULL, 5), 0);
    cr_assert_eq(shm_pipe_writable(c), 4096, "nothing was written");
    shm_pipe_close(c);
}

/* ---- create / open errors ------------------------------------------- */

Test(shm_pipe, create_twice_eexist)
{
    char name[64];
    pipe_name(name, sizeof(name), "twice");
    struct shm_pipe *a = NULL, *b = NULL;

    cr_assert_eq(shm_pipe_create(name, 4096, &a), 0);
    cr_assert_eq(shm_pipe_create(name, 4096, &b), -EEXIST);
    cr_assert_eq(shm_pipe_create(name, 8192, &b), -EEXIST);
    cr_assert_null(b);
    shm_pipe_close(a);
}

Test(shm_pipe, open_missing_enoent)
{
    char name[64];
    pipe_name(name, sizeof(name), "missing");
    struct shm_pipe *p = NULL;

    cr_assert_eq(shm_pipe_open(name, &p), -ENOENT);
    cr_assert_null(p);
}

Test(shm_pipe, second_open_ebusy)
{
    char name[64], alias[64];
    pipe_name(name, sizeof(name), "busy");
    pipe_name(alias, sizeof(alias), "busy-alias");
    struct shm_pipe *c = NULL, *o = NULL, *o2 = NULL;

    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    alias_pipe(name, alias);
    cr_assert_eq(shm_pipe_open(name, &o), 0);
    cr_assert_not(shm_pipe_is_creator(o));
    /* Through its own name the pipe is gone; through the alias the object
     * is still reachable, and the opener slot is taken. */
    cr_assert_eq(shm_pipe_open(name, &o2), -ENOENT);
    cr_assert_eq(shm_pipe_open(alias, &o2), -EBUSY);
    cr_assert_null(o2);
    /* Still busy after the opener closes: an end is never reopened. */
    shm_pipe_close(o);
    cr_assert_eq(shm_pipe_open(alias, &o2), -EBUSY);
    shm_pipe_close(c);
    unlink_pipe_name(alias);
}

Test(shm_pipe, open_after_creator_closed_ebusy)
{
    char name[64], alias[64];
    pipe_name(name, sizeof(name), "late");
    pipe_name(alias, sizeof(alias), "late-alias");
    struct shm_pipe *c = NULL, *o = NULL;

    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    alias_pipe(name, alias);
    shm_pipe_close(c);
    cr_assert_eq(shm_name_errno(name), ENOENT);
    cr_assert_eq(shm_pipe_open(alias, &o), -EBUSY);
    cr_assert_null(o);
    unlink_pipe_name(alias);
}

/* Eight processes open the same pipe (each through its own alias, so the
 * first winner's unlink cannot turn the others' -EBUSY into -ENOENT) at
 * the same moment: exactly one may win. */
Test(shm_pipe, concurrent_openers_one_winner)
{
    enum { N = 8 };
    char name[64], alias[N][64];
    int gate[2], tried[2];
    pid_t kids[N];
    struct shm_pipe *c = NULL;

    pipe_name(name, sizeof(name), "race");
    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    for (int i = 0; i < N; i++) {
        char tag[32];
        snprintf(tag, sizeof(tag), "race-%d", i);
        pipe_name(alias[i], sizeof(alias[i]), tag);
        alias_pipe(name, alias[i]);
    }
    cr_assert_eq(pipe(gate), 0);
    cr_assert_eq(pipe(tried), 0);
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        cr_assert_geq(kids[i], 0);
        if (kids[i] != 0)
            continue;
        char go;
        close(gate[1]);
        if (read(gate[0], &go, 1) != 0) /* EOF = everyone go */
            _exit(10);
        struct shm_pipe *o = NULL;
        int rc = shm_pipe_open(alias[i], &o);
        if (rc == 0) {
            /* Stay attached until every child has tried (the last one
             * closes the write end: EOF), so that the losers overlap with
             * the winner - a handshake, not a guess at how long that is. */
            close(tried[1]);
            while (read(tried[0], &go, 1) > 0)
                ;
            shm_pipe_close(o);
            _exit(0);
        }
        close(tried[1]); /* "I have tried" */
        _exit(rc == -EBUSY ? 1 : 20);
    }
    close(gate[0]);
    close(tried[0]);
    close(tried[1]);
    close(gate[1]); /* releases all children at once */

    int winners = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        int status = 0;
        cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
        cr_assert(WIFEXITED(status));
        int code = WEXITSTATUS(status);
        cr_assert(code == 0 || code == 1, "child %d exited %d", i, code);
        winners += code == 0;
        busy += code == 1;
    }
    cr_assert_eq(winners, 1);
    cr_assert_eq(busy, N - 1);
    cr_assert(shm_pipe_peer_closed(c), "the winner closed");
    shm_pipe_close(c);
    /* The winner unlinked only the name it opened by. */
    for (int i = 0; i < N; i++)
        unlink_pipe_name(alias[i]);
    unlink_pipe_name(name);
}

Test(shm_pipe, not_a_pipe_eproto)
{
    char name[64];
    pipe_name(name, sizeof(name), "junk");
    struct shm_pipe *p = NULL;

    /* Junk of a plausible size. */
    make_object(name, NULL, 0xA5, 3 * 4096);
    cr_assert_eq(shm_pipe_open(name, &p), -EPROTO);
    cr_assert_null(p);
    cr_assert_eq(shm_name_errno(name), 0, "failed open must not unlink");
    unlink_pipe_name(name);

    /* Too short to hold a header, and stays that way. */
    make_object(name, "hello", 0, 5);
    cr_assert_eq(shm_pipe_open(name, &p), -EPROTO);
    unlink_pipe_name(name);

    /* Empty, as if a creator died between shm_open and ftruncate. */
    make_object(name, NULL, 0, 0);
    cr_assert_eq(shm_pipe_open(name, &p), -EPROTO);
    unlink_pipe_name(name);

    /* All zeros: looks like a header whose magic never arrived. */
    make_object(name, NULL, 0, 3 * 4096);
    cr_assert_eq(shm_pipe_open(name, &p), -EPROTO);
    unlink_pipe_name(name);
    cr_assert_null(p);
}

/* A genuine header with one field changed: the header layout is fixed
 * (static_asserts in shm_pipe.c), version at byte 8, ring_bytes at 16. */
Test(shm_pipe, bad_version_or_size_eproto)
{
    char name[64], copy[64];
    pipe_name(name, sizeof(name), "hdr");
    pipe_name(copy, sizeof(copy), "hdr-copy");
    struct shm_pipe *c = NULL, *p = NULL;
    uint8_t page[4096 + 2 * 4096];

    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    char shm[512];
    shm_name_of(shm, sizeof(shm), name);
    int fd = shm_open(shm, O_RDONLY, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(read(fd, page, sizeof(page)), (ssize_t)sizeof(page));
    close(fd);

    /* The untouched copy opens, proving the edits below are what fail. */
    make_object(copy, page, 0, sizeof(page));
    cr_assert_eq(shm_pipe_open(copy, &p), 0);
    shm_pipe_close(p);
    p = NULL;

    page[8] ^= 0x40; /* version */
    make_object(copy, page, 0, sizeof(page));
    cr_assert_eq(shm_pipe_open(copy, &p), -EPROTO);
    unlink_pipe_name(copy);
    page[8] ^= 0x40;

    page[17] ^= 0x01; /* ring_bytes 4096 -> 4352: not a power of two */
    make_object(copy, page, 0, sizeof(page));
    cr_assert_eq(shm_pipe_open(copy, &p), -EPROTO);
    unlink_pipe_name(copy);
    page[17] ^= 0x01;

    /* Truncated: header intact, ring B cut off. */
    make_object(copy, page, 0, 4096 + 4096);
    cr_assert_eq(shm_pipe_open(copy, &p), -EPROTO);
    unlink_pipe_name(copy);
    cr_assert_null(p);
    shm_pipe_close(c);
}

/* ---- data path in one process --------------------------------------- */

Test(shm_pipe, write_until_full_exact_capacity)
{
    char name[64];
    pipe_name(name, sizeof(name), "full");
    struct shm_pipe *c = NULL, *o = NULL;
    static uint8_t in[10000], out[10000];
    struct pat g;

    pat_init(&g, 42);
    pat_fill(&g, in, sizeof(in));
    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert_eq(shm_pipe_open(name, &o), 0);

    cr_assert_eq(shm_pipe_writable(c), 4096);
    cr_assert_eq(shm_pipe_write(c, in, sizeof(in)), 4096);
    cr_assert_eq(shm_pipe_write(c, in + 4096, 1), 0);
    cr_assert_eq(shm_pipe_writable(c), 0);
    cr_assert_eq(shm_pipe_readable(o), 4096);

    /* Freeing 100 bytes lets exactly 100 more in. */
    cr_assert_eq(shm_pipe_read(o, out, 100), 100);
    cr_assert_eq(shm_pipe_writable(c), 100);
    cr_assert_eq(shm_pipe_write(c, in + 4096, 200), 100);
    cr_assert_eq(shm_pipe_write(c, in + 4196, 1), 0);

    cr_assert_eq(shm_pipe_read(o, out + 100, sizeof(out) - 100), 4096);
    cr_assert_eq(memcmp(out, in, 4196), 0);
    cr_assert_eq(shm_pipe_readable(o), 0);
    cr_assert_eq(shm_pipe_read(o, out, sizeof(out)), 0);
    cr_assert_eq(shm_pipe_writable(c), 4096);
    shm_pipe_close(o);
    shm_pipe_close(c);
}

/* Writer and reader use unrelated odd sizes 1..4097 against a 4096-byte
 * ring, so the wrap point lands everywhere; 8 MiB must arrive exactly. */
Test(shm_pipe, wraparound_odd_sizes)
{
    char name[64];
    pipe_name(name, sizeof(name), "wrap");
    struct shm_pipe *c = NULL, *o = NULL;
    static uint8_t wbuf[4097], rbuf[4097];
    struct pat wg, rg;
    const uint64_t total = 8u << 20;
    uint64_t written = 0, got = 0;
    size_t pending = 0, pend_off = 0;

    pat_init(&wg, 7);
    pat_init(&rg, 7);
    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert_eq(shm_pipe_open(name, &o), 0);

    for (uint64_t i = 0; got < total; i++) {
        if (pending == 0 && written < total) {
            pending = (size_t)(i * 7919 % 4097) + 1;
            if (pending > total - written)
                pending = (size_t)(total - written);
            pat_fill(&wg, wbuf, pending);
            pend_off = 0;
        }
        size_t w = shm_pipe_write(c, wbuf + pend_off, pending);
        cr_assert_leq(w, pending);
        pend_off += w;
        pending -= w;
        written += w;
        cr_assert_eq(shm_pipe_readable(o), written - got);

        size_t want = (size_t)(i * 104729 % 4097) + 1;
        size_t r = shm_pipe_read(o, rbuf, want);
        cr_assert_leq(r, want);
        pat_expect(&rg, rbuf, r, got);
        got += r;
    }
    cr_assert_eq(written, total);
    cr_assert_eq(got, total);
    cr_assert_eq(shm_pipe_readable(o), 0);
    shm_pipe_close(o);
    shm_pipe_close(c);
}

Test(shm_pipe, duplex_directions_independent)
{
    char name[64];
    pipe_name(name, sizeof(name), "duplex");
    struct shm_pipe *c = NULL, *o = NULL;
    static uint8_t a[8192], b[8192], out[8192];
    struct pat g;

    pat_init(&g, 1);
    pat_fill(&g, a, sizeof(a));
    pat_init(&g, 2);
    pat_fill(&g, b, sizeof(b));
    cr_assert_eq(shm_pipe_create(name, 8192, &c), 0);
    cr_assert_eq(shm_pipe_open(name, &o), 0);
    cr_assert(shm_pipe_is_creator(c));
    cr_assert_not(shm_pipe_is_creator(o));

    /* Filling A leaves B untouched, and nothing loops back. */
    cr_assert_eq(shm_pipe_write(c, a, sizeof(a)), 8192);
    cr_assert_eq(shm_pipe_writable(c), 0);
    cr_assert_eq(shm_pipe_writable(o), 8192);
    cr_assert_eq(shm_pipe_readable(c), 0);
    cr_assert_eq(shm_pipe_read(c, out, sizeof(out)), 0);

    cr_assert_eq(shm_pipe_write(o, b, 1000), 1000);
    cr_assert_eq(shm_pipe_readable(c), 1000);
    cr_assert_eq(shm_pipe_readable(o), 8192);

    cr_assert_eq(shm_pipe_read(c, out, sizeof(out)), 1000);
    cr_assert_eq(memcmp(out, b, 1000), 0);
    cr_assert_eq(shm_pipe_readable(o), 8192, "reading B must not drain A");
    cr_assert_eq(shm_pipe_read(o, out, sizeof(out)), 8192);
    cr_assert_eq(memcmp(out, a, sizeof(a)), 0);
    cr_assert_eq(shm_pipe_writable(c), 8192);
    cr_assert_eq(shm_pipe_writable(o), 8192);
    shm_pipe_close(o);
    shm_pipe_close(c);
}

/* ---- closing and EOF ------------------------------------------------ */

Test(shm_pipe, eof_in_process_both_directions)
{
    char name[64];
    pipe_name(name, sizeof(name), "eof");
    struct shm_pipe *c = NULL, *o = NULL;
    char buf[16];

    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert_not(shm_pipe_peer_closed(c), "no opener yet is not EOF");
    cr_assert_eq(shm_pipe_open(name, &o), 0);
    cr_assert_not(shm_pipe_peer_closed(c));
    cr_assert_not(shm_pipe_peer_closed(o));

    /* Creator -> opener, then the creator leaves. */
    cr_assert_eq(shm_pipe_write(c, "bye", 3), 3);
    shm_pipe_close(c);
    cr_assert(shm_pipe_peer_closed(o));
    cr_assert_eq(shm_pipe_readable(o), 3, "data outlives its writer");
    cr_assert_eq(shm_pipe_read(o, buf, sizeof(buf)), 3);
    cr_assert_eq(memcmp(buf, "bye", 3), 0);
    cr_assert_eq(shm_pipe_readable(o), 0);
    shm_pipe_close(o);

    /* Opener -> creator, then the opener leaves. */
    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert_eq(shm_pipe_open(name, &o), 0);
    cr_assert_eq(shm_pipe_write(o, "hello", 5), 5);
    shm_pipe_close(o);
    cr_assert(shm_pipe_peer_closed(c));
    cr_assert_eq(shm_pipe_read(c, buf, sizeof(buf)), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_eq(shm_pipe_readable(c), 0);
    shm_pipe_close(c);
}

/* A child opener streams 1 MiB through a 4 KiB ring and closes; the
 * parent reads to EOF (checked in the safe order) and gets every byte. */
Test(shm_pipe, eof_cross_process)
{
    char name[64];
    pipe_name(name, sizeof(name), "eofx");
    struct shm_pipe *c = NULL;
    const size_t total = 1u << 20;

    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        struct shm_pipe *o = NULL;
        if (shm_pipe_open(name, &o) != 0)
            _exit(2);
        uint8_t *buf = malloc(total);
        if (buf == NULL)
            _exit(3);
        struct pat g;
        pat_init(&g, 99);
        pat_fill(&g, buf, total);
        if (!write_all(o, buf, total))
            _exit(4);
        shm_pipe_close(o);
        free(buf);
        _exit(0);
    }

    struct pat g;
    pat_init(&g, 99);
    uint8_t buf[3000];
    uint64_t got = 0;
    int64_t deadline = now_ns() + 30000000000LL;
    for (;;) {
        bool closed = shm_pipe_peer_closed(c); /* before readable */
        size_t n = shm_pipe_read(c, buf, sizeof(buf));
        pat_expect(&g, buf, n, got);
        got += n;
        if (n == 0 && closed && shm_pipe_readable(c) == 0)
            break;
        cr_assert_lt(now_ns(), deadline, "stalled at %llu bytes",
                     (unsigned long long)got);
        if (n == 0)
            sched_yield();
    }
    cr_assert_eq(got, total);
    reap_ok(kid);
    shm_pipe_close(c);
}

Test(shm_pipe, crashed_opener_reads_as_closed)
{
    char name[64];
    pipe_name(name, sizeof(name), "crash-o");
    struct shm_pipe *c = NULL;
    char buf[16];

    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        struct shm_pipe *o = NULL;
        if (shm_pipe_open(name, &o) != 0)
            _exit(2);
        if (shm_pipe_write(o, "last words", 10) != 10)
            _exit(3);
        _exit(0); /* no shm_pipe_close: as if it crashed */
    }
    reap_ok(kid); /* a zombie still counts as alive; reap it first */
    cr_assert(peer_closed_within_1s(c));
    cr_assert_eq(shm_pipe_read(c, buf, sizeof(buf)), 10);
    cr_assert_eq(memcmp(buf, "last words", 10), 0);
    cr_assert_eq(shm_pipe_readable(c), 0);
    shm_pipe_close(c);
}

Test(shm_pipe, crashed_creator_reads_as_closed)
{
    char name[64];
    pipe_name(name, sizeof(name), "crash-c");
    struct shm_pipe *o = NULL;
    int ready[2];
    char buf[16], go;

    cr_assert_eq(pipe(ready), 0);
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0) {
        struct shm_pipe *c = NULL;
        close(ready[0]);
        if (shm_pipe_create(name, 4096, &c) != 0)
            _exit(2);
        if (shm_pipe_write(c, "xyz", 3) != 3)
            _exit(3);
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        _exit(0); /* no shm_pipe_close */
    }
    close(ready[1]);
    cr_assert_eq(read(ready[0], &go, 1), 1, "creator child failed");
    close(ready[0]);
    cr_assert_eq(shm_pipe_open(name, &o), 0);
    reap_ok(kid);
    cr_assert(peer_closed_within_1s(o));
    cr_assert_eq(shm_pipe_read(o, buf, sizeof(buf)), 3);
    cr_assert_eq(memcmp(buf, "xyz", 3), 0);
    shm_pipe_close(o);
}

/* ---- names ---------------------------------------------------------- */

Test(shm_pipe, name_gone_after_open_and_close)
{
    char name[64];
    pipe_name(name, sizeof(name), "gone");
    struct shm_pipe *c = NULL, *o = NULL, *c2 = NULL, *o2 = NULL;
    char buf[8];

    /* Creator alone: the name lives until the creator closes. */
    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert_eq(shm_name_errno(name), 0);
    shm_pipe_close(c);
    cr_assert_eq(shm_name_errno(name), ENOENT);

    /* With an opener: the open takes the name away. */
    cr_assert_eq(shm_pipe_create(name, 4096, &c), 0);
    cr_assert_eq(shm_pipe_open(name, &o), 0);
    cr_assert_eq(shm_name_errno(name), ENOENT);

    /* The name is free again while the first pipe is in use, and the old
     * creator's close must not unlink the new pipe. */
    cr_assert_eq(shm_pipe_create(name, 4096, &c2), 0);
    cr_assert_eq(shm_pipe_write(c, "one", 3), 3);
    shm_pipe_close(c);
    cr_assert_eq(shm_name_errno(name), 0, "close unlinked someone else");
    cr_assert_eq(shm_pipe_open(name, &o2), 0);
    cr_assert_eq(shm_name_errno(name), ENOENT);
    cr_assert_eq(shm_pipe_readable(o2), 0, "pipes share nothing");
    cr_assert_eq(shm_pipe_read(o, buf, sizeof(buf)), 3);
    cr_assert_eq(memcmp(buf, "one", 3), 0);
    shm_pipe_close(o);
    shm_pipe_close(o2);
    shm_pipe_close(c2);
    cr_assert_eq(shm_name_errno(name), ENOENT);
}

/* ---- cross-process stream ------------------------------------------- */

#define STREAM_BYTES ((uint64_t)64 << 20)
#define STREAM_RING ((size_t)1 << 20)
#define STREAM_CHUNK ((size_t)64 << 10)
#define STREAM_SEED UINT64_C(0x5eed5eed5eed)

/* Child: opens the pipe, writes STREAM_BYTES of the pattern in chunks of
 * varying size followed by its 16-byte checksum, then waits for the
 * parent's checksum on the other ring and exits 0 only if they agree. */
static void stream_child(const char *name)
{
    struct shm_pipe *o = NULL;
    if (shm_pipe_open(name, &o) != 0)
        _exit(2);
    uint8_t *buf = malloc(STREAM_CHUNK);
    if (buf == NULL)
        _exit(3);
    struct pat g;
    pat_init(&g, STREAM_SEED);
    struct csum sum = { 0, 0 };
    for (uint64_t sent = 0, i = 0; sent < STREAM_BYTES; i++) {
        size_t n = STREAM_CHUNK - (size_t)(i * 2654435761u % 4096);
        if (n > STREAM_BYTES - sent)
            n = (size_t)(STREAM_BYTES - sent);
        pat_fill(&g, buf, n);
        csum_add(&sum, buf, n);
        if (!write_all(o, buf, n))
            _exit(4);
        sent += n;
    }
    if (!write_all(o, (const uint8_t *)&sum, sizeof(sum)))
        _exit(5);
    struct csum echo = { 0, 0 };
    if (!read_all(o, (uint8_t *)&echo, sizeof(echo)))
        _exit(6);
    if (echo.lo != sum.lo || echo.hi != sum.hi)
        _exit(7);
    shm_pipe_close(o);
    free(buf);
    _exit(0);
}

Test(shm_pipe, stream_64mib_cross_process, .timeout = 120)
{
    char name[64];
    pipe_name(name, sizeof(name), "stream");
    struct shm_pipe *c = NULL;

    cr_assert_eq(shm_pipe_create(name, STREAM_RING, &c), 0);
    int64_t t0 = now_ns();
    pid_t kid = fork();
    cr_assert_geq(kid, 0);
    if (kid == 0)
        stream_child(name);

    uint8_t *buf = malloc(STREAM_CHUNK);
    cr_assert_not_null(buf);
    struct pat g;
    pat_init(&g, STREAM_SEED);
    struct csum sum = { 0, 0 };
    uint64_t got = 0;
    int64_t deadline = t0 + 100000000000LL;
    for (uint64_t i = 0; got < STREAM_BYTES; i++) {
        size_t want = STREAM_CHUNK - (size_t)(i * 40503u % 8192);
        if (want > STREAM_BYTES - got)
            want = (size_t)(STREAM_BYTES - got);
        bool closed = shm_pipe_peer_closed(c); /* before reading */
        size_t n = shm_pipe_read(c, buf, want);
        pat_expect(&g, buf, n, got);
        csum_add(&sum, buf, n);
        got += n;
        if (n > 0)
            continue;
        cr_assert_not(closed && shm_pipe_readable(c) == 0,
                      "peer gone after %llu bytes", (unsigned long long)got);
        cr_assert_lt(now_ns(), deadline, "stalled at %llu bytes",
                     (unsigned long long)got);
        sched_yield();
    }
    int64_t t1 = now_ns();
    free(buf);

    struct csum child_sum = { 0, 0 };
    cr_assert(read_all(c, (uint8_t *)&child_sum, sizeof(child_sum)));
    cr_assert_eq(child_sum.lo, sum.lo, "checksum lo differs");
    cr_assert_eq(child_sum.hi, sum.hi, "checksum hi differs");
    cr_assert_neq(sum.hi, 0);
    cr_assert(write_all(c, (const uint8_t *)&sum, sizeof(sum)));
    reap_ok(kid);
    cr_assert(shm_pipe_peer_closed(c));
    cr_assert_eq(shm_pipe_readable(c), 0, "stray bytes after the stream");
    shm_pipe_close(c);

    double secs = (double)(t1 - t0) / 1e9;
    fprintf(stderr, "shm_pipe: 64 MiB (checked) in %.1f ms = %.0f MiB/s\n",
            secs * 1e3, 64.0 / secs);
}
