/*
 * udp_echo.c - a native Sluice UDP program for the integration tests.
 *
 *   udp_echo server PORT COUNT          echo COUNT datagrams back to their senders (0: until stopped), then exit 0
 *   udp_echo client ADDR PORT COUNT MAX  send COUNT datagrams of 1..MAX bytes (sizes spread, bytes
 *                                        from a pattern of the index), wait for each echo
 *                                        (retrying a lost one), check it byte for byte; exit 0
 *                                        when all came back equal
 *   udp_echo closed ADDR PORT            send to a port nobody listens on from a connected
 *                                        socket; exit 0 when the pop fails with ECONNREFUSED
 *
 * Prints one line of result. Uses only the public demi API.
 */
#include <arpa/inet.h>
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRIES 50

static int die(const char *what, int err)
{
    fprintf(stderr, "udp_echo: %s: %s\n", what, strerror(err));
    return 1;
}

static struct sockaddr_in sin_of(const char *addr, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &sin.sin_addr);
    return sin;
}

static void pattern(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* Pushes len bytes of data to dst and waits for the push. */
static int send_to(int qd, const void *data, size_t len, const struct sockaddr_in *dst)
{
    demi_sgarray_t sga = demi_sgaalloc(len);
    demi_qtoken_t qt;
    demi_qresult_t qr;
    int rc;

    if (sga.sga_numsegs == 0)
        return errno;
    memcpy(sga.sga_segs[0].sgaseg_buf, data, len);
    rc = dst ? demi_pushto(&qt, qd, &sga, (const struct sockaddr *)dst, sizeof(*dst)) : demi_push(&qt, qd, &sga);
    if (rc == 0)
        rc = demi_wait(&qr, qt, NULL);
    if (rc == 0 && qr.qr_opcode == DEMI_OPC_FAILED)
        rc = (int)qr.qr_ret;
    demi_sgafree(&sga);
    return rc;
}

static int server(int port, long count)
{
    int qd, rc;
    struct sockaddr_in any = sin_of("0.0.0.0", port);

    if ((rc = demi_socket(&qd, AF_INET, SOCK_DGRAM, 0)) != 0)
        return die("socket", rc);
    if ((rc = demi_bind(qd, (struct sockaddr *)&any, sizeof(any))) != 0)
        return die("bind", rc);
    printf("udp_echo: serving on port %d\n", port);
    fflush(stdout);
    for (long n = 0; count == 0 || n < count; n++) {
        demi_qtoken_t qt;
        demi_qresult_t qr;
        if ((rc = demi_pop(&qt, qd)) != 0 || (rc = demi_wait(&qr, qt, NULL)) != 0)
            return die("pop", rc);
        if (qr.qr_opcode != DEMI_OPC_POP)
            return die("pop result", (int)qr.qr_ret);
        demi_sgarray_t *in = &qr.qr_value.sga;
        struct sockaddr_in from = in->sga_addr; /* a packed member: copy, do not point */
        rc = send_to(qd, in->sga_segs[0].sgaseg_buf, in->sga_segs[0].sgaseg_len, &from);
        demi_sgafree(in);
        if (rc != 0)
            return die("echo", rc);
    }
    printf("udp_echo: echoed %ld datagrams\n", count);
    return 0;
}

/* Waits up to ms for a datagram on the pending pop *qt; 0 and the result,
 * or ETIMEDOUT (the pop stays pending). */
static int recv_wait(demi_qtoken_t qt, demi_qresult_t *qr, long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    int rc = demi_wait(qr, qt, &ts);
    if (rc == 0 && qr->qr_opcode == DEMI_OPC_FAILED)
        return (int)qr->qr_ret;
    return rc;
}

/* Whether the popped array holds exactly len bytes of p. */
static int same(const demi_sgarray_t *sga, const uint8_t *p, size_t len)
{
    return sga->sga_segs[0].sgaseg_len == len && memcmp(sga->sga_segs[0].sgaseg_buf, p, len) == 0;
}

/* Receives on the pending pop *qt until the echo of want arrives (0),
 * skipping a late echo of prev; ETIMEDOUT when nothing more comes within
 * ms; another errno on failure, or EBADMSG for a wrong echo. */
static int await_echo(int qd, demi_qtoken_t *qt, const uint8_t *want, size_t len, const uint8_t *prev,
                      size_t prev_len, long ms)
{
    for (;;) {
        demi_qresult_t qr;
        int rc = recv_wait(*qt, &qr, ms);
        if (rc != 0)
            return rc;
        demi_sgarray_t *in = &qr.qr_value.sga;
        int equal = same(in, want, len), late = !equal && same(in, prev, prev_len);
        demi_sgafree(in);
        if ((rc = demi_pop(qt, qd)) != 0)
            return rc;
        if (equal)
            return 0;
        if (!late)
            return EBADMSG;
    }
}

static int client(const char *addr, int port, long count, size_t max)
{
    struct sockaddr_in dst = sin_of(addr, port);
    static uint8_t want[65536], prev[65536];
    size_t prev_len = 0;
    long retries = 0;
    demi_qtoken_t qt;
    int qd, rc;

    if ((rc = demi_socket(&qd, AF_INET, SOCK_DGRAM, 0)) != 0)
        return die("socket", rc);
    if ((rc = demi_pop(&qt, qd)) != 0)
        return die("pop", rc);
    for (long i = 0; i < count; i++) {
        size_t len = (size_t)(i * 7919 % (long)max) + 1; /* every size 1..MAX, spread out */
        pattern(want, len, (uint32_t)i);
        for (int attempt = 0;; attempt++) {
            if (attempt > RETRIES)
                return die("no echo", ETIMEDOUT);
            if ((rc = send_to(qd, want, len, &dst)) != 0)
                return die("send", rc);
            rc = await_echo(qd, &qt, want, len, prev, prev_len, attempt == 0 ? 200 : 500);
            if (rc == 0)
                break;
            if (rc != ETIMEDOUT) {
                fprintf(stderr, "udp_echo: datagram %ld (%zu bytes): %s\n", i, len, strerror(rc));
                return 1;
            }
            retries++;
        }
        memcpy(prev, want, len);
        prev_len = len;
    }
    printf("udp_echo: %ld datagrams of 1..%zu bytes echoed byte-exact (%ld resent)\n", count, max, retries);
    return 0;
}

static int closed(const char *addr, int port)
{
    struct sockaddr_in dst = sin_of(addr, port);
    demi_qtoken_t qt;
    demi_qresult_t qr;
    int qd, rc;

    if ((rc = demi_socket(&qd, AF_INET, SOCK_DGRAM, 0)) != 0)
        return die("socket", rc);
    if ((rc = demi_connect(&qt, qd, (struct sockaddr *)&dst, sizeof(dst))) != 0 ||
        (rc = demi_wait(&qr, qt, NULL)) != 0)
        return die("connect", rc);
    if ((rc = demi_pop(&qt, qd)) != 0)
        return die("pop", rc);
    for (int attempt = 0; attempt < 10; attempt++) {
        if ((rc = send_to(qd, "anyone?", 7, NULL)) != 0)
            return die("send", rc);
        rc = recv_wait(qt, &qr, 500);
        if (rc == ECONNREFUSED) {
            printf("udp_echo: port %d refused (ICMP port unreachable)\n", port);
            return 0;
        }
        if (rc != ETIMEDOUT)
            return die("unexpected", rc);
    }
    return die("no ICMP port unreachable", ETIMEDOUT);
}

int main(int argc, char **argv)
{
    int rc = demi_init(NULL);

    if (rc != 0)
        return die("demi_init", rc);
    if (argc == 4 && strcmp(argv[1], "server") == 0)
        return server(atoi(argv[2]), atol(argv[3]));
    if (argc == 6 && strcmp(argv[1], "client") == 0)
        return client(argv[2], atoi(argv[3]), atol(argv[4]), (size_t)atol(argv[5]));
    if (argc == 4 && strcmp(argv[1], "closed") == 0)
        return closed(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: udp_echo server PORT COUNT | client ADDR PORT COUNT MAX | closed ADDR PORT\n");
    return 2;
}
