/* test_pipe.c - shared-memory pipes between two processes: 100 MB with a
 * checksum, EOF on close, EPIPE after the peer closed, free protection. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define TOTAL (100u * 1000 * 1000)
#define CHUNK (64u * 1024)

/* FNV-1a, 64-bit: the checksum both ends compute over the stream. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* Opens name, retrying while the creator has not made it yet. */
static int open_retry(const char *name)
{
    int qd = -1, rc;
    for (int i = 0; i < 5000; i++) {
        rc = demi_open_pipe(&qd, name);
        if (rc != ENOENT)
            return rc == 0 ? qd : -rc;
        usleep(2000);
    }
    return -ENOENT;
}

/* Pops one array from qd; returns its length, or -1 on failure. The
 * caller frees *out. */
static long pop_one(int qd, demi_sgarray_t *out)
{
    demi_qtoken_t qt;
    demi_qresult_t qr;
    if (demi_pop(&qt, qd) != 0 || demi_wait(&qr, qt, NULL) != 0 || qr.qr_opcode != DEMI_OPC_POP)
        return -1;
    *out = qr.qr_value.sga;
    return (long)out->sga_segs[0].sgaseg_len;
}

/* Child: pops exactly TOTAL bytes, checks the pattern byte by byte, sends
 * back {checksum, count}, then expects EOF once the sender closes. Exit
 * status 0 on success, else a code that says which step failed. */
static int receiver(const char *name)
{
    if (demi_init(NULL) != 0)
        return 10;
    int qd = open_retry(name);
    if (qd < 0)
        return 11;
    uint64_t st = 42, h = FNV_INIT, total = 0;
    uint8_t want[4096];
    demi_sgarray_t sga;
    while (total < TOTAL) {
        long len = pop_one(qd, &sga);
        if (len <= 0)
            return 12;
        const uint8_t *p = sga.sga_segs[0].sgaseg_buf;
        for (long off = 0; off < len;) {
            size_t n = (size_t)(len - off) < sizeof(want) ? (size_t)(len - off) : sizeof(want);
            t_pattern(&st, want, n);
            if (memcmp(p + off, want, n) != 0)
                return 13;
            off += (long)n;
        }
        h = fnv(h, p, (size_t)len);
        total += (uint64_t)len;
        if (demi_sgafree(&sga) != 0)
            return 14;
    }
    uint64_t reply[2] = {h, total};
    sga = demi_sgaalloc(sizeof(reply));
    memcpy(sga.sga_segs[0].sgaseg_buf, reply, sizeof(reply));
    demi_qtoken_t qt;
    demi_qresult_t qr;
    if (demi_push(&qt, qd, &sga) != 0 || demi_wait(&qr, qt, NULL) != 0 || qr.qr_opcode != DEMI_OPC_PUSH)
        return 15;
    demi_sgafree(&sga);
    if (pop_one(qd, &sga) != 0)
        return 16; /* EOF is a zero-length segment */
    if (demi_sgafree(&sga) != 0)
        return 17;
    return demi_close(qd) == 0 ? 0 : 18;
}

static pid_t spawn_receiver(const char *name)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(receiver(name));
    return pid;
}

static void reap(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "receiver died");
    cr_assert_eq(WEXITSTATUS(status), 0, "receiver failed at step %d", WEXITSTATUS(status));
}

Test(pipe, two_processes_carry_100MB_with_equal_checksum, .timeout = 300)
{
    char name[128];
    snprintf(name, sizeof(name), "%s", t_pipe_name("100mb"));
    pid_t pid = spawn_receiver(name);
    t_init();
    int qd = -1;
    cr_assert_eq(demi_create_pipe(&qd, name), 0);
    uint64_t st = 42, h = FNV_INIT;
    for (uint32_t sent = 0; sent < TOTAL;) {
        uint32_t n = TOTAL - sent < CHUNK ? TOTAL - sent : CHUNK;
        demi_sgarray_t sga = demi_sgaalloc(n);
        cr_assert_eq(sga.sga_numsegs, 1);
        t_pattern(&st, sga.sga_segs[0].sgaseg_buf, n);
        h = fnv(h, sga.sga_segs[0].sgaseg_buf, n);
        demi_qtoken_t qt;
        cr_assert_eq(demi_push(&qt, qd, &sga), 0);
        demi_qresult_t qr = t_wait(qt);
        cr_assert_eq(qr.qr_opcode, DEMI_OPC_PUSH, "push failed: %ld", (long)qr.qr_ret);
        cr_assert_eq(demi_sgafree(&sga), 0);
        sent += n;
    }
    uint64_t reply[2];
    size_t got = 0;
    while (got < sizeof(reply)) {
        demi_sgarray_t sga;
        long len = pop_one(qd, &sga);
        cr_assert_gt(len, 0, "reply lost");
        cr_assert_leq(got + (size_t)len, sizeof(reply));
        memcpy((char *)reply + got, sga.sga_segs[0].sgaseg_buf, (size_t)len);
        got += (size_t)len;
        demi_sgafree(&sga);
    }
    cr_assert_eq(reply[1], TOTAL, "receiver counted %lu bytes", (unsigned long)reply[1]);
    cr_assert_eq(reply[0], h, "checksums differ");
    cr_assert_eq(demi_close(qd), 0);
    reap(pid);
}

Test(pipe, both_ends_in_one_process)
{
    t_init();
    const char *name = t_pipe_name("local");
    int a = -1, b = -1;
    cr_assert_eq(demi_create_pipe(&a, name), 0);
    cr_assert_eq(demi_open_pipe(&b, name), 0);
    t_push_bytes(a, "to-b", 4);
    t_push_bytes(b, "to-a", 4);
    demi_sgarray_t sga;
    cr_assert_eq(pop_one(b, &sga), 4);
    cr_assert_arr_eq(sga.sga_segs[0].sgaseg_buf, "to-b", 4);
    demi_sgafree(&sga);
    cr_assert_eq(pop_one(a, &sga), 4);
    cr_assert_arr_eq(sga.sga_segs[0].sgaseg_buf, "to-a", 4);
    demi_sgafree(&sga);
}

Test(pipe, close_delivers_eof_after_the_last_bytes)
{
    t_init();
    const char *name = t_pipe_name("eof");
    int a = -1, b = -1;
    cr_assert_eq(demi_create_pipe(&a, name), 0);
    cr_assert_eq(demi_open_pipe(&b, name), 0);
    t_push_bytes(a, "last", 4);
    cr_assert_eq(demi_close(a), 0);
    demi_sgarray_t sga;
    cr_assert_eq(pop_one(b, &sga), 4);
    cr_assert_arr_eq(sga.sga_segs[0].sgaseg_buf, "last", 4);
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(pop_one(b, &sga), 0, "EOF is a zero-length segment");
    cr_assert_eq(sga.sga_numsegs, 1);
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(pop_one(b, &sga), 0, "EOF repeats");
    cr_assert_eq(demi_sgafree(&sga), 0);
}

Test(pipe, push_after_peer_closed_fails_with_epipe)
{
    t_init();
    const char *name = t_pipe_name("epipe");
    int a = -1, b = -1;
    cr_assert_eq(demi_create_pipe(&a, name), 0);
    cr_assert_eq(demi_open_pipe(&b, name), 0);
    cr_assert_eq(demi_close(b), 0);
    demi_sgarray_t sga = t_sga_from("x", 1);
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, a, &sga), 0);
    demi_qresult_t qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, EPIPE);
    cr_assert_eq(demi_sgafree(&sga), 0);
}

Test(pipe, pushed_array_survives_early_free)
{
    /* free protection: the push holds the array until it completes */
    t_init();
    const char *name = t_pipe_name("protect");
    int a = -1, b = -1;
    cr_assert_eq(demi_create_pipe(&a, name), 0);
    size_t big = 3u << 20; /* more than the 1 MiB ring: the push must wait */
    uint8_t *want = malloc(big);
    uint64_t st = 9;
    t_pattern(&st, want, big);
    demi_sgarray_t sga = t_sga_from(want, big);
    demi_qtoken_t qt;
    demi_qresult_t qr;
    cr_assert_eq(demi_push(&qt, a, &sga), 0);
    struct timespec zero = {0, 0};
    cr_assert_eq(demi_wait(&qr, qt, &zero), ETIMEDOUT, "the ring is full: the push is pending");
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(demi_open_pipe(&b, name), 0);
    size_t got = 0;
    while (got < big) {
        demi_sgarray_t in;
        long len = pop_one(b, &in);
        cr_assert_gt(len, 0);
        cr_assert_arr_eq(in.sga_segs[0].sgaseg_buf, want + got, (size_t)len);
        got += (size_t)len;
        demi_sgafree(&in);
    }
    qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_PUSH);
    free(want);
}

Test(pipe, close_cancels_a_pending_push)
{
    t_init();
    const char *name = t_pipe_name("cancel");
    int a = -1;
    cr_assert_eq(demi_create_pipe(&a, name), 0);
    unsigned before = t_pool_avail();
    demi_sgarray_t sga = demi_sgaalloc(2u << 20);
    demi_qtoken_t qt;
    cr_assert_eq(demi_push(&qt, a, &sga), 0);
    cr_assert_eq(demi_sgafree(&sga), 0);
    cr_assert_eq(demi_close(a), 0);
    demi_qresult_t qr = t_wait(qt);
    cr_assert_eq(qr.qr_opcode, DEMI_OPC_FAILED);
    cr_assert_eq(qr.qr_ret, ECANCELED);
    cr_assert_eq(t_pool_avail(), before, "the held array was released");
}

Test(pipe, exit_without_close_removes_an_unopened_pipe_name)
{
    char name[128], path[200];
    snprintf(name, sizeof(name), "%s", t_pipe_name("atexit"));
    snprintf(path, sizeof(path), "/dev/shm/sluice-pipe.%s", name);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int qd;
        if (demi_init(NULL) != 0 || demi_create_pipe(&qd, name) != 0 || access(path, F_OK) != 0)
            _exit(1);
        exit(0); /* no demi_close: the exit handler must clean up */
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child could not create the pipe");
    cr_assert_neq(access(path, F_OK), 0, "%s is still there", path);
}
